/**
 * Plain BLS12-381 min-sig signatures: signatures in G1 (48 bytes), public keys in G2 (96 bytes),
 * hash-to-curve per RFC 9380 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_) under a caller-chosen DST.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { prepareG2, pairingCheck } from './pairing.js';
import type { PreparedG2 } from './pairing.js';
import { G2, G2_BYTES, PointDecodeError, decodeG1Signature, decodeG2PublicKey, g1ToBytesOfSubgroupPoint } from './points.js';
import type { G1Point, G2Point } from './points.js';
import { secretScalar } from './scalar.js';

/** Tandem's own suite-style DST: Tandem signatures can never be replayed as standard BLS ones. */
export const TANDEM_BLS_DST = 'TANDEM-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';
/**
 * The standard min-sig basic-scheme DST (draft-irtf-cfrg-bls-signature, also drand quicknet's).
 * Verification only: Tandem never signs under it.
 */
export const STANDARD_BLS_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';

const { Fp12 } = bls12_381.fields;
const G2_BASE_NEG = G2.BASE.negate();

/**
 * True for DSTs in the standard BLS ciphersuite namespace (BLS_SIG_…, BLS_POP_…): signing under
 * any of them would make a Tandem key produce signatures other BLS deployments accept.
 */
function isStandardNamespaceDst(dst: string): boolean {
  return dst === STANDARD_BLS_DST || dst.startsWith('BLS_SIG_') || dst.startsWith('BLS_POP_');
}

/** RFC 9380 hash_to_curve onto G1 under `dst`. */
export function hashToG1(message: Uint8Array, dst: string = TANDEM_BLS_DST): G1Point {
  return bls12_381.shortSignatures.hash(message, dst);
}

/**
 * The latest messages signed, hashed to G1 (bounded; oldest out first): every member signs a
 * partial over the same report digest, and the simulator runs them all in one process, where
 * hash-to-curve is ~40% of a partial signature. Verification never reads it (its benchmarks stay
 * honest, and a verifier gains nothing: it sees each message once). Points are immutable.
 */
const SIGNED_HASHES_MAX = 64;
const signedHashes = new Map<string, G1Point>();

function hashToSign(message: Uint8Array, dst: string): G1Point {
  const key = `${dst}\n${bytesToHex(message)}`; // no DST holds a newline after which only hex follows: injective
  const known = signedHashes.get(key);
  if (known !== undefined) return known;
  const point = hashToG1(message, dst);
  if (signedHashes.size >= SIGNED_HASHES_MAX) signedHashes.delete(signedHashes.keys().next().value!);
  signedHashes.set(key, point);
  return point;
}

/** Signs with a 32-byte secret scalar. Throws for the standard DST: Tandem only verifies under it. */
export function blsSign(secret: Uint8Array, message: Uint8Array, dst: string = TANDEM_BLS_DST): Uint8Array {
  if (isStandardNamespaceDst(dst)) {
    throw new Error(`refusing to sign under the standard BLS DST ${dst}: Tandem keys sign only under Tandem DSTs`);
  }
  const s = secretScalar(secret, 'BLS secret key');
  return g1ToBytesOfSubgroupPoint(hashToSign(message, dst).multiply(s)); // a multiple of a G1 point
}

/** The pairing check e(sig, g2) == e(H(m), pk), on already-decoded points. */
export function verifyPoints(publicKey: G2Point, hashed: G1Point, signature: G1Point): boolean {
  if (publicKey.is0() || signature.is0() || hashed.is0()) return false;
  const gt = bls12_381.pairingBatch([
    { g1: signature, g2: G2_BASE_NEG },
    { g1: hashed, g2: publicKey },
  ]);
  return Fp12.eql(gt, Fp12.ONE);
}

/**
 * Verifies a signature; false (never a throw) for a malformed key or signature. Accepts exactly
 * what blsVerifyReference accepts: the key is decoded and subgroup-checked once and kept with its
 * pairing lines (a process verifies many messages under a few keys), and the signature is
 * decoded strictly every time.
 */
export function blsVerify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  dst: string = TANDEM_BLS_DST,
): boolean {
  let key: PreparedG2;
  let sig: G1Point;
  try {
    key = preparedKey(publicKey);
    sig = decodeG1Signature(signature, 'signature');
  } catch (e) {
    if (e instanceof PointDecodeError) return false;
    throw e;
  }
  return pairingCheck(key, hashToG1(message, dst), sig);
}

/** The reference blsVerify: decodes both points and runs noble's own pairing check, every call. */
export function blsVerifyReference(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  dst: string = TANDEM_BLS_DST,
): boolean {
  let pk: G2Point;
  let sig: G1Point;
  try {
    pk = decodeG2PublicKey(publicKey, 'public key');
    sig = decodeG1Signature(signature, 'signature');
  } catch (e) {
    if (e instanceof PointDecodeError) return false;
    throw e;
  }
  return verifyPoints(pk, hashToG1(message, dst), sig);
}

/** Distinct public keys kept prepared: a group key, a few share keys, a drand key. */
const PREPARED_KEYS_MAX = 64;
const preparedKeys = new Map<string, PreparedG2>();

/**
 * The public key decoded strictly and prepared, memoized by its bytes (as hex, so a caller
 * mutating its array later cannot poison the memo). Only valid keys are kept; a malformed one
 * throws PointDecodeError every time, as the reference would refuse it every time.
 */
function preparedKey(publicKey: Uint8Array): PreparedG2 {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== G2_BYTES) return prepareG2(decodeG2PublicKey(publicKey, 'public key'));
  const id = bytesToHex(publicKey);
  const hit = preparedKeys.get(id);
  if (hit !== undefined) return hit;
  const prepared = prepareG2(decodeG2PublicKey(publicKey, 'public key'));
  if (preparedKeys.size >= PREPARED_KEYS_MAX) preparedKeys.delete(preparedKeys.keys().next().value!);
  preparedKeys.set(id, prepared);
  return prepared;
}

/** The min-sig public key (96 bytes) of a 32-byte secret scalar. */
export function blsPublicKey(secret: Uint8Array): Uint8Array {
  return G2.BASE.multiply(secretScalar(secret, 'BLS secret key')).toBytes(true);
}
