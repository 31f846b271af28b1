import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BatchHeader, type Decision, type Entry } from '@tandem/protocol';
import { DecidedChain, batchProblem, batchProblems, entrySupportsAbort, entrySupportsCommit } from '../src/index.js';
import {
  F,
  N,
  PARAMS,
  SHAPES,
  type Shape,
  batchOf,
  bundleEntry,
  decide,
  entryOf,
  feed,
  justify,
  newPool,
  settlement,
} from './v2-fixture.js';

describe('which bundle entries support which decision', () => {
  const s = settlement('support', 1000);
  const table: Record<Shape, [commit: boolean, abort: boolean]> = {
    locked: [true, false],
    wrongLock: [false, false],
    rejected: [false, true],
    deadlineNone: [false, true],
    deadlineLocked: [true, false],
    deadlineWrongLock: [false, true],
    guardNone: [false, true],
    // Past max(deadline, validUntil − commitGuardMs) a settlement is too late for a fresh COMMIT:
    // its guard entry supports ABORT whatever the legs show, so it aborts instead of staying
    // locked until reclaim; with both legs locked as the terms say it still supports COMMIT (a
    // locked COMMIT batch stays valid).
    guardLocked: [true, true],
    guardWrongLock: [false, true],
    committed: [false, false],
    none: [false, false],
  };
  for (const shape of SHAPES) {
    it(`${shape}: COMMIT ${table[shape][0]}, ABORT ${table[shape][1]}`, () => {
      const e = bundleEntry(s, shape);
      expect([entrySupportsCommit(e, s.locks), entrySupportsAbort(e, s.locks)]).toEqual(table[shape]);
    });
  }
});

describe('valid_h: each of V1–V6 failing on its own', () => {
  // Height 1 decided at time 1000 with `old` (validUntil 9000, still in D); judging height 2.
  const old = settlement('old', 7000);
  const a = settlement('a', 3000); // validUntil 5000
  const b = settlement('b', 4000); // 6000
  const expired = settlement('expired', 0, 900); // validUntil 900 ≤ chain time 1000
  const far = settlement('far', PARAMS.horizonMaxMs + 10_000); // validUntil beyond 4000 + horizon
  const unknown = settlement('unknown', 3000);
  const thin = settlement('thin', 3000); // one supporting member only

  function setting() {
    const chain = new DecidedChain();
    decide(chain, 1000, [entryOf(old, 'COMMIT')]);
    const pool = newPool();
    justify(pool, [old, a, far, expired], 'COMMIT', 4000);
    justify(pool, [b], 'ABORT', 4000);
    justify(pool, [thin], 'COMMIT', 4000, [3]);
    feed(pool, 4, 5000, []); // one member's clock is further on: not enough for V5
    return { chain, pool, params: PARAMS };
  }
  const ctx = setting();
  const problems = (entries: Entry[], edit: Partial<BatchHeader> = {}) => {
    const batch = batchOf(entries, 4000, 1);
    return batchProblems(ctx, 2, { ...batch.header, ...edit }, edit.count === undefined && edit.root === undefined ? batch.entries : entries);
  };
  const good = [entryOf(a, 'COMMIT'), entryOf(b, 'ABORT')];

  it('accepts the batch every case below changes in one way', () => {
    expect(problems(good)).toEqual([]);
    expect(batchProblem(ctx, 2, batchOf(good, 1000, 1).header, batchOf(good, 1000, 1).entries)).toBeNull(); // time = chain time
  });

  it('V1: count, order, decisions and root bind the header to its entries', () => {
    const sorted = batchOf(good, 4000, 1).entries;
    const only = (p: string[]) => {
      expect(p).toHaveLength(1);
      return p[0];
    };
    expect(only(problems(sorted, { count: 3 }))).toMatch(/^V1: count 3 but 2 entries/);
    const empty = { timeMs: 4000, liveFrom: 1, count: 0, root: new Uint8Array(32) };
    expect(only(batchProblems(ctx, 2, empty, []))).toMatch(/^V1: count 0 not in 1\.\.6/);
    expect(only(problems(sorted, { root: new Uint8Array(32) }))).toMatch(/^V1: root/);
    expect(only(problems([...sorted].reverse(), { count: 2, root: batchOf(good, 4000, 1).header.root }))).toMatch(/^V1: .*ascend/);
    const seven = Array.from({ length: 7 }, (_, i) => entryOf(settlement(`many${i}`, 3000), 'ABORT'));
    expect(only(problems(seven))).toMatch(/^V1: count 7 not in 1\.\.6/);
    // A decision that cannot even be encoded: the header carries the root of the COMMIT entry.
    const weird = { ...entryOf(a, 'COMMIT'), decision: 'MAYBE' as Decision };
    const commitRoot = batchOf([entryOf(a, 'COMMIT')], 4000, 1).header.root;
    expect(only(batchProblems(ctx, 2, { timeMs: 4000, liveFrom: 1, count: 1, root: commitRoot }, [weird]))).toMatch(/^V1: .* decision MAYBE/);
  });

  it('V2: terms, their validUntil, the horizon and f+1 supporting members', () => {
    expect(problems([entryOf(unknown, 'COMMIT')])).toEqual([expect.stringMatching(/^V2: no terms/)]);
    expect(problems([{ ...entryOf(a, 'COMMIT'), validUntilMs: 5001 }])).toEqual([expect.stringMatching(/^V2: .* its terms say 5000/)]);
    expect(problems([entryOf(far, 'COMMIT')])).toEqual([expect.stringMatching(/^V2: .* beyond time \+ horizonMaxMs/)]);
    expect(problems([entryOf(a, 'ABORT')])).toEqual([expect.stringMatching(/^V2: .* ABORT has 0 supporting members, needs 2/)]);
    expect(problems([entryOf(thin, 'COMMIT')])).toEqual([expect.stringMatching(/^V2: .* has 1 supporting members/)]);
  });

  it('V3: a settlement decided at a lower height', () => {
    expect(problems([entryOf(old, 'COMMIT'), entryOf(a, 'COMMIT')])).toEqual([expect.stringMatching(/^V3: .* decided at a lower height/)]);
  });

  it('V4: a settlement whose validUntil is at or below chain time', () => {
    expect(problems([entryOf(expired, 'COMMIT')])).toEqual([expect.stringMatching(/^V4: .* ≤ chain time 1000/)]);
  });

  it('V5: a time below chain time, or above what f+1 members’ bundles reached', () => {
    expect(problems(good, { timeMs: 999 })).toEqual([expect.stringMatching(/^V5: time 999 below chain time 1000/)]);
    expect(problems(good, { timeMs: 4001 })).toEqual([expect.stringMatching(/^V5: time 4001 reached by 1 members/)]);
  });

  it('V6: liveFrom other than the lowest live height', () => {
    expect(problems(good, { liveFrom: 2 })).toEqual([expect.stringMatching(/^V6: liveFrom 2, the chain says 1/)]);
  });

  it('judges only the next height', () => {
    expect(() => batchProblem(ctx, 3, batchOf(good, 4000, 1).header, batchOf(good, 4000, 1).entries)).toThrow(/only the next height/);
  });
});

