import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Decision, type Entry, toHex } from '@tandem/protocol';
import { DecidedChain, batchProblem } from '../src/index.js';
import { PARAMS, type Settlement, batchOf, bundleEntry, decide, decidedBatch, entryOf, feed, newPool, settlement } from './v2-fixture.js';

describe('the decided chain', () => {
  const s1 = settlement('c1', 100); // validUntil 2100
  const s2 = settlement('c2', 1000); // 3000
  const s3 = settlement('c3', 3000); // 5000
  const s4 = settlement('c4', 4000); // 6000

  it('starts at height 0, time 0, judging height 1 with liveFrom 1', () => {
    const chain = new DecidedChain();
    expect([chain.tip, chain.timeMs, chain.liveFromFor(1), chain.canJudge(1), chain.canJudge(2)]).toEqual([0, 0, 1, true, false]);
    expect(chain.keptBatches()).toEqual([]);
    expect(() => chain.liveFromFor(2)).toThrow(/only the next height/);
  });

  it('prunes ids at chain time, moves liveFrom on and keeps batches from liveFrom of the newest', () => {
    const chain = new DecidedChain();
    const b1 = decide(chain, 100, [entryOf(s1, 'COMMIT'), entryOf(s2, 'ABORT')]);
    expect([chain.holds(s1.id), chain.holds(s2.id), chain.liveFromFor(2)]).toEqual([true, true, 1]);
    const b2 = decide(chain, 2500, [entryOf(s3, 'COMMIT')]);
    // s1 (validUntil 2100 ≤ 2500) is forgotten: V4 excludes it from now on.
    expect([chain.holds(s1.id), chain.holds(s2.id), chain.holds(s3.id), chain.liveFromFor(3)]).toEqual([false, true, true, 1]);
    const b3 = decide(chain, 3500, [entryOf(s4, 'ABORT')]);
    expect([chain.holds(s2.id), chain.liveFromFor(4)]).toEqual([false, 2]);
    expect(chain.keptBatches()).toEqual([b1, b2, b3]); // liveFrom of height 3 is 1
    const b4 = decide(chain, 3600, [entryOf(settlement('c5', 9000), 'COMMIT')]);
    expect(b4.report.liveFrom).toBe(2);
    expect(chain.keptBatches()).toEqual([b2, b3, b4]);
    expect([chain.batchAt(1), chain.batchAt(2), chain.keptFromHeight]).toEqual([null, b2, 2]);
    // Catch-up answers: kept heights in order and bounded; the newest alone for a forgotten height.
    expect([chain.catchUpAnswer(2, 2), chain.catchUpAnswer(1, 2), chain.catchUpAnswer(5, 2)]).toEqual([[b2, b3], [b4], []]);
  });

  it('names what is wrong with a decided batch that cannot be the next height', () => {
    const chain = new DecidedChain();
    decide(chain, 100, [entryOf(s1, 'COMMIT')]);
    const next = (timeMs: number, liveFrom: number, entries: Entry[], height = 2) => chain.nextBatchProblem(decidedBatch(height, timeMs, liveFrom, entries));
    expect(next(200, 1, [entryOf(s2, 'COMMIT')])).toBeNull();
    expect(next(200, 1, [entryOf(s2, 'COMMIT')], 3)).toMatch(/expects height 2/);
    expect(next(50, 1, [entryOf(s2, 'COMMIT')])).toMatch(/below chain time/);
    expect(next(200, 2, [entryOf(s2, 'COMMIT')])).toMatch(/liveFrom 2, the chain says 1/);
    expect(next(200, 1, [entryOf(s1, 'ABORT')])).toMatch(/already decided/);
    expect(next(2100, 1, [entryOf(s1, 'ABORT')])).toMatch(/expired at chain time|already decided/);
    const good = decidedBatch(2, 200, 1, [entryOf(s2, 'COMMIT'), entryOf(s3, 'COMMIT')]);
    expect(chain.nextBatchProblem({ ...good, entries: [...good.entries].reverse() })).toMatch(/ascend/);
    expect(chain.nextBatchProblem({ ...good, entries: good.entries.slice(0, 1) })).toMatch(/count 2 but 1/);
    expect(chain.nextBatchProblem({ ...good, report: { ...good.report, root: new Uint8Array(32) } })).toMatch(/root/);
    expect(() => chain.processDecidedBatch(decidedBatch(3, 200, 1, [entryOf(s2, 'COMMIT')]))).toThrow(/expects height 2/);
  });

  it('jumps to a peer’s kept batches and then judges like the peer', () => {
    const peer = new DecidedChain();
    decide(peer, 100, [entryOf(s1, 'COMMIT')]);
    decide(peer, 2500, [entryOf(s2, 'COMMIT'), entryOf(s3, 'ABORT')]);
    decide(peer, 2600, [entryOf(s4, 'COMMIT')]);
    const laggard = new DecidedChain();
    expect(laggard.jumpProblem([])).toMatch(/no decided batches/);
    expect(laggard.jumpProblem(peer.keptBatches().slice(1))).toMatch(/liveFrom/);
    laggard.processJump(peer.keptBatches());
    expect([laggard.tip, laggard.timeMs, laggard.liveFromFor(4)]).toEqual([peer.tip, peer.timeMs, peer.liveFromFor(4)]);
    for (const s of [s1, s2, s3, s4]) expect(laggard.holds(s.id)).toBe(peer.holds(s.id));
    expect(laggard.jumpProblem(peer.keptBatches())).toMatch(/not ahead/);
  });
});

