/**
 * Entries, the batch header and the report v2 body: layouts built by hand (as Solidity's
 * abi.encodePacked would), round trips, rejections, and the fixed vectors in vectors/protocol-v2.json.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BatchHeader,
  EncodeError,
  type Entry,
  REPORT_BODY_V2_BYTES,
  REPORT_V2_BYTES,
  type ReportBodyV2,
  batchEntriesProblem,
  batchHeaderDigest,
  batchHeaderEquals,
  batchHeaderOf,
  concatBytes,
  decodeBatchHeader,
  decodeEntry,
  decodeReportBodyV2,
  decodeReportV2,
  encodeBatchHeader,
  encodeEntry,
  encodeReportBodyV2,
  encodeReportV2,
  entriesOrderProblem,
  fromHex,
  reportBodyV2Of,
  reportDigestV2,
  reportTreeMultiproof,
  reportTreeProof,
  reportTreeRoot,
  toHex,
  verifyReportMultiproof,
  verifyReportProof,
} from '../src/index.js';
import { decodeOutcome, mutationOf, show } from './arbitraries.js';
import { batchHeader, entry, entryList, reportV2 } from './v2-arbitraries.js';

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** abi.encodePacked(bytes32 id, uint8 decision, uint64 validUntil), built without Writer. */
function packedEntry(e: Entry): Uint8Array {
  const out = Buffer.alloc(41);
  Buffer.from(e.settlementId).copy(out, 0);
  out.writeUInt8(e.decision === 'COMMIT' ? 1 : 2, 32);
  out.writeBigUInt64BE(BigInt(e.validUntilMs), 33);
  return new Uint8Array(out);
}

/** abi.encodePacked(uint8 2, bytes16, bytes32, bytes32, uint64 height, uint32 round, uint64 time, uint64 liveFrom, uint16 count, bytes32 root). */
function packedBody(b: ReportBodyV2): Uint8Array {
  const out = Buffer.alloc(143);
  let o = out.writeUInt8(2, 0);
  o += Buffer.from('TANDEM/REPORT/V2', 'ascii').copy(out, o);
  o += Buffer.from(b.networkId).copy(out, o);
  o += Buffer.from(b.configDigest).copy(out, o);
  o = out.writeBigUInt64BE(BigInt(b.height), o);
  o = out.writeUInt32BE(b.round, o);
  o = out.writeBigUInt64BE(BigInt(b.timeMs), o);
  o = out.writeBigUInt64BE(BigInt(b.liveFrom), o);
  o = out.writeUInt16BE(b.count, o);
  o += Buffer.from(b.root).copy(out, o);
  expect(o).toBe(143);
  return new Uint8Array(out);
}

describe('entries', () => {
  it('encode as id ‖ decision u8 ‖ validUntil u64 (41 bytes) and round-trip', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const b = encodeEntry(e);
        expect(b).toEqual(packedEntry(e));
        expect(show(decodeEntry(b))).toBe(show(e));
      }),
    );
  });

  it('reject truncation, trailing bytes, unknown decisions and times above 2^53 - 1', () => {
    fc.assert(
      fc.property(entry, fc.nat({ max: 40 }), (e, cut) => {
        const b = encodeEntry(e);
        expect(decodeOutcome(() => decodeEntry(b.subarray(0, cut)))).toBe('short');
        expect(decodeOutcome(() => decodeEntry(concatBytes(b, Uint8Array.of(0))))).toBe('trailing');
      }),
    );
    const b = encodeEntry({ settlementId: new Uint8Array(32), decision: 'COMMIT', validUntilMs: 0 });
    for (const d of [0, 3, 255]) expect(decodeOutcome(() => decodeEntry(concatBytes(b.subarray(0, 32), Uint8Array.of(d), b.subarray(33))))).toBe('tag');
    expect(decodeOutcome(() => decodeEntry(concatBytes(b.subarray(0, 33), fromHex('0020000000000000'))))).toBe('range');
  });

  it('entriesOrderProblem accepts strictly ascending ids only, naming the entry', () => {
    fc.assert(
      fc.property(entryList(0, 20), (es) => {
        const sorted = [...es].sort((a, b) => Buffer.compare(a.settlementId, b.settlementId));
        expect(entriesOrderProblem(sorted)).toBeNull();
        if (sorted.length > 1) {
          expect(entriesOrderProblem([...sorted].reverse())).toMatch(/^entries\[1\] .* ids must ascend strictly$/);
          expect(entriesOrderProblem([sorted[0]!, ...sorted])).toMatch(/^entries\[1\]/);
        }
      }),
    );
  });
});

