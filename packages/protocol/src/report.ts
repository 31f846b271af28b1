import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, EncodeError, Reader, Writer, utf8 } from './bytes.js';

export type Decision = 'COMMIT' | 'ABORT';
export const DECISIONS: readonly Decision[] = ['COMMIT', 'ABORT'];

export function decisionCode(d: Decision): number {
  if (d === 'COMMIT') return 1;
  if (d === 'ABORT') return 2;
  // Untyped input (JSON, a Byzantine wrapper) must not encode as ABORT by default.
  throw new EncodeError(`decision must be COMMIT or ABORT, got ${JSON.stringify(d)}`);
}

export function decisionFromCode(code: number, field: string, offset: number): Decision {
  if (code === 1) return 'COMMIT';
  if (code === 2) return 'ABORT';
  throw new DecodeError('tag', field, offset, `unknown decision ${code}`);
}

/** Version byte of a single-settlement report. A batched (Merkle-root) report will take 0x02. */
export const REPORT_VERSION_SINGLE = 0x01;
/** 16 ASCII bytes, fixed: part of the signed layout. */
export const REPORT_DOMAIN = utf8('TANDEM/REPORT/V1');
/** Length of the report body in bytes: 1 + 16 + 32 + 32 + 32 + 1 + 4 + 8. */
export const REPORT_BODY_BYTES = 126;
export const BLS_SIGNATURE_BYTES = 48;

/**
 * The body of a report: what the threshold signature is over (through `reportDigest`).
 * Byte layout (big-endian; docs/wire-format.md), chosen so a Solidity contract rebuilds it with
 * abi.encodePacked(uint8, bytes16, bytes32, bytes32, bytes32, uint8, uint32, uint64):
 *   0   u8      version (0x01)
 *   1   16 B    domain "TANDEM/REPORT/V1"
 *   17  32 B    network id
 *   49  32 B    configuration digest
 *   81  32 B    settlement id (terms digest)
 *   113 u8      decision (1 COMMIT, 2 ABORT)
 *   114 u32     round
 *   118 u64     validUntil (ms)
 */
export interface ReportBody {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  readonly settlementId: Uint8Array;
  readonly decision: Decision;
  readonly round: number;
  readonly validUntilMs: number;
}

export interface Report extends ReportBody {
  /** BLS12-381 min-sig threshold signature over reportDigest(body), 48 bytes. */
  readonly signature: Uint8Array;
}

export function encodeReportBody(b: ReportBody): Uint8Array {
  return new Writer()
    .u8(REPORT_VERSION_SINGLE)
    .fixed(REPORT_DOMAIN, 16)
    .fixed(b.networkId, 32)
    .fixed(b.configDigest, 32)
    .fixed(b.settlementId, 32)
    .u8(decisionCode(b.decision))
    .u32(b.round)
    .u64(b.validUntilMs)
    .finish();
}

/** The 32-byte message the threshold signature signs: SHA-256 of the report body. */
export function reportDigest(b: ReportBody): Uint8Array {
  return sha256(encodeReportBody(b));
}

export function readReportBody(r: Reader): ReportBody {
  const at = r.position;
  const version = r.u8('report.version');
  if (version !== REPORT_VERSION_SINGLE) throw new DecodeError('tag', 'report.version', at, `unknown version ${version}`);
  const domain = r.fixed(16, 'report.domain');
  for (let i = 0; i < 16; i++) {
    if (domain[i] !== REPORT_DOMAIN[i]) throw new DecodeError('tag', 'report.domain', at + 1, 'wrong domain tag');
  }
  const networkId = r.fixed(32, 'report.networkId');
  const configDigest = r.fixed(32, 'report.configDigest');
  const settlementId = r.fixed(32, 'report.settlementId');
  const dAt = r.position;
  const decision = decisionFromCode(r.u8('report.decision'), 'report.decision', dAt);
  const round = r.u32('report.round');
  const validUntilMs = r.u64('report.validUntilMs');
  return { networkId, configDigest, settlementId, decision, round, validUntilMs };
}

/** A report on the wire: body (126 bytes) followed by the signature (48 bytes). */
export function encodeReport(rep: Report): Uint8Array {
  return new Writer().fixed(encodeReportBody(rep), REPORT_BODY_BYTES).fixed(rep.signature, BLS_SIGNATURE_BYTES).finish();
}

export function readReport(r: Reader): Report {
  const body = readReportBody(r);
  return { ...body, signature: r.fixed(BLS_SIGNATURE_BYTES, 'report.signature') };
}

export function decodeReport(b: Uint8Array): Report {
  const r = new Reader(b);
  const rep = readReport(r);
  r.end('report');
  return rep;
}
