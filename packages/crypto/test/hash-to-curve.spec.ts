import { describe, expect, it } from 'vitest';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { TANDEM_BLS_DST, hashToG1 } from '../src/index.js';
import { RFC9380_G1_RO, RFC9380_G1_RO_DST } from './vectors.js';

describe('RFC 9380 hash_to_curve, BLS12381G1_XMD:SHA-256_SSWU_RO_ (Appendix J.9.1)', () => {
  for (const v of RFC9380_G1_RO) {
    it(`msg ${JSON.stringify(v.msg.length > 20 ? v.msg.slice(0, 20) + '…' : v.msg)}`, () => {
      const p = hashToG1(utf8ToBytes(v.msg), RFC9380_G1_RO_DST).toAffine();
      expect(p.x).toBe(bytesToNumberBE(hexToBytes(v.x)));
      expect(p.y).toBe(bytesToNumberBE(hexToBytes(v.y)));
    });
  }

  it('the DST separates: the same message under the Tandem DST is another point', () => {
    const quux = hashToG1(utf8ToBytes('abc'), RFC9380_G1_RO_DST);
    const tandem = hashToG1(utf8ToBytes('abc'), TANDEM_BLS_DST);
    expect(quux.equals(tandem)).toBe(false);
  });
});
