/**
 * Wire messages of protocol v2: their own union and tags under wire version 2 (a v1 message
 * starts with 0x01, so the first byte tells them apart). Every list is bounded and a message is
 * at most 1 MiB. Layouts in docs/wire-format.md ("Protocol v2").
 */
import { DecodeError, EncodeError, Reader, Writer } from '../bytes.js';
import { ED25519_SIGNATURE_BYTES, LIST_ITEMS_MAX, MESSAGE_BYTES_MAX, readNestedTerms } from '../messages.js';
import { type Terms, encodeTerms } from '../terms.js';
import { readBundleEntry, readSignedBundleHeader, writeBundleEntry, writeSignedBundleHeader } from './bundle.js';
import { type SignedProposal2, type SignedVote2, PROPOSAL2_BODY_BYTES, encodeProposal2Body, readProposal2Body, readSignedVote2, writeSignedVote2 } from './consensus-messages.js';
import { readEntry, writeEntry } from './entry.js';
import { readReportV2, writeReportV2 } from './report.js';
import { TREE_LEVELS_MAX } from './tree.js';
import type { Bundle, BundleEntry, DecidedBatch, Entry, SignedBundleHeader, TreeMultiproof } from './types.js';

/** Codec bound on the entries of a batch (batchEntriesMax never exceeds 315). */
export const BATCH_ENTRIES_LIMIT = 1024;
/** Codec bound on the bundles of one justification (f + 1 supporters per entry, plus V5's headers). */
export const JUSTIFICATION_BUNDLES_MAX = 4096;
const WIRE_VERSION_V2 = 2;

/** One bundle a justification uses: its signed header and the entries needed, by multiproof. */
export interface JustificationBundle {
  readonly header: SignedBundleHeader;
  /** The bundle's entries at proof.indices, in that order; empty when only the header's time is used. */
  readonly entries: readonly BundleEntry[];
  /** proof.count is header.count; no indices and no siblings when entries is empty. */
  readonly proof: TreeMultiproof;
}

/** A signed proposal with its attachments, each self-authenticating. */
export interface FullProposal2 extends SignedProposal2 {
  /** The batch's entries, header.count of them. */
  readonly entries: readonly Entry[];
  /** Terms of entries (checked against their ids by consensus). */
  readonly terms: readonly Terms[];
  readonly justification: readonly JustificationBundle[];
  /** Proof of lock: q signed prevotes for the header in validRound (empty when validRound = -1). */
  readonly polka: readonly SignedVote2[];
}

export type MessageV2 =
  | { readonly kind: 'bundle'; readonly bundle: Bundle }
  | { readonly kind: 'vote2'; readonly vote: SignedVote2 }
  | { readonly kind: 'proposal2'; readonly proposal: FullProposal2 }
  | { readonly kind: 'decided'; readonly batch: DecidedBatch }
  | { readonly kind: 'catch-up'; readonly fromHeight: number; readonly count: number };

const TAG = { bundle: 1, vote2: 2, proposal2: 3, decided: 4, 'catch-up': 5 } as const;

/** A u16 count written before a list; the encoder refuses a list over `max`. */
function writeCount(w: Writer, n: number, max: number, field: string): void {
  if (n > max) throw new EncodeError(`${field}: ${n} items, at most ${max}`);
  w.u16(n);
}

function readCount(r: Reader, max: number, field: string): number {
  const at = r.position;
  const n = r.u16(field);
  if (n > max) throw new DecodeError('length', field, at, `${n} > ${max}`);
  return n;
}

/** Reads `count` items (a count the caller has bounded). */
function readList<T>(count: number, read: (k: number) => T): T[] {
  const out: T[] = [];
  for (let k = 0; k < count; k++) out.push(read(k));
  return out;
}

function writeEntries(w: Writer, entries: readonly Entry[], count: number, field: string): void {
  if (entries.length !== count) throw new EncodeError(`${field}: count ${count} but ${entries.length} entries`);
  if (count > BATCH_ENTRIES_LIMIT) throw new EncodeError(`${field}: ${count} entries, at most ${BATCH_ENTRIES_LIMIT}`);
  for (const e of entries) writeEntry(w, e);
}

function readEntries(r: Reader, count: number, field: string): Entry[] {
  if (count > BATCH_ENTRIES_LIMIT) throw new DecodeError('length', `${field}.count`, r.position, `${count} > ${BATCH_ENTRIES_LIMIT}`);
  return readList(count, (k) => readEntry(r, `${field}.entries[${k}]`));
}

function writeJustificationBundle(w: Writer, j: JustificationBundle): void {
  const p = j.proof;
  if (p.count !== j.header.count || p.indices.length !== j.entries.length) throw new EncodeError('justification: proof does not match its header or entries');
  if (p.siblings.length > TREE_LEVELS_MAX * p.indices.length) throw new EncodeError('justification: too many siblings');
  writeSignedBundleHeader(w, j.header);
  writeCount(w, j.entries.length, j.header.count, 'justification.entries');
  for (const i of p.indices) w.u16(i);
  for (const e of j.entries) writeBundleEntry(w, e);
  w.u16(p.siblings.length);
  for (const s of p.siblings) w.fixed(s, 32);
}

