/**
 * The node:crypto identity port against the pure reference (crypto's identity.ts): signatures
 * byte-identical, and exactly the same signatures accepted — on random keys, messages and domains,
 * on mutated signatures, and on the Ed25519 edge cases where verifiers are known to disagree.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REFERENCE_IDENTITY, identityFramed, identityPublicKey, identitySign, identityVerify } from '@tandem/crypto';
import { fromHex } from '@tandem/protocol';
import { MemoVerifier, NativeIdentity, nativeIdentitySigner } from '../src/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/*
 * Edge-case vectors, all over identityFramed(EDGE_DOMAIN, utf8(EDGE_MESSAGE)), derived with
 * @noble/curves' ed25519.Point (B the base point, L the group order, p = 2^255 - 19):
 *  - T8, a point of order 8: [L]P for P decoded from sha512("torsion 2")[0..32] with the top bit
 *    cleared (counters 0 and 1 gave no point of order 8). The 8 small-order points are [j]T8,
 *    j = 0..7 (j = 0 the identity, 4 the point of order 2, 2 and 6 of order 4).
 *  - a = sha512("tandem edge a") mod L, the honest key A = [a]B; r = sha512("tandem edge r") mod L,
 *    R = [r]B; sha512 values read little-endian, as Ed25519 does.
 *  - k = sha512(R bytes ‖ A bytes ‖ framed message) mod L, the challenge, over the bytes as encoded.
 *  - The non-canonical encodings of small-order points are all of them: y = p and y = p + 1 (the
 *    order-4 points and the identity with y ≥ p), each with sign bit 0 and 1, and x = "-0" (sign bit
 *    set on x = 0) for y = 1 and y = p - 1. No other small-order point has y < 19, so no other
 *    y ≥ p encoding exists.
 * `zip215` is the verdict of the reference (noble, ZIP-215): what the protocol accepts.
 */
const EDGE_DOMAIN = 'tandem/v2/vote';
const EDGE_MESSAGE = 'edge case';
const A_HONEST = '1365511ce5a9c3d8e8e30d5c3f3a82fdfedd3dd754b84ed60a048bf5b247fb3e';
/** [a]B + T for T = T8, [2]T8, [4]T8: keys with a small-order component (mixed order). */
const A_MIXED_8 = 'ce95202f33b8bd09ed7fdbb234f9945afb91517c641c84d8c8d5177699bb9c4d';
const A_MIXED_4 = '40a9269834a568722b6791437d240d0547d6b11753ac5901e7ad4436c74d2b34';
const A_MIXED_2 = 'da9aaee31a563c27171cf2a3c0c57d020122c228ab47b129f5fb740a4db804c1';
/** R ‖ s with R = [r]B, s = r: valid under ZIP-215 for every small-order key ([8]A = 0), whatever the message. */
const SIG_R_S_EQ_R = '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd757665d82138bba44f260728c9bad3b66553219e59d69006a8e4ea7a7ca7ad00c';

interface Vector {
  readonly name: string;
  readonly publicKey: string;
  readonly signature: string;
  readonly zip215: boolean;
  /** A cofactorless verifier comparing R by its canonical encoding (OpenSSL) must refuse it. */
  readonly cofactorlessRejects?: true;
}