describe('batch header', () => {
  it('batchEntriesProblem binds a header to exactly its entries: count, order and root', () => {
    fc.assert(
      fc.property(entryList(1, 30), fc.nat(), (es, seed) => {
        const sorted = [...es].sort((a, b) => Buffer.compare(a.settlementId, b.settlementId));
        const header: BatchHeader = { timeMs: 1, liveFrom: 1, count: sorted.length, root: reportTreeRoot(sorted) };
        expect(batchEntriesProblem(header, sorted)).toBeNull();
        expect(batchEntriesProblem({ ...header, count: sorted.length + 1 }, sorted)).toMatch(/header count/);
        expect(batchEntriesProblem(header, [])).toMatch(/header count/);
        const k = seed % sorted.length;
        const changed = sorted.map((e, i) => (i === k ? { ...e, decision: e.decision === 'COMMIT' ? ('ABORT' as const) : ('COMMIT' as const) } : e));
        expect(batchEntriesProblem(header, changed)).toMatch(/root is not/);
        if (sorted.length > 1) expect(batchEntriesProblem({ ...header, root: reportTreeRoot([...sorted].reverse()) }, [...sorted].reverse())).toMatch(/ascend strictly/);
      }),
      { numRuns: 100 },
    );
  });

  it('encodes time u64 ‖ liveFrom u64 ‖ count u16 ‖ root (50 bytes), round-trips, and its digest is domain-tagged', () => {
    fc.assert(
      fc.property(batchHeader, (h) => {
        const b = encodeBatchHeader(h);
        expect(b.length).toBe(50);
        expect(show(decodeBatchHeader(b))).toBe(show(h));
        expect(batchHeaderEquals(decodeBatchHeader(b), h)).toBe(true);
        expect(batchHeaderDigest(h)).toEqual(sha256(concatBytes(new TextEncoder().encode('tandem/v2/header'), b)));
      }),
    );
  });

  it('two headers with one root but another time or liveFrom are other values', () => {
    fc.assert(
      fc.property(batchHeader, (h) => {
        const later = { ...h, timeMs: h.timeMs === 0 ? 1 : h.timeMs - 1 };
        const lower = { ...h, liveFrom: h.liveFrom === 1 ? 2 : h.liveFrom - 1 };
        expect(batchHeaderDigest(later)).not.toEqual(batchHeaderDigest(h));
        expect(batchHeaderDigest(lower)).not.toEqual(batchHeaderDigest(h));
        expect(batchHeaderEquals(later, h)).toBe(false);
      }),
    );
  });

  it('refuses count 0 and liveFrom 0 both ways', () => {
    const h: BatchHeader = { timeMs: 5, liveFrom: 1, count: 1, root: new Uint8Array(32) };
    expect(() => encodeBatchHeader({ ...h, count: 0 })).toThrow(EncodeError);
    expect(() => encodeBatchHeader({ ...h, liveFrom: 0 })).toThrow(/liveFrom must be at least 1/);
    const b = encodeBatchHeader(h);
    expect(decodeOutcome(() => decodeBatchHeader(concatBytes(b.subarray(0, 16), Uint8Array.of(0, 0), b.subarray(18))))).toBe('range');
    expect(decodeOutcome(() => decodeBatchHeader(concatBytes(b.subarray(0, 8), new Uint8Array(8), b.subarray(16))))).toBe('range');
  });
});

