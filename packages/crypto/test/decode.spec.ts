import { describe, expect, it } from 'vitest';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { Fp2 } from '@noble/curves/abstract/tower.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { PointDecodeError, blsSign, blsPublicKey, decodeG1Signature, decodeG2PublicKey } from '../src/index.js';
import type { PointErrorCode } from '../src/index.js';
import { bytesOf } from './helpers.js';

const { Fp, Fp2: F2 } = bls12_381.fields;
const G1b = bls12_381.G1.Point.CURVE().b;
const G2b = bls12_381.G2.Point.CURVE().b;

function codeOf(f: () => unknown): PointErrorCode | 'none' {
  try {
    f();
    return 'none';
  } catch (e) {
    if (e instanceof PointDecodeError) return e.code;
    throw e;
  }
}

function isSquare<T>(sqrt: (v: T) => T, v: T): boolean {
  try {
    sqrt(v);
    return true;
  } catch {
    return false;
  }
}

/** Compressed G1 encoding of an x coordinate, with the compression flag and a chosen sign flag. */
function g1Bytes(x: bigint, sign = false): Uint8Array {
  const b = numberToBytesBE(x, 48);
  b[0]! |= 0x80 | (sign ? 0x20 : 0);
  return b;
}

function g2Bytes(x: Fp2): Uint8Array {
  const b = new Uint8Array(96);
  b.set(numberToBytesBE(x.c1, 48), 0);
  b.set(numberToBytesBE(x.c0, 48), 48);
  b[0]! |= 0x80;
  return b;
}

/** The smallest x in 1.. whose right-hand side x^3 + b is (or is not) a square: deterministic. */
function smallG1X(square: boolean): bigint {
  for (let x = 1n; x < 1000n; x++) if (isSquare((v: bigint) => Fp.sqrt(v), Fp.add(Fp.pow(x, 3n), G1b)) === square) return x;
  throw new Error('no x found');
}

function smallG2X(square: boolean): Fp2 {
  for (let c0 = 1n; c0 < 1000n; c0++) {
    const x = F2.create({ c0, c1: 1n });
    if (isSquare((v: Fp2) => F2.sqrt(v), F2.add(F2.pow(x, 3n), G2b)) === square) return x;
  }
  throw new Error('no x found');
}

describe('strict G1 signature decoding', () => {
  const valid = blsSign(blsSecret(), bytesOf('decode'));

  it('accepts a valid signature', () => {
    expect(codeOf(() => decodeG1Signature(valid))).toBe('none');
  });

  it('wrong length', () => {
    expect(codeOf(() => decodeG1Signature(valid.subarray(0, 47)))).toBe('length');
    expect(codeOf(() => decodeG1Signature(new Uint8Array(96)))).toBe('length');
    expect(codeOf(() => decodeG1Signature(new Uint8Array(0)))).toBe('length');
  });

  it('bad encodings: no compression flag, x not below p, non-canonical infinity', () => {
    const uncompressedFlag = valid.slice();
    uncompressedFlag[0]! &= 0x7f;
    expect(codeOf(() => decodeG1Signature(uncompressedFlag))).toBe('encoding');
    expect(codeOf(() => decodeG1Signature(g1Bytes(Fp.ORDER)))).toBe('encoding');
    const dirtyInfinity = new Uint8Array(48);
    dirtyInfinity[0] = 0xc0;
    dirtyInfinity[47] = 1;
    expect(codeOf(() => decodeG1Signature(dirtyInfinity))).toBe('encoding');
    const signedInfinity = new Uint8Array(48);
    signedInfinity[0] = 0xe0;
    expect(codeOf(() => decodeG1Signature(signedInfinity))).toBe('encoding');
  });

  it('not on the curve', () => {
    const x = smallG1X(false);
    expect(codeOf(() => decodeG1Signature(g1Bytes(x)))).toBe('not-on-curve');
  });

  it('on the curve but outside the prime-order subgroup (cofactor not cleared)', () => {
    const x = smallG1X(true);
    const raw = bls12_381.G1.Point.fromAffine({ x, y: Fp.sqrt(Fp.add(Fp.pow(x, 3n), G1b)) });
    expect(raw.isTorsionFree()).toBe(false); // the test's premise: a random curve point, not in G1
    expect(codeOf(() => decodeG1Signature(g1Bytes(x)))).toBe('not-in-subgroup');
    expect(codeOf(() => decodeG1Signature(g1Bytes(x, true)))).toBe('not-in-subgroup');
    // Clearing the cofactor lands in the subgroup, and then the point decodes.
    expect(codeOf(() => decodeG1Signature(raw.clearCofactor().toBytes(true)))).toBe('none');
  });

  it('identity', () => {
    const identity = new Uint8Array(48);
    identity[0] = 0xc0;
    expect(codeOf(() => decodeG1Signature(identity))).toBe('identity');
  });

  it('errors name what was decoded', () => {
    expect(() => decodeG1Signature(new Uint8Array(3), 'partial 4')).toThrow(/^partial 4: wrong length/);
  });
});

describe('strict G2 public key decoding', () => {
  const valid = blsPublicKey(blsSecret());

  it('accepts a valid key', () => {
    expect(codeOf(() => decodeG2PublicKey(valid))).toBe('none');
  });

  it('wrong length', () => {
    expect(codeOf(() => decodeG2PublicKey(valid.subarray(0, 95)))).toBe('length');
    expect(codeOf(() => decodeG2PublicKey(new Uint8Array(48)))).toBe('length');
  });

  it('bad encodings: no compression flag, a coordinate not below p', () => {
    const noFlag = valid.slice();
    noFlag[0]! &= 0x7f;
    expect(codeOf(() => decodeG2PublicKey(noFlag))).toBe('encoding');
    const bigC0 = valid.slice();
    bigC0.set(numberToBytesBE(Fp.ORDER, 48), 48);
    expect(codeOf(() => decodeG2PublicKey(bigC0))).toBe('encoding');
  });

  it('not on the curve', () => {
    expect(codeOf(() => decodeG2PublicKey(g2Bytes(smallG2X(false))))).toBe('not-on-curve');
  });

  it('on the curve but outside the prime-order subgroup', () => {
    const x = smallG2X(true);
    const raw = bls12_381.G2.Point.fromAffine({ x, y: F2.sqrt(F2.add(F2.pow(x, 3n), G2b)) });
    expect(raw.isTorsionFree()).toBe(false);
    expect(codeOf(() => decodeG2PublicKey(g2Bytes(x)))).toBe('not-in-subgroup');
    expect(codeOf(() => decodeG2PublicKey(raw.clearCofactor().toBytes(true)))).toBe('none');
  });

  it('identity', () => {
    const identity = new Uint8Array(96);
    identity[0] = 0xc0;
    expect(codeOf(() => decodeG2PublicKey(identity))).toBe('identity');
  });
});

function blsSecret(): Uint8Array {
  const s = new Uint8Array(32);
  s[31] = 7;
  s[0] = 0x11;
  return s;
}
