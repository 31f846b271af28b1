/**
 * Threshold BLS: partial signatures σ_i = H(m)^{s_i}, Lagrange combination at 0 into the group
 * signature, and the reference combine-then-verify (docs/protocol.md, Consensus: Decide) with
 * strict decodes of every partial, batch checks and bisection to find bad partials only when the
 * optimistic path fails. combine.ts runs a faster first attempt and falls back to it.
 */
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { TANDEM_BLS_DST, hashToG1, verifyPoints } from './bls.js';
import { MAX_NODES, assertShareIndex, groupKeyPoint, loadGroup, preparedShareKey, shareKeyPoint } from './group.js';
import type { Group } from './group.js';
import { pairingCheck } from './pairing.js';
import { G1, G2, PointDecodeError, decodeG1Signature, g1ToBytes } from './points.js';
import type { G1Point } from './points.js';
import { CURVE_ORDER, Fr } from './scalar.js';

export interface Partial {
  readonly index: number; // the signer's configured share index, 1..n
  readonly signature: Uint8Array; // 48-byte compressed G1 point
}

/**
 * `bad` lists indices whose partials are malformed or do not verify under their share key.
 * On success `bad` holds what was found on the way (empty on the optimistic path, where partials
 * beyond the first t are not examined).
 */
export type CombineResult =
  | { ok: true; signature: Uint8Array; used: number[]; bad: number[] }
  | { ok: false; bad: number[]; good: number[] };

interface DecodedPartial {
  readonly index: number;
  readonly point: G1Point;
  readonly bytes: Uint8Array;
}

function assertDistinctIndices(partials: readonly Partial[]): void {
  if (partials.length > MAX_NODES) throw new Error(`at most ${MAX_NODES} partials, got ${partials.length}`);
  const seen = new Set<number>();
  for (const p of partials) {
    assertShareIndex(p.index);
    if (seen.has(p.index)) throw new Error(`duplicate partial for share index ${p.index}`);
    seen.add(p.index);
  }
}

/** λ_i = Π_{j≠i} x_j / (x_j − x_i) mod r: the Lagrange coefficients at 0 for distinct x's. */
export function lagrangeAtZero(indices: readonly number[]): bigint[] {
  const xs = indices.map((i) => BigInt(i));
  const numerators: bigint[] = [];
  const denominators: bigint[] = [];
  for (let a = 0; a < xs.length; a++) {
    let num = 1n;
    let den = 1n;
    for (let b = 0; b < xs.length; b++) {
      if (a === b) continue;
      num = (num * xs[b]!) % CURVE_ORDER;
      den = Fr.mul(den, Fr.create(xs[b]! - xs[a]!));
    }
    numerators.push(num);
    denominators.push(den);
  }
  const inverses = Fr.invertBatch(denominators);
  return numerators.map((num, k) => Fr.mul(num, inverses[k]!));
}

/** Σ λ_i·σ_i with a Strauss/wNAF multi-scalar loop (faster than Pippenger at these sizes). */
function combinePoints(partials: readonly DecodedPartial[]): G1Point {
  const lambdas = lagrangeAtZero(partials.map((p) => p.index));
  return mulAddUnsafe(G1, partials.map((p) => p.point), lambdas);
}

function decodePartial(p: Partial): DecodedPartial {
  return { index: p.index, point: decodeG1Signature(p.signature, `partial ${p.index}`), bytes: p.signature };
}

/**
 * Lagrange-combines partials with distinct indices into a group signature. It does not verify:
 * with fewer than t partials, or one bad partial, the result is just some point. Throws
 * PointDecodeError for a malformed partial.
 */
export function combinePartials(partials: readonly Partial[]): Uint8Array {
  if (partials.length === 0) throw new Error('combinePartials needs at least one partial');
  assertDistinctIndices(partials);
  return g1ToBytes(combinePoints(partials.map(decodePartial)));
}

/**
 * Verifies one partial against the share key derived for its index; false when malformed. The
 * share key and its pairing lines are derived once per group and index.
 */
