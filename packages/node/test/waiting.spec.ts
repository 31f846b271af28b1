/**
 * Nothing stays open silently: settlements that wait long are polled and resent less and less
 * often (and back at once when something moves), within a bound per settlement and in total; one
 * still open past its reclaim time plus the grace period is reported stuck; a split outcome is
 * reported and never called closed. (What an intent may cost, admission: intake.spec.ts.)
 */
import { describe, expect, it, vi } from 'vitest';
import { reclaimAtMs, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { DEFAULT_RUNTIME_PARAMS, type NodeEvent } from '../src/index.js';
import { World } from './world.js';

const MINUTE_MS = 60_000;
const P = DEFAULT_RUNTIME_PARAMS;

function eventsOf<T extends NodeEvent['type']>(w: World, i: number, type: T): Extract<NodeEvent, { type: T }>[] {
  return w.node(i).events.filter((e): e is Extract<NodeEvent, { type: T }> => e.type === type);
}

describe('back-off for settlements that wait long', () => {
  it('polls and resends less and less often while nothing moves, and at full rate again once the late lock comes', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('waits', 10 * MINUTE_MS);
    w.intentWith(terms, ['payment']); // the seller authorizes only 9 minutes later
    const reads = vi.spyOn(w.asset, 'observe');
    await w.runUntil(5 * MINUTE_MS);
    reads.mockClear();
    const sentBefore = w.sent.length;
    await w.runUntil(9 * MINUTE_MS);
    // Four minutes at the base rates would be 4 nodes × 2,400 reads and 4 × 3 × 480 resent messages;
    // backed off to one a minute each it is a handful.
    expect(reads.mock.calls.length).toBeLessThanOrEqual(4 * (4 * MINUTE_MS / P.backoffMaxMs + 1));
    expect(w.sent.length - sentBefore).toBeLessThanOrEqual(4 * 3 * 2 * (4 * MINUTE_MS / P.backoffMaxMs + 1));
    expect(reads.mock.calls.length).toBeGreaterThan(0); // still polled: a lock by anyone would be seen

    w.intentWith(terms, ['asset']);
    await w.runUntil(9 * MINUTE_MS + 3_000);
    for (let i = 1; i <= w.n; i++) expect(w.runtime(i).settlementStatus(toHex(settlementId(terms)))).toMatchObject({ decided: true, closed: true, report: { decision: 'COMMIT' } });
  });

  it('in total, the waiting settlements of a node stay under waitingPollsPerSecondMax reads a second', async () => {
    const params = { ...P, backoffMaxMs: 1_000, waitingPollsPerSecondMax: 5 };
    const w = new World(4, 'tandem/node/test', params);
    w.startAll();
    for (let k = 0; k < 40; k++) w.intentWith(w.terms(`many-${k}`, 10 * MINUTE_MS), ['payment']);
    const reads = vi.spyOn(w.asset, 'observe');
    await w.runUntil(2 * MINUTE_MS);
    reads.mockClear();
    await w.runUntil(3 * MINUTE_MS);
    // Capped at 1 s each, 40 settlements would cost 40 reads a second per node; the total bound is 5
    // (each waits at least 40/5 = 8 s, so a 60 s window can hold 8 reads of each: 5.3 a second).
    const perNodePerSecond = reads.mock.calls.length / w.n / 60;
    expect(perNodePerSecond).toBeLessThanOrEqual(params.waitingPollsPerSecondMax * 1.2);
    expect(perNodePerSecond).toBeGreaterThan(1);
  });

  it('changes nothing for a settlement that moves: the happy path polls at the base rate', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('quick');
    w.intent(terms);
    await w.runUntil(validUntilMs(terms));
    for (let i = 1; i <= w.n; i++) expect(w.runtime(i).decisions()[0]).toMatchObject({ decided: true, closed: true, split: false, stuck: false });
  });
});

describe('stuck and split settlements are reported', () => {
  it('reports a settlement still open at its reclaim time plus the grace period, once, at error level', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('stuck');
    w.crash(3);
    w.crash(4); // no quorum: nothing is decided, and no party reclaims here
    w.intent(terms, [1, 2]);
    const dueMs = reclaimAtMs(terms) + P.stuckGraceMs;
    await w.runUntil(dueMs - 1);
    expect(eventsOf(w, 1, 'stuck')).toEqual([]);
    await w.runUntil(dueMs + 5 * MINUTE_MS);
    for (const i of [1, 2]) {
      expect(eventsOf(w, i, 'stuck')).toEqual([{ type: 'stuck', settlementIdHex: toHex(settlementId(terms)), reclaimAtMs: reclaimAtMs(terms), decided: false, asset: 'locked', payment: 'locked' }]);
      expect(w.runtime(i).decisions()[0]).toMatchObject({ closed: false, stuck: true, split: false });
    }
  });

  it('flags one leg committed and the other reclaimed as split, never closed, and stops polling it', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('split');
    const id = settlementId(terms);
    w.crash(3);
    w.crash(4); // no quorum: the nodes never deliver; the legs are moved by hand below
    w.intent(terms, [1, 2]);
    await w.runUntil(500);
    expect(await w.asset.applyReport(w.report(terms, 'COMMIT'))).toEqual({ kind: 'applied' });
    await w.runUntil(reclaimAtMs(terms));
    expect(await w.payment.reclaim(id)).toEqual({ kind: 'reclaimed' });
    await w.runUntil(reclaimAtMs(terms) + 1_000);
    for (const i of [1, 2]) {
      expect(eventsOf(w, i, 'split')).toEqual([{ type: 'split', settlementIdHex: toHex(id), asset: 'committed', payment: 'reclaimed' }]);
      expect(eventsOf(w, i, 'closed')).toEqual([]);
      expect(w.runtime(i).decisions()[0]).toMatchObject({ closed: false, split: true, stuck: false });
    }
    const reads = vi.spyOn(w.asset, 'observe');
    await w.runUntil(reclaimAtMs(terms) + P.stuckGraceMs + 5 * MINUTE_MS);
    expect(reads).not.toHaveBeenCalled();
    expect(eventsOf(w, 1, 'stuck')).toEqual([]); // a split is reported as such, not also as stuck
  });
});
