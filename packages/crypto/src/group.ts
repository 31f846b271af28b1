/**
 * Feldman commitments of a threshold group and the keys derived from them. Share public keys
 * are never read from anywhere: they are computed as PK_i = Σ_j C_j·i^j from the commitments.
 *
 * Decoding t commitments (each with a subgroup check) and deriving share keys costs milliseconds
 * per key, and every node of a simulation verifies against the same group, so decoded groups and
 * derived keys are memoized by the commitments' content (a sha256 of their bytes, so callers
 * mutating their arrays cannot poison the cache). The memo changes no result.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { prepareG2 } from './pairing.js';
import type { PreparedG2 } from './pairing.js';
import { G2, decodeG2PublicKey } from './points.js';
import type { G2Point } from './points.js';

/** Largest committee (and so largest threshold and share index) this package accepts. */
export const MAX_NODES = 1000;
/** Distinct groups kept decoded at once; a process normally serves one or two. */
const GROUP_CACHE_MAX = 8;

export interface Group {
  /** The decoded commitments C_0..C_{t-1}; C_0 is the group public key. */
  readonly points: readonly G2Point[];
  /** sha256 over the concatenated commitment bytes: identifies the group. */
  readonly digest: Uint8Array;
  readonly shareKeys: Map<number, G2Point>;
  /** Keys with their pairing lines, computed on first use: 0 is the group key, i ≥ 1 share key i. */
  readonly prepared: Map<number, PreparedG2>;
}

const groups = new Map<string, Group>();

export function assertShareIndex(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw new Error(`share index must be an integer in 1..${MAX_NODES}, got ${index}`);
  }
}

function commitmentsDigest(commitments: readonly Uint8Array[]): Uint8Array {
  const h = sha256.create();
  for (const c of commitments) {
    if (!(c instanceof Uint8Array)) throw new Error('commitments must be byte arrays');
    h.update(c);
  }
  return h.digest();
}

/** Decodes and validates commitments (throws PointDecodeError naming `commitments[j]`). */
export function loadGroup(commitments: readonly Uint8Array[]): Group {
  if (!Array.isArray(commitments) || commitments.length < 1 || commitments.length > MAX_NODES) {
    throw new Error(`commitments must list 1..${MAX_NODES} points`);
  }
  const digest = commitmentsDigest(commitments);
  const key = `${commitments.length}:${bytesToHex(digest)}`;
  const hit = groups.get(key);
  if (hit !== undefined) return hit;
  const points = commitments.map((c, j) => decodeG2PublicKey(c, `commitments[${j}]`));
  const group: Group = { points, digest, shareKeys: new Map(), prepared: new Map() };
  if (groups.size >= GROUP_CACHE_MAX) groups.delete(groups.keys().next().value!);
  groups.set(key, group);
  return group;
}

/** PK_i = Σ_j C_j·i^j, by Horner's rule: t-1 multiplications by the small public integer i. */
export function shareKeyPoint(group: Group, index: number): G2Point {
  assertShareIndex(index);
  const hit = group.shareKeys.get(index);
  if (hit !== undefined) return hit;
  const { points } = group;
  const i = BigInt(index);
  let acc = points[points.length - 1]!;
  for (let j = points.length - 2; j >= 0; j--) acc = acc.multiplyUnsafe(i).add(points[j]!);
  group.shareKeys.set(index, acc);
  return acc;
}

export function groupKeyPoint(group: Group): G2Point {
  return group.points[0]!;
}

/** The group key with its pairing lines, for the many signatures verified under it. */
export function preparedGroupKey(group: Group): PreparedG2 {
  return preparedAt(group, 0, () => groupKeyPoint(group));
}

/** Share key `index` with its pairing lines, for the many partials verified under it. */
export function preparedShareKey(group: Group, index: number): PreparedG2 {
  assertShareIndex(index);
  return preparedAt(group, index, () => shareKeyPoint(group, index));
}

/** At most MAX_NODES + 1 entries per group: the indices are checked before they get here. */
function preparedAt(group: Group, index: number, point: () => G2Point): PreparedG2 {
  const hit = group.prepared.get(index);
  if (hit !== undefined) return hit;
  const prepared = prepareG2(point());
  group.prepared.set(index, prepared);
  return prepared;
}

export { G2 };
