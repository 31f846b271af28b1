import { keccak_256 } from '@noble/hashes/sha3.js';
import {
  type Entry,
  type TreeMultiproof,
  TREE_LEAVES_MAX,
  concatBytes,
  encodeEntry,
  equalBytes,
  reportLeaf,
  verifyReportMultiproof,
  verifyReportProof,
} from '@tandem/protocol';
import type { LegAnchor, ProvenEntry } from '../adapter.js';
import { type ApplyDecision, processOutcome } from './apply.js';
import type { SettlementOnLeg } from './record.js';
import type { VerifiedRoot } from './root.js';

/** Bound on the entries of one call: a batch has at most TREE_LEAVES_MAX. */
export const LEG_CALL_ENTRIES_MAX = TREE_LEAVES_MAX;

/** keccak-256(root ‖ leaf): what a leg records for an applied entry (the escrow's mark too). */
export function appliedEntryMarker(root: Uint8Array, entry: Entry): Uint8Array {
  return keccak_256(concatBytes(root, reportLeaf(entry)));
}

/** Null when the number of entries in one call is within 1..LEG_CALL_ENTRIES_MAX; else the problem. */
export function entriesCountProblem(n: number): string | null {
  return n >= 1 && n <= LEG_CALL_ENTRIES_MAX ? null : `a call takes 1..${LEG_CALL_ENTRIES_MAX} entries, got ${n}`;
}

/** What is wrong with an entry's shape (id length, decision, validUntil), or null. */
export function entryShapeProblem(e: Entry): string | null {
  if (e.settlementId.length !== 32) return 'malformed entry: settlement id must be 32 bytes';
  try {
    encodeEntry(e);
    return null;
  } catch (x) {
    return `malformed entry: ${x instanceof Error ? x.message : String(x)}`;
  }
}

/**
 * Null when the proof puts `entry` in the tree of `root`. The proof's count must be the root's:
 * a proof for a tree of another size can climb to the same root from another position.
 */
export function entryProofProblem(root: VerifiedRoot, item: ProvenEntry): string | null {
  const shape = entryShapeProblem(item.entry);
  if (shape !== null) return shape;
  if (item.proof.count !== root.count) return `proof is for a batch of ${item.proof.count} entries, the root's has ${root.count}`;
  return verifyReportProof(root.root, item.entry, item.proof) ? null : 'proof does not verify under the root';
}

/** Null when `entries` are the leaves at `multiproof.indices` of the tree of `root`. */
export function batchProofProblem(root: Uint8Array, count: number, entries: readonly Entry[], multiproof: TreeMultiproof): string | null {
  const n = entriesCountProblem(entries.length);
  if (n !== null) return n;
  for (let k = 0; k < entries.length; k++) {
    const shape = entryShapeProblem(entries[k]!);
    if (shape !== null) return `entries[${k}]: ${shape}`;
  }
  if (multiproof.count !== count) return `multiproof is for a batch of ${multiproof.count} entries, the root's has ${count}`;
  return verifyReportMultiproof(root, entries, multiproof) ? null : 'multiproof does not verify under the root';
}

/**
 * The apply rules (processOutcome, as for a v1 report) for an entry proven under `root`: it is
 * authentic for a lock made under the root's configuration, or, with nothing locked, when the
 * root is the anchor's. The marker is per settlement: the same entry under the same root again
 * is a duplicate.
 */
export function processEntry(record: SettlementOnLeg | null, root: VerifiedRoot, entry: Entry, nowMs: number, anchor: LegAnchor): ApplyDecision {
  return processOutcome(
    record,
    {
      decision: entry.decision,
      validUntilMs: entry.validUntilMs,
      marker: appliedEntryMarker(root.root, entry),
      authenticityProblem: (locked) => {
        const digest = locked === null ? anchor.configDigest : locked.configDigest;
        return digest !== null && equalBytes(digest, root.configDigest) ? null : 'root is not stored under the configuration the lock was made under';
      },
    },
    nowMs,
  );
}
