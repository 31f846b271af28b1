/// <reference types="node" />
/**
 * The identity port (crypto's IdentityScheme) through node:crypto (OpenSSL), for real processes
 * and the simulator alike: ~20× faster signing and ~15× faster verification than the pure
 * reference (simulations/src/bench-crypto.ts measures both), with exactly its results.
 *
 * - Signing: Ed25519 is deterministic, so OpenSSL's signature over the same framed bytes
 *   (crypto's identityFramed) is byte-identical to noble's. The private KeyObject is built once
 *   per secret key and the public key derived once (the reference re-derives it on every call).
 * - Verification: OpenSSL verifies cofactorless and compares R by its canonical encoding, so it
 *   accepts a strict subset of ZIP-215 (test/identity-native.spec.ts shows both halves on the
 *   small-order and non-canonical edge cases). A true from OpenSSL is therefore a ZIP-215 true;
 *   only on false (or a key OpenSSL cannot load) is the reference consulted, and the accepted
 *   set is exactly the reference's. Honest signatures, the common case, never reach noble.
 */
import { type KeyObject, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { type IdentityScheme, type IdentitySigner, identityFramed, identityVerify } from '@tandem/crypto';
import { assert } from '@tandem/protocol';

/** RFC 8410 PKCS#8 DER of an Ed25519 private key, up to the 32-byte seed that follows it. */
const PKCS8_ED25519_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
/** RFC 8410 SubjectPublicKeyInfo DER of an Ed25519 public key, up to the 32 key bytes that follow it. */
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** Public keys kept as KeyObjects: a cluster's members and parties fit many times over. */
export const PUBLIC_KEYS_CACHED_MAX = 4_096;

/** Copies a Buffer node:crypto returned into a plain Uint8Array (a Buffer compares, slices and serializes differently). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** prefix ‖ key in a Buffer of its own (Buffer.alloc never hands out the shared pool), as node:crypto reads DER. */
function derOf(prefix: Uint8Array, key: Uint8Array): Buffer {
  const der = Buffer.alloc(prefix.length + KEY_BYTES);
  der.set(prefix);
  der.set(key, prefix.length);
  return der;
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== KEY_BYTES) {
    throw new Error(`identity secret key must be ${KEY_BYTES} bytes`);
  }
  const der = derOf(PKCS8_ED25519_PREFIX, secretKey);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0); // the KeyObject holds its own copy; no stray copy of the seed stays on the heap
  }
}

function publicKeyBytesOf(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  assert(spki.length === SPKI_ED25519_PREFIX.length + KEY_BYTES, 'an Ed25519 SPKI is 44 bytes');
  assert(SPKI_ED25519_PREFIX.every((b, i) => spki[i] === b), 'an Ed25519 SPKI starts with the RFC 8410 prefix');
  return plainBytes(spki.subarray(SPKI_ED25519_PREFIX.length));
}

/** A signer for one secret key through node:crypto: its KeyObject and public key are made here, once. */
export function nativeIdentitySigner(secretKey: Uint8Array): IdentitySigner {
  const privateKey = privateKeyObject(secretKey);
  const publicKey = publicKeyBytesOf(privateKey);
  return {
    publicKey,
    sign: (domain: string, message: Uint8Array) => plainBytes(sign(null, identityFramed(domain, message), privateKey)),
  };
}

export class NativeIdentity implements IdentityScheme {
  /** Public key (hex) → KeyObject, oldest first: past the bound the oldest is dropped. */
  private readonly publicKeys = new Map<string, KeyObject>();
  /** Verifications OpenSSL refused and the reference decided (read by tests and benchmarks). */
  fallbacks = 0;

  constructor(private readonly publicKeysCachedMax: number = PUBLIC_KEYS_CACHED_MAX) {
    assert(Number.isInteger(publicKeysCachedMax) && publicKeysCachedMax >= 1, 'the public key cache holds at least one key');
  }

  signerOf(secretKey: Uint8Array): IdentitySigner {
    return nativeIdentitySigner(secretKey);
  }

  verify(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    // Framing first: a bad domain throws here exactly as it does in the reference.
    if (this.opensslAccepts(identityFramed(domain, message), publicKey, signature)) return true;
    this.fallbacks++;
    return identityVerify(domain, publicKey, message, signature);
  }

  /** OpenSSL's verdict alone, without the fallback: public so the spec can show it accepts a subset of ZIP-215. */
  opensslAccepts(framed: Uint8Array, publicKey: Uint8Array, signature: Uint8Array): boolean {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false;
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
    try {
      return verify(null, framed, this.publicKeyObject(publicKey), signature);
    } catch {
      return false; // a key OpenSSL cannot load: the reference decides
    }
  }

  private publicKeyObject(publicKey: Uint8Array): KeyObject {
    const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.length).toString('hex');
    const hit = this.publicKeys.get(id);
    if (hit !== undefined) return hit;
    const key = createPublicKey({ key: derOf(SPKI_ED25519_PREFIX, publicKey), format: 'der', type: 'spki' });
    if (this.publicKeys.size >= this.publicKeysCachedMax) this.publicKeys.delete(this.publicKeys.keys().next().value!);
    this.publicKeys.set(id, key);
    return key;
  }
}
