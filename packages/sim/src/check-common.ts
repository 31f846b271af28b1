/**
 * The invariants both protocols are judged by alike (docs/results.md): liveness (termination,
 * non-triviality) and DvP on the legs (all-or-nothing, legs move only on reports or reclaims, no
 * double execution, conservation, ledgers match the decisions). The per-protocol checkers
 * (checker.ts for v1, check-v2.ts for v2) reduce their histories to the decisions below first.
 */
import { type Decision, reclaimAtMs } from '@tandem/protocol';
import { LEG_STATE_AFTER, type LegEvent, appliedDecision, isLockEvent } from '@tandem/legs';
import type { HistoryEntry } from './history.js';
import type { LegRecord, RunRecord, SimSettlement } from './run-record.js';

export interface Invariant {
  readonly name: string;
  /** true holds, false broken, null unknown (the scenario's assumptions do not let it be judged). */
  readonly ok: boolean | null;
  readonly detail: string;
}

/** A node deciding a settlement: when, what, in which round (and, under v2, at which height). */
export interface DecisionAt {
  readonly node: number;
  readonly t: number;
  readonly decision: Decision;
  readonly round: number;
  /** The height whose batch held it (protocol 2), else null. */
  readonly height: number | null;
}

export type DownIntervals = Map<number, { from: number; to: number | null }[]>;

