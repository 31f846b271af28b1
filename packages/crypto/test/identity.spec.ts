import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { REFERENCE_IDENTITY, identityFramed, identityKeygen, identityPublicKey, identitySign, identityVerify } from '../src/index.js';
import { bytesOf, seededRandomBytes } from './helpers.js';

const key = identityKeygen(seededRandomBytes(bytesOf('identity')));

describe('Ed25519 identity signatures', () => {
  it('sign/verify round trip; the public key is derived from the secret', () => {
    expect(identityPublicKey(key.secretKey)).toEqual(key.publicKey);
    const sig = identitySign('tandem/v1/vote', key.secretKey, bytesOf('hello'));
    expect(sig).toHaveLength(64);
    expect(identityVerify('tandem/v1/vote', key.publicKey, bytesOf('hello'), sig)).toBe(true);
    expect(identityVerify('tandem/v1/vote', key.publicKey, bytesOf('hellp'), sig)).toBe(false);
  });

  it('property: a signature under one domain never verifies under another', () => {
    const domain = fc.constantFrom('tandem/v1/obs', 'tandem/v1/vote', 'tandem/v1/proposal', 'tandem/v1/auth');
    fc.assert(
      fc.property(domain, domain, fc.uint8Array({ maxLength: 64 }), (a, b, msg) => {
        fc.pre(a !== b);
        const sig = identitySign(a, key.secretKey, msg);
        expect(identityVerify(a, key.publicKey, msg, sig)).toBe(true);
        expect(identityVerify(b, key.publicKey, msg, sig)).toBe(false);
      }),
      { numRuns: 20 },
    );
  });

  it('domain and message cannot be shifted into each other: the 0x00 separator is signed', () => {
    const sig = identitySign('tandem/v1/vote', key.secretKey, bytesOf('x'));
    // Raw Ed25519 over the same bytes without our framing does not match, and vice versa.
    expect(ed25519.verify(sig, bytesOf('tandem/v1/votex'), key.publicKey)).toBe(false);
    expect(ed25519.verify(sig, new Uint8Array([...bytesOf('tandem/v1/vote'), 0, ...bytesOf('x')]), key.publicKey)).toBe(true);
    const raw = ed25519.sign(bytesOf('x'), key.secretKey);
    expect(identityVerify('tandem/v1/vote', key.publicKey, bytesOf('x'), raw)).toBe(false);
  });

  it('refuses domains outside tandem/v1/ and tandem/v2/', () => {
    expect(() => identitySign('libp2p-tls-handshake:', key.secretKey, bytesOf('x'))).toThrow(/"tandem\/v1\/" or "tandem\/v2\/"/);
    expect(() => identitySign('tandem/v1/', key.secretKey, bytesOf('x'))).toThrow(/tandem\/v1\//);
    expect(() => identitySign('tandem/v2/', key.secretKey, bytesOf('x'))).toThrow(/tandem\/v2\//);
    expect(() => identitySign('tandem/v1/a\u0000b', key.secretKey, bytesOf('x'))).toThrow(/NUL/);
    expect(() => identitySign('tandem/v2/a\u0000b', key.secretKey, bytesOf('x'))).toThrow(/NUL/);
    expect(() => identityVerify('tandem/v3/vote', key.publicKey, bytesOf('x'), new Uint8Array(64))).toThrow(/tandem\/v1\//);
    expect(() => identityVerify('Tandem/v2/vote', key.publicKey, bytesOf('x'), new Uint8Array(64))).toThrow(/tandem\/v2\//);
    expect(() => identityFramed('tandem/v2', bytesOf('x'))).toThrow(/tandem\/v2\//);
  });

  it('protocol v2 domains sign and verify; v1 and v2 signatures never stand in for each other', () => {
    for (const use of ['bundle', 'vote', 'proposal']) {
      const sig = identitySign(`tandem/v2/${use}`, key.secretKey, bytesOf('batch'));
      expect(identityVerify(`tandem/v2/${use}`, key.publicKey, bytesOf('batch'), sig)).toBe(true);
      expect(identityVerify(`tandem/v1/${use}`, key.publicKey, bytesOf('batch'), sig)).toBe(false);
      expect(identityVerify(`tandem/v2/${use}`, key.publicKey, bytesOf('batcH'), sig)).toBe(false);
    }
  });

  it('identityFramed is utf8(domain) ‖ 0x00 ‖ message, and is what is signed', () => {
    const framed = identityFramed('tandem/v2/bundle', bytesOf('m'));
    expect(framed).toEqual(new Uint8Array([...bytesOf('tandem/v2/bundle'), 0, ...bytesOf('m')]));
    expect(ed25519.sign(framed, key.secretKey)).toEqual(identitySign('tandem/v2/bundle', key.secretKey, bytesOf('m')));
  });

  it('the reference port signs with a copy of the key, derives the public key once and verifies as identityVerify', () => {
    const secret = key.secretKey.slice();
    const signer = REFERENCE_IDENTITY.signerOf(secret);
    secret.fill(0);
    expect(signer.publicKey).toEqual(key.publicKey);
    const sig = signer.sign('tandem/v2/vote', bytesOf('m'));
    expect(sig).toEqual(identitySign('tandem/v2/vote', key.secretKey, bytesOf('m')));
    expect(REFERENCE_IDENTITY.verify('tandem/v2/vote', key.publicKey, bytesOf('m'), sig)).toBe(true);
    expect(() => REFERENCE_IDENTITY.signerOf(new Uint8Array(31))).toThrow(/32 bytes/);
  });

  it('returns false on malformed keys and signatures', () => {
    const sig = identitySign('tandem/v1/obs', key.secretKey, bytesOf('m'));
    expect(identityVerify('tandem/v1/obs', key.publicKey.subarray(1), bytesOf('m'), sig)).toBe(false);
    expect(identityVerify('tandem/v1/obs', key.publicKey, bytesOf('m'), sig.subarray(0, 63))).toBe(false);
    expect(identityVerify('tandem/v1/obs', new Uint8Array(32).fill(0xff), bytesOf('m'), sig)).toBe(false);
  });

  it('verifies by ZIP-215 (noble default): small-order keys and non-canonical encodings are accepted', () => {
    // A = identity point (y = 1), R = identity encoded non-canonically as y = p + 1, S = 0.
    // The cofactored equation [8]SB = [8]R + [8]kA holds for every message (all terms are 0).
    // RFC 8032 strict verification rejects it (non-canonical R, small-order A); ZIP-215 accepts.
    const identityKey = new Uint8Array(32);
    identityKey[0] = 1;
    const p = (1n << 255n) - 19n;
    const rNonCanonical = new Uint8Array(32);
    let y = p + 1n;
    for (let i = 0; i < 32; i++) {
      rNonCanonical[i] = Number(y & 0xffn);
      y >>= 8n;
    }
    const sig = new Uint8Array(64);
    sig.set(rNonCanonical, 0);
    const msg = bytesOf('anything');
    expect(identityVerify('tandem/v1/obs', identityKey, msg, sig)).toBe(true);
    const framed = new Uint8Array([...bytesOf('tandem/v1/obs'), 0, ...msg]);
    expect(ed25519.verify(sig, framed, identityKey, { zip215: false })).toBe(false);
  });

  it('keygen copies the key out of a Buffer before zeroing it (Buffer#slice would alias)', () => {
    const k = identityKeygen((n) => Buffer.alloc(n, 7));
    expect(k.secretKey.every((x) => x === 7)).toBe(true);
    expect(k.publicKey).toEqual(identityPublicKey(new Uint8Array(32).fill(7)));
  });

  it('keygen rejects a short randomness source and zeroes what it drew', () => {
    expect(() => identityKeygen(() => new Uint8Array(31))).toThrow(/wrong number of bytes/);
    let drawn = new Uint8Array(0);
    const k = identityKeygen((n) => (drawn = new Uint8Array(n).fill(9)));
    expect(drawn.every((x) => x === 0)).toBe(true);
    expect(k.secretKey.every((x) => x === 9)).toBe(true);
  });
});
