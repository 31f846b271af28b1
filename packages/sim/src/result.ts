import type { LegState } from '@tandem/protocol';
import { LegStateTracker, isLockEvent } from '@tandem/legs';
import { check, type Invariant } from './checker.js';
import type { RunRecord } from './run-record.js';
import { type RefusedMetric, intentAnswers, refusedAsExpected, refusedMetric } from './check-admission.js';
import { heightMetrics } from './check-v2-facts.js';
import { percentile } from './check-common.js';

export { percentile };

export type AssetState = 'none' | 'locked' | 'released' | 'refunded' | 'rejected' | 'reclaimed';
export type PaymentState = 'none' | 'held' | 'posted' | 'voided' | 'rejected' | 'reclaimed';

export interface SettlementResult {
  readonly id: string;
  readonly decision: 'commit' | 'abort' | null;
  readonly decidedAtMs: number | null;
  readonly round?: number;
  /** Protocol 2: the height whose batch decided it. */
  readonly height?: number;
  readonly asset: AssetState;
  readonly payment: PaymentState;
  /** A COMMIT whose report expired on both legs and was reclaimed on both (atomic). */
  readonly expired?: true;
}

export interface Expectation {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The run result of docs/results.md (with `expectations` and `evidence` as extensions). */
export interface RunResult {
  readonly scenario: string;
  readonly seed: number;
  readonly ok: boolean;
  readonly settlements: SettlementResult[];
  readonly invariants: Invariant[];
  readonly expectations: Expectation[];
  readonly historyHash: string;
  readonly metrics: {
    readonly messages: number;
    readonly decisionLatencyMs: { readonly p50: number; readonly p99: number };
    readonly virtualMs: number;
    readonly rounds: { readonly p50: number; readonly p99: number; readonly max: number };
    /** Intents refused at intake, counted per node that refused, in all and per reason. */
    readonly refused: RefusedMetric;
    /** Protocol 2: heights decided, entries per batch, and the time from a height's start to its decision. */
    readonly heights?: number;
    readonly batchEntries?: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly heightLatencyMs?: { readonly p50: number; readonly p99: number };
  };
  readonly evidence: { readonly node: number; readonly kind: string; readonly member: number; readonly settlement: string }[];
}

export function assetName(state: LegState, hadLock: boolean): AssetState {
  switch (state) {
    case 'committed':
      return 'released';
    case 'aborted':
      return hadLock ? 'refunded' : 'none';
    default:
      return state;
  }
}

export function paymentName(state: LegState, hadLock: boolean): PaymentState {
  switch (state) {
    case 'locked':
      return 'held';
    case 'committed':
      return 'posted';
    case 'aborted':
      return hadLock ? 'voided' : 'none';
    default:
      return state;
  }
}


export function buildResult(run: RunRecord): RunResult {
  const { invariants, decisions } = check(run);
  const v2 = run.protocol === 2 ? heightMetrics(run) : null;
  const trackers = { asset: new LegStateTracker(), payment: new LegStateTracker() };
  const settlements: SettlementResult[] = [];
  const latencies: number[] = [];
  const rounds: number[] = [];
  for (const s of run.settlements) {
    const d = decisions.get(s.idHex) ?? null;
    const hadLock = (leg: 'asset' | 'payment') => (leg === 'asset' ? run.asset : run.payment).events().some((e) => e.settlementIdHex === s.idHex && isLockEvent(e.kind));
    const a = assetName(trackers.asset.state(run.asset.events(), s.idHex), hadLock('asset'));
    const p = paymentName(trackers.payment.state(run.payment.events(), s.idHex), hadLock('payment'));
    const decision = d === null ? null : d.decision === 'COMMIT' ? 'commit' : 'abort';
    // A COMMIT reclaimed on both legs; under v2 also a settlement that expired undecided (no batch can hold it).
    const expired = (decision === 'commit' && a === 'reclaimed' && p === 'reclaimed') || (v2 !== null && d === null && v2.expired.has(s.idHex));
    const height = d !== null && d.height !== null ? { height: d.height } : {};
    settlements.push({ id: s.spec.id, decision, decidedAtMs: d?.t ?? null, ...(d ? { round: d.round } : {}), ...height, asset: a, payment: p, ...(expired ? { expired: true as const } : {}) });
    if (d !== null) {
      latencies.push(d.t - s.spec.atMs);
      rounds.push(d.round);
    }
  }
  latencies.sort((x, y) => x - y);
  rounds.sort((x, y) => x - y);

  const expectations: Expectation[] = [];
  for (const [id, want] of Object.entries(run.scenario.expect.outcomes)) {
    const got = settlements.find((s) => s.id === id)?.decision ?? null;
    const ok = want === 'any' ? got !== null : got === want; // 'any': either value, but a decision
    expectations.push({ what: `outcome of ${id}`, ok, detail: `expected ${want}, got ${got ?? 'no decision'}` });
  }
  const answers = intentAnswers(run.history);
  for (const [id, want] of Object.entries(run.scenario.expect.refused ?? {})) {
    const s = run.settlements.find((x) => x.spec.id === id);
    const got = s === undefined ? { ok: false, detail: 'no such settlement in the run' } : refusedAsExpected(answers, s.idHex, want);
    expectations.push({ what: `refusal of ${id}`, ...got });
  }
  const expectedBroken = new Set(run.scenario.expect.violations);
  for (const name of expectedBroken) {
    const i = invariants.find((x) => x.name === name);
    expectations.push({ what: `violation ${name}`, ok: i?.ok === false, detail: i?.ok === false ? 'broken, as the scenario intends' : `expected ${name} to be broken, it was ${i?.ok === null ? 'unknown' : 'not'}` });
  }
  const unexpected = invariants.filter((i) => i.ok === false && !expectedBroken.has(i.name));
  const ok = unexpected.length === 0 && expectations.every((e) => e.ok);

  const evidence: RunResult['evidence'] = [];
  for (const e of run.history) {
    if (e.type === 'node' && e.event.type === 'evidence') {
      const s = run.settlements.find((x) => x.idHex === e.event.settlementIdHex);
      evidence.push({ node: e.node, kind: e.event.misbehaviour.kind, member: e.event.misbehaviour.member, settlement: s?.spec.id ?? e.event.settlementIdHex });
    }
    // Protocol 2: evidence is about a height, not a settlement.
    if (e.type === 'node2' && e.event.type === 'evidence') evidence.push({ node: e.node, kind: e.event.misbehaviour.kind, member: e.event.misbehaviour.member, settlement: `height ${e.event.height}` });
  }
  return {
    scenario: run.scenario.name,
    seed: run.seed,
    ok,
    settlements,
    invariants,
    expectations,
    historyHash: run.historyHash,
    metrics: {
      messages: run.messagesSent,
      decisionLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      virtualMs: run.endMs,
      rounds: { p50: percentile(rounds, 50), p99: percentile(rounds, 99), max: rounds.length ? rounds[rounds.length - 1]! : 0 },
      refused: refusedMetric(run.history),
      ...(v2 === null ? {} : { heights: v2.heights, batchEntries: v2.batchEntries, heightLatencyMs: v2.heightLatencyMs }),
    },
    evidence,
  };
}
