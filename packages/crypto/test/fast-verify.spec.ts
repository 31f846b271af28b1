import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { PointDecodeError, STANDARD_BLS_DST, TANDEM_BLS_DST, blsPublicKey, blsSign, blsVerify, blsVerifyReference, dealerKeygen, decodeG1Signature, memoizeCheck, sharePublicKey, verifyPartial } from '../src/index.js';
import type { G1Point, PointErrorCode } from '../src/index.js';
import { decodeG1OnCurve } from '../src/points.js';
import { bytesOf, seededRandomBytes } from './helpers.js';
import { encodeG1, encodeG2, g1CurvePoint, g1Plus, g1TorsionOfOrder, g2CurvePoint } from './off-subgroup.js';

const RUNS = 12;

function secret(seed: number): Uint8Array {
  const s = new Uint8Array(32);
  s[0] = 0x11;
  s[31] = seed & 0xff;
  s[30] = seed >>> 8;
  return s;
}

function decodeOutcome(decode: () => G1Point): PointErrorCode | Uint8Array {
  try {
    return encodeG1(decode());
  } catch (e) {
    if (e instanceof PointDecodeError) return e.code;
    throw e;
  }
}

const torsion3 = [1n, 8n, 15n, 22n].map((s) => g1TorsionOfOrder(3n, s)).find((t) => t !== null)!;

describe('on-curve G1 decoding against the strict decoder', () => {
  it('the same point or the same error, except that it lets points off the subgroup through', () => {
    const bytes = fc.oneof(
      fc.integer({ min: 1, max: 1 << 20 }).map((k) => blsSign(secret(k % 60_000), bytesOf(`m${k}`))),
      fc.bigInt({ min: 1n, max: 1n << 200n }).map((x) => encodeG1(g1CurvePoint(x))),
      fc.uint8Array({ minLength: 48, maxLength: 48 }).map((b) => Uint8Array.of(b[0]! | 0x80, ...b.subarray(1))),
      fc.uint8Array({ minLength: 0, maxLength: 50 }),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const strict = decodeOutcome(() => decodeG1Signature(b));
        const onCurve = decodeOutcome(() => decodeG1OnCurve(b));
        if (strict === 'not-in-subgroup') {
          expect(onCurve).toBeInstanceOf(Uint8Array);
          expect(onCurve).toEqual(b); // the same point: re-encoding gives the input back
          expect(decodeG1OnCurve(b).isTorsionFree()).toBe(false);
        } else {
          expect(onCurve).toEqual(strict);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('names what it decodes', () => {
    expect(() => decodeG1OnCurve(new Uint8Array(3), 'partial 4')).toThrow(/^partial 4: wrong length/);
  });
});

describe('blsVerify (prepared keys) accepts exactly what the reference accepts', () => {
  const message = bytesOf('tandem fast verify');
  const sk = secret(1);
  const pk = blsPublicKey(sk);
  const otherPk = blsPublicKey(secret(2));
  const sig = blsSign(sk, message);
  const identityG1 = Uint8Array.of(0xc0, ...new Uint8Array(47));
  const identityG2 = Uint8Array.of(0xc0, ...new Uint8Array(95));
  const keys = [pk, otherPk, encodeG2(g2CurvePoint(5n)), identityG2, pk.subarray(0, 95), bls12_381.G2.Point.BASE.toBytes(true)];
  const signatures = [
    sig,
    blsSign(sk, bytesOf('another message')),
    blsSign(secret(2), message),
    g1Plus(sig, torsion3),
    encodeG1(g1CurvePoint(77n)),
    identityG1,
    sig.subarray(1),
    Uint8Array.of(sig[0]! ^ 0x20, ...sig.subarray(1)), // the negated signature
  ];

  it('for every key × signature × DST combination, in both call orders', () => {
    for (const dst of [TANDEM_BLS_DST, STANDARD_BLS_DST]) {
      for (const k of keys) {
        for (const s of signatures) {
          const reference = blsVerifyReference(k, message, s, dst);
          expect(blsVerify(k, message, s, dst)).toBe(reference);
          expect(blsVerify(k, message, s, dst)).toBe(reference); // the second call hits the prepared key
        }
      }
    }
    expect(blsVerify(pk, message, sig)).toBe(true);
  });

  it('for random keys, messages and signatures, valid or not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 60_000 }), fc.string(), fc.boolean(), (a, b, m, sameMessage) => {
        const key = blsPublicKey(secret(a));
        const s = blsSign(secret(b), bytesOf(m));
        const msg = sameMessage ? bytesOf(m) : bytesOf(`${m}!`);
        expect(blsVerify(key, msg, s)).toBe(blsVerifyReference(key, msg, s));
      }),
      { numRuns: RUNS },
    );
  });

  it('a key array mutated after use is not served from the memo', () => {
    const k = pk.slice();
    expect(blsVerify(k, message, sig)).toBe(true);
    k.set(otherPk);
    expect(blsVerify(k, message, sig)).toBe(false);
  });

  it('verifyPartial (share keys prepared once) agrees with the reference on the derived share key', () => {
    const d = dealerKeygen(4, 3, seededRandomBytes(bytesOf('partials')));
    for (const share of d.shares) {
      const good = blsSign(share.secret, message);
      for (const s of [good, g1Plus(good, torsion3), blsSign(d.shares[0]!.secret, message), identityG1]) {
        const partial = { index: share.index, signature: s };
        expect(verifyPartial(d.commitments, partial, message)).toBe(blsVerifyReference(sharePublicKey(d.commitments, share.index), message, s));
      }
    }
  });
});

describe('memoizeCheck', () => {
  const message = bytesOf('report digest');
  const pk = blsPublicKey(secret(3));
  const sig = blsSign(secret(3), message);

  it('checks each distinct (key, message, signature) once, with the same results', () => {
    const memo = memoizeCheck((k, m, s) => blsVerify(k, m, s));
    const bad = blsSign(secret(4), message);
    for (let round = 0; round < 3; round++) {
      expect(memo(pk, message, sig)).toBe(true);
      expect(memo(pk, message, bad)).toBe(false);
    }
    expect(memo.checks()).toBe(2);
  });

  it('is bounded: past entriesMax the oldest is checked again', () => {
    let calls = 0;
    const memo = memoizeCheck(() => {
      calls++;
      return true;
    }, 2);
    const [a, b, c] = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    memo(a, message, sig);
    memo(b, message, sig);
    memo(c, message, sig); // evicts a
    memo(b, message, sig);
    expect(calls).toBe(3);
    memo(a, message, sig);
    expect(calls).toBe(4);
    expect(() => memoizeCheck(() => true, 0)).toThrow(/entriesMax/);
  });

  it('keys by content (a mutated array is a new entry) and keeps no result of a throwing check', () => {
    let fail = true;
    const memo = memoizeCheck((k) => {
      if (fail) throw new Error('boom');
      return k[0] === 1;
    });
    const k = Uint8Array.of(1);
    expect(() => memo(k, message, sig)).toThrow(/boom/);
    fail = false;
    expect(memo(k, message, sig)).toBe(true);
    k[0] = 2;
    expect(memo(k, message, sig)).toBe(false);
    expect(memo.checks()).toBe(3); // the throwing call, then one per content
  });
});
