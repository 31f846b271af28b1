/**
 * Ed25519 node identity keys. Every signature is over utf8(domain) ‖ 0x00 ‖ message with a
 * Tandem-only domain ("tandem/v1/…", or "tandem/v2/…" for protocol v2), so a Tandem signature can
 * never be taken for a libp2p one made with the same key, nor for another Tandem message kind.
 * Verification is noble's default, ZIP-215 (cofactored, accepts non-canonical encodings), so every
 * implementation agrees on exactly which signatures are valid — consensus needs one rule, not
 * RFC 8032's variants.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { RandomBytes } from './scalar.js';

/** Protocol v1 signs under "tandem/v1/…", protocol v2 under "tandem/v2/…" (bundle, vote, proposal). */
export const IDENTITY_DOMAIN_PREFIXES: readonly string[] = ['tandem/v1/', 'tandem/v2/'];
const IDENTITY_SECRET_BYTES = 32;
const DOMAIN_BYTES_MAX = 64;

function isIdentityDomain(domain: string): boolean {
  return typeof domain === 'string' && IDENTITY_DOMAIN_PREFIXES.some((p) => domain.startsWith(p) && domain.length > p.length);
}

function domainPrefix(domain: string): Uint8Array {
  if (!isIdentityDomain(domain)) {
    const prefixes = IDENTITY_DOMAIN_PREFIXES.map((p) => `"${p}"`).join(' or ');
    throw new Error(`identity signature domain must start with ${prefixes} and name a use, got ${JSON.stringify(domain)}`);
  }
  const bytes = utf8ToBytes(domain);
  // A NUL inside the domain would make the domain/message boundary ambiguous.
  if (bytes.includes(0) || bytes.length > DOMAIN_BYTES_MAX) {
    throw new Error(`identity signature domain must be at most ${DOMAIN_BYTES_MAX} bytes without NUL`);
  }
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out; // the trailing 0x00 is the separator
}

/**
 * The bytes an identity signature covers: utf8(domain) ‖ 0x00 ‖ message. Exported so a faster
 * implementation of the same scheme (packages/node, node:crypto) frames identically. Throws
 * unless the domain is a Tandem identity domain.
 */
export function identityFramed(domain: string, message: Uint8Array): Uint8Array {
  const prefix = domainPrefix(domain);
  const out = new Uint8Array(prefix.length + message.length);
  out.set(prefix);
  out.set(message, prefix.length);
  return out;
}

export function identityKeygen(randomBytes: RandomBytes): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const drawn = randomBytes(IDENTITY_SECRET_BYTES);
  if (!(drawn instanceof Uint8Array) || drawn.length !== IDENTITY_SECRET_BYTES) {
    throw new Error(`randomBytes(${IDENTITY_SECRET_BYTES}) returned the wrong number of bytes`);
  }
  // new Uint8Array(x) copies; Buffer#slice (node:crypto hands out Buffers) would alias `drawn`.
  const secretKey = new Uint8Array(drawn);
  drawn.fill(0);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

function assertSecretKey(secretKey: Uint8Array): void {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== IDENTITY_SECRET_BYTES) {
    throw new Error(`identity secret key must be ${IDENTITY_SECRET_BYTES} bytes`);
  }
}

export function identityPublicKey(secretKey: Uint8Array): Uint8Array {
  assertSecretKey(secretKey);
  return ed25519.getPublicKey(secretKey);
}

/** Signs utf8(domain) ‖ 0x00 ‖ message. Throws unless domain starts with "tandem/v1/" or "tandem/v2/". */
export function identitySign(domain: string, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  // A length check only: deriving the public key here as well doubled the cost of a signature.
  assertSecretKey(secretKey);
  return ed25519.sign(identityFramed(domain, message), secretKey);
}

/** ZIP-215 verification of a domain-separated signature; false for a malformed key or signature. */
export function identityVerify(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const data = identityFramed(domain, message);
  try {
    return ed25519.verify(signature, data, publicKey);
  } catch {
    return false;
  }
}

/** Signs with one secret key, prepared once: the key material never leaves the signer. */
export interface IdentitySigner {
  readonly publicKey: Uint8Array;
  /** A signature over utf8(domain) ‖ 0x00 ‖ message; throws on a domain outside the Tandem prefixes. */
  sign(domain: string, message: Uint8Array): Uint8Array;
}

/**
 * The identity port. Every implementation makes byte-identical signatures (Ed25519 is
 * deterministic) and accepts exactly the signatures identityVerify accepts (ZIP-215), so a node
 * may use any of them without changing what the protocol does.
 */
export interface IdentityScheme {
  signerOf(secretKey: Uint8Array): IdentitySigner;
  /** ZIP-215 verification; false for a malformed key or signature, throws on a bad domain. */
  verify(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** The pure reference implementation of the port: noble, as above. */
export const REFERENCE_IDENTITY: IdentityScheme = {
  signerOf(secretKey) {
    const publicKey = identityPublicKey(secretKey);
    const key = secretKey.slice(); // a caller zeroing its array later must not change what we sign with
    return { publicKey, sign: (domain, message) => identitySign(domain, key, message) };
  },
  verify: identityVerify,
};
