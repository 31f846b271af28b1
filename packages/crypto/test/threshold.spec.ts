import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CURVE_ORDER,
  TANDEM_BLS_DST,
  STANDARD_BLS_DST,
  blsPublicKey,
  blsSign,
  blsVerify,
  batchVerifyPartials,
  combinePartials,
  combineVerified,
  dealerKeygen,
  groupPublicKey,
  sharePublicKey,
  verifyPartial,
  verifyShare,
} from '../src/index.js';
import type { DealerOutput, Partial } from '../src/index.js';
import { bytesOf, seededRandomBytes } from './helpers.js';

// BLS in pure JS costs milliseconds per operation: few runs, small committees.
const RUNS = 10;

/** n in 1..7, a threshold t in 1..n, and a seed for the dealer's randomness. */
const committee = fc
  .integer({ min: 1, max: 7 })
  .chain((n) => fc.record({ n: fc.constant(n), t: fc.integer({ min: 1, max: n }), seed: fc.uint8Array({ minLength: 16, maxLength: 16 }) }));

function deal(n: number, t: number, seed: Uint8Array): DealerOutput {
  return dealerKeygen(n, t, seededRandomBytes(seed));
}

function partialsFor(d: DealerOutput, indices: readonly number[], message: Uint8Array): Partial[] {
  return indices.map((i) => ({ index: i, signature: blsSign(d.shares[i - 1]!.secret, message) }));
}