// ---------------------------------------------------------------------------------------------
// Monotone: random evidence in random orders never turns a valid batch invalid.

const SETTLEMENTS = 3;
const shape: fc.Arbitrary<Shape> = fc.oneof(
  { arbitrary: fc.constantFrom<Shape>('locked', 'deadlineNone'), weight: 3 },
  { arbitrary: fc.constantFrom(...SHAPES), weight: 2 },
);
const event = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('terms' as const), index: fc.integer({ min: 0, max: SETTLEMENTS - 1 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('bundle' as const),
      member: fc.integer({ min: 1, max: N }),
      timeMs: fc.integer({ min: 0, max: 8000 }),
      entries: fc.array(fc.record({ index: fc.integer({ min: 0, max: SETTLEMENTS - 1 }), shape }), { maxLength: 4 }),
    }),
    weight: 5,
  },
);
const candidateBatch = fc.record({
  picks: fc.uniqueArray(fc.integer({ min: 0, max: SETTLEMENTS - 1 }), { minLength: 1, maxLength: SETTLEMENTS }),
  commits: fc.array(fc.boolean(), { minLength: SETTLEMENTS, maxLength: SETTLEMENTS }),
  timeMs: fc.constantFrom(1000, 2500, 6000),
});

describe('valid_h is monotone', () => {
  it('once a batch is valid it stays valid as more evidence arrives, in any order', () => {
    let becameValid = 0;
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 60, size: 'large' }), fc.array(candidateBatch, { minLength: 1, maxLength: 6 }), (events, candidates) => {
        const settlements = Array.from({ length: SETTLEMENTS }, (_, i) => settlement(`m${i}`, 2000 + 1000 * i));
        const chain = new DecidedChain();
        decide(chain, 1000, [entryOf(settlement('prefix', 5000), 'ABORT')]);
        const pool = newPool();
        const batches = candidates.map((c) =>
          batchOf(c.picks.map((p) => entryOf(settlements[p]!, c.commits[p] ? 'COMMIT' : 'ABORT')), c.timeMs, chain.liveFromFor(2)),
        );
        const valid = batches.map(() => false);
        for (const ev of events) {
          if (ev.kind === 'terms') pool.learnTerms(settlements[ev.index]!.terms);
          else feed(pool, ev.member, ev.timeMs, ev.entries.map((x) => bundleEntry(settlements[x.index]!, x.shape)));
          batches.forEach((b, i) => {
            const problem = batchProblem({ chain, pool, params: PARAMS }, 2, b.header, b.entries);
            expect(valid[i] && problem !== null, `batch ${i} valid, then: ${problem}`).toBe(false);
            if (!valid[i] && problem === null) becameValid++;
            valid[i] = valid[i] || problem === null;
          });
        }
      }),
      { numRuns: 300 },
    );
    expect(becameValid).toBeGreaterThan(50); // the runs reach valid batches, not only invalid ones
  });

  it('f+1 distinct members are needed: one member repeating itself never makes a value valid', () => {
    const s = settlement('repeat', 3000);
    const pool = newPool();
    pool.learnTerms(s.terms);
    for (let t = 0; t < 5; t++) feed(pool, 3, 1000 + t, [bundleEntry(s, 'locked'), bundleEntry(s, 'deadlineNone')]);
    expect([pool.supportCount(s.id, 'COMMIT'), pool.supportCount(s.id, 'ABORT'), pool.isValid(s.id, 'COMMIT')]).toEqual([1, 1, false]);
    expect(F).toBe(1);
  });
});