export function verifyPartial(
  commitments: readonly Uint8Array[],
  p: Partial,
  message: Uint8Array,
  dst: string = TANDEM_BLS_DST,
): boolean {
  const group = loadGroup(commitments);
  let decoded: DecodedPartial;
  try {
    assertShareIndex(p.index);
    decoded = decodePartial(p);
  } catch {
    return false; // a bad index or a malformed partial is simply not a valid partial
  }
  if (shareKeyPoint(group, decoded.index).is0()) return false; // as verifyPoints: never a valid key
  return pairingCheck(preparedShareKey(group, decoded.index), hashToG1(message, dst), decoded.point);
}

const BATCH_DOMAIN = utf8ToBytes('tandem/v1/bls-batch');
/** Batch coefficients are 128-bit: a bad set passes with probability about 2^-128. */
const COEFFICIENT_BITS = 128n;

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/**
 * Coefficients ρ_k in 1..2^128 derived from a hash of everything the check covers (group,
 * message, DST and every (index, partial) pair), so the check is deterministic — the core stays
 * pure — yet a signer cannot choose partials that cancel without breaking sha256.
 */
function batchCoefficients(group: Group, hashedMessage: G1Point, dst: string, set: readonly DecodedPartial[]): bigint[] {
  const h = sha256.create().update(BATCH_DOMAIN).update(group.digest);
  const dstBytes = utf8ToBytes(dst);
  h.update(u32(dstBytes.length)).update(dstBytes).update(g1ToBytes(hashedMessage)).update(u32(set.length));
  for (const p of set) h.update(u32(p.index)).update(p.bytes);
  const seed = h.digest();
  const mask = (1n << COEFFICIENT_BITS) - 1n;
  return set.map((_, k) => {
    const d = sha256.create().update(seed).update(u32(k)).digest();
    let v = 0n;
    for (const byte of d) v = (v << 8n) | BigInt(byte);
    return (v & mask) + 1n;
  });
}

/**
 * One pairing check for a whole set: e(Σ ρ_k σ_k, g2) == e(H(m), Σ ρ_k PK_k), so two small
 * multi-scalar multiplications with 128-bit scalars and one pairing check whatever the set size.
 * The share keys PK_k are derived once per group and memoized; computing the aggregate key
 * straight from the commitments (Σ_j C_j·Σ_k ρ_k i_k^j) needs no share key but costs a t-point
 * G2 multiplication with full-size scalars, about 3x slower at t = 21, and bisection repeats it.
 */
function batchValid(group: Group, hashedMessage: G1Point, dst: string, set: readonly DecodedPartial[]): boolean {
  const rho = batchCoefficients(group, hashedMessage, dst, set);
  const sigma = mulAddUnsafe(G1, set.map((p) => p.point), rho);
  const aggregateKey = mulAddUnsafe(G2, set.map((p) => shareKeyPoint(group, p.index)), rho);
  // Both sides are 1 in GT exactly when both points are the identity.
  if (sigma.is0() || aggregateKey.is0()) return sigma.is0() && aggregateKey.is0();
  return verifyPoints(aggregateKey, hashedMessage, sigma);
}

/**
 * The indices of the invalid partials in `set`: batch-check the set, and on failure split it in
 * halves and recurse. With b bad partials among m this costs O(b·log m) checks; the total is
 * bounded by 2m − 1 checks.
 */
function findInvalid(group: Group, hashedMessage: G1Point, dst: string, set: readonly DecodedPartial[]): number[] {
  const invalid: number[] = [];
  const pending: (readonly DecodedPartial[])[] = set.length > 0 ? [set] : [];
  const checksMax = 2 * set.length;
  for (let checks = 0; pending.length > 0; checks++) {
    if (checks >= checksMax) throw new Error('findInvalid: bisection exceeded its bound');
    const s = pending.pop()!;
    if (batchValid(group, hashedMessage, dst, s)) continue;
    if (s.length === 1) {
      invalid.push(s[0]!.index);
      continue;
    }
    const mid = s.length >> 1;
    pending.push(s.slice(mid), s.slice(0, mid));
  }
  return invalid.sort((a, b) => a - b);
}

