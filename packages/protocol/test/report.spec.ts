import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLS_SIGNATURE_BYTES,
  EncodeError,
  REPORT_BODY_BYTES,
  REPORT_DOMAIN,
  REPORT_VERSION_SINGLE,
  Reader,
  type ReportBody,
  decisionCode,
  decisionFromCode,
  decodeReport,
  encodeReport,
  encodeReportBody,
  readReportBody,
  reportDigest,
  toHex,
} from '../src/index.js';
import { decodeOutcome, mutationOf, report, reportBody } from './arbitraries.js';

function decodeBody(b: Uint8Array): ReportBody {
  const r = new Reader(b);
  const body = readReportBody(r);
  r.end('report body');
  return body;
}

const fill = (len: number, byte: number): Uint8Array => new Uint8Array(len).fill(byte);

/** A body whose fields are all distinct byte patterns, so a misplaced field shows. */
const sample: ReportBody = {
  networkId: fill(32, 0xa1),
  configDigest: fill(32, 0xb2),
  settlementId: fill(32, 0xc3),
  decision: 'ABORT',
  round: 0x0102_0304,
  validUntilMs: 0x0011_2233_4455_6677,
};

/**
 * What Solidity's abi.encodePacked(uint8, bytes16, bytes32, bytes32, bytes32, uint8, uint32,
 * uint64) produces: each value big-endian in its type's own width, no padding. Built by hand here,
 * independently of Writer.
 */
function encodePacked(b: ReportBody): Uint8Array {
  const out = Buffer.alloc(126);
  let o = 0;
  o = out.writeUInt8(0x01, o);
  o += Buffer.from('TANDEM/REPORT/V1', 'ascii').copy(out, o);
  for (const f of [b.networkId, b.configDigest, b.settlementId]) o += Buffer.from(f).copy(out, o);
  o = out.writeUInt8(b.decision === 'COMMIT' ? 1 : 2, o);
  o = out.writeUInt32BE(b.round, o);
  o = out.writeBigUInt64BE(BigInt(b.validUntilMs), o);
  expect(o).toBe(126);
  return new Uint8Array(out);
}

