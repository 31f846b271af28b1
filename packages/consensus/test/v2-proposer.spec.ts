import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Entry, batchHeaderDigest, toHex } from '@tandem/protocol';
import {
  DecidedChain,
  assembleBatch,
  batchProblem,
  forgetSettled,
  freshCommitFilterRejects,
  guardDueMs,
  heightProposer,
  isExpiredUndecided,
  justificationFor,
  proposerTimeMs,
  readyDecision,
  readyEntries,
} from '../src/index.js';
import { N, PARAMS, SHAPES, type Shape, batchOf, bundleEntry, decide, entryOf, feed, justify, newPool, settlement } from './v2-fixture.js';

const GUARD = PARAMS.commitGuardMs; // 1000

describe('the proposer rule and urgency', () => {
  it('rotates the proposer by height and round', () => {
    expect([heightProposer(1, 0, 4), heightProposer(4, 0, 4), heightProposer(1, 3, 4), heightProposer(2, 1, 4)]).toEqual([2, 1, 1, 4]);
  });

  it('makes a COMMIT ready only while the clock is at least commitGuardMs before validUntil, else an ABORT if valid', () => {
    const both = settlement('both', 3000); // validUntil 5000
    const commitOnly = settlement('commitOnly', 3000);
    const pool = newPool();
    justify(pool, [both, commitOnly], 'COMMIT', 100);
    justify(pool, [both], 'ABORT', 100, [3, 4]);
    expect(readyDecision(pool, both.id, 5000, 4000, PARAMS)).toBe('COMMIT'); // exactly commitGuardMs before
    expect(readyDecision(pool, both.id, 5000, 4001, PARAMS)).toBe('ABORT');
    expect(readyDecision(pool, commitOnly.id, 5000, 4000, PARAMS)).toBe('COMMIT');
    expect(readyDecision(pool, commitOnly.id, 5000, 4001, PARAMS)).toBeNull();
  });

  it('makes a settlement with both legs locked an ABORT once f+1 guard entries are in and the guard is past, not one left locked', () => {
    const s = settlement('late-locked', 3000); // validUntil 5000: guard due at 4000
    const pool = newPool();
    pool.learnTerms(s.terms);
    for (const m of [1, 2]) feed(pool, m, 4000, [bundleEntry(s, 'guardLocked')]);
    expect(pool.isValid(s.id, 'COMMIT')).toBe(true);
    expect(pool.isValid(s.id, 'ABORT')).toBe(true);
    expect(readyDecision(pool, s.id, 5000, 4000, PARAMS)).toBe('COMMIT'); // still in time: COMMIT first
    expect(readyDecision(pool, s.id, 5000, 4001, PARAMS)).toBe('ABORT');
  });

  it('lists ready entries most urgent first and leaves out decided, expired and unjustified ones', () => {
    const c5000 = settlement('c5000', 3000); // COMMIT urgency 4500
    const a4600 = settlement('a4600', 2600); // ABORT urgency 4600
    const c5200 = settlement('c5200', 3200); // COMMIT urgency 4700
    const decided = settlement('decided', 8000);
    const expired = settlement('expired', 0, 900);
    const bare = settlement('bare', 3000);
    const chain = new DecidedChain();
    decide(chain, 1000, [entryOf(decided, 'COMMIT')]);
    const pool = newPool();
    justify(pool, [c5000, c5200, decided, expired], 'COMMIT', 100);
    justify(pool, [a4600], 'ABORT', 100);
    pool.learnTerms(bare.terms);
    const ready = readyEntries(chain, pool, 1500, PARAMS);
    expect(ready.map((e) => [toHex(e.settlementId), e.decision])).toEqual([
      [toHex(c5000.id), 'COMMIT'],
      [toHex(a4600.id), 'ABORT'],
      [toHex(c5200.id), 'COMMIT'],
    ]);
  });

  it('gives the batch the (f+1)-th largest bundle time, lowered below a ready entry left out, never below chain time', () => {
    const chain = new DecidedChain();
    decide(chain, 1000, [entryOf(settlement('p', 5000), 'ABORT')]);
    const pool = newPool();
    expect(proposerTimeMs(chain, pool, null)).toBe(1000); // fewer than f+1 members heard
    feed(pool, 1, 9000, []);
    feed(pool, 2, 7000, []);
    feed(pool, 3, 3000, []);
    expect(proposerTimeMs(chain, pool, null)).toBe(7000);
    expect(proposerTimeMs(chain, pool, 5000)).toBe(4999);
    expect(proposerTimeMs(chain, pool, 800)).toBe(1000);
  });

  it('assembles up to batchEntriesMax entries in urgency order and keeps chain time below what it leaves out', () => {
    const chain = new DecidedChain();
    const ss = Array.from({ length: 8 }, (_, i) => settlement(`b${i}`, 3000 + 100 * i)); // validUntil 5000 … 5700
    const pool = newPool();
    expect(assembleBatch(chain, pool, 0, PARAMS)).toBeNull();
    justify(pool, ss, 'ABORT', 9000, [1, 2, 3]);
    const batch = assembleBatch(chain, pool, 0, PARAMS)!;
    expect(batch.entries.map((e) => e.validUntilMs).sort()).toEqual([5000, 5100, 5200, 5300, 5400, 5500]);
    expect(batch.header).toMatchObject({ timeMs: 5599, liveFrom: 1, count: 6 }); // 5600 left out
    expect(batchProblem({ chain, pool, params: PARAMS }, 1, batch.header, batch.entries)).toBeNull();
  });

  it('filters fresh COMMIT proposals from validUntil − commitGuardMs/2 on, unless re-proposed or locked on', () => {
    const s = settlement('filter', 3000); // validUntil 5000: filter from 4500
    const { header, entries } = batchOf([entryOf(s, 'COMMIT')], 1000, 1);
    const abortOnly = batchOf([entryOf(s, 'ABORT')], 1000, 1);
    const other = batchHeaderDigest({ ...header, timeMs: 999 });
    expect(freshCommitFilterRejects(header, entries, -1, null, 4499, PARAMS)).toBe(false);
    expect(freshCommitFilterRejects(header, entries, -1, null, 4500, PARAMS)).toBe(true);
    expect(freshCommitFilterRejects(header, entries, -1, other, 4500, PARAMS)).toBe(true);
    expect(freshCommitFilterRejects(header, entries, -1, batchHeaderDigest(header), 9000, PARAMS)).toBe(false);
    expect(freshCommitFilterRejects(header, entries, 0, null, 9000, PARAMS)).toBe(false);
    expect(freshCommitFilterRejects(abortOnly.header, abortOnly.entries, -1, null, 9000, PARAMS)).toBe(false);
  });

  it('signs guard entries at max(deadline, validUntil − commitGuardMs) and spots expired undecided settlements', () => {
    expect(guardDueMs(settlement('g1', 3000, 2000).terms, PARAMS)).toBe(4000);
    expect(guardDueMs(settlement('g2', 3000, 500).terms, PARAMS)).toBe(3000);
    const chain = new DecidedChain();
    const s = settlement('late', 0, 900);
    expect(isExpiredUndecided(chain, s.id, s.validUntilMs)).toBe(false);
    decide(chain, 900, [entryOf(settlement('x', 5000), 'ABORT')]);
    expect(isExpiredUndecided(chain, s.id, s.validUntilMs)).toBe(true);
  });

  it('forgets decided and expired settlements after a height, telling which is which', () => {
    const decidedLate = settlement('decidedLate', 3000); // validUntil 5000, decided at time 5500
    const stranded = settlement('stranded', 1000); // validUntil 3000, never decided
    const open = settlement('open', 7000); // validUntil 9000
    const chain = new DecidedChain();
    const pool = newPool();
    justify(pool, [decidedLate, stranded, open], 'ABORT', 100);
    const batch = decide(chain, 5500, [entryOf(decidedLate, 'ABORT')]);
    expect(isExpiredUndecided(chain, decidedLate.id, decidedLate.validUntilMs)).toBe(true); // pruned at once: D cannot tell
    const settled = forgetSettled(chain, pool, [batch]);
    expect(settled.decided.map((e) => toHex(e.settlementId))).toEqual([toHex(decidedLate.id)]);
    expect(settled.expired.map((k) => toHex(k.settlementId))).toEqual([toHex(stranded.id)]);
    expect([pool.termsOf(decidedLate.id), pool.termsOf(stranded.id), pool.termsOf(open.id)?.validUntilMs]).toEqual([null, null, 9000]);
  });
});

