/**
 * The scenario plan: what a runner carries out, computed from a (drawn) scenario by one pure
 * function, so that the simulator and the cluster runner execute the same schedule. Times are run
 * times (ms since the run's start, virtual or wall-clock); the terms are placed on the legs'
 * clocks by a TermsPlacement (the simulator's clock starts at 0, a cluster's at its start time).
 *
 * What each runner still decides itself is how to realise each step: the simulator through its
 * event queue, fault hooks and clocks; the cluster runner through processes and HTTP. At equal
 * times a runner puts a fault in place before an intent, so that a leg refuses the prepare the
 * intent triggers and a partition at 0 s is there before the first message (the simulator's hooks
 * read the faults when they act, which gives the same order).
 */
import { type LegName, type Terms, assert, reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import type { SimSettlement } from './run-record.js';
import type { Fault, Scenario, ScenarioSettlement } from './scenario.js';

/** Where a run's settlements are: the escrow contract on a chain, and a bank ledger. */
export interface Venues {
  readonly chainId: bigint;
  readonly escrow: Uint8Array;
  readonly bankId: string;
  readonly ledger: string;
}

/** How a run turns scenario settlements into terms. */
export interface TermsPlacement {
  readonly venues: Venues;
  /** Appended to each settlement id to make the terms' nonce (`s1-<suffix>`); '' keeps the id. */
  readonly nonceSuffix: string;
  /** The legs' clock reading at the run's time 0: 0 in the simulator, the start's epoch ms on a cluster. */
  readonly startMs: number;
}

/** The terms of a scenario settlement: the deadline is an instant on the legs' clocks. */
export function scenarioTerms(s: ScenarioSettlement, placement: TermsPlacement): Terms {
  const { venues } = placement;
  return {
    nonce: placement.nonceSuffix === '' ? s.id : `${s.id}-${placement.nonceSuffix}`,
    asset: { chainId: venues.chainId, escrow: venues.escrow, token: s.asset.token, seller: s.asset.seller, buyer: s.asset.buyer, amount: s.asset.amount },
    payment: { bankId: venues.bankId, ledger: venues.ledger, payer: s.payment.payer, payee: s.payment.payee, currency: s.payment.currency, amount: s.payment.amount },
    deadlineMs: placement.startMs + s.atMs + s.deadlineAfterMs,
    reportWindowMs: s.reportWindowMs,
    marginMs: s.marginMs,
  };
}

export type LegFault = Extract<Fault, { kind: 'leg' }>;

/** A withheld authorization sent after the intent (fail: late-lock). */
export interface LateAuthorization {
  readonly leg: LegName;
  readonly atMs: number;
  readonly fault: LegFault;
}

/** A party taking its value back once the timelock has passed on the leg's own clock. */
export interface PlannedReclaim {
  readonly leg: LegName;
  /** What the leg's own clock must read (the terms' reclaim time). */
  readonly legClockMs: number;
  /** The run time at which an unskewed leg clock reads it. */
  readonly atMs: number;
}

export interface PlannedSettlement extends SimSettlement {
  /** When the parties hand the terms to the nodes (the settlement's `at`). */
  readonly intentAtMs: number;
  /** The legs whose authorization goes with the intent. */
  readonly authorizedAtIntent: readonly LegName[];
  /** Legs never authorized (fail: never-lock). */
  readonly withheld: readonly LegName[];
  /** Later authorizations of the other withheld legs, in the scenario's fault order. */
  readonly lateAuthorizations: readonly LateAuthorization[];
  /** Asset, then payment. */
  readonly reclaims: readonly PlannedReclaim[];
}

/** A fault a runner schedules: in force from `startMs`, until `endMs` (null: to the end). */
export interface PlannedFault {
  readonly fault: Fault;
  readonly startMs: number;
  readonly endMs: number | null;
}

/** An opening balance to mint before the run starts (amounts above 0 only). */
export interface PlannedFunding {
  readonly leg: LegName;
  readonly account: string;
  readonly unit: string;
  readonly amount: bigint;
}

export interface ScenarioPlan {
  readonly settlements: readonly PlannedSettlement[];
  /** Every party the scenario names, sorted: who needs a key. */
  readonly parties: readonly string[];
  readonly funds: readonly PlannedFunding[];
  /**
   * The scenario's faults in file order, except never-lock and late-lock, which the intents and
   * late authorizations realise.
   */
  readonly faults: readonly PlannedFault[];
  /** The last time a fault starts or ends or a late authorization goes out: a run is not done before. */
  readonly lastFaultEventMs: number;
  /** When a run gives up: one second after the later of the latest reclaim and the last fault event. */
  readonly hardStopMs: number;
}

/** How long after the last scheduled event a run that has not ended by itself stops. */
export const HARD_STOP_MARGIN_MS = 1_000;

/** Every party a scenario names (accounts and settlements), sorted: who needs a key. */
export function partiesOf(scenario: Scenario): string[] {
  const names = new Set<string>();
  for (const m of [scenario.accounts.asset, scenario.accounts.payment]) for (const k of m.keys()) names.add(k);
  for (const s of scenario.settlements) {
    names.add(s.asset.seller);
    names.add(s.asset.buyer);
    names.add(s.payment.payer);
    names.add(s.payment.payee);
  }
  return [...names].sort();
}

/** The opening balances of a scenario's accounts, asset ledger first, in file order. */
export function fundsOf(scenario: Scenario): PlannedFunding[] {
  const out: PlannedFunding[] = [];
  for (const leg of ['asset', 'payment'] as const) {
    for (const [account, units] of scenario.accounts[leg]) for (const [unit, amount] of units) if (amount > 0n) out.push({ leg, account, unit, amount });
  }
  return out;
}

function planSettlement(scenario: Scenario, spec: ScenarioSettlement, placement: TermsPlacement): PlannedSettlement {
  const terms = scenarioTerms(spec, placement);
  const withheld: LegName[] = [];
  const late: LateAuthorization[] = [];
  for (const f of scenario.faults) {
    if (f.kind !== 'leg' || f.settlement !== spec.id) continue;
    if (f.fail === 'never-lock') withheld.push(f.leg);
    if (f.fail === 'late-lock') late.push({ leg: f.leg, atMs: spec.atMs + f.afterMs, fault: f });
  }
  const authorizedAtIntent = (['asset', 'payment'] as const).filter((leg) => !withheld.includes(leg) && !late.some((x) => x.leg === leg));
  // The loader allows one prepare fault per leg: each leg is authorized once, late or never.
  assert(authorizedAtIntent.length + withheld.length + late.length === 2, `settlement ${spec.id}: more than one prepare fault on a leg`);
  const legClockMs = reclaimAtMs(terms);
  return {
    spec,
    terms,
    idHex: toHex(settlementId(terms)),
    intentAtMs: spec.atMs,
    authorizedAtIntent,
    withheld,
    lateAuthorizations: late,
    reclaims: (['asset', 'payment'] as const).map((leg) => ({ leg, legClockMs, atMs: legClockMs - placement.startMs })),
  };
}

/** The plan of a (drawn: see drawScenario) scenario with its terms placed by `placement`. */
export function planScenario(scenario: Scenario, placement: TermsPlacement): ScenarioPlan {
  const settlements = scenario.settlements.map((spec) => planSettlement(scenario, spec, placement));
  const faults = scenario.faults.filter((f) => !(f.kind === 'leg' && (f.fail === 'never-lock' || f.fail === 'late-lock'))).map((fault) => ({ fault, startMs: fault.atMs, endMs: fault.untilMs }));
  let lastFaultEventMs = 0;
  for (const f of scenario.faults) lastFaultEventMs = Math.max(lastFaultEventMs, f.atMs, f.untilMs ?? 0);
  for (const s of settlements) for (const late of s.lateAuthorizations) lastFaultEventMs = Math.max(lastFaultEventMs, late.atMs);
  let latestReclaimMs = 0;
  for (const s of settlements) for (const r of s.reclaims) latestReclaimMs = Math.max(latestReclaimMs, r.atMs);
  const hardStopMs = Math.max(latestReclaimMs, lastFaultEventMs) + HARD_STOP_MARGIN_MS;
  assert(settlements.every((s) => s.intentAtMs < hardStopMs), 'every intent is before the hard stop');
  return {
    settlements,
    parties: partiesOf(scenario),
    funds: fundsOf(scenario),
    faults,
    lastFaultEventMs,
    hardStopMs,
  };
}