const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];
const NON_CANONICAL_SMALL_ORDER: readonly [string, string][] = [
  ['y = p (order 4)', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = p, sign bit (order 4)', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'],
  ['y = p + 1 (identity)', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
  ['y = p + 1, sign bit (identity)', 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'],
  ['y = 1, x = -0 (identity)', '0100000000000000000000000000000000000000000000000000000000000080'],
  ['y = p - 1, x = -0 (order 2)', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'],
];

const VECTORS: readonly Vector[] = [
  // R = [r]B, s = r + k·a mod L: an ordinary signature.
  { name: 'honest', publicKey: A_HONEST, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7ea5a60781e8a4b9b991f6dabad5aac2b99534198c49fff77bd842d69eb9ecf06', zip215: true },
  // Small-order keys, every canonical and non-canonical encoding, signature SIG_R_S_EQ_R.
  ...SMALL_ORDER.map((a, j) => ({ name: `small-order A = [${j}]T8`, publicKey: a, signature: SIG_R_S_EQ_R, zip215: true })),
  ...NON_CANONICAL_SMALL_ORDER.map(([what, a]) => ({ name: `non-canonical small-order A: ${what}`, publicKey: a, signature: SIG_R_S_EQ_R, zip215: true })),
  // Small-order R = [j]T8 under the honest key, s = k·a mod L: [8]R = 0 so the cofactored
  // equation holds; the cofactorless one asks sB − kA = R, i.e. R = identity (j = 0) only.
  { name: 'small-order R = [0]T8', publicKey: A_HONEST, signature: '0100000000000000000000000000000000000000000000000000000000000000f7b2c0cf68a03bc871b3104de922ea94032bfbd23176c8d38f2ed67509b50d08', zip215: true },
  { name: 'small-order R = [1]T8', publicKey: A_HONEST, signature: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037afa6ae22dc950a146ed19692f43910ef99780c63cf4ccb75a3a3ca57223578a09', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [2]T8', publicKey: A_HONEST, signature: '000000000000000000000000000000000000000000000000000000000000008080a4bdcad5ad31125e7bfc86b4e033c402789f114147d6a4954fb0c39967ad0d', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [3]T8', publicKey: A_HONEST, signature: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05708e2946236bf6c825be77c4690e90b3e3acd5282dbd6efd4125357ab45f6504', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [4]T8', publicKey: A_HONEST, signature: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f2d4ab933b7b5b5a4fb0ac2d3e6df2f9ad93e75a0b8bbd4f149b004e6a077e90a', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [5]T8', publicKey: A_HONEST, signature: '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc856957430e22b2428bb7885ff29ce0fc8baa8c7167038c514a4eb4cd8dcedc4c0d', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [6]T8', publicKey: A_HONEST, signature: '0000000000000000000000000000000000000000000000000000000000000000aaeaa74f07903bcfa02df38deb8853d62869aadc4eccb0b9ccecf803627c3700', zip215: true, cofactorlessRejects: true },
  { name: 'small-order R = [7]T8', publicKey: A_HONEST, signature: 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa912cf965e4359b301c60ca0c4a95f83268e2821c6cc2ecceb14f9ad9660ee909', zip215: true, cofactorlessRejects: true },
  // Non-canonical R (the encodings above) under the honest key, s = k·a mod L (k over the
  // non-canonical bytes): ZIP-215 decodes and accepts; the computed R's canonical encoding differs.
  { name: 'non-canonical R: y = p (order 4)', publicKey: A_HONEST, signature: 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7ffbaa4adddccd1bbdd4674ad008c809072b3695e8ae1468db3ec7dc6cb5f03508', zip215: true, cofactorlessRejects: true },
  { name: 'non-canonical R: y = p, sign bit (order 4)', publicKey: A_HONEST, signature: 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff2c1da8ad1ca7974fdf57005634f3f5552ef8e28ff990bbde8b51bd44d21a230d', zip215: true, cofactorlessRejects: true },
  { name: 'non-canonical R: y = p + 1 (identity)', publicKey: A_HONEST, signature: 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fadb6119cdac6b6ab477dcae3583656b77bc3382fbdc1eb408440b18917147b06', zip215: true, cofactorlessRejects: true },
  { name: 'non-canonical R: y = p + 1, sign bit (identity)', publicKey: A_HONEST, signature: 'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd7532c4e9e2bab7c6bab1c3aa663dd20bcd5e77fee1e30b94cee52bbfafc280f', zip215: true, cofactorlessRejects: true },
  { name: 'non-canonical R: y = 1, x = -0 (identity)', publicKey: A_HONEST, signature: '0100000000000000000000000000000000000000000000000000000000000080e2f49d573ad84ae11efc7f586dfa0a20849354641c80f0dcf2ed9b809852a706', zip215: true, cofactorlessRejects: true },
  { name: 'non-canonical R: y = p - 1, x = -0 (order 2)', publicKey: A_HONEST, signature: 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6a41676e8400a135c28cd603c1df644fd079a2819cce3e6fd639ab208e689a0f', zip215: true, cofactorlessRejects: true },
  // Mixed-order R = [r]B + T8, s = r + k·a mod L.
  { name: 'mixed-order R = [r]B + T8', publicKey: A_HONEST, signature: '9d4885154511f127cd76540e80af04db6c26fc1323f244c3d9290695a256b81f595f53a49077253b493ecc51806b793580b60e15b2e2861d15e208943c019605', zip215: true, cofactorlessRejects: true },
  // s ≥ L: the honest s + L; s = r + L under the identity key; s = k·a + L with R = identity.
  { name: 's + L (otherwise honest)', publicKey: A_HONEST, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7d72e56d538ed5df36fbc644e8c548b4099534198c49fff77bd842d69eb9ecf16', zip215: false },
  { name: 's = r + L, A = identity', publicKey: SMALL_ORDER[0]!, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7443a53df2deecc9cc8fd692f7aa71a7b553219e59d69006a8e4ea7a7ca7ad01c', zip215: false },
  { name: 's = k·a + L, R = identity', publicKey: A_HONEST, signature: '0100000000000000000000000000000000000000000000000000000000000000e486b62c83034e20485008f0c71cc9a9032bfbd23176c8d38f2ed67509b50d18', zip215: false },
  // Mixed-order keys [a]B + T, R = [r_i]B with r_i = sha512("tandem edge r i") mod L, s = r_i + k·a:
  // the cofactorless equation is off by k·T, so it holds only when k·T = 0 (i picked to show both).
  { name: 'mixed-order A = [a]B + T8, k·T ≠ 0 (i = 0)', publicKey: A_MIXED_8, signature: '6fc62e1ef3c715440121bdc18d5cd5d328c3369a1a3214fa26d77c2c2a442b350e626c26109d5263b4631714cf99dc342e2ff04741ffced76cf1ef373ab56009', zip215: true },
  { name: 'mixed-order A = [a]B + T8, k·T = 0 (i = 11)', publicKey: A_MIXED_8, signature: '8f54424e6b70baa13106b079ecc2ccf33c0a4de1198a9a7733a88b365aadb0f38d5717aa2c8190c7fbdd9a032cef362cf57505da6c4063c9c74a3830d0dc920a', zip215: true },
  { name: 'mixed-order A = [a]B + [2]T8, k·T = 0 (i = 0)', publicKey: A_MIXED_4, signature: '6fc62e1ef3c715440121bdc18d5cd5d328c3369a1a3214fa26d77c2c2a442b35b334516f193b5c96451b5e4f80c6a48b8b5676017f3cc393e878930a2d747205', zip215: true },
  { name: 'mixed-order A = [a]B + [2]T8, k·T ≠ 0 (i = 1)', publicKey: A_MIXED_4, signature: '9277e861f6236a2cb7a9d476db9e9228270a98c273083c4ca62bd210848ee5368c0f6ecde07b91889ab4b1a2807a1a713ebca57d25fdc21730f99c0ceb539501', zip215: true },
  { name: 'mixed-order A = [a]B + [4]T8, k·T = 0 (i = 0)', publicKey: A_MIXED_2, signature: '6fc62e1ef3c715440121bdc18d5cd5d328c3369a1a3214fa26d77c2c2a442b35f8c649dacd5e3aa4784fdb7c922eca1a6517717303ef20341696d62961407407', zip215: true },
  { name: 'mixed-order A = [a]B + [4]T8, k·T ≠ 0 (i = 1)', publicKey: A_MIXED_2, signature: '9277e861f6236a2cb7a9d476db9e9228270a98c273083c4ca62bd210848ee536387a57a289f76f53d26edc48cb08015bd720af3f99aaede3004cfd62e7a7c509', zip215: true },
  // The same mixed-order keys with s = r + k·(a + 1): not a signature under any reading.
  { name: 'mixed-order A = [a]B + T8, s for a + 1', publicKey: A_MIXED_8, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd78cc33a1ec00345fd30fb0ff556bb55d99bba1ebd2bbd6322aa0bffe0b587d80c', zip215: false },
  { name: 'mixed-order A = [a]B + [2]T8, s for a + 1', publicKey: A_MIXED_4, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7a333d44d5ef74d810079f9d64667d03eee1316c69d8e59a776204f96b9d27800', zip215: false },
  { name: 'mixed-order A = [a]B + [4]T8, s for a + 1', publicKey: A_MIXED_2, signature: '8f347f047e10b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7c6c6cc0e47e48f33514cce3c25aa2763ffb19eb28bd1392f57adc95f59cc710e', zip215: false },
  // y = 2 is not on the curve (the smallest such y): as A with SIG_R_S_EQ_R, as R with the honest s.
  { name: 'A off the curve (y = 2)', publicKey: '0200000000000000000000000000000000000000000000000000000000000000', signature: SIG_R_S_EQ_R, zip215: false },
  { name: 'R off the curve (y = 2)', publicKey: A_HONEST, signature: '0200000000000000000000000000000000000000000000000000000000000000ea5a60781e8a4b9b991f6dabad5aac2b99534198c49fff77bd842d69eb9ecf06', zip215: false },
  // The honest signature with bit 0 of byte 5 flipped.
  { name: 'honest, one bit of R flipped', publicKey: A_HONEST, signature: '8f347f047e11b127fd6116b354a80830639a8c78ff60b7dc2dc599d7da631bd7ea5a60781e8a4b9b991f6dabad5aac2b99534198c49fff77bd842d69eb9ecf06', zip215: false },
];

const DOMAINS = ['tandem/v1/obs', 'tandem/v1/vote', 'tandem/v1/proposal', 'tandem/v1/auth', 'tandem/v2/bundle', 'tandem/v2/vote', 'tandem/v2/proposal'];

describe('node:crypto identities (the fast port) against the reference', () => {
  it('property: signatures and public keys are byte-identical; verdicts agree, on mutated signatures too', () => {
    const native = new NativeIdentity();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(...DOMAINS),
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(63),
        fc.integer({ min: 1, max: 255 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (secretKey, domain, message, at, flip, strangerKey) => {
          const signer = nativeIdentitySigner(secretKey);
          const publicKey = identityPublicKey(secretKey);
          expect(signer.publicKey).toEqual(publicKey);
          const sig = signer.sign(domain, message);
          expect(sig).toEqual(identitySign(domain, secretKey, message));
          expect(native.verify(domain, publicKey, message, sig)).toBe(true);
          const mutated = sig.slice();
          mutated[at]! ^= flip;
          expect(native.verify(domain, publicKey, message, mutated)).toBe(identityVerify(domain, publicKey, message, mutated));
          // Any 32 bytes as the key (about half decode to a point): the same verdict.
          expect(native.verify(domain, strangerKey, message, sig)).toBe(identityVerify(domain, strangerKey, message, sig));
          const otherDomain = DOMAINS[(DOMAINS.indexOf(domain) + 1) % DOMAINS.length]!;
          expect(native.verify(otherDomain, publicKey, message, sig)).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('edge cases: with the fallback it accepts exactly what ZIP-215 accepts', () => {
    const native = new NativeIdentity();
    const message = utf8(EDGE_MESSAGE);
    for (const v of VECTORS) {
      const publicKey = fromHex(v.publicKey);
      const signature = fromHex(v.signature);
      expect(identityVerify(EDGE_DOMAIN, publicKey, message, signature), `reference on ${v.name}`).toBe(v.zip215);
      expect(native.verify(EDGE_DOMAIN, publicKey, message, signature), `native on ${v.name}`).toBe(v.zip215);
    }
  });

  it('edge cases: node:crypto alone accepts a strict subset of ZIP-215 (hence the fallback)', () => {
    const native = new NativeIdentity();
    const framed = identityFramed(EDGE_DOMAIN, utf8(EDGE_MESSAGE));
    const refusedButValid: string[] = [];
    for (const v of VECTORS) {
      const openssl = native.opensslAccepts(framed, fromHex(v.publicKey), fromHex(v.signature));
      // Never accepts what ZIP-215 refuses: a true from node:crypto can be trusted as it is.
      if (!v.zip215) expect(openssl, `node:crypto accepts ${v.name}, which ZIP-215 refuses`).toBe(false);
      if (v.cofactorlessRejects) expect(openssl, `node:crypto on ${v.name}`).toBe(false);
      if (v.zip215 && !openssl) refusedButValid.push(v.name);
    }
    expect(refusedButValid.length).toBeGreaterThanOrEqual(VECTORS.filter((v) => v.cofactorlessRejects).length);
    expect(native.opensslAccepts(framed, fromHex(A_HONEST), fromHex(VECTORS[0]!.signature))).toBe(true);
  });

  it('an honest signature is decided by node:crypto alone; the reference only sees what it refused', () => {
    const native = new NativeIdentity();
    const signer = native.signerOf(new Uint8Array(32).fill(3));
    const sig = signer.sign('tandem/v2/bundle', utf8('m'));
    expect(native.verify('tandem/v2/bundle', signer.publicKey, utf8('m'), sig)).toBe(true);
    expect(native.fallbacks).toBe(0);
    expect(native.verify('tandem/v2/bundle', signer.publicKey, utf8('n'), sig)).toBe(false);
    expect(native.fallbacks).toBe(1);
  });

  it('malformed keys and signatures are false, as in the reference; bad domains and secret keys throw the same errors', () => {
    const native = new NativeIdentity();
    const signer = native.signerOf(new Uint8Array(32).fill(5));
    const sig = signer.sign('tandem/v1/obs', utf8('m'));
    expect(native.verify('tandem/v1/obs', signer.publicKey.subarray(1), utf8('m'), sig)).toBe(false);
    expect(native.verify('tandem/v1/obs', signer.publicKey, utf8('m'), sig.subarray(0, 63))).toBe(false);
    expect(native.verify('tandem/v1/obs', new Uint8Array(32).fill(0xff), utf8('m'), sig)).toBe(false);
    expect(() => signer.sign('tandem/v3/obs', utf8('m'))).toThrow(/"tandem\/v1\/" or "tandem\/v2\/"/);
    expect(() => native.verify('libp2p:', signer.publicKey, utf8('m'), sig)).toThrow(/"tandem\/v1\/" or "tandem\/v2\/"/);
    expect(() => native.signerOf(new Uint8Array(31))).toThrow(/identity secret key must be 32 bytes/);
    expect(() => REFERENCE_IDENTITY.signerOf(new Uint8Array(31))).toThrow(/identity secret key must be 32 bytes/);
  });

  it('signatures are plain Uint8Arrays, and the signer keeps no tie to the caller\'s key array', () => {
    const secret = new Uint8Array(32).fill(9);
    const signer = nativeIdentitySigner(secret);
    const expected = identitySign('tandem/v1/vote', secret.slice(), utf8('m'));
    secret.fill(0);
    const sig = signer.sign('tandem/v1/vote', utf8('m'));
    expect(Object.getPrototypeOf(sig)).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(signer.publicKey)).toBe(Uint8Array.prototype);
    expect(sig).toEqual(expected);
  });

  it('past its bound the public-key cache drops the oldest key and verdicts stay right', () => {
    const native = new NativeIdentity(2);
    const signers = [1, 2, 3].map((b) => nativeIdentitySigner(new Uint8Array(32).fill(b)));
    for (let round = 0; round < 2; round++) {
      for (const s of signers) expect(native.verify('tandem/v1/vote', s.publicKey, utf8('x'), s.sign('tandem/v1/vote', utf8('x')))).toBe(true);
    }
    expect(native.fallbacks).toBe(0);
    expect(() => new NativeIdentity(0)).toThrow(/at least one key/);
  });

  it('MemoVerifier checks identities through the port it is given (node:crypto by default) with the same verdicts', () => {
    const message = utf8(EDGE_MESSAGE);
    const byDefault = new MemoVerifier();
    const byReference = new MemoVerifier(REFERENCE_IDENTITY);
    for (const v of VECTORS) {
      const args = [EDGE_DOMAIN, fromHex(v.publicKey), message, fromHex(v.signature)] as const;
      expect(byDefault.identity(...args), v.name).toBe(v.zip215);
      expect(byReference.identity(...args), v.name).toBe(v.zip215);
    }
  });
});