describe('report body', () => {
  it('is exactly 126 bytes with the documented offsets', () => {
    const b = encodeReportBody(sample);
    expect(b).toHaveLength(126);
    expect(REPORT_BODY_BYTES).toBe(126);
    const at = (offset: number, len: number): string => toHex(b.subarray(offset, offset + len));
    expect(at(0, 1)).toBe('01');
    expect(Buffer.from(b.subarray(1, 17)).toString('ascii')).toBe('TANDEM/REPORT/V1');
    expect(at(17, 32)).toBe('a1'.repeat(32));
    expect(at(49, 32)).toBe('b2'.repeat(32));
    expect(at(81, 32)).toBe('c3'.repeat(32));
    expect(at(113, 1)).toBe('02');
    expect(at(114, 4)).toBe('01020304');
    expect(at(118, 8)).toBe('0011223344556677');
    expect(toHex(encodeReportBody({ ...sample, decision: 'COMMIT' }).subarray(113, 114))).toBe('01');
  });

  it('equals abi.encodePacked of its fields, and its digest is SHA-256 of it', () => {
    fc.assert(
      fc.property(reportBody, (body) => {
        const packed = encodePacked(body);
        expect(toHex(encodeReportBody(body))).toBe(toHex(packed));
        expect(toHex(reportDigest(body))).toBe(createHash('sha256').update(packed).digest('hex'));
      }),
    );
  });

  it('matches the worked example in docs/wire-format.md', () => {
    const doc = readFileSync(new URL('../../../docs/wire-format.md', import.meta.url), 'utf8');
    const body = /^body:\s+([0-9a-f]+)$/m.exec(doc)?.[1];
    const digest = /^digest:\s+([0-9a-f]+)$/m.exec(doc)?.[1];
    expect(body).toBe(toHex(encodeReportBody(sample)));
    expect(digest).toBe(toHex(reportDigest(sample)));
  });

  it('round-trips every valid body', () => {
    fc.assert(
      fc.property(reportBody, (body) => {
        expect(decodeBody(encodeReportBody(body))).toEqual(body);
      }),
    );
  });

  it('changes its digest or fails to decode under any single-byte change', () => {
    fc.assert(
      fc.property(
        reportBody.chain((body) => mutationOf(encodeReportBody(body)).map((m) => ({ body, ...m }))),
        ({ body, mutated }) => {
          if (decodeOutcome(() => decodeBody(mutated)) !== 'ok') return;
          const other = decodeBody(mutated);
          expect(toHex(encodeReportBody(other))).toBe(toHex(mutated));
          expect(toHex(reportDigest(other))).not.toBe(toHex(reportDigest(body)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fails to decode exactly when a tag byte or the top of validUntil is changed', () => {
    // Version (0), domain (1..16) and decision (113) are the only bytes with a closed set of
    // values; a set bit in validUntil's top byte (118) puts it above 2^53-1.
    const b = encodeReportBody(sample);
    for (let i = 0; i < 126; i++) {
      const m = b.slice();
      m[i] = m[i]! ^ 0x04; // 2 -> 6 at the decision byte: not a decision either
      const expected = i <= 16 || i === 113 ? 'tag' : i === 118 ? 'range' : 'ok';
      expect(decodeOutcome(() => decodeBody(m)), `byte ${i}`).toBe(expected);
    }
  });

  it('rejects unknown versions and decisions, and validUntil above 2^53-1', () => {
    const b = encodeReportBody(sample);
    const with_ = (offset: number, bytes: number[]): Uint8Array => {
      const m = b.slice();
      m.set(bytes, offset);
      return m;
    };
    expect(decodeOutcome(() => decodeBody(with_(0, [0x02])))).toBe('tag'); // reserved for batched reports
    for (const code of [0, 3, 255]) expect(decodeOutcome(() => decodeBody(with_(113, [code])))).toBe('tag');
    expect(decodeOutcome(() => decodeBody(with_(118, [0, 0x20, 0, 0, 0, 0, 0, 0])))).toBe('range');
    expect(decodeOutcome(() => decodeBody(with_(118, [0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])))).toBe('ok');
    expect(decodeOutcome(() => decodeBody(with_(118, new Array<number>(8).fill(0xff))))).toBe('range');
  });

  it('refuses to encode fields of the wrong size or range', () => {
    expect(() => encodeReportBody({ ...sample, networkId: new Uint8Array(31) })).toThrow(EncodeError);
    expect(() => encodeReportBody({ ...sample, round: 2 ** 32 })).toThrow(EncodeError);
    expect(() => encodeReportBody({ ...sample, validUntilMs: Number.MAX_SAFE_INTEGER + 1 })).toThrow(EncodeError);
  });

  it('exports the constants the layout is built from', () => {
    expect(REPORT_VERSION_SINGLE).toBe(1);
    expect(Buffer.from(REPORT_DOMAIN).toString('ascii')).toBe('TANDEM/REPORT/V1');
    expect(REPORT_DOMAIN).toHaveLength(16);
    expect(BLS_SIGNATURE_BYTES).toBe(48);
    expect([decisionCode('COMMIT'), decisionCode('ABORT')]).toEqual([1, 2]);
    expect([decisionFromCode(1, 'd', 0), decisionFromCode(2, 'd', 0)]).toEqual(['COMMIT', 'ABORT']);
  });

  it('refuses to encode a decision that is neither COMMIT nor ABORT (never ABORT by default)', () => {
    for (const bad of ['commit', 'NIL', '', null, undefined]) {
      expect(() => decisionCode(bad as unknown as 'COMMIT')).toThrow(/decision must be COMMIT or ABORT/);
    }
  });
});

describe('report (body and signature)', () => {
  it('is the 126-byte body followed by the 48-byte signature, and round-trips', () => {
    fc.assert(
      fc.property(report, (rep) => {
        const b = encodeReport(rep);
        expect(b).toHaveLength(174);
        expect(toHex(b.subarray(0, 126))).toBe(toHex(encodeReportBody(rep)));
        expect(toHex(b.subarray(126))).toBe(toHex(rep.signature));
        expect(decodeReport(b)).toEqual(rep);
      }),
    );
  });

  it('rejects every truncation as short and extra bytes as trailing', () => {
    fc.assert(
      fc.property(report, fc.uint8Array({ minLength: 1, maxLength: 8 }), (rep, extra) => {
        const b = encodeReport(rep);
        for (let len = 0; len < b.length; len++) expect(decodeOutcome(() => decodeReport(b.subarray(0, len)))).toBe('short');
        expect(decodeOutcome(() => decodeReport(Uint8Array.from([...b, ...extra])))).toBe('trailing');
      }),
      { numRuns: 20 },
    );
  });

  it('refuses a signature of the wrong length', () => {
    fc.assert(
      fc.property(report, fc.integer({ min: 0, max: 96 }).filter((n) => n !== 48), (rep, len) => {
        expect(() => encodeReport({ ...rep, signature: new Uint8Array(len) })).toThrow(EncodeError);
      }),
      { numRuns: 20 },
    );
  });
});
