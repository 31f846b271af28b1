/**
 * Scalars of BLS12-381's prime-order group (the field Fr, order r): secret keys, polynomial
 * coefficients, Lagrange coefficients. Encoded as 32 bytes big-endian, the usual BLS secret-key
 * format.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';

/** A source of uniformly random bytes, passed in so this package stays pure. */
export type RandomBytes = (n: number) => Uint8Array;

export const Fr = bls12_381.fields.Fr;
export const CURVE_ORDER: bigint = Fr.ORDER;
export const SCALAR_BYTES = 32;

/**
 * Bytes drawn per random scalar: 48 bytes (384 bits) reduced mod r leaves a bias below 2^-128,
 * as in RFC 9380's hash_to_field; 32 bytes would bias the low scalars noticeably (r ≈ 2^254.9).
 */
const RANDOM_SCALAR_BYTES = 48;
/** A zero draw has probability 2^-255: more than a few in a row means the source is broken. */
const RANDOM_SCALAR_ATTEMPTS_MAX = 8;

export function scalarToBytes(s: bigint): Uint8Array {
  if (s <= 0n || s >= CURVE_ORDER) throw new Error('scalar out of range 1..r-1');
  return numberToBytesBE(s, SCALAR_BYTES);
}

/** Parses a secret scalar: exactly 32 bytes, big-endian, in 1..r-1 (no silent reduction). */
export function secretScalar(secret: Uint8Array, what: string): bigint {
  if (!(secret instanceof Uint8Array) || secret.length !== SCALAR_BYTES) {
    throw new Error(`${what} must be ${SCALAR_BYTES} bytes`);
  }
  const s = bytesToNumberBE(secret);
  if (s === 0n || s >= CURVE_ORDER) throw new Error(`${what} must be a nonzero scalar below the group order`);
  return s;
}

/** True when `secret` is a well-formed secret scalar (see secretScalar). */
export function isSecretScalar(secret: Uint8Array): boolean {
  try {
    secretScalar(secret, 'secret');
    return true;
  } catch {
    return false;
  }
}

/** Draws a uniform nonzero scalar; zeroes the random bytes it consumed. */
export function randomScalar(randomBytes: RandomBytes): bigint {
  for (let attempt = 0; attempt < RANDOM_SCALAR_ATTEMPTS_MAX; attempt++) {
    const buf = randomBytes(RANDOM_SCALAR_BYTES);
    if (!(buf instanceof Uint8Array) || buf.length !== RANDOM_SCALAR_BYTES) {
      throw new Error(`randomBytes(${RANDOM_SCALAR_BYTES}) returned the wrong number of bytes`);
    }
    const s = bytesToNumberBE(buf) % CURVE_ORDER;
    buf.fill(0);
    if (s !== 0n) return s;
  }
  throw new Error('randomBytes keeps producing zero scalars: the randomness source is broken');
}
