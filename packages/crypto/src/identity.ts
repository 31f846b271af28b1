/**
 * Ed25519 node identity keys. Every signature is over utf8(domain) ‖ 0x00 ‖ message with a
 * Tandem-only domain ("tandem/v1/…"), so a Tandem signature can never be taken for a libp2p one
 * made with the same key, nor for another Tandem message kind. Verification is noble's default,
 * ZIP-215 (cofactored, accepts non-canonical encodings), so every implementation agrees on
 * exactly which signatures are valid — consensus needs one rule, not RFC 8032's variants.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { RandomBytes } from './scalar.js';

export const IDENTITY_DOMAIN_PREFIX = 'tandem/v1/';
const IDENTITY_SECRET_BYTES = 32;
const DOMAIN_BYTES_MAX = 64;

function domainPrefix(domain: string): Uint8Array {
  if (typeof domain !== 'string' || !domain.startsWith(IDENTITY_DOMAIN_PREFIX) || domain.length === IDENTITY_DOMAIN_PREFIX.length) {
    throw new Error(`identity signature domain must start with "${IDENTITY_DOMAIN_PREFIX}" and name a use, got ${JSON.stringify(domain)}`);
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

function framed(domain: string, message: Uint8Array): Uint8Array {
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

export function identityPublicKey(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== IDENTITY_SECRET_BYTES) {
    throw new Error(`identity secret key must be ${IDENTITY_SECRET_BYTES} bytes`);
  }
  return ed25519.getPublicKey(secretKey);
}

/** Signs utf8(domain) ‖ 0x00 ‖ message. Throws unless domain starts with "tandem/v1/". */
export function identitySign(domain: string, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  identityPublicKey(secretKey); // length check with a clear message
  return ed25519.sign(framed(domain, message), secretKey);
}

/** ZIP-215 verification of a domain-separated signature; false for a malformed key or signature. */
export function identityVerify(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const data = framed(domain, message);
  try {
    return ed25519.verify(signature, data, publicKey);
  } catch {
    return false;
  }
}