describe('report v2', () => {
  it('the body is the 143-byte packed layout, ending with the batch header; the digest is its SHA-256', () => {
    fc.assert(
      fc.property(reportV2, (rep) => {
        const body = encodeReportBodyV2(rep);
        expect(body.length).toBe(REPORT_BODY_V2_BYTES);
        expect(body).toEqual(packedBody(rep));
        expect(body.subarray(93)).toEqual(encodeBatchHeader(batchHeaderOf(rep)));
        expect(reportDigestV2(rep)).toEqual(sha256(body));
        const wire = encodeReportV2(rep);
        expect(wire.length).toBe(REPORT_V2_BYTES);
        expect(decodeReportV2(wire)).toEqual(rep);
        const { signature: _signature, ...bodyFields } = rep;
        expect(decodeReportBodyV2(body)).toEqual(bodyFields);
        expect(reportBodyV2Of(rep, rep.height, rep.round, batchHeaderOf(rep))).toEqual(bodyFields);
      }),
    );
  });

  it('a changed byte either fails to decode or decodes to another body with another digest', () => {
    fc.assert(
      fc.property(reportV2.chain((rep) => fc.record({ rep: fc.constant(rep), m: mutationOf(encodeReportBodyV2(rep)) })), ({ rep, m }) => {
        const outcome = decodeOutcome(() => decodeReportBodyV2(m.mutated));
        if (m.index < 17) expect(outcome).toBe('tag');
        if (outcome === 'ok') expect(reportDigestV2(decodeReportBodyV2(m.mutated))).not.toEqual(reportDigestV2(rep));
      }),
    );
  });

  it('rejects truncation, trailing bytes, height 0, count 0 and liveFrom above height', () => {
    fc.assert(
      fc.property(reportV2, fc.nat({ max: REPORT_V2_BYTES - 1 }), (rep, cut) => {
        const wire = encodeReportV2(rep);
        expect(decodeOutcome(() => decodeReportV2(wire.subarray(0, cut)))).toBe('short');
        expect(decodeOutcome(() => decodeReportV2(concatBytes(wire, Uint8Array.of(7))))).toBe('trailing');
      }),
    );
    const body: ReportBodyV2 = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), height: 3, round: 0, timeMs: 9, liveFrom: 3, count: 2, root: new Uint8Array(32) };
    expect(() => encodeReportBodyV2({ ...body, height: 0 })).toThrow(/height must be at least 1/);
    expect(() => encodeReportBodyV2({ ...body, liveFrom: 4 })).toThrow(/liveFrom 4 above height 3/);
    expect(() => encodeReportBodyV2({ ...body, count: 0 })).toThrow(/count must be at least 1/);
    const b = encodeReportBodyV2(body);
    const patched = (at: number, bytes: number[]) => concatBytes(b.subarray(0, at), Uint8Array.from(bytes), b.subarray(at + bytes.length));
    expect(decodeOutcome(() => decodeReportBodyV2(patched(81, [0, 0, 0, 0, 0, 0, 0, 0])))).toBe('range'); // height 0
    expect(decodeOutcome(() => decodeReportBodyV2(patched(101, [0, 0, 0, 0, 0, 0, 0, 4])))).toBe('range'); // liveFrom 4 > 3
    expect(decodeOutcome(() => decodeReportBodyV2(patched(109, [0, 0])))).toBe('range'); // count 0
  });
});

interface VectorEntry { settlementId: string; decision: 'COMMIT' | 'ABORT'; decisionCode: number; validUntilMs: number; encoded: string; leaf: string }
interface Vectors {
  reportTree: { count: number; entries: VectorEntry[]; root: string; proofs: { index: number; siblings: string[] }[]; multiproof: { indices: number[]; siblings: string[] } }[];
  batchHeader: { timeMs: number; liveFrom: number; count: number; root: string; encoded: string; digest: string };
  reportBodyV2: { networkId: string; configDigest: string; height: number; round: number; timeMs: number; liveFrom: number; count: number; root: string; body: string; digest: string };
}

