/**
 * Admission in the simulator: the `admission:` block reaches every node, refusals are results
 * (`metrics.refused`, `expect.refused`), and the checker's `admission` invariant holds on a real
 * run and breaks on a fabricated history where an intent handed to a node was neither taken nor
 * refused, or refused without a known reason.
 */
import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '@tandem/node';
import { type HistoryEntry, type SimRun, buildResult, check, simulate } from '../src/index.js';
import { loadScenario, whyNotOk } from './support.js';

const scenario = loadScenario('admission-full.yaml');
const run = await simulate(scenario, { seed: scenario.seed });

/** The run with its history edited (the checker reads nothing else that these edits touch). */
function withHistory(edit: (history: readonly HistoryEntry[]) => HistoryEntry[]): SimRun {
  return { ...run, history: edit(run.history) };
}

function admission(r: SimRun) {
  return check(r).invariants.find((i) => i.name === 'admission')!;
}

const idOf = (id: string) => run.settlements.find((s) => s.spec.id === id)!.idHex;
const answer = (e: HistoryEntry, node: number, id: string, type: NodeEvent['type']) => e.type === 'node' && e.node === node && e.event.type === type && e.event.settlementIdHex === idOf(id);

describe('admission-full: openSettlementsMax 2, five intents at once', () => {
  it('every node takes s1 and s2, refuses s3–s5 as full, and s6 (later) commits; no invariant broken', () => {
    const r = buildResult(run);
    expect(r.ok, whyNotOk(r)).toBe(true);
    expect(r.invariants.filter((i) => i.ok === false)).toEqual([]);
    expect(r.invariants.find((i) => i.name === 'admission')).toEqual({ name: 'admission', ok: true, detail: '' });
    expect(r.metrics.refused).toEqual({ count: 12, byReason: { full: 12, late: 0, 'window-too-short': 0, horizon: 0 } });
    expect(r.expectations.filter((e) => e.what.startsWith('refusal of')).map((e) => e.ok)).toEqual([true, true, true]);
    const refusals = run.history.flatMap((e) => (e.type === 'node' && e.event.type === 'intent-refused' ? [e.event] : []));
    for (const e of refusals) expect(e).toMatchObject({ reason: 'full', detail: 'this node holds 2 undecided settlements (at most 2)', retryAfterMs: 10_000 });
  });

  it('termination judges only admitted settlements: it holds although s3–s5 are never decided', () => {
    expect(buildResult(run).invariants.find((i) => i.name === 'termination')?.ok).toBe(true);
  });
});

describe('the admission invariant over a fabricated history', () => {
  it('breaks when a node neither refused nor took an intent it was handed', () => {
    const dropped = withHistory((h) => h.filter((e) => !answer(e, 2, 's3', 'intent-refused')));
    expect(admission(dropped)).toMatchObject({ ok: false, detail: expect.stringContaining('n2 answered 0 of the 1 intents for s3') });
    const untaken = withHistory((h) => h.filter((e) => !answer(e, 4, 's1', 'intent')));
    expect(admission(untaken)).toMatchObject({ ok: false, detail: expect.stringContaining('n4 answered 0 of the 1 intents for s1') });
  });

  it('breaks on a refusal without a known reason, or full without a retry estimate', () => {
    const edit = (change: Record<string, unknown>) =>
      withHistory((h) => h.map((e) => (answer(e, 1, 's4', 'intent-refused') && e.type === 'node' ? { ...e, event: { ...e.event, ...change } as NodeEvent } : e)));
    expect(admission(edit({ reason: 'busy' }))).toMatchObject({ ok: false, detail: expect.stringContaining('unknown reason "busy"') });
    expect(admission(edit({ retryAfterMs: null }))).toMatchObject({ ok: false, detail: expect.stringContaining('(full) with retryAfterMs null') });
  });

  it('does not expect an answer from a node that was down when the intent went out', () => {
    const first = run.history.findIndex((e) => e.type === 'intent');
    const crashed = withHistory((h) => [{ t: 0, node: 3, type: 'crash' }, ...h.filter((e) => !(e.type === 'node' && e.node === 3 && (e.event.type === 'intent' || e.event.type === 'intent-refused')))]);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(admission(crashed).ok).toBe(true);
  });

  it('excuses an intent whose hand-over got no answer (a real node being killed), and only that node and intent', () => {
    const untaken = (h: readonly HistoryEntry[]) => h.filter((e) => !answer(e, 4, 's1', 'intent'));
    const undelivered = (node: number, id: string): HistoryEntry => ({ t: 0, node, type: 'intent-undelivered', settlementIdHex: idOf(id) });
    const excused = withHistory((h) => [...untaken(h), undelivered(4, 's1')]);
    expect(admission(excused).ok).toBe(true);
    const otherNode = withHistory((h) => [...untaken(h), undelivered(3, 's1')]);
    expect(admission(otherNode)).toMatchObject({ ok: false, detail: expect.stringContaining('n4 answered 0 of the 1 intents for s1') });
    const otherIntent = withHistory((h) => [...untaken(h), undelivered(4, 's2')]);
    expect(admission(otherIntent)).toMatchObject({ ok: false, detail: expect.stringContaining('n4 answered 0 of the 1 intents for s1') });
  });
});
