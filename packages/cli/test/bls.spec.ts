import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '@tandem/protocol';
import { blsPublicKey, blsSign } from '@tandem/crypto';
import { main } from '../src/main.js';
import { QUICKNET_BEACONS, QUICKNET_PUBLIC_KEY_HEX, quicknetMessage } from '../../crypto/test/vectors.js';

const STANDARD_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';
let out: string[];
let err: string[];

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
});

afterEach(() => {
  vi.restoreAllMocks();
});

function verify(publicKey: string, message: string, signature: string, ...rest: string[]): Promise<number> {
  return main(['node', 'tandem', 'bls', 'verify', '--public-key', publicKey, '--message', message, '--signature', signature, ...rest]);
}

const beacon = QUICKNET_BEACONS[0]!;
const beaconMessage = toHex(quicknetMessage(beacon.round));

describe('tandem bls verify', () => {
  it('accepts a real drand quicknet beacon under the standard DST', async () => {
    expect(await verify(QUICKNET_PUBLIC_KEY_HEX, beaconMessage, beacon.signatureHex, '--dst', STANDARD_DST)).toBe(0);
    expect(out.join('')).toBe('valid\n');
  });

  it('rejects the neighbouring round (exit 1, "invalid")', async () => {
    const next = toHex(quicknetMessage(beacon.round + 1));
    expect(await verify(QUICKNET_PUBLIC_KEY_HEX, next, beacon.signatureHex, '--dst', STANDARD_DST)).toBe(1);
    expect(out.join('')).toBe('invalid\n');
  });

  it('uses the Tandem DST by default', async () => {
    const secret = new Uint8Array(32);
    secret[31] = 42;
    const msg = new TextEncoder().encode('report digest');
    const sig = toHex(blsSign(secret, msg));
    expect(await verify(toHex(blsPublicKey(secret)), toHex(msg), sig)).toBe(0);
    expect(await verify(QUICKNET_PUBLIC_KEY_HEX, beaconMessage, beacon.signatureHex)).toBe(1);
  });

  it('malformed input exits 2 with a message naming the argument and the reason', async () => {
    const identitySig = 'c0' + '00'.repeat(47);
    const offCurveSig = '80' + '00'.repeat(46) + '01'; // x = 1: 1 + 4 is not a square mod p
    const cases: [string, string, string, RegExp][] = [
      [QUICKNET_PUBLIC_KEY_HEX, beaconMessage, beacon.signatureHex.slice(1), /--signature: hex string has an odd number of digits/],
      [QUICKNET_PUBLIC_KEY_HEX.slice(2), beaconMessage, beacon.signatureHex, /--public-key: expected 96 bytes/],
      [QUICKNET_PUBLIC_KEY_HEX, beaconMessage, beacon.signatureHex + '00', /--signature: expected 48 bytes/],
      [QUICKNET_PUBLIC_KEY_HEX, 'abc', beacon.signatureHex, /--message: hex string has an odd number of digits/],
      [QUICKNET_PUBLIC_KEY_HEX, 'zz', beacon.signatureHex, /--message: hex string has a non-hex character/],
      [QUICKNET_PUBLIC_KEY_HEX, beaconMessage, identitySig, /--signature: the identity point/],
      [QUICKNET_PUBLIC_KEY_HEX, beaconMessage, offCurveSig, /--signature: not a curve point/],
      ['c0' + '00'.repeat(95), beaconMessage, beacon.signatureHex, /--public-key: the identity point/],
    ];
    for (const [pk, msg, sig, expected] of cases) {
      err.length = 0;
      out.length = 0;
      expect(await verify(pk, msg, sig, '--dst', STANDARD_DST)).toBe(2);
      expect(err.join('')).toMatch(expected);
      expect(out.join('')).toBe('');
    }
  });

  it('a signature point outside the subgroup exits 2 naming it', async () => {
    // x = 4: 4^3 + 4 = 68 is a square mod p, so (4, y) is on the curve; G1's cofactor is not
    // cleared, and a random curve point is not in the prime-order subgroup.
    const sig = '80' + '00'.repeat(46) + '04';
    expect(await verify(QUICKNET_PUBLIC_KEY_HEX, beaconMessage, sig, '--dst', STANDARD_DST)).toBe(2);
    expect(err.join('')).toMatch(/--signature: not in the prime-order subgroup/);
  });

  it('missing arguments and an empty --dst exit 2', async () => {
    expect(await main(['node', 'tandem', 'bls', 'verify', '--public-key', QUICKNET_PUBLIC_KEY_HEX])).toBe(2);
    expect(await verify(QUICKNET_PUBLIC_KEY_HEX, beaconMessage, beacon.signatureHex, '--dst', '')).toBe(2);
    expect(err.join('')).toMatch(/--dst/);
  });
});