describe('fixed vectors (test/vectors/protocol-v2.json, for the Solidity side)', () => {
  const vectors = JSON.parse(readFileSync(new URL('./vectors/protocol-v2.json', import.meta.url), 'utf8')) as Vectors;
  const hx = (b: Uint8Array) => `0x${toHex(b)}`;

  it('report trees: encodings, leaves, roots and proofs are what the code gives, and the roots what a hand-built tree gives', () => {
    expect(vectors.reportTree.map((t) => t.count)).toEqual([1, 2, 3, 5, 7]);
    for (const t of vectors.reportTree) {
      const entries: Entry[] = t.entries.map((e) => ({ settlementId: fromHex(e.settlementId, 32), decision: e.decision, validUntilMs: e.validUntilMs }));
      expect(t.entries.map((e) => e.encoded)).toEqual(entries.map((e) => hx(encodeEntry(e))));
      const leaves = entries.map((e) => keccak_256(concatBytes(Uint8Array.of(0), packedEntry(e))));
      expect(t.entries.map((e) => e.leaf)).toEqual(leaves.map(hx));
      expect(hx(reportTreeRoot(entries))).toBe(t.root);
      expect(hx(handRoot(leaves))).toBe(t.root);
      for (const p of t.proofs) {
        const proof = reportTreeProof(entries, p.index);
        expect(proof.siblings.map(hx)).toEqual(p.siblings);
        expect(verifyReportProof(fromHex(t.root), entries[p.index]!, { index: p.index, count: t.count, siblings: p.siblings.map((s) => fromHex(s)) })).toBe(true);
      }
      expect(reportTreeMultiproof(entries, t.multiproof.indices).siblings.map(hx)).toEqual(t.multiproof.siblings);
      const picked = t.multiproof.indices.map((i) => entries[i]!);
      expect(verifyReportMultiproof(fromHex(t.root), picked, { indices: t.multiproof.indices, count: t.count, siblings: t.multiproof.siblings.map((s) => fromHex(s)) })).toBe(true);
    }
  });

  it('the batch header and the report v2 body', () => {
    const h = vectors.batchHeader;
    const header: BatchHeader = { timeMs: h.timeMs, liveFrom: h.liveFrom, count: h.count, root: fromHex(h.root) };
    expect(hx(encodeBatchHeader(header))).toBe(h.encoded);
    expect(hx(batchHeaderDigest(header))).toBe(h.digest);
    const r = vectors.reportBodyV2;
    const body: ReportBodyV2 = { networkId: fromHex(r.networkId), configDigest: fromHex(r.configDigest), height: r.height, round: r.round, timeMs: r.timeMs, liveFrom: r.liveFrom, count: r.count, root: fromHex(r.root) };
    expect(hx(encodeReportBodyV2(body))).toBe(r.body);
    expect(hx(packedBody(body))).toBe(r.body);
    expect(hx(reportDigestV2(body))).toBe(r.digest);
    expect(r.root).toBe(vectors.reportTree[3]!.root);
  });
});

/** The root written out by hand for up to 8 leaves: pairs, then pairs of pairs, odd ones carried. */
function handRoot(l: readonly Uint8Array[]): Uint8Array {
  const node = (a: Uint8Array, b?: Uint8Array) => (b === undefined ? a : keccak_256(concatBytes(Uint8Array.of(1), a, b)));
  const pairs = (xs: readonly Uint8Array[]) => Array.from({ length: Math.ceil(xs.length / 2) }, (_, i) => node(xs[2 * i]!, xs[2 * i + 1]));
  expect(l.length).toBeLessThanOrEqual(8);
  let level = [...l];
  while (level.length > 1) level = pairs(level);
  return level[0]!;
}
