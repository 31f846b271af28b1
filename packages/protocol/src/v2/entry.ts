/**
 * Entries (settlement id, decision, validUntil) and the report tree over them: the Merkle tree a
 * report v2 signs the root of, rebuilt byte for byte by the escrow (keccak-256, leaf 0x00,
 * node 0x01). Layouts in docs/wire-format.md ("Protocol v2").
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { Reader, Writer, equalBytes, toHex } from '../bytes.js';
import { decisionCode, decisionFromCode } from '../report.js';
import { decodeWith, encodeWith } from './codec.js';
import { type TreeHashing, treeLeaf, treeMultiproof, treeProof, treeRoot, verifyTreeMultiproof, verifyTreeProof } from './tree.js';
import type { BatchHeader, Entry, TreeMultiproof, TreeProof } from './types.js';

/** id 32 ‖ decision u8 ‖ validUntil u64. */
export const ENTRY_BYTES = 41;

export const REPORT_TREE: TreeHashing = { hash: keccak_256, leafPrefix: 0x00, nodePrefix: 0x01 };

export function writeEntry(w: Writer, e: Entry): void {
  w.fixed(e.settlementId, 32).u8(decisionCode(e.decision)).u64(e.validUntilMs);
}

export function readEntry(r: Reader, field: string): Entry {
  const settlementId = r.fixed(32, `${field}.settlementId`);
  const at = r.position;
  const decision = decisionFromCode(r.u8(`${field}.decision`), `${field}.decision`, at);
  return { settlementId, decision, validUntilMs: r.u64(`${field}.validUntilMs`) };
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeWith(writeEntry, e);
}

export function decodeEntry(b: Uint8Array): Entry {
  return decodeWith(readEntry, b, 'entry');
}

/** Byte-wise order of two equal-length ids: negative, 0 or positive. */
export function compareIds(a: Uint8Array, b: Uint8Array): number {
  const len = Math.min(a.length, b.length);
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A batch lists its entries strictly ascending by settlement id (so no id twice): else the problem. */
export function entriesOrderProblem(entries: readonly Entry[]): string | null {
  for (let k = 1; k < entries.length; k++) {
    if (compareIds(entries[k - 1]!.settlementId, entries[k]!.settlementId) >= 0) {
      return `entries[${k}] (settlement ${toHex(entries[k]!.settlementId)}) is not above entries[${k - 1}]: ids must ascend strictly`;
    }
  }
  return null;
}

/** keccak256(0x00 ‖ encodeEntry(e)). */
export function reportLeaf(e: Entry): Uint8Array {
  return treeLeaf(REPORT_TREE, encodeEntry(e));
}

/**
 * Report trees already hashed, by entries list. A batch's list is checked against its header by
 * the proposal, validity and the decided chain, and proved per leg on delivery: hashed once here.
 * Lists are values: the first hash freezes the list and its entries (a later push or field
 * assignment throws), and callers get a copy of the root.
 */
const reportTrees = new WeakMap<readonly Entry[], { readonly leaves: readonly Uint8Array[]; readonly root: Uint8Array }>();

function reportTreeOf(entries: readonly Entry[]): { readonly leaves: readonly Uint8Array[]; readonly root: Uint8Array } {
  let tree = reportTrees.get(entries);
  if (tree === undefined) {
    const leaves = entries.map(reportLeaf);
    tree = { leaves, root: treeRoot(REPORT_TREE, leaves) };
    for (const e of entries) Object.freeze(e);
    reportTrees.set(Object.freeze(entries), tree);
  }
  return tree;
}

/** The root a report v2 signs. Throws on an empty list (a batch has at least one entry). */
export function reportTreeRoot(entries: readonly Entry[]): Uint8Array {
  return reportTreeOf(entries).root.slice();
}

export function reportTreeProof(entries: readonly Entry[], index: number): TreeProof {
  return treeProof(REPORT_TREE, reportTreeOf(entries).leaves, index);
}

export function verifyReportProof(root: Uint8Array, entry: Entry, proof: TreeProof): boolean {
  return verifyTreeProof(REPORT_TREE, root, reportLeaf(entry), proof);
}

export function reportTreeMultiproof(entries: readonly Entry[], indices: readonly number[]): TreeMultiproof {
  return treeMultiproof(REPORT_TREE, reportTreeOf(entries).leaves, indices);
}

/** `entries` are the entries at proof.indices, in that order. */
export function verifyReportMultiproof(root: Uint8Array, entries: readonly Entry[], proof: TreeMultiproof): boolean {
  return verifyTreeMultiproof(REPORT_TREE, root, entries.map(reportLeaf), proof);
}

/**
 * The header is bound to exactly these entries (V1's structural part): count = their number,
 * ids strictly ascending, root = their report tree root. Else the problem. Bounds on count
 * (batchEntriesMax) are the caller's, who knows the params.
 */
export function batchEntriesProblem(header: BatchHeader, entries: readonly Entry[]): string | null {
  if (entries.length === 0 || entries.length !== header.count) return `header count ${header.count} but ${entries.length} entries`;
  const order = entriesOrderProblem(entries);
  if (order !== null) return order;
  if (!equalBytes(reportTreeRoot(entries), header.root)) return 'header root is not the report tree root of the entries';
  return null;
}
