/**
 * Admission over a recorded run (docs/results.md, `admission`): every intent handed to a node is
 * answered, taken (an `intent` event) or refused with one of the known reasons (`intent-refused`),
 * never dropped silently; and what the results report of refusals (the `refused` metric, the
 * `expect.refused` expectations). Pure functions of the history, like the rest of the checker.
 */
import { REFUSAL_REASONS, type RefusalReason } from '@tandem/node';
import type { HistoryEntry } from './history.js';
import type { RunRecord } from './run-record.js';

/** The intents a node answered, per settlement (hex): how many it took, and its refusals in order. */
export interface IntentAnswers {
  readonly taken: number;
  readonly refused: readonly RefusalReason[];
}

/** A node's answer to an intent (either protocol logs the same two events), or null. */
type IntakeEvent = { readonly type: 'intent'; readonly settlementIdHex: string } | { readonly type: 'intent-refused'; readonly settlementIdHex: string; readonly reason: RefusalReason; readonly retryAfterMs: number | null };

function intakeEvent(e: HistoryEntry): IntakeEvent | null {
  if (e.type !== 'node' && e.type !== 'node2') return null;
  const ev = e.event;
  return ev.type === 'intent' || ev.type === 'intent-refused' ? ev : null;
}

/** Every node's answers, keyed `${node}:${settlementIdHex}`. */
export function intentAnswers(history: readonly HistoryEntry[]): Map<string, IntentAnswers> {
  const out = new Map<string, { taken: number; refused: RefusalReason[] }>();
  for (const e of history) {
    const ev = intakeEvent(e);
    if (ev === null) continue;
    const key = `${e.node}:${ev.settlementIdHex}`;
    let a = out.get(key);
    if (a === undefined) out.set(key, (a = { taken: 0, refused: [] }));
    if (ev.type === 'intent') a.taken++;
    else a.refused.push(ev.reason);
  }
  return out;
}

/**
 * The intents handed to each node, keyed as intentAnswers: the world hands a settlement's intent,
 * and later a withheld authorization (a late-lock fault starting), to every node up at that moment
 * (crash and restart entries say which are down).
 */
function intentsHanded(run: RunRecord): Map<string, number> {
  const idHexOf = new Map(run.settlements.map((s) => [s.spec.id, s.idHex]));
  const down = new Set<number>();
  const handed = new Map<string, number>();
  const hand = (idHex: string) => {
    for (let node = 1; node <= run.cluster.n; node++) {
      if (down.has(node)) continue;
      const key = `${node}:${idHex}`;
      handed.set(key, (handed.get(key) ?? 0) + 1);
    }
  };
  for (const e of run.history) {
    if (e.type === 'crash') down.add(e.node);
    else if (e.type === 'restart') down.delete(e.node);
    else if (e.type === 'intent') hand(e.settlementIdHex);
    else if (e.type === 'intent-undelivered') {
      // No answer came back (the node was dying): not handed, whatever it did with it.
      const key = `${e.node}:${e.settlementIdHex}`;
      const n = handed.get(key) ?? 0;
      if (n > 0) handed.set(key, n - 1);
    }
    else if (e.type === 'fault' && e.phase === 'start' && e.fault.kind === 'leg' && e.fault.fail === 'late-lock') {
      const idHex = idHexOf.get(e.fault.settlement);
      if (idHex !== undefined) hand(idHex);
    }
  }
  return handed;
}

/** A refusal's own shape: a known reason; retryAfterMs a whole number of ms, always given for `full`. */
function refusalProblem(e: HistoryEntry): string | null {
  const ev = intakeEvent(e);
  if (ev?.type !== 'intent-refused') return null;
  const { reason, retryAfterMs } = ev;
  if (!REFUSAL_REASONS.includes(reason)) return `n${e.node} refused ${ev.settlementIdHex.slice(0, 16)} with an unknown reason ${JSON.stringify(reason)}`;
  const retryOk = retryAfterMs === null ? reason !== 'full' : Number.isSafeInteger(retryAfterMs) && retryAfterMs >= 0;
  return retryOk ? null : `n${e.node} refused ${ev.settlementIdHex.slice(0, 16)} (${reason}) with retryAfterMs ${String(retryAfterMs)}`;
}

/** What breaks `admission`: an intent handed to a node neither taken nor refused, or a refusal without a proper reason. */
export function admissionProblems(run: RunRecord): string[] {
  const problems: string[] = [];
  for (const e of run.history) {
    const p = refusalProblem(e);
    if (p !== null) problems.push(p);
  }
  const answers = intentAnswers(run.history);
  const nameOf = new Map(run.settlements.map((s) => [s.idHex, s.spec.id]));
  for (const [key, handed] of intentsHanded(run)) {
    const a = answers.get(key);
    const answered = a === undefined ? 0 : a.taken + a.refused.length;
    if (answered < handed) {
      const [node, idHex] = key.split(':') as [string, string];
      problems.push(`n${node} answered ${answered} of the ${handed} intents for ${nameOf.get(idHex) ?? idHex.slice(0, 16)} it was handed (neither taken nor refused)`);
    }
  }
  return problems;
}

/**
 * Settlements (hex) whose intent some node refused: liveness is promised only for admitted ones.
 * A node's answers to the world's intent entry follow it in the history, before the next world
 * entry; a refused late authorization (to a node that was down at the intent) does not count,
 * since that node still learns the settlement from its peers' proposals and reports.
 */
export function refusedSettlements(history: readonly HistoryEntry[]): Set<string> {
  const out = new Set<string>();
  let handed: string | null = null; // the settlement whose intent the world just handed out
  for (const e of history) {
    if (e.node === 0) handed = e.type === 'intent' ? e.settlementIdHex : null;
    else {
      const ev = intakeEvent(e);
      if (ev?.type === 'intent-refused' && ev.settlementIdHex === handed) out.add(handed);
    }
  }
  return out;
}

/** The `refused` metric: refusals by every node, in all and per reason. */
export interface RefusedMetric {
  readonly count: number;
  readonly byReason: Readonly<Record<RefusalReason, number>>;
}

export function refusedMetric(history: readonly HistoryEntry[]): RefusedMetric {
  const byReason = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  let count = 0;
  for (const e of history) {
    const ev = intakeEvent(e);
    if (ev?.type !== 'intent-refused') continue;
    count++;
    byReason[ev.reason]++;
  }
  return { count, byReason };
}

/**
 * `expect.refused` for one settlement: every node that answered its intent refused it, each time
 * with `want`, and at least one did.
 */
export function refusedAsExpected(answers: ReadonlyMap<string, IntentAnswers>, idHex: string, want: RefusalReason): { ok: boolean; detail: string } {
  let taken = 0;
  const reasons: RefusalReason[] = [];
  for (const [key, a] of answers) {
    if (!key.endsWith(`:${idHex}`)) continue;
    taken += a.taken;
    reasons.push(...a.refused);
  }
  const ok = taken === 0 && reasons.length > 0 && reasons.every((r) => r === want);
  const got = reasons.length === 0 ? 'no refusal' : [...new Set(reasons)].join(', ');
  return { ok, detail: `expected every node to refuse it (${want}); ${reasons.length} refusals (${got}), taken by ${taken}` };
}