/** A subset of 1..n of size k, in shuffled order. */
function subsetOf(n: number, k: number, rank: number[]): number[] {
  const all = Array.from({ length: n }, (_, i) => i + 1);
  return all
    .map((i, k2) => ({ i, key: rank[k2] ?? 0 }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .slice(0, k)
    .map((x) => x.i);
}

const message = bytesOf('tandem test report');

describe('dealer keygen', () => {
  it('rejects bad parameters with a clear error', () => {
    const rb = seededRandomBytes(bytesOf('params'));
    expect(() => dealerKeygen(4, 0, rb)).toThrow(/t must be/);
    expect(() => dealerKeygen(4, 5, rb)).toThrow(/t must be/);
    expect(() => dealerKeygen(1001, 3, rb)).toThrow(/n must be/);
    expect(() => dealerKeygen(0, 1, rb)).toThrow(/n must be/);
    expect(() => dealerKeygen(2.5, 1, rb)).toThrow(/n must be/);
    expect(() => dealerKeygen(4, 1.5, rb)).toThrow(/t must be/);
  });

  it('rejects a randomness source that returns the wrong length', () => {
    expect(() => dealerKeygen(4, 3, () => new Uint8Array(3))).toThrow(/wrong number of bytes/);
  });

  it('deals t commitments and n shares with indices 1..n, and zeroes the randomness it drew', () => {
    const drawn: Uint8Array[] = [];
    const inner = seededRandomBytes(bytesOf('zeroing'));
    const d = dealerKeygen(4, 3, (k) => {
      const b = inner(k);
      drawn.push(b);
      return b;
    });
    expect(Object.keys(d).sort()).toEqual(['commitments', 'shares']);
    expect(d.commitments).toHaveLength(3);
    for (const c of d.commitments) expect(c).toHaveLength(96);
    expect(d.shares.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    for (const s of d.shares) expect(s.secret).toHaveLength(32);
    expect(drawn.length).toBeGreaterThanOrEqual(3);
    for (const b of drawn) expect(b.every((x) => x === 0)).toBe(true);
    expect(groupPublicKey(d.commitments)).toEqual(d.commitments[0]);
  });

  it('derived share public keys are the keys of the shares', () => {
    const d = deal(4, 3, bytesOf('share keys'));
    for (const s of d.shares) expect(sharePublicKey(d.commitments, s.index)).toEqual(blsPublicKey(s.secret));
  });

  it('different seeds give different groups; the same seed the same group', () => {
    expect(deal(3, 2, bytesOf('a')).commitments).toEqual(deal(3, 2, bytesOf('a')).commitments);
    expect(deal(3, 2, bytesOf('a')).commitments[0]).not.toEqual(deal(3, 2, bytesOf('b')).commitments[0]);
  });

  it('property: every dealt share verifies, and a tampered share does not', () => {
    fc.assert(
      fc.property(committee, fc.nat(), fc.integer({ min: 0, max: 255 }), ({ n, t, seed }, pick, bit) => {
        const d = deal(n, t, seed);
        for (const s of d.shares) expect(verifyShare(s, d.commitments)).toBe(true);
        const victim = d.shares[pick % n]!;
        const flipped = victim.secret.slice();
        flipped[31 - (bit >> 3)]! ^= 1 << (bit & 7);
        // A flip can leave 1..r-1 (then it is a different scalar) or not (then it is malformed): both fail.
        expect(verifyShare({ index: victim.index, secret: flipped }, d.commitments)).toBe(false);
        // With t = 1 the polynomial is constant and every share is the same scalar.
        if (t > 1) {
          const other = (victim.index % n) + 1;
          expect(verifyShare({ index: other, secret: victim.secret }, d.commitments)).toBe(false);
        }
        expect(verifyShare({ index: 0, secret: victim.secret }, d.commitments)).toBe(false);
        expect(verifyShare({ index: victim.index, secret: new Uint8Array(32) }, d.commitments)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('plain BLS', () => {
  const secret = deal(1, 1, bytesOf('plain')).shares[0]!.secret;
  const pk = blsPublicKey(secret);

  it('signs and verifies under the Tandem DST by default', () => {
    const sig = blsSign(secret, message);
    expect(sig).toHaveLength(48);
    expect(blsVerify(pk, message, sig)).toBe(true);
    expect(blsVerify(pk, message, sig, TANDEM_BLS_DST)).toBe(true);
    expect(blsVerify(pk, bytesOf('another message'), sig)).toBe(false);
  });

  it('refuses to sign under the standard DST (verification only)', () => {
    expect(() => blsSign(secret, message, STANDARD_BLS_DST)).toThrow(/standard BLS DST/);
  });

  it('returns false, never throws, on a malformed key or signature', () => {
    const sig = blsSign(secret, message);
    expect(blsVerify(pk.subarray(1), message, sig)).toBe(false);
    expect(blsVerify(pk, message, sig.subarray(0, 47))).toBe(false);
    expect(blsVerify(pk, message, new Uint8Array(48))).toBe(false);
    const identity = new Uint8Array(48);
    identity[0] = 0xc0;
    expect(blsVerify(pk, message, identity)).toBe(false);
    const identityKey = new Uint8Array(96);
    identityKey[0] = 0xc0;
    expect(blsVerify(identityKey, message, identity)).toBe(false);
  });

  it('rejects secret keys that are not a scalar in 1..r-1', () => {
    expect(() => blsSign(new Uint8Array(32), message)).toThrow(/nonzero scalar/);
    const big = new Uint8Array(32).fill(0xff);
    expect(() => blsSign(big, message)).toThrow(/nonzero scalar/);
    expect(() => blsSign(new Uint8Array(31), message)).toThrow(/32 bytes/);
    expect(CURVE_ORDER > 0n).toBe(true);
  });
});

describe('threshold signatures', () => {
  it('property: any t (or more) of n partials combine into the same group signature, which verifies', () => {
    fc.assert(
      fc.property(committee, fc.array(fc.nat(), { minLength: 7, maxLength: 7 }), fc.array(fc.nat(), { minLength: 7, maxLength: 7 }), fc.nat(), ({ n, t, seed }, rankA, rankB, extra) => {
        const d = deal(n, t, seed);
        const a = subsetOf(n, t, rankA);
        const b = subsetOf(n, t + (extra % (n - t + 1)), rankB);
        const sigA = combinePartials(partialsFor(d, a, message));
        const sigB = combinePartials(partialsFor(d, b, message));
        expect(sigA).toEqual(sigB);
        expect(blsVerify(d.commitments[0]!, message, sigA)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('property: t-1 partials combined never verify', () => {
    fc.assert(
      fc.property(committee.filter(({ t }) => t >= 2), fc.array(fc.nat(), { minLength: 7, maxLength: 7 }), ({ n, t, seed }, rank) => {
        const d = deal(n, t, seed);
        const few = subsetOf(n, t - 1, rank);
        const sig = combinePartials(partialsFor(d, few, message));
        expect(blsVerify(d.commitments[0]!, message, sig)).toBe(false);
        const r = combineVerified(d.commitments, message, partialsFor(d, few, message), t);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.good.sort()).toEqual([...few].sort());
      }),
      { numRuns: RUNS },
    );
  });

  type Corruption = 'wrong-message' | 'wrong-share' | 'malformed' | 'identity';
  const corruption = fc.constantFrom<Corruption>('wrong-message', 'wrong-share', 'malformed', 'identity');

  function corrupt(d: DealerOutput, p: Partial, how: Corruption): Partial {
    switch (how) {
      case 'wrong-message':
        return { index: p.index, signature: blsSign(d.shares[p.index - 1]!.secret, bytesOf('something else')) };
      case 'wrong-share': {
        // A well-formed partial over the right message, signed with a key that is not this index's.
        const foreign = deal(1, 1, bytesOf(`foreign ${p.index}`)).shares[0]!.secret;
        return { index: p.index, signature: blsSign(foreign, message) };
      }
      case 'malformed':
        return { index: p.index, signature: p.signature.subarray(0, 40) };
      case 'identity': {
        const s = new Uint8Array(48);
        s[0] = 0xc0;
        return { index: p.index, signature: s };
      }
    }
  }

  it('property: corrupted partials are found and left out; the result is ok when t good remain', () => {
    fc.assert(
      fc.property(
        committee.filter(({ n }) => n >= 2),
        fc.array(fc.nat(), { minLength: 7, maxLength: 7 }),
        fc.array(fc.tuple(fc.nat(), corruption), { minLength: 1, maxLength: 3 }),
        ({ n, t, seed }, rank, corruptions) => {
          const d = deal(n, t, seed);
          const present = subsetOf(n, n, rank); // all members answer, in shuffled order
          const honest = partialsFor(d, present, message);
          const badSet = new Set<number>();
          const partials = honest.map((p) => p);
          for (const [pos, how] of corruptions) {
            const k = pos % partials.length;
            partials[k] = corrupt(d, honest[k]!, how);
            badSet.add(honest[k]!.index);
          }
          const r = combineVerified(d.commitments, message, partials, t);
          const goodCount = n - badSet.size;
          const firstT = [...present].sort((a, b) => a - b).slice(0, t);
          expect(r.ok).toBe(goodCount >= t);
          // Every corrupted partial the optimistic path had to look at is named; nothing honest is.
          for (const i of firstT) if (badSet.has(i)) expect(r.bad).toContain(i);
          for (const i of r.bad) expect(badSet.has(i)).toBe(true);
          if (r.ok) {
            expect(r.used).toHaveLength(t);
            for (const i of r.used) expect(badSet.has(i)).toBe(false);
            expect(blsVerify(d.commitments[0]!, message, r.signature)).toBe(true);
            const reference = combinePartials(honest.slice(0, t));
            expect(r.signature).toEqual(reference);
          } else {
            expect([...r.bad].sort()).toEqual([...badSet].sort());
            expect(r.good.length).toBe(goodCount);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('verifyPartial and batchVerifyPartials check partials against derived share keys', () => {
    const d = deal(4, 3, bytesOf('verify partial'));
    const ps = partialsFor(d, [1, 2, 3, 4], message);
    for (const p of ps) expect(verifyPartial(d.commitments, p, message)).toBe(true);
    expect(verifyPartial(d.commitments, { index: 2, signature: ps[0]!.signature }, message)).toBe(false);
    expect(verifyPartial(d.commitments, ps[0]!, bytesOf('other'))).toBe(false);
    expect(verifyPartial(d.commitments, { index: 1, signature: new Uint8Array(48) }, message)).toBe(false);
    expect(verifyPartial(d.commitments, { index: 0, signature: ps[0]!.signature }, message)).toBe(false);
    expect(batchVerifyPartials(d.commitments, message, ps)).toBe(true);
    expect(batchVerifyPartials(d.commitments, message, [ps[0]!, { index: 2, signature: ps[2]!.signature }])).toBe(false);
    expect(batchVerifyPartials(d.commitments, bytesOf('other'), ps)).toBe(false);
  });

  it('rejects duplicate indices, a t that does not match the commitments, and empty combines', () => {
    const d = deal(3, 2, bytesOf('dups'));
    const ps = partialsFor(d, [1, 2], message);
    expect(() => combineVerified(d.commitments, message, [ps[0]!, ps[0]!], 2)).toThrow(/duplicate/);
    expect(() => combineVerified(d.commitments, message, ps, 3)).toThrow(/does not match/);
    expect(() => combinePartials([])).toThrow(/at least one/);
    expect(() => combinePartials([{ index: 0, signature: ps[0]!.signature }])).toThrow(/share index/);
  });

  it('bad partials inside the first t are named, and t good ones beyond them are used', () => {
    const d = deal(7, 5, bytesOf('bisection'));
    const ps = partialsFor(d, [1, 2, 3, 4, 5, 6, 7], message);
    ps[1] = { index: 2, signature: blsSign(d.shares[1]!.secret, bytesOf('not the report')) };
    ps[3] = { index: 4, signature: ps[4]!.signature }; // index 5's partial replayed as index 4's
    const r = combineVerified(d.commitments, message, ps, 5);
    expect(r).toMatchObject({ ok: true, used: [1, 3, 5, 6, 7], bad: [2, 4] });
    if (r.ok) expect(blsVerify(d.commitments[0]!, message, r.signature)).toBe(true);
    const tooMany = ps.map((p, k) => (k === 5 ? { index: 6, signature: new Uint8Array(48) } : p));
    expect(combineVerified(d.commitments, message, tooMany, 5)).toEqual({ ok: false, bad: [2, 4, 6], good: [1, 3, 5, 7] });
  });

  it('the optimistic path examines only the first t partials by index', () => {
    const d = deal(4, 2, bytesOf('optimistic'));
    const ps = partialsFor(d, [4, 3, 2, 1], message);
    const r = combineVerified(d.commitments, message, ps, 2);
    expect(r).toMatchObject({ ok: true, used: [1, 2], bad: [] });
  });
});