export function holds(name: string, problems: string[]): Invariant {
  return { name, ok: problems.length === 0, detail: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; … ${problems.length - 5} more` : '') };
}

export function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

/** When each node was down: from a crash to its restart (open when it never restarted). */
export function downIntervalsOf(history: readonly HistoryEntry[]): DownIntervals {
  const down: DownIntervals = new Map();
  for (const e of history) {
    if (e.type === 'crash') pushTo(down, e.node, { from: e.t, to: null });
    if (e.type === 'restart') {
      const iv = down.get(e.node);
      const open = iv?.[iv.length - 1];
      if (open && open.to === null) open.to = e.t;
    }
  }
  return down;
}

/** Did the event give the party its value back after the timelock? */
export function isReclaim(e: LegEvent): boolean {
  return LEG_STATE_AFTER[e.kind] === 'reclaimed';
}

export function legEventsOf(leg: LegRecord, idHex: string): LegEvent[] {
  return leg.events().filter((e) => e.settlementIdHex === idHex);
}

/** Every report (decision) of a settlement and every leg application carry one decision. */
export function oneDecisionPerSettlement(run: RunRecord, decided: ReadonlyMap<string, readonly DecisionAt[]>): Invariant {
  const problems: string[] = [];
  for (const s of run.settlements) {
    const values = new Set<Decision>((decided.get(s.idHex) ?? []).map((d) => d.decision));
    for (const leg of [run.asset, run.payment]) {
      for (const e of legEventsOf(leg, s.idHex)) {
        const applied = appliedDecision(e.kind);
        if (applied !== null) values.add(applied);
      }
    }
    if (values.size > 1) problems.push(`${s.spec.id}: reports of both COMMIT and ABORT exist`);
  }
  return holds('one-decision-per-settlement', problems);
}

/**
 * DvP on the legs: all-or-nothing (a) and (b), legs move only on a decision or a reclaim after its
 * time, no double execution, conservation, ledgers agree with the decisions. `decided` holds every
 * node's decisions per settlement (hex), in time order; `decisions` the settlement's decision.
 */
export function dvpInvariants(run: RunRecord, decided: ReadonlyMap<string, readonly DecisionAt[]>, decisions: ReadonlyMap<string, DecisionAt | null>): Invariant[] {
  const aonA: string[] = [];
  const aonB: string[] = [];
  const moves: string[] = [];
  const double: string[] = [];
  const match: string[] = [];
  for (const s of run.settlements) {
    const a = legEventsOf(run.asset, s.idHex);
    const p = legEventsOf(run.payment, s.idHex);
    const commitA = a.find((e) => appliedDecision(e.kind) === 'COMMIT');
    const commitP = p.find((e) => appliedDecision(e.kind) === 'COMMIT');
    const reclaimA = a.find((e) => isReclaim(e));
    const reclaimP = p.find((e) => isReclaim(e));
    if ((commitA === undefined) !== (commitP === undefined)) {
      const [applied, otherReclaim, otherName] = commitA ? [commitA, reclaimP, 'payment'] : [commitP!, reclaimA, 'asset'];
      if (otherReclaim !== undefined && otherReclaim.atMs <= applied.atMs) aonA.push(`${s.spec.id}: ${otherName} leg reclaimed at ${otherReclaim.atMs} ms before the other applied the COMMIT at ${applied.atMs} ms`);
      else aonB.push(`${s.spec.id}: the COMMIT applied at ${applied.atMs} ms on one leg never applied on the ${otherName} leg`);
    }
    const d = decisions.get(s.idHex) ?? null;
    for (const [legName, events] of [['asset', a], ['payment', p]] as const) {
      const applied = events.flatMap((e) => {
        const value = appliedDecision(e.kind);
        return value === null ? [] : [{ e, value }];
      });
      if (applied.length > 1) double.push(`${s.spec.id}: ${legName} leg applied ${applied.length} reports`);
      for (const { e, value } of applied) {
        const formed = (decided.get(s.idHex) ?? []).some((x) => x.decision === value && x.t <= e.atMs);
        if (!formed) moves.push(`${s.spec.id}: ${legName} leg moved (${e.kind}) at ${e.atMs} ms without a ${value} report`);
      }
      for (const e of events) {
        // Leg logs are on the simulator's timeline; the reclaim rule is on the leg's own clock.
        const legMs = run.legTimeMs(legName, e.atMs);
        if (isReclaim(e) && legMs < reclaimAtMs(s.terms)) moves.push(`${s.spec.id}: ${legName} reclaimed at ${legMs} ms of its clock, before its time ${reclaimAtMs(s.terms)} ms`);
      }
    }
    const expired = d?.decision === 'COMMIT' && reclaimA !== undefined && reclaimP !== undefined && commitA === undefined && commitP === undefined;
    if (d?.decision === 'COMMIT' && !expired && (commitA === undefined || commitP === undefined)) match.push(`${s.spec.id}: COMMIT decided but not applied on both legs`);
    if (d?.decision !== 'COMMIT' && (commitA !== undefined || commitP !== undefined)) match.push(`${s.spec.id}: value delivered without a COMMIT decision`);
  }
  const conservation = [run.asset.conservationProblem(), run.payment.conservationProblem()].filter((x): x is string => x !== null);
  return [
    holds('all-or-nothing-a', aonA),
    holds('all-or-nothing-b', aonB),
    holds('legs-move-on-reports', moves),
    holds('no-double-execution', double),
    holds('conservation', conservation),
    holds('ledgers-match-reports', match),
  ];
}

/** What termination reads: when each node ended each settlement (decided it; under v2 also expired undecided). */
export interface TerminationFacts {
  readonly ends: ReadonlyMap<string, readonly { readonly node: number; readonly t: number }[]>;
  readonly downIntervals: DownIntervals;
  /** Nodes not held to a settlement (v2: they jumped past its height). */
  readonly excused?: (node: number, idHex: string) => boolean;
}

/**
 * Liveness at bound B = max(settlement's at, end of the last fault with an `until`) + decideWithin:
 * by B a valid report exists and every node correct and up at B has decided. Unknown when more
 * than f nodes are faulty at B (down, or crashed for good), since then nothing is promised.
 * Settlements some node refused at intake are not judged (`refused`).
 */
export function termination(run: RunRecord, facts: TerminationFacts, f: number, refused: ReadonlySet<string>): Invariant {
  const within = run.scenario.expect.decideWithinMs;
  if (within === null) return { name: 'termination', ok: null, detail: 'no decideWithin bound in the scenario' };
  let lastUntil = 0;
  for (const x of run.scenario.faults) if (x.untilMs !== null) lastUntil = Math.max(lastUntil, x.untilMs);
  const problems: string[] = [];
  const unjudged: string[] = [];
  for (const s of run.settlements) {
    if (refused.has(s.idHex)) continue;
    const bound = Math.max(s.spec.atMs, lastUntil) + within;
    // Faulty at the bound: down, Byzantine, or with a skewed clock (docs/protocol.md: they count against f).
    const down = new Set<number>([...run.byzantine, ...run.skewed]);
    for (const [node, ivs] of facts.downIntervals) for (const iv of ivs) if (iv.from <= bound && (iv.to === null || iv.to > bound)) down.add(node);
    if (down.size > f) return { name: 'termination', ok: null, detail: `${down.size} nodes faulty at the bound (down, Byzantine or skewed), more than f = ${f}` };
    const held = (node: number) => !down.has(node) && facts.excused?.(node, s.idHex) !== true;
    const ds = facts.ends.get(s.idHex) ?? [];
    if (run.endMs < bound && !everyoneEnded(run, ds, held)) {
      unjudged.push(s.spec.id); // the run stopped (reclaim time passed) before the bound
      continue;
    }
    if (!ds.some((d) => d.t <= bound)) {
      problems.push(`${s.spec.id}: no report by ${bound} ms`);
      continue;
    }
    for (let node = 1; node <= run.cluster.n; node++) {
      if (!held(node)) continue;
      if (!ds.some((d) => d.node === node && d.t <= bound)) problems.push(`${s.spec.id}: n${node} had not decided by ${bound} ms`);
    }
  }
  if (problems.length === 0 && unjudged.length > 0) return { name: 'termination', ok: null, detail: `the run ended before the bound of ${unjudged.join(', ')}` };
  return holds('termination', problems);
}

function everyoneEnded(run: RunRecord, ds: readonly { readonly node: number }[], held: (node: number) => boolean): boolean {
  for (let node = 1; node <= run.cluster.n; node++) if (held(node) && !ds.some((d) => d.node === node)) return false;
  return true;
}

/** A fault-free run whose legs both lock before the deadline must commit (admitted settlements). */
export function nonTriviality(run: RunRecord, decisions: ReadonlyMap<string, DecisionAt | null>, refused: ReadonlySet<string>): Invariant {
  if (run.scenario.faults.length > 0) return { name: 'non-triviality', ok: null, detail: 'the scenario injects faults' };
  const problems: string[] = [];
  let judged = 0;
  for (const s of run.settlements) {
    if (refused.has(s.idHex)) continue;
    const lockedBy = (leg: LegRecord) => legEventsOf(leg, s.idHex).find((e) => isLockEvent(e.kind));
    const a = lockedBy(run.asset);
    const p = lockedBy(run.payment);
    if (a === undefined || p === undefined || run.legTimeMs('asset', a.atMs) >= s.terms.deadlineMs || run.legTimeMs('payment', p.atMs) >= s.terms.deadlineMs) continue;
    judged++;
    const d = decisions.get(s.idHex);
    if (d?.decision !== 'COMMIT') problems.push(`${s.spec.id}: both legs locked before the deadline, decided ${d?.decision ?? 'nothing'}`);
  }
  if (judged === 0) return { name: 'non-triviality', ok: null, detail: 'no settlement had both legs locked' };
  return holds('non-triviality', problems);
}

/** The settlement of a run by its id hex. */
export function settlementsByHex(run: RunRecord): Map<string, SimSettlement> {
  return new Map(run.settlements.map((s) => [s.idHex, s]));
}

/** The p-th percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}
