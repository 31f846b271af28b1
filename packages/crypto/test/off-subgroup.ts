import { bls12_381 } from '@noble/curves/bls12-381.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import type { G1Point, G2Point } from '../src/index.js';

/**
 * Points on the BLS12-381 curves but outside their prime-order subgroups, built the only way
 * there is: an x whose right-hand side is a square, with the cofactor not cleared. Test-only.
 */
const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;
const { Fp, Fp2 } = bls12_381.fields;
const R = bls12_381.fields.Fr.ORDER;
/** Tries per point: half of all x are on the curve, so 64 misses in a row mean a broken search. */
const X_TRIES_MAX = 64;

/** The first G1 curve point with x ≥ start; it is outside G1 unless start was chosen to hit it. */
export function g1CurvePoint(start: bigint): G1Point {
  for (let x = start; x < start + BigInt(X_TRIES_MAX); x++) {
    try {
      return G1.fromAffine({ x, y: Fp.sqrt(Fp.add(Fp.pow(x, 3n), G1.CURVE().b)) });
    } catch {
      // x³ + b is not a square: the next x
    }
  }
  throw new Error('g1CurvePoint: no curve point found');
}

/** The first G2 curve point with x = (start + k) + 0·i. */
export function g2CurvePoint(start: bigint): G2Point {
  for (let c0 = start; c0 < start + BigInt(X_TRIES_MAX); c0++) {
    const x = Fp2.create({ c0, c1: 1n });
    try {
      return G2.fromAffine({ x, y: Fp2.sqrt(Fp2.add(Fp2.pow(x, 3n), G2.CURVE().b)) });
    } catch {
      // not a square: the next x
    }
  }
  throw new Error('g2CurvePoint: no curve point found');
}

/**
 * A point of order exactly `p` (a prime dividing G1's cofactor), or null if this seed's point has
 * no part of order a power of p: [h·r / p^e]·P keeps only that part, then multiply by p while
 * the result stays nonzero.
 */
export function g1TorsionOfOrder(p: bigint, start: bigint): G1Point | null {
  const h = G1.CURVE().h;
  let pe = 1n;
  while (h % (pe * p) === 0n) pe *= p;
  let t = g1Times(g1CurvePoint(start), (h * R) / pe);
  if (t.is0()) return null;
  for (let next = g1Times(t, p); !next.is0(); next = g1Times(t, p)) t = next;
  return t;
}

/** The compressed encoding of any curve point, in or off the subgroup (noble's refuses the latter). */
export function encodeG1(p: G1Point): Uint8Array {
  const { x, y } = p.toAffine();
  const b = numberToBytesBE(x, 48);
  b[0]! |= 0x80 | (y * 2n > Fp.ORDER ? 0x20 : 0);
  return b;
}

/** The compressed encoding of any G2 curve point: x.c1 ‖ x.c0, the sign taken from y.c1 (y.c0 if zero). */
export function encodeG2(p: G2Point): Uint8Array {
  const { x, y } = p.toAffine();
  const b = new Uint8Array(96);
  b.set(numberToBytesBE(x.c1, 48), 0);
  b.set(numberToBytesBE(x.c0, 48), 48);
  const part = y.c1 !== 0n ? y.c1 : y.c0;
  b[0]! |= 0x80 | (part * 2n > Fp.ORDER ? 0x20 : 0);
  return b;
}

/** `bytes` (a valid compressed G1 point) moved by the point `t`, re-encoded. */
export function g1Plus(bytes: Uint8Array, t: G1Point): Uint8Array {
  return encodeG1(G1.fromBytes(bytes).add(t));
}

/** k·t for any integer k ≥ 0 (scalars above r allowed: t need not be in G1). */
export function g1Times(t: G1Point, k: bigint): G1Point {
  return k === 0n ? G1.ZERO : mulAddUnsafe(G1, [t], [k], true);
}
