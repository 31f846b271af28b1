/**
 * Strict decoding of compressed BLS12-381 points: G1 signatures (48 bytes) and G2 public keys
 * (96 bytes), in the ZCash/IETF serialization (top three bits of the first byte are the
 * compression, infinity and sign flags). Anything a peer sends goes through these: the error
 * code says exactly why an encoding was refused, so evidence and CLI messages can name it.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import type { Fp2 } from '@noble/curves/abstract/tower.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';

export type G1Point = WeierstrassPoint<bigint>;
export type G2Point = WeierstrassPoint<Fp2>;

export const G1_BYTES = 48;
export const G2_BYTES = 96;

export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
const { Fp, Fp2: Fp2Field } = bls12_381.fields;

export type PointErrorCode = 'length' | 'encoding' | 'not-on-curve' | 'not-in-subgroup' | 'identity';

const CODE_TEXT: Record<PointErrorCode, string> = {
  length: 'wrong length',
  encoding: 'bad encoding',
  'not-on-curve': 'not a curve point',
  'not-in-subgroup': 'not in the prime-order subgroup',
  identity: 'the identity point (point at infinity)',
};

export class PointDecodeError extends Error {
  override readonly name = 'PointDecodeError';
  constructor(
    readonly code: PointErrorCode,
    /** What was being decoded, e.g. "signature", "public key", "commitments[2]". */
    readonly what: string,
    detail = '',
  ) {
    super(`${what}: ${CODE_TEXT[code]}${detail ? ` (${detail})` : ''}`);
  }
}

const FLAG_COMPRESSED = 0x80;
const FLAG_INFINITY = 0x40;
const FLAG_SIGN = 0x20;
const FLAGS_MASK = 0xe0;

function checkLength(b: Uint8Array, len: number, what: string): void {
  if (!(b instanceof Uint8Array)) throw new PointDecodeError('length', what, 'expected bytes');
  if (b.length !== len) throw new PointDecodeError('length', what, `expected ${len} bytes, got ${b.length}`);
}

/** Checks the flag bits; throws 'identity' for the canonical point at infinity. */
function checkFlags(b: Uint8Array, what: string): void {
  const flags = b[0]! & FLAGS_MASK;
  if ((flags & FLAG_COMPRESSED) === 0) {
    throw new PointDecodeError('encoding', what, 'compression flag not set: only compressed points are accepted');
  }
  if ((flags & FLAG_INFINITY) !== 0) {
    if ((flags & FLAG_SIGN) !== 0) throw new PointDecodeError('encoding', what, 'infinity flag with sign flag');
    if ((b[0]! & ~FLAGS_MASK) !== 0 || b.subarray(1).some((x) => x !== 0)) {
      throw new PointDecodeError('encoding', what, 'non-canonical encoding of the point at infinity');
    }
    throw new PointDecodeError('identity', what);
  }
}

/** A 48-byte big-endian base-field element, with the flag bits cleared if `first`. */
function fieldElement(b: Uint8Array, first: boolean, what: string): bigint {
  const copy = new Uint8Array(b); // a copy even when b is a Buffer, whose slice() aliases
  if (first) copy[0]! &= ~FLAGS_MASK;
  const x = bytesToNumberBE(copy);
  if (x >= Fp.ORDER) throw new PointDecodeError('encoding', what, 'coordinate is not below the field modulus');
  return x;
}

