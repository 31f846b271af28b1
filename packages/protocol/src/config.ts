import { sha256 } from '@noble/hashes/sha2.js';
import { Writer, utf8, concatBytes, assert } from './bytes.js';

/** One committee member. Share index = `index` (1..n); identity key is Ed25519 (32 bytes). */
export interface Member {
  readonly index: number;
  readonly id: string; // "n1".."nN"
  readonly identityKey: Uint8Array;
}

/**
 * The public cluster configuration. Share public keys are not stored: they are derived from the
 * Feldman commitments (crypto package). The group public key is commitments[0].
 */
export interface ClusterConfig {
  readonly networkId: Uint8Array; // 32 bytes
  readonly n: number;
  readonly t: number;
  readonly members: readonly Member[];
  readonly commitments: readonly Uint8Array[]; // t G2 points, 96 bytes each
}

/** f = floor((n-1)/3): Byzantine nodes tolerated. */
export function faultsTolerated(n: number): number {
  assert(Number.isInteger(n) && n >= 1, 'n is a positive integer');
  return Math.floor((n - 1) / 3);
}

/** q = n - f: the quorum, and also the threshold t of the report signature. */
export function quorum(n: number): number {
  return n - faultsTolerated(n);
}

const CONFIG_DOMAIN = utf8('tandem/v1/config');
const NETWORK_DOMAIN = utf8('tandem/v1/network');

/** A 32-byte network id derived from a human-readable network name. */
export function networkIdFromName(name: string): Uint8Array {
  return sha256(concatBytes(NETWORK_DOMAIN, utf8(name)));
}

/** The configuration digest: binds network id, n, t, every member and every commitment. */
export function configDigest(c: ClusterConfig): Uint8Array {
  const w = new Writer().fixed(CONFIG_DOMAIN, CONFIG_DOMAIN.length).fixed(c.networkId, 32).u16(c.n).u16(c.t);
  w.u16(c.members.length);
  for (const m of c.members) w.u16(m.index).string(m.id).fixed(m.identityKey, 32);
  w.u16(c.commitments.length);
  for (const p of c.commitments) w.fixed(p, 96);
  return sha256(w.finish());
}

/** Structural checks that need no curve arithmetic. Returns the first problem found, or null. */
export function configShapeProblem(c: ClusterConfig): string | null {
  if (!Number.isInteger(c.n) || c.n < 1 || c.n > 1000) return `n must be an integer in 1..1000, got ${c.n}`;
  if (c.t !== quorum(c.n)) return `t must equal the quorum n - floor((n-1)/3) = ${quorum(c.n)}, got ${c.t}`;
  if (c.networkId.length !== 32) return 'networkId must be 32 bytes';
  if (c.members.length !== c.n) return `members must list ${c.n} entries, got ${c.members.length}`;
  for (let i = 0; i < c.members.length; i++) {
    const m = c.members[i]!;
    if (m.index !== i + 1) return `members[${i}].index must be ${i + 1}`;
    if (m.id !== `n${i + 1}`) return `members[${i}].id must be n${i + 1}`;
    if (m.identityKey.length !== 32) return `members[${i}].identityKey must be 32 bytes`;
  }
  if (c.commitments.length !== c.t) return `commitments must list t = ${c.t} points, got ${c.commitments.length}`;
  for (let i = 0; i < c.commitments.length; i++) {
    if (c.commitments[i]!.length !== 96) return `commitments[${i}] must be 96 bytes`;
  }
  return null;
}
