import { describe, expect, it } from 'vitest';
import { toHex } from '@tandem/protocol';
import { PENDING_PER_MEMBER_MAX } from '../src/index.js';
import { bundleEntry, bundleHeader, feed, newPool, settlement } from './v2-fixture.js';

describe('the v2 evidence pool', () => {
  const s = settlement('pool', 3000);

  it('judges entries that came before the terms once the terms arrive', () => {
    const pool = newPool();
    feed(pool, 1, 100, [bundleEntry(s, 'locked')]);
    feed(pool, 2, 100, [bundleEntry(s, 'locked'), bundleEntry(s, 'deadlineNone')]);
    expect([pool.termsOf(s.id), pool.isValid(s.id, 'COMMIT'), pool.pendingSettlements]).toEqual([null, false, 1]);
    const learned = pool.learnTerms(s.terms);
    expect(learned.newlyValid.map((v) => [toHex(v.settlementId), v.decision])).toEqual([[toHex(s.id), 'COMMIT']]);
    expect([pool.isValid(s.id, 'COMMIT'), pool.supportCount(s.id, 'ABORT'), pool.pendingSettlements]).toEqual([true, 1, 0]);
    expect(pool.termsOf(s.id)?.validUntilMs).toBe(5000);
  });

  it('announces a value once, and keeps the first supporting entries of f + 1 members (what it kept, it says)', () => {
    const pool = newPool();
    expect(pool.f).toBe(1);
    pool.learnTerms(s.terms);
    const first = pool.addBundle(bundleHeader(1, 100, [bundleEntry(s, 'locked')]), [{ index: 0, entry: bundleEntry(s, 'locked') }]);
    expect([first.newlyValid, first.kept.map((i) => i.index)]).toEqual([[], [0]]);
    // A repeat of member 1's support is not kept, and says so.
    const repeat = pool.addBundle(bundleHeader(1, 150, [bundleEntry(s, 'locked')]), [{ index: 0, entry: bundleEntry(s, 'locked') }]);
    expect([repeat.newlyValid, repeat.kept]).toEqual([[], []]);
    const second = pool.addBundle(bundleHeader(2, 100, [bundleEntry(s, 'deadlineLocked')]), [{ index: 0, entry: bundleEntry(s, 'deadlineLocked') }]);
    expect([second.newlyValid.map((v) => v.decision), second.kept.length]).toEqual([['COMMIT'], 1]);
    // f + 1 = 2 members support COMMIT: a third member's entry changes nothing and is not kept.
    const third = pool.addBundle(bundleHeader(3, 200, [bundleEntry(s, 'locked')]), [{ index: 0, entry: bundleEntry(s, 'locked') }]);
    expect([third.newlyValid, third.kept]).toEqual([[], []]);
    feed(pool, 1, 300, [bundleEntry(s, 'none'), bundleEntry(s, 'locked')]);
    expect(pool.supporters(s.id, 'COMMIT').map((p) => [p.header.signer, p.header.timeMs, p.index])).toEqual([
      [1, 100, 0],
      [2, 100, 0],
    ]);
    expect([pool.supportCount(s.id, 'COMMIT'), pool.isValid(s.id, 'COMMIT')]).toEqual([2, true]);
  });

  it('holds at most openSettlementsMax ids with unknown terms, refusing the rest until one is forgotten', () => {
    const pool = newPool(2);
    const [x, y, z] = ['x', 'y', 'z'].map((n) => settlement(n, 3000));
    feed(pool, 1, 100, [bundleEntry(x!, 'locked'), bundleEntry(y!, 'rejected')]);
    const refused = pool.addBundle(bundleHeader(2, 100, []), [
      { index: 0, entry: bundleEntry(z!, 'locked') },
      { index: 1, entry: bundleEntry(z!, 'none') }, // supports nothing: not held, not refused
      { index: 2, entry: bundleEntry(x!, 'locked') },
    ]);
    expect([refused.refused, pool.pendingSettlements]).toEqual([1, 2]);
    pool.forgetSettlement(y!.id);
    feed(pool, 2, 200, [bundleEntry(z!, 'locked')]);
    expect(pool.pendingSettlements).toBe(2);
    pool.learnTerms(x!.terms);
    expect(pool.isValid(x!.id, 'COMMIT')).toBe(true);
  });

  it(`keeps at most ${PENDING_PER_MEMBER_MAX} distinct entries per member for an id with unknown terms`, () => {
    const pool = newPool();
    // A lying member sends four other may-support entries (and a repeat) first, then a supporting one.
    for (const shape of ['wrongLock', 'wrongLock', 'deadlineWrongLock', 'guardNone', 'rejected', 'locked'] as const) {
      feed(pool, 4, 100, [bundleEntry(s, shape)]);
    }
    pool.learnTerms(s.terms);
    expect([pool.supportCount(s.id, 'ABORT'), pool.supportCount(s.id, 'COMMIT')]).toEqual([1, 0]);
    // Once the terms are known every entry is judged as it comes: the resent entry (or one in a
    // proposal's justification) counts.
    feed(pool, 4, 200, [bundleEntry(s, 'wrongLock'), bundleEntry(s, 'locked')]);
    expect(pool.supportCount(s.id, 'COMMIT')).toBe(1);
  });

  it('keeps each member’s newest bundle time for V5', () => {
    const pool = newPool();
    feed(pool, 1, 500, []);
    feed(pool, 1, 300, []); // an older bundle arriving late lowers nothing
    feed(pool, 2, 400, []);
    expect([pool.newestHeaderOf(1)?.timeMs, pool.membersWithBundleAtLeast(400), pool.membersWithBundleAtLeast(401)]).toEqual([500, 2, 1]);
    expect(pool.newestHeaders().map((h) => h.signer)).toEqual([1, 2]);
    expect(() => feed(pool, 5, 100, [])).toThrow(/signer 5 is not a member/);
  });
});
