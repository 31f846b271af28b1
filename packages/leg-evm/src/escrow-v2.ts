/**
 * Call arguments for DvpEscrowV2 (contracts/DvpEscrowV2.sol): the report v2 body and its
 * signature in EIP-2537 form, entries and leaf indices packed as the contract reads them, and the
 * report tree's proofs from the protocol package (the one implementation of the tree in TS).
 */
import { type Hex, bytesToHex } from 'viem';
import { type Entry, type ReportV2, type TreeMultiproof, type TreeProof, assert, concatBytes, encodeEntry, encodeReportBodyV2, reportTreeMultiproof, reportTreeProof, reportTreeRoot } from '@tandem/protocol';
import { g1ToEip2537 } from './points.js';

/** settleBatch takes each leaf index as a u16, big-endian. */
export const ESCROW_V2_INDEX_BYTES = 2;
const INDEX_MAX = 0xffff;

/** Entries as settleBatch takes them: 41 bytes each, packed, in order. */
export function packEntries(entries: readonly Entry[]): Uint8Array {
  return concatBytes(...entries.map(encodeEntry));
}

/** Leaf indices as settleBatch takes them: u16 big-endian each, packed. */
export function packIndices(indices: readonly number[]): Uint8Array {
  const out = new Uint8Array(indices.length * ESCROW_V2_INDEX_BYTES);
  indices.forEach((i, k) => {
    if (!Number.isInteger(i) || i < 0 || i > INDEX_MAX) throw new RangeError(`leaf index ${k} is ${i}, not a u16`);
    out[2 * k] = i >> 8;
    out[2 * k + 1] = i & 0xff;
  });
  return out;
}

/** submitRoot(body, signature) for a report v2. */
export function submitRootArgs(report: ReportV2): readonly [Hex, Hex] {
  return [bytesToHex(encodeReportBodyV2(report)), bytesToHex(g1ToEip2537(report.signature))];
}

/** settle(root, index, entry, proof) for an entry proven under `root`. */
export function settleEntryArgs(root: Uint8Array, entry: Entry, proof: TreeProof): readonly [Hex, bigint, Hex, readonly Hex[]] {
  return [bytesToHex(root), BigInt(proof.index), bytesToHex(encodeEntry(entry)), proof.siblings.map((s) => bytesToHex(s))];
}

/** settle(root, index, entry, proof) for entry `index` of a batch's entries (in list order). */
export function settleV2Args(entries: readonly Entry[], index: number): readonly [Hex, bigint, Hex, readonly Hex[]] {
  const entry = entries[index];
  assert(entry !== undefined, `settleV2Args: no entry ${index} in a batch of ${entries.length}`);
  return settleEntryArgs(reportTreeRoot(entries), entry, reportTreeProof(entries, index));
}

/**
 * settleBatch(body, signature, entries, indices, multiproof) for `entries` (those at
 * multiproof.indices, in order); `cached: true` sends an empty signature.
 */
export function settleBatchCallArgs(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof, o: { readonly cached?: boolean } = {}): readonly [Hex, Hex, Hex, Hex, readonly Hex[]] {
  const [body, signature] = submitRootArgs(report);
  return [body, o.cached === true ? '0x' : signature, bytesToHex(packEntries(entries)), bytesToHex(packIndices(multiproof.indices)), multiproof.siblings.map((s) => bytesToHex(s))];
}

/**
 * settleBatch(body, signature, entries, indices, multiproof) for the entries at `indices`
 * (strictly ascending) of a decided batch; `cached: true` sends an empty signature (the root must
 * then be cached on the escrow already).
 */
export function settleBatchArgs(report: ReportV2, entries: readonly Entry[], indices: readonly number[], o: { readonly cached?: boolean } = {}): readonly [Hex, Hex, Hex, Hex, readonly Hex[]] {
  return settleBatchCallArgs(report, indices.map((i) => entries[i]!), reportTreeMultiproof(entries, indices), o);
}