function hasSqrt<T>(sqrt: (v: T) => T, v: T): boolean {
  try {
    sqrt(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * Decodes a compressed G1 point (a min-sig signature or partial). Throws PointDecodeError.
 * The curve library does the final decode and validity check; our own checks before it make the
 * error code precise, and after a failure we tell "not on the curve" from "not in the subgroup".
 */
export function decodeG1Signature(b: Uint8Array, what = 'signature'): G1Point {
  checkLength(b, G1_BYTES, what);
  checkFlags(b, what);
  const x = fieldElement(b, true, what);
  try {
    return G1.fromBytes(b);
  } catch (e) {
    const rhs = Fp.add(Fp.pow(x, 3n), G1.CURVE().b);
    if (!hasSqrt((v: bigint) => Fp.sqrt(v), rhs)) throw new PointDecodeError('not-on-curve', what);
    // Subgroup membership does not depend on the sign of y, so either root will do.
    const candidate = G1.fromAffine({ x, y: Fp.sqrt(rhs) });
    if (!candidate.isTorsionFree()) throw new PointDecodeError('not-in-subgroup', what);
    throw new PointDecodeError('encoding', what, e instanceof Error ? e.message : String(e));
  }
}

/**
 * Decodes a compressed G1 point checking only that it is on the curve, not that it is in the
 * prime-order subgroup (that check is most of a strict decode's cost). Only for the optimistic
 * combine, which checks the subgroup once on the combination and falls back to strict decodes
 * when anything fails (combine.ts); never for a point used on its own. The same errors as
 * decodeG1Signature, except that it never says 'not-in-subgroup'; for a subgroup point it
 * returns the same point.
 */
export function decodeG1OnCurve(b: Uint8Array, what = 'signature'): G1Point {
  checkLength(b, G1_BYTES, what);
  checkFlags(b, what);
  const x = fieldElement(b, true, what);
  let y: bigint;
  try {
    y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), G1.CURVE().b));
  } catch {
    throw new PointDecodeError('not-on-curve', what);
  }
  // The sign flag marks the larger of the two roots (y > (p − 1) / 2), as the strict decoder reads it.
  const larger = y * 2n > Fp.ORDER;
  if (larger !== ((b[0]! & FLAG_SIGN) !== 0)) y = Fp.neg(y);
  return G1.fromAffine({ x, y });
}

/** Decodes a compressed G2 point (a min-sig public key or Feldman commitment). Throws PointDecodeError. */
export function decodeG2PublicKey(b: Uint8Array, what = 'public key'): G2Point {
  checkLength(b, G2_BYTES, what);
  checkFlags(b, what);
  // Serialization order is x.c1 (with the flags) then x.c0.
  const c1 = fieldElement(b.subarray(0, G1_BYTES), true, what);
  const c0 = fieldElement(b.subarray(G1_BYTES), false, what);
  try {
    return G2.fromBytes(b);
  } catch (e) {
    const x = Fp2Field.create({ c0, c1 });
    const rhs = Fp2Field.add(Fp2Field.pow(x, 3n), G2.CURVE().b);
    if (!hasSqrt((v: Fp2) => Fp2Field.sqrt(v), rhs)) throw new PointDecodeError('not-on-curve', what);
    const candidate = G2.fromAffine({ x, y: Fp2Field.sqrt(rhs) });
    if (!candidate.isTorsionFree()) throw new PointDecodeError('not-in-subgroup', what);
    throw new PointDecodeError('encoding', what, e instanceof Error ? e.message : String(e));
  }
}

export function g1ToBytes(p: G1Point): Uint8Array {
  return p.toBytes(true);
}

/**
 * The compressed encoding of a point the caller knows to be in G1 (a multiple of a G1 point, such
 * as a signature H(m)·sk): `g1ToBytes` without noble's validity check, whose torsion test is ~15%
 * of a partial signature. Byte-identical to `g1ToBytes` for every G1 point (test/points.spec.ts).
 */
export function g1ToBytesOfSubgroupPoint(p: G1Point): Uint8Array {
  if (p.is0()) {
    const b = new Uint8Array(G1_BYTES);
    b[0] = FLAG_COMPRESSED | FLAG_INFINITY;
    return b;
  }
  const { x, y } = p.toAffine();
  const b = numberToBytesBE(x, G1_BYTES);
  // The sign flag: y is the larger of y and p − y, i.e. 2y > p (p is odd).
  b[0] = b[0]! | FLAG_COMPRESSED | (2n * y > Fp.ORDER ? FLAG_SIGN : 0);
  return b;
}

export function g2ToBytes(p: G2Point): Uint8Array {
  return p.toBytes(true);
}