/** Batch-verifies partials (one pairing check when all are valid); false if any is bad or malformed. */
export function batchVerifyPartials(
  commitments: readonly Uint8Array[],
  message: Uint8Array,
  partials: readonly Partial[],
  dst: string = TANDEM_BLS_DST,
): boolean {
  const group = loadGroup(commitments);
  assertDistinctIndices(partials);
  let decoded: DecodedPartial[];
  try {
    decoded = partials.map(decodePartial);
  } catch (e) {
    if (e instanceof PointDecodeError) return false;
    throw e;
  }
  if (decoded.length === 0) return true;
  return batchValid(group, hashToG1(message, dst), dst, decoded);
}

/** The group, after the argument checks every combine makes (t matches it, distinct indices). */
export function combineGroup(commitments: readonly Uint8Array[], partials: readonly Partial[], t: number): Group {
  const group = loadGroup(commitments);
  if (t !== group.points.length) throw new Error(`t = ${t} does not match the ${group.points.length} commitments`);
  assertDistinctIndices(partials);
  return group;
}

/**
 * Decodes partials in index order until `wanted` decoded; the indices of the malformed ones met on
 * the way (PointDecodeError) go to `malformed`.
 */
export function decodeInOrder<D>(partials: readonly Partial[], decode: (p: Partial) => D, wanted: number): { decoded: D[]; malformed: number[] } {
  const decoded: D[] = [];
  const malformed: number[] = [];
  for (const p of [...partials].sort((a, b) => a.index - b.index)) {
    if (decoded.length === wanted) break;
    try {
      decoded.push(decode(p));
    } catch (e) {
      if (!(e instanceof PointDecodeError)) throw e;
      malformed.push(p.index);
    }
  }
  return { decoded, malformed };
}

/**
 * The reference combine: decode every partial strictly (a subgroup check each), Lagrange-combine
 * the first t by index and verify once under the group key. Only if that fails, find the bad
 * partials (batch check, then bisection), drop them and combine t good ones if enough remain.
 * Indices must be distinct (one partial per member); t must equal the number of commitments.
 */
export function combineVerifiedReference(
  commitments: readonly Uint8Array[],
  message: Uint8Array,
  partials: readonly Partial[],
  t: number,
  dst: string = TANDEM_BLS_DST,
): CombineResult {
  const group = combineGroup(commitments, partials, t);
  const { decoded: wellFormed, malformed } = decodeInOrder(partials, decodePartial, partials.length);
  const hashed = hashToG1(message, dst);
  const groupKey = groupKeyPoint(group);
  if (wellFormed.length >= t) {
    const first = wellFormed.slice(0, t);
    const signature = combinePoints(first);
    if (verifyPoints(groupKey, hashed, signature)) {
      return { ok: true, signature: g1ToBytes(signature), used: first.map((p) => p.index), bad: malformed };
    }
  }
  const invalid = new Set(findInvalid(group, hashed, dst, wellFormed));
  let good = wellFormed.filter((p) => !invalid.has(p.index));
  const bad = () => [...malformed, ...invalid].sort((a, b) => a - b);
  if (good.length < t) return { ok: false, bad: bad(), good: good.map((p) => p.index) };
  let chosen = good.slice(0, t);
  let signature = combinePoints(chosen);
  if (!verifyPoints(groupKey, hashed, signature)) {
    // Reachable only if a batch check was fooled (probability about 2^-128): verify one by one.
    for (const p of good) if (!verifyPoints(shareKeyPoint(group, p.index), hashed, p.point)) invalid.add(p.index);
    good = good.filter((p) => !invalid.has(p.index));
    if (good.length < t) return { ok: false, bad: bad(), good: good.map((p) => p.index) };
    chosen = good.slice(0, t);
    signature = combinePoints(chosen);
  }
  return { ok: true, signature: g1ToBytes(signature), used: chosen.map((p) => p.index), bad: bad() };
}
