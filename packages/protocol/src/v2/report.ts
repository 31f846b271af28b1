/**
 * The batch header (the value a height decides) and the report v2 body (what the threshold
 * signature of a height is over). The body ends with the header's exact encoding, so a leg that
 * holds a report holds the header. Layouts in docs/wire-format.md ("Protocol v2").
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, EncodeError, Reader, Writer, concatBytes, equalBytes, utf8 } from '../bytes.js';
import { BLS_SIGNATURE_BYTES } from '../report.js';
import { decodeWith, encodeWith } from './codec.js';
import type { BatchHeader, ReportBodyV2, ReportV2 } from './types.js';

/** time u64 ‖ liveFrom u64 ‖ count u16 ‖ root 32. */
export const BATCH_HEADER_BYTES = 50;
const HEADER_DOMAIN = utf8('tandem/v2/header');

export const REPORT_VERSION_BATCH = 0x02;
/** 16 ASCII bytes, fixed: part of the signed layout. */
export const REPORT_DOMAIN_V2 = utf8('TANDEM/REPORT/V2');
/** 1 + 16 + 32 + 32 + 8 + 4 + BATCH_HEADER_BYTES. */
export const REPORT_BODY_V2_BYTES = 143;
export const REPORT_V2_BYTES = REPORT_BODY_V2_BYTES + BLS_SIGNATURE_BYTES;

function headerProblem(h: BatchHeader): string | null {
  if (!Number.isInteger(h.count) || h.count < 1) return `count must be at least 1, got ${h.count}`;
  if (!Number.isInteger(h.liveFrom) || h.liveFrom < 1) return `liveFrom must be at least 1, got ${h.liveFrom}`;
  return null;
}

export function writeBatchHeader(w: Writer, h: BatchHeader): void {
  const problem = headerProblem(h);
  if (problem !== null) throw new EncodeError(`batch header: ${problem}`);
  w.u64(h.timeMs).u64(h.liveFrom).u16(h.count).fixed(h.root, 32);
}

export function readBatchHeader(r: Reader, field: string): BatchHeader {
  const timeMs = r.u64(`${field}.timeMs`);
  const lAt = r.position;
  const liveFrom = r.u64(`${field}.liveFrom`);
  if (liveFrom < 1) throw new DecodeError('range', `${field}.liveFrom`, lAt, 'must be at least 1');
  const cAt = r.position;
  const count = r.u16(`${field}.count`);
  if (count < 1) throw new DecodeError('range', `${field}.count`, cAt, 'must be at least 1');
  return { timeMs, liveFrom, count, root: r.fixed(32, `${field}.root`) };
}

export function encodeBatchHeader(h: BatchHeader): Uint8Array {
  return encodeWith(writeBatchHeader, h);
}

export function decodeBatchHeader(b: Uint8Array): BatchHeader {
  return decodeWith(readBatchHeader, b, 'header');
}

/** The identity of a height's value: SHA-256("tandem/v2/header" ‖ encodeBatchHeader(h)). */
export function batchHeaderDigest(h: BatchHeader): Uint8Array {
  return sha256(concatBytes(HEADER_DOMAIN, encodeBatchHeader(h)));
}

export function batchHeaderEquals(a: BatchHeader, b: BatchHeader): boolean {
  return a.timeMs === b.timeMs && a.liveFrom === b.liveFrom && a.count === b.count && equalBytes(a.root, b.root);
}

/** The body a precommit for `header` at (height, round) signs a partial over. */
export function reportBodyV2Of(anchor: { readonly networkId: Uint8Array; readonly configDigest: Uint8Array }, height: number, round: number, header: BatchHeader): ReportBodyV2 {
  return { networkId: anchor.networkId, configDigest: anchor.configDigest, height, round, timeMs: header.timeMs, liveFrom: header.liveFrom, count: header.count, root: header.root };
}

export function batchHeaderOf(b: ReportBodyV2): BatchHeader {
  return { timeMs: b.timeMs, liveFrom: b.liveFrom, count: b.count, root: b.root };
}

export function encodeReportBodyV2(b: ReportBodyV2): Uint8Array {
  if (!Number.isInteger(b.height) || b.height < 1) throw new EncodeError(`report v2: height must be at least 1, got ${b.height}`);
  if (b.liveFrom > b.height) throw new EncodeError(`report v2: liveFrom ${b.liveFrom} above height ${b.height}`);
  const w = new Writer().u8(REPORT_VERSION_BATCH).fixed(REPORT_DOMAIN_V2, 16).fixed(b.networkId, 32).fixed(b.configDigest, 32);
  w.u64(b.height).u32(b.round);
  writeBatchHeader(w, b);
  return w.finish();
}

/** The 32-byte message the threshold signature signs: SHA-256 of the 143-byte body. */
export function reportDigestV2(b: ReportBodyV2): Uint8Array {
  return sha256(encodeReportBodyV2(b));
}

export function readReportBodyV2(r: Reader): ReportBodyV2 {
  const at = r.position;
  const version = r.u8('report2.version');
  if (version !== REPORT_VERSION_BATCH) throw new DecodeError('tag', 'report2.version', at, `unknown version ${version}`);
  if (!equalBytes(r.fixed(16, 'report2.domain'), REPORT_DOMAIN_V2)) throw new DecodeError('tag', 'report2.domain', at + 1, 'wrong domain tag');
  const networkId = r.fixed(32, 'report2.networkId');
  const configDigest = r.fixed(32, 'report2.configDigest');
  const hAt = r.position;
  const height = r.u64('report2.height');
  if (height < 1) throw new DecodeError('range', 'report2.height', hAt, 'must be at least 1');
  const round = r.u32('report2.round');
  const lAt = r.position + 8;
  const header = readBatchHeader(r, 'report2');
  if (header.liveFrom > height) throw new DecodeError('range', 'report2.liveFrom', lAt, `${header.liveFrom} above height ${height}`);
  return reportBodyV2Of({ networkId, configDigest }, height, round, header);
}

export function decodeReportBodyV2(b: Uint8Array): ReportBodyV2 {
  return decodeWith(readReportBodyV2, b, 'report2');
}

/** A report v2 on the wire: body (143 bytes) ‖ BLS signature (48 bytes). */
export function writeReportV2(w: Writer, rep: ReportV2): void {
  w.fixed(encodeReportBodyV2(rep), REPORT_BODY_V2_BYTES).fixed(rep.signature, BLS_SIGNATURE_BYTES);
}

export function readReportV2(r: Reader): ReportV2 {
  const body = readReportBodyV2(r);
  return { ...body, signature: r.fixed(BLS_SIGNATURE_BYTES, 'report2.signature') };
}

export function encodeReportV2(rep: ReportV2): Uint8Array {
  return encodeWith(writeReportV2, rep);
}

export function decodeReportV2(b: Uint8Array): ReportV2 {
  return decodeWith(readReportV2, b, 'report2');
}