// ---------------------------------------------------------------------------------------------
// Random chains: only batches valid_h accepts are decided.

const UNIVERSE = 30;
const candidate = fc.record({
  advanceMs: fc.integer({ min: 0, max: 1500 }),
  picks: fc.uniqueArray(fc.integer({ min: 0, max: UNIVERSE - 1 }), { minLength: 1, maxLength: 4 }),
  decisions: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
});
const chainRun = fc.record({
  windows: fc.array(fc.integer({ min: 1000, max: 20_000 }), { minLength: UNIVERSE, maxLength: UNIVERSE }),
  candidates: fc.array(candidate, { minLength: 1, maxLength: 40, size: 'large' }),
});

/** A pool in which every settlement has both decisions valid and every member a bundle far ahead. */
function fullPool(settlements: readonly Settlement[]) {
  const pool = newPool(UNIVERSE);
  for (const s of settlements) pool.learnTerms(s.terms);
  for (const m of [1, 2, 3, 4]) {
    const shape = m <= 2 ? 'locked' : 'deadlineNone';
    feed(pool, m, 10_000_000, settlements.map((s) => bundleEntry(s, shape)));
  }
  return pool;
}

describe('random chains', () => {
  it('never decide a settlement twice, never forget a live id, and a jump judges alike', () => {
    let heights = 0;
    let refused = 0;
    fc.assert(
      fc.property(chainRun, ({ windows, candidates }) => {
        const settlements = windows.map((w, i) => settlement(`r${i}`, i * 1500, w));
        const pool = fullPool(settlements);
        const chain = new DecidedChain();
        const decidedAt = new Map<string, number>();
        const history: Entry[][] = [];
        let timeMs = 0;
        for (const c of candidates) {
          const height = chain.tip + 1;
          const entries = c.picks.map((p, i): Entry => entryOf(settlements[p]!, (c.decisions[i] ? 'COMMIT' : 'ABORT') as Decision));
          const b = batchOf(entries, timeMs + c.advanceMs, chain.liveFromFor(height));
          if (batchProblem({ chain, pool, params: PARAMS }, height, b.header, b.entries) !== null) {
            refused++;
            continue;
          }
          heights++;
          for (const e of b.entries) {
            const key = toHex(e.settlementId);
            expect(decidedAt.has(key), `${key} decided at ${decidedAt.get(key)} and again at ${height}`).toBe(false);
            decidedAt.set(key, height);
          }
          decide(chain, b.header.timeMs, b.entries);
          history.push(b.entries);
          timeMs = b.header.timeMs;
          // Pruning forgets only what V4 excludes; liveFrom matches its definition over the history.
          for (const e of history.flat()) expect(chain.holds(e.settlementId)).toBe(e.validUntilMs > timeMs);
          const live = history.findIndex((es) => es.some((e) => e.validUntilMs > timeMs));
          expect(chain.liveFromFor(height + 1)).toBe(live < 0 ? height + 1 : live + 1);
        }
        if (chain.tip === 0) return;
        const laggard = new DecidedChain();
        laggard.processJump(chain.keptBatches());
        const probe = batchOf(settlements.map((s) => entryOf(s, 'ABORT')).slice(0, PARAMS.batchEntriesMax), timeMs, chain.liveFromFor(chain.tip + 1));
        const judge = (ch: DecidedChain) => batchProblem({ chain: ch, pool, params: PARAMS }, ch.tip + 1, probe.header, probe.entries);
        expect(judge(laggard)).toBe(judge(chain));
      }),
      { numRuns: 150 },
    );
    // The runs exercise both sides: many heights decided, many candidates refused by V3/V4.
    expect(heights).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(200);
  });
});
