/**
 * JSON encodings of the protocol v2 values a BatchLegAdapter takes (the bank's HTTP API uses
 * them): a report v2 and an entry as hex of their canonical encodings (encodeReportV2,
 * encodeEntry), a root as 32 bytes of hex, a proof as `{ index, count, siblings: [hex…] }`, a
 * multiproof as `{ indices: [int…], count, siblings: [hex…] }`, a proven entry as `{ entry, proof }`.
 */
import {
  type Entry,
  type ReportV2,
  type TreeMultiproof,
  type TreeProof,
  ENTRY_BYTES,
  REPORT_V2_BYTES,
  TREE_HASH_BYTES,
  TREE_LEAVES_MAX,
  TREE_LEVELS_MAX,
  decodeEntry,
  decodeReportV2,
  encodeEntry,
  encodeReportV2,
  toHex,
} from '@tandem/protocol';
import type { ProvenEntry } from './adapter.js';
import { arrayField, encodedField, fieldPath, hexField, intField, objectField } from './json-fields.js';
import { LEG_CALL_ENTRIES_MAX } from './rules/entry.js';

export function reportV2ToJson(r: ReportV2): string {
  return toHex(encodeReportV2(r));
}

export function reportV2FromJson(v: unknown, field = 'report'): ReportV2 {
  return encodedField(v, field, REPORT_V2_BYTES, REPORT_V2_BYTES, decodeReportV2);
}

export function entryToJson(e: Entry): string {
  return toHex(encodeEntry(e));
}

export function entryFromJson(v: unknown, field = 'entry'): Entry {
  return encodedField(v, field, ENTRY_BYTES, ENTRY_BYTES, decodeEntry);
}

export function rootFromHex(v: unknown, field = 'root'): Uint8Array {
  return hexField(v, field, TREE_HASH_BYTES);
}

function siblingsFromJson(v: unknown, field: string, max: number): Uint8Array[] {
  return arrayField(v, field, max).map((s, k) => hexField(s, `${field}[${k}]`, TREE_HASH_BYTES));
}

export function treeProofToJson(p: TreeProof): { index: number; count: number; siblings: string[] } {
  return { index: p.index, count: p.count, siblings: p.siblings.map(toHex) };
}

export function treeProofFromJson(v: unknown, field = 'proof'): TreeProof {
  const o = objectField(v, field, ['index', 'count', 'siblings']);
  return {
    index: intField(o.index, fieldPath(field, 'index'), 0, TREE_LEAVES_MAX - 1),
    count: intField(o.count, fieldPath(field, 'count'), 1, TREE_LEAVES_MAX),
    siblings: siblingsFromJson(o.siblings, fieldPath(field, 'siblings'), TREE_LEVELS_MAX),
  };
}

export function multiproofToJson(m: TreeMultiproof): { indices: number[]; count: number; siblings: string[] } {
  return { indices: [...m.indices], count: m.count, siblings: m.siblings.map(toHex) };
}

export function multiproofFromJson(v: unknown, field = 'multiproof'): TreeMultiproof {
  const o = objectField(v, field, ['indices', 'count', 'siblings']);
  const indicesPath = fieldPath(field, 'indices');
  const indices = arrayField(o.indices, indicesPath, LEG_CALL_ENTRIES_MAX, 1).map((i, k) => intField(i, `${indicesPath}[${k}]`, 0, TREE_LEAVES_MAX - 1));
  return {
    indices,
    count: intField(o.count, fieldPath(field, 'count'), 1, TREE_LEAVES_MAX),
    siblings: siblingsFromJson(o.siblings, fieldPath(field, 'siblings'), TREE_LEVELS_MAX * indices.length),
  };
}

export function provenEntryToJson(p: ProvenEntry): { entry: string; proof: ReturnType<typeof treeProofToJson> } {
  return { entry: entryToJson(p.entry), proof: treeProofToJson(p.proof) };
}

export function provenEntryFromJson(v: unknown, field: string): ProvenEntry {
  const o = objectField(v, field, ['entry', 'proof']);
  return { entry: entryFromJson(o.entry, fieldPath(field, 'entry')), proof: treeProofFromJson(o.proof, fieldPath(field, 'proof')) };
}

/** A list of entries (applyBatch's), 1..LEG_CALL_ENTRIES_MAX. */
export function entriesFromJson(v: unknown, field = 'entries'): Entry[] {
  return arrayField(v, field, LEG_CALL_ENTRIES_MAX, 1).map((e, k) => entryFromJson(e, `${field}[${k}]`));
}

/** A list of proven entries (applyEntries'), 1..LEG_CALL_ENTRIES_MAX. */
export function provenEntriesFromJson(v: unknown, field = 'items'): ProvenEntry[] {
  return arrayField(v, field, LEG_CALL_ENTRIES_MAX, 1).map((p, k) => provenEntryFromJson(p, `${field}[${k}]`));
}
