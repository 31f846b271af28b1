/**
 * The G1 encoding used for signatures (g1ToBytesOfSubgroupPoint) is noble's compressed encoding
 * exactly, for every G1 point: both signs of y, the identity, and signatures themselves.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { G1, decodeG1Signature, g1ToBytes, g1ToBytesOfSubgroupPoint } from '../src/points.js';
import { blsPublicKey, blsSign, blsVerify } from '../src/index.js';
import { CURVE_ORDER } from '../src/scalar.js';

const scalar = fc.bigInt({ min: 1n, max: CURVE_ORDER - 1n });

describe('g1ToBytesOfSubgroupPoint', () => {
  it('equals noble\'s checked compressed encoding for random G1 points, and decodes back to the point', () => {
    fc.assert(
      fc.property(scalar, (k) => {
        const p = G1.BASE.multiply(k);
        const bytes = g1ToBytesOfSubgroupPoint(p);
        expect(bytes).toEqual(g1ToBytes(p));
        expect(decodeG1Signature(bytes).equals(p)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('sets the sign flag exactly when y is the larger root, and encodes the identity', () => {
    const p = G1.BASE.multiply(7n);
    const flags = [p, p.negate()].map((q) => g1ToBytesOfSubgroupPoint(q)[0]! & 0x20);
    expect(flags.sort()).toEqual([0, 0x20]); // one of ±P has the larger y
    for (const q of [p, p.negate()]) expect(g1ToBytesOfSubgroupPoint(q)).toEqual(q.toBytes(true));
    expect(g1ToBytesOfSubgroupPoint(G1.ZERO)).toEqual(G1.ZERO.toBytes(true));
  });

  it('blsSign still gives noble\'s signature bytes, which verify', () => {
    const secret = new Uint8Array(32).fill(3);
    const message = new Uint8Array(32).fill(9);
    const dst = 'TANDEM-TEST-POINTS_BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_';
    const sig = blsSign(secret, message, dst);
    const reference = bls12_381.G1.hashToCurve(message, { DST: dst }).multiply(BigInt('0x' + Buffer.from(secret).toString('hex'))).toBytes(true);
    expect(sig).toEqual(reference);
    expect(blsVerify(blsPublicKey(secret), message, sig, dst)).toBe(true);
  });
});