describe('the justification of a fresh batch', () => {
  it('gives each entry f+1 supporters and the time f+1 headers, and nothing less will do', () => {
    const chain = new DecidedChain();
    const [c, a] = [settlement('jc', 3000), settlement('ja', 3000)];
    const pool = newPool();
    justify(pool, [c], 'COMMIT', 2000, [1, 3, 4]);
    justify(pool, [a], 'ABORT', 2500, [2, 4]);
    const batch = assembleBatch(chain, pool, 0, PARAMS)!;
    expect(batch.header.timeMs).toBe(2500); // the (f+1)-th largest newest bundle time: members 2 and 4
    const parts = justificationFor(chain, pool, batch.header, batch.entries);
    expect(parts.map((p) => [p.header.signer, p.header.timeMs, p.items.length])).toEqual([
      [1, 2000, 1], // COMMIT: members 1 and 3, the lowest indices
      [2, 2500, 1], // ABORT: members 2 and 4; member 2's header also serves V5
      [3, 2000, 1],
      [4, 2500, 1], // member 4's newest bundle: ABORT support and V5
    ]);
    const receiverWith = (use: typeof parts) => {
      const r = newPool();
      r.learnTerms(c.terms);
      r.learnTerms(a.terms);
      for (const p of use) r.addBundle(p.header, p.items);
      return batchProblem({ chain, pool: r, params: PARAMS }, 1, batch.header, batch.entries);
    };
    expect(receiverWith(parts)).toBeNull();
    expect(receiverWith([])).toMatch(/^V2/);
    for (let i = 0; i < parts.length; i++) expect(receiverWith(parts.filter((_, j) => j !== i))).not.toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// What the proposer assembles is valid, at home and wherever its justification arrives.

const COUNT = 9;
const shape: fc.Arbitrary<Shape> = fc.oneof(
  { arbitrary: fc.constantFrom<Shape>('locked', 'deadlineNone', 'guardNone'), weight: 3 },
  { arbitrary: fc.constantFrom(...SHAPES), weight: 1 },
);
const bundleEvent = fc.record({
  member: fc.integer({ min: 1, max: N }),
  timeMs: fc.integer({ min: 0, max: 12_000 }),
  entries: fc.array(fc.record({ index: fc.integer({ min: 0, max: COUNT - 1 }), shape }), { maxLength: 6 }),
});
const world = fc.record({
  deadlines: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: COUNT, maxLength: COUNT }),
  prefix: fc.array(fc.record({ index: fc.integer({ min: 0, max: COUNT - 1 }), advanceMs: fc.integer({ min: 0, max: 3000 }) }), { maxLength: 3 }),
  proposerEvents: fc.array(bundleEvent, { minLength: 1, maxLength: 30, size: 'large' }),
  receiverEvents: fc.array(bundleEvent, { maxLength: 10 }),
  justificationAt: fc.nat(),
  nowMs: fc.integer({ min: 0, max: 14_000 }),
});

describe('assembled batches', () => {
  it('are valid at the proposer and at any node holding the proposer’s justification', () => {
    let assembled = 0;
    fc.assert(
      fc.property(world, (w) => {
        const ss = w.deadlines.map((d, i) => settlement(`w${i}`, d));
        const chain = new DecidedChain();
        let timeMs = 0;
        for (const p of w.prefix) {
          const s = ss[p.index]!;
          timeMs += p.advanceMs;
          if (chain.holds(s.id) || s.validUntilMs <= chain.timeMs) continue;
          decide(chain, Math.max(timeMs, chain.timeMs), [entryOf(s, 'ABORT')]);
        }
        const pool = newPool();
        for (const s of ss) pool.learnTerms(s.terms);
        for (const ev of w.proposerEvents) feed(pool, ev.member, ev.timeMs, ev.entries.map((x) => bundleEntry(ss[x.index]!, x.shape)));
        const batch = assembleBatch(chain, pool, w.nowMs, PARAMS);
        if (batch === null) return;
        assembled++;
        const height = chain.tip + 1;
        expect(batchProblem({ chain, pool, params: PARAMS }, height, batch.header, batch.entries)).toBeNull();
        // The proposer rule: a fresh COMMIT only with commitGuardMs to spare, so its own filter passes it.
        for (const e of batch.entries) if (e.decision === 'COMMIT') expect(w.nowMs).toBeLessThanOrEqual(e.validUntilMs - PARAMS.commitGuardMs);
        expect(freshCommitFilterRejects(batch.header, batch.entries, -1, null, w.nowMs, PARAMS)).toBe(false);
        // Chain time never strands a ready entry left out.
        const inBatch = new Set(batch.entries.map((e: Entry) => toHex(e.settlementId)));
        for (const e of readyEntries(chain, pool, w.nowMs, PARAMS)) {
          if (!inBatch.has(toHex(e.settlementId))) expect(e.validUntilMs).toBeGreaterThan(batch.header.timeMs);
        }
        // A receiver with other evidence of its own, the proposal's terms, and the justification somewhere in between.
        const receiver = newPool();
        for (const e of batch.entries) receiver.learnTerms(pool.termsOf(e.settlementId)!.terms);
        const parts = justificationFor(chain, pool, batch.header, batch.entries);
        const at = w.justificationAt % (w.receiverEvents.length + 1);
        w.receiverEvents.forEach((ev, i) => {
          if (i === at) for (const p of parts) receiver.addBundle(p.header, p.items);
          feed(receiver, ev.member, ev.timeMs, ev.entries.map((x) => bundleEntry(ss[x.index]!, x.shape)));
        });
        if (at === w.receiverEvents.length) for (const p of parts) receiver.addBundle(p.header, p.items);
        expect(batchProblem({ chain, pool: receiver, params: PARAMS }, height, batch.header, batch.entries)).toBeNull();
      }),
      { numRuns: 300 },
    );
    expect(assembled).toBeGreaterThan(100);
  });
});
