import { describe, expect, it } from 'vitest';
import { hexToBytes } from '@noble/hashes/utils.js';
import { STANDARD_BLS_DST, TANDEM_BLS_DST, blsVerify } from '../src/index.js';
import { QUICKNET_BEACONS, QUICKNET_PUBLIC_KEY_HEX, quicknetMessage } from './vectors.js';

const publicKey = hexToBytes(QUICKNET_PUBLIC_KEY_HEX);

describe('drand quicknet beacons (real interop vectors, standard DST)', () => {
  for (const { round, signatureHex } of QUICKNET_BEACONS) {
    const sig = hexToBytes(signatureHex);
    it(`round ${round} verifies`, () => {
      expect(blsVerify(publicKey, quicknetMessage(round), sig, STANDARD_BLS_DST)).toBe(true);
    });
    it(`round ${round}: neighbouring rounds, flipped bits and other DSTs do not verify`, () => {
      expect(blsVerify(publicKey, quicknetMessage(round + 1), sig, STANDARD_BLS_DST)).toBe(false);
      expect(blsVerify(publicKey, quicknetMessage(round - 1), sig, STANDARD_BLS_DST)).toBe(false);
      const flipped = sig.slice();
      flipped[47]! ^= 0x01; // low bit of x: another x, off the curve or another point
      expect(blsVerify(publicKey, quicknetMessage(round), flipped, STANDARD_BLS_DST)).toBe(false);
      const negated = sig.slice();
      negated[0]! ^= 0x20; // the y-sign flag: a valid encoding of -σ, not a valid signature
      expect(blsVerify(publicKey, quicknetMessage(round), negated, STANDARD_BLS_DST)).toBe(false);
      expect(blsVerify(publicKey, quicknetMessage(round), sig, TANDEM_BLS_DST)).toBe(false);
      expect(blsVerify(publicKey, quicknetMessage(round), sig)).toBe(false);
    });
  }
});
