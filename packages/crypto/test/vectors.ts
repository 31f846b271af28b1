/**
 * Known-answer data from outside this repository (never computed by this package). Shared by the
 * crypto and CLI tests.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/**
 * drand quicknet (chain hash 52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971):
 * a live t-of-n threshold network signing min-sig (G1 signatures, G2 key) under the standard DST.
 * The message of round r is sha256(r as 8-byte big-endian). Sources: the chain's `info` and
 * `public/{round}` endpoints as quoted by drand-verify's docs (round 123), a Zig drand verifier's
 * test fixture (round 1000) and python-drand-verify's README (round 657413).
 */
export const QUICKNET_PUBLIC_KEY_HEX =
  '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a';

export const QUICKNET_BEACONS: readonly { round: number; signatureHex: string }[] = [
  { round: 123, signatureHex: 'b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92' },
  { round: 1000, signatureHex: 'b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39' },
  { round: 657413, signatureHex: 'b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b' },
];

export function quicknetMessage(round: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(round));
  return sha256(b);
}

/**
 * RFC 9380 Appendix J.9.1, suite BLS12381G1_XMD:SHA-256_SSWU_RO_: the output point P = (x, y).
 * Cross-checked in two independent implementations' test suites (zkcrypto bls12_381's
 * test_hash_to_curve_10 and a Go BLS12-381 TestG1Hash), which agree digit for digit.
 */
export const RFC9380_G1_RO_DST = 'QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_';

export const RFC9380_G1_RO: readonly { msg: string; x: string; y: string }[] = [
  {
    msg: '',
    x: '052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1',
    y: '08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265',
  },
  {
    msg: 'abc',
    x: '03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903',
    y: '0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d',
  },
  {
    msg: 'abcdef0123456789',
    x: '11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98',
    y: '03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709',
  },
  {
    // The RFC's msg is "q128_" followed by 128 'q'.
    msg: 'q128_' + 'q'.repeat(128),
    x: '15f68eaa693b95ccb85215dc65fa81038d69629f70aeee0d0f677cf22285e7bf58d7cb86eefe8f2e9bc3f8cb84fac488',
    y: '1807a1d50c29f430b8cafc4f8638dfeeadf51211e1602a5f184443076715f91bb90a48ba1e370edce6ae1062f5e6dd38',
  },
  {
    // The RFC's msg is "a512_" followed by 512 'a'.
    msg: 'a512_' + 'a'.repeat(512),
    x: '082aabae8b7dedb0e78aeb619ad3bfd9277a2f77ba7fad20ef6aabdc6c31d19ba5a6d12283553294c1825c4b3ca2dcfe',
    y: '05b84ae5a942248eea39e1d91030458c40153f3b654ab7872d779ad1e942856a20c438e8d99bc8abfbf74729ce1f7ac8',
  },
];