function readJustificationBundle(r: Reader, field: string): JustificationBundle {
  const header = readSignedBundleHeader(r, `${field}.header`);
  const k = readCount(r, header.count, `${field}.entries.count`);
  const indices = readList(k, (i) => r.u16(`${field}.indices[${i}]`));
  const entries = readList(k, (i) => readBundleEntry(r, `${field}.entries[${i}]`));
  const s = readCount(r, TREE_LEVELS_MAX * k, `${field}.siblings.count`);
  const siblings = readList(s, (i) => r.fixed(32, `${field}.siblings[${i}]`));
  return { header, entries, proof: { indices, count: header.count, siblings } };
}

function writeFullProposal2(w: Writer, p: FullProposal2): void {
  w.fixed(encodeProposal2Body(p), PROPOSAL2_BODY_BYTES).fixed(p.signature, ED25519_SIGNATURE_BYTES);
  writeEntries(w, p.entries, p.header.count, 'proposal2');
  writeCount(w, p.terms.length, BATCH_ENTRIES_LIMIT, 'proposal2.terms');
  for (const t of p.terms) w.bytes(encodeTerms(t));
  writeCount(w, p.justification.length, JUSTIFICATION_BUNDLES_MAX, 'proposal2.justification');
  for (const j of p.justification) writeJustificationBundle(w, j);
  writeCount(w, p.polka.length, LIST_ITEMS_MAX, 'proposal2.polka');
  for (const v of p.polka) writeSignedVote2(w, v);
}

function readFullProposal2(r: Reader): FullProposal2 {
  const body = readProposal2Body(r);
  const signature = r.fixed(ED25519_SIGNATURE_BYTES, 'proposal2.signature');
  const entries = readEntries(r, body.header.count, 'proposal2');
  const terms = readList(readCount(r, BATCH_ENTRIES_LIMIT, 'proposal2.terms.count'), (k) => readNestedTerms(r, `proposal2.terms[${k}]`));
  const nj = readCount(r, JUSTIFICATION_BUNDLES_MAX, 'proposal2.justification.count');
  const justification = readList(nj, (k) => readJustificationBundle(r, `proposal2.justification[${k}]`));
  const polka = readList(readCount(r, LIST_ITEMS_MAX, 'proposal2.polka.count'), () => readSignedVote2(r));
  return { ...body, signature, entries, terms, justification, polka };
}

function writeBundle(w: Writer, b: Bundle): void {
  if (b.entries.length !== b.header.count) throw new EncodeError(`bundle: count ${b.header.count} but ${b.entries.length} entries`);
  writeSignedBundleHeader(w, b.header);
  for (const e of b.entries) writeBundleEntry(w, e);
}

function readBundle(r: Reader): Bundle {
  const header = readSignedBundleHeader(r, 'bundle');
  return { header, entries: readList(header.count, (k) => readBundleEntry(r, `bundle.entries[${k}]`)) };
}

export function encodeMessageV2(m: MessageV2): Uint8Array {
  const w = new Writer().u8(WIRE_VERSION_V2).u8(TAG[m.kind]);
  switch (m.kind) {
    case 'bundle':
      writeBundle(w, m.bundle);
      break;
    case 'vote2':
      writeSignedVote2(w, m.vote);
      break;
    case 'proposal2':
      writeFullProposal2(w, m.proposal);
      break;
    case 'decided':
      writeReportV2(w, m.batch.report);
      writeEntries(w, m.batch.entries, m.batch.report.count, 'decided');
      break;
    case 'catch-up':
      if (!Number.isInteger(m.fromHeight) || m.fromHeight < 1 || !Number.isInteger(m.count) || m.count < 1) throw new EncodeError('catch-up: fromHeight and count must be at least 1');
      w.u64(m.fromHeight).u16(m.count);
      break;
  }
  const out = w.finish();
  if (out.length > MESSAGE_BYTES_MAX) throw new EncodeError(`message of ${out.length} bytes exceeds ${MESSAGE_BYTES_MAX}`);
  return out;
}

function readCatchUp(r: Reader): MessageV2 {
  const at = r.position;
  const fromHeight = r.u64('catch-up.fromHeight');
  if (fromHeight < 1) throw new DecodeError('range', 'catch-up.fromHeight', at, 'must be at least 1');
  const count = r.u16('catch-up.count');
  if (count < 1) throw new DecodeError('range', 'catch-up.count', at + 8, 'must be at least 1');
  return { kind: 'catch-up', fromHeight, count };
}

function readPayload(r: Reader, tag: number): MessageV2 {
  switch (tag) {
    case TAG.bundle:
      return { kind: 'bundle', bundle: readBundle(r) };
    case TAG.vote2:
      return { kind: 'vote2', vote: readSignedVote2(r) };
    case TAG.proposal2:
      return { kind: 'proposal2', proposal: readFullProposal2(r) };
    case TAG.decided: {
      const report = readReportV2(r);
      return { kind: 'decided', batch: { report, entries: readEntries(r, report.count, 'decided') } };
    }
    case TAG['catch-up']:
      return readCatchUp(r);
    default:
      throw new DecodeError('tag', 'message2.tag', 1, `unknown message tag ${tag}`);
  }
}

/** Decodes one v2 wire message; throws DecodeError and nothing else on malformed input. */
export function decodeMessageV2(b: Uint8Array): MessageV2 {
  if (b.length > MESSAGE_BYTES_MAX) throw new DecodeError('length', 'message2', 0, `${b.length} > ${MESSAGE_BYTES_MAX}`);
  const r = new Reader(b);
  const version = r.u8('message2.version');
  if (version !== WIRE_VERSION_V2) throw new DecodeError('tag', 'message2.version', 0, `unknown wire version ${version}`);
  const m = readPayload(r, r.u8('message2.tag'));
  r.end('message2');
  return m;
}
