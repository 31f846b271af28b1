import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type Entry,
  type Report,
  type ReportV2,
  type Terms,
  type TreeMultiproof,
  U256_MAX,
  U64_MAX,
  encodeEntry,
  encodeReport,
  encodeReportV2,
  encodeTerms,
  equalBytes,
  toHex,
} from '@tandem/protocol';
import { reportShapeProblem } from '@tandem/legs';
import { WireError } from '@tandem/legs/json';
import {
  applyRequestFromJson,
  applyRequestToJson,
  batchRequestFromJson,
  batchRequestToJson,
  entriesRequestFromJson,
  entriesRequestToJson,
  faultRequestFromJson,
  faultRequestToJson,
  mintRequestFromJson,
  prepareRequestFromJson,
  prepareRequestToJson,
  rootRequestFromJson,
  rootRequestToJson,
} from '../src/index.js';

/** What actually crosses the network: JSON text. */
function overTheWire<T>(v: T): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

function wireErrorOf(f: () => unknown): WireError {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return e;
    throw new Error(`expected a WireError, got ${String(e)}`);
  }
  throw new Error('expected a WireError, nothing was thrown');
}

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
// Whole code points, up to 4 UTF-8 bytes each: 40 of them stay under the 256-byte string bound.
const str = fc.string({ unit: 'binary', maxLength: 40 });
const ms = fc.integer({ min: 0, max: 2 ** 50 });

const termsArb: fc.Arbitrary<Terms> = fc.record({
  nonce: str,
  asset: fc.record({ chainId: fc.bigInt({ min: 0n, max: U64_MAX }), escrow: bytes(20), token: str, seller: str, buyer: str, amount: fc.bigInt({ min: 1n, max: U256_MAX }) }),
  payment: fc.record({ bankId: str, ledger: str, payer: str, payee: str, currency: str, amount: fc.bigInt({ min: 1n, max: U256_MAX }) }),
  deadlineMs: ms,
  reportWindowMs: ms,
  marginMs: ms,
});

const reportArb: fc.Arbitrary<Report> = fc.record({
  networkId: bytes(32),
  configDigest: bytes(32),
  settlementId: bytes(32),
  decision: fc.constantFrom('COMMIT' as const, 'ABORT' as const),
  round: fc.integer({ min: 0, max: 0xffff_ffff }),
  validUntilMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  signature: bytes(48),
});

const reportV2Arb: fc.Arbitrary<ReportV2> = fc
  .record({ height: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), liveFromBack: fc.integer({ min: 0, max: 1000 }) })
  .chain(({ height, liveFromBack }) =>
    fc.record({
      networkId: bytes(32),
      configDigest: bytes(32),
      height: fc.constant(height),
      round: fc.integer({ min: 0, max: 0xffff_ffff }),
      timeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      liveFrom: fc.constant(Math.max(1, height - liveFromBack)),
      count: fc.integer({ min: 1, max: 0xffff }),
      root: bytes(32),
      signature: bytes(48),
    }),
  );

const entryArb: fc.Arbitrary<Entry> = fc.record({ settlementId: bytes(32), decision: fc.constantFrom('COMMIT' as const, 'ABORT' as const), validUntilMs: ms });
const siblingsArb = fc.array(bytes(32), { maxLength: 16 });
const provenArb = fc.record({ entry: entryArb, proof: fc.record({ index: fc.integer({ min: 0, max: 0xfffe }), count: fc.integer({ min: 1, max: 0xffff }), siblings: siblingsArb }) });

const sameBytes = (xs: readonly Uint8Array[], ys: readonly Uint8Array[]) => xs.length === ys.length && xs.every((x, k) => equalBytes(x, ys[k]!));

describe('round trips through JSON text', () => {
  it('protocol v2 requests keep reports, entries and proofs byte for byte', () => {
    fc.assert(
      fc.property(reportV2Arb, fc.array(provenArb, { minLength: 1, maxLength: 8 }), (report, items) => {
        expect(toHex(encodeReportV2(rootRequestFromJson(overTheWire(rootRequestToJson(report)))))).toBe(toHex(encodeReportV2(report)));
        const back = entriesRequestFromJson(overTheWire(entriesRequestToJson(items)));
        expect(back.map((b) => toHex(encodeEntry(b.entry)))).toEqual(items.map((i) => toHex(encodeEntry(i.entry))));
        back.forEach((b, k) => {
          expect([b.proof.index, b.proof.count]).toEqual([items[k]!.proof.index, items[k]!.proof.count]);
          expect(sameBytes(b.proof.siblings, items[k]!.proof.siblings)).toBe(true);
        });
        const entries = items.map((i) => i.entry);
        const multiproof: TreeMultiproof = { indices: items.map((i) => i.proof.index), count: items[0]!.proof.count, siblings: items.flatMap((i) => i.proof.siblings) };
        const batch = batchRequestFromJson(overTheWire(batchRequestToJson(report, entries, multiproof)));
        expect(toHex(encodeReportV2(batch.report))).toBe(toHex(encodeReportV2(report)));
        expect(batch.entries.map((e) => toHex(encodeEntry(e)))).toEqual(entries.map((e) => toHex(encodeEntry(e))));
        expect([batch.multiproof.indices, batch.multiproof.count]).toEqual([multiproof.indices, multiproof.count]);
        expect(sameBytes(batch.multiproof.siblings, multiproof.siblings)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('prepare requests keep the terms byte for byte and the authorization', () => {
    fc.assert(
      fc.property(termsArb, fc.option(fc.record({ party: str, signature: bytes(64) }), { nil: null }), (terms, auth) => {
        const back = prepareRequestFromJson(overTheWire(prepareRequestToJson(terms, auth)));
        expect(equalBytes(encodeTerms(back.terms), encodeTerms(terms))).toBe(true);
        if (auth === null) expect(back.authorization).toBeNull();
        else {
          expect(back.authorization!.party).toBe(auth.party);
          expect(equalBytes(back.authorization!.signature, auth.signature)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('apply requests keep the report byte for byte', () => {
    fc.assert(
      fc.property(reportArb, (report) => {
        expect(reportShapeProblem(report)).toBeNull();
        const back = applyRequestFromJson(overTheWire(applyRequestToJson(report)));
        expect(toHex(encodeReport(back))).toBe(toHex(encodeReport(report)));
      }),
      { numRuns: 200 },
    );
  });

  it('fault requests keep every fault kind', () => {
    const id = new Uint8Array(32).fill(3);
    for (const fault of [
      { kind: 'reject-prepare' as const, settlementId: id },
      { kind: 'fail-apply' as const, settlementId: id, times: 3 },
      { kind: 'unavailable' as const, untilMs: 123 },
      { kind: 'clear' as const },
    ]) {
      expect(faultRequestFromJson(overTheWire(faultRequestToJson('payment', fault)))).toEqual({ leg: 'payment', fault });
    }
  });
});

describe('strict decoding names the field', () => {
  it('prepare requests: bad terms, bad authorization, missing keys', () => {
    const terms = fc.sample(termsArb, { numRuns: 1, seed: 7 })[0]!;
    const good = prepareRequestToJson(terms, { party: 'alice', signature: new Uint8Array(64) });
    expect(wireErrorOf(() => prepareRequestFromJson({ ...good, terms: 'zz' })).field).toBe('terms');
    // Hex that is not an encoding of terms: the decoder's own field is in the message.
    const truncated = wireErrorOf(() => prepareRequestFromJson({ ...good, terms: good.terms.slice(0, 40) }));
    expect(truncated.field).toBe('terms');
    expect(truncated.message).toMatch(/cannot decode terms\./);
    expect(wireErrorOf(() => prepareRequestFromJson({ ...good, terms: `${good.terms}00` })).message).toMatch(/trailing/);
    expect(wireErrorOf(() => prepareRequestFromJson({ ...good, authorization: { party: 'alice', signature: 5 } })).field).toBe('authorization.signature');
    expect(wireErrorOf(() => prepareRequestFromJson({ ...good, authorization: { party: 7, signature: '' } })).field).toBe('authorization.party');
    expect(wireErrorOf(() => prepareRequestFromJson({ ...good, authorization: 'alice' })).field).toBe('authorization');
    expect(wireErrorOf(() => prepareRequestFromJson({ terms: good.terms })).field).toBe('authorization');
    expect(wireErrorOf(() => prepareRequestFromJson(undefined)).field).toBe('');
  });

  it('apply requests: a report of the wrong length or with a bad tag', () => {
    const report = fc.sample(reportArb, { numRuns: 1, seed: 9 })[0]!;
    const hex = applyRequestToJson(report).report;
    expect(wireErrorOf(() => applyRequestFromJson({ report: hex.slice(2) })).field).toBe('report');
    const badDecision = `${hex.slice(0, 226)}07${hex.slice(228)}`; // byte 113 is the decision
    expect(wireErrorOf(() => applyRequestFromJson({ report: badDecision })).message).toMatch(/report\.decision/);
  });

  it('protocol v2 requests: unknown and missing keys, bad hex, the field of the item at fault', () => {
    const [report, item] = fc.sample(fc.tuple(reportV2Arb, provenArb), { numRuns: 1, seed: 11 })[0]!;
    const root = rootRequestToJson(report);
    expect(wireErrorOf(() => rootRequestFromJson({ ...root, extra: 1 })).field).toBe('extra');
    expect(wireErrorOf(() => rootRequestFromJson({ report: root.report.slice(2) })).field).toBe('report');
    const items = entriesRequestToJson([item, item]);
    expect(wireErrorOf(() => entriesRequestFromJson({ items: [items.items[0], { ...items.items[1], entry: 'zz' }] })).field).toBe('items[1].entry');
    expect(wireErrorOf(() => entriesRequestFromJson({})).field).toBe('items');
    const batch = batchRequestToJson(report, [item.entry], { indices: [0], count: 1, siblings: [] });
    expect(wireErrorOf(() => batchRequestFromJson({ ...batch, multiproof: { ...batch.multiproof, count: 0 } })).field).toBe('multiproof.count');
    expect(wireErrorOf(() => batchRequestFromJson({ ...batch, entries: `${batch.entries[0]}` })).field).toBe('entries');
  });

  it('admin requests: mint amounts must be positive decimals, faults need their own keys only', () => {
    expect(wireErrorOf(() => mintRequestFromJson({ leg: 'asset', account: 'a', unit: 'u', amount: '0' })).field).toBe('amount');
    expect(wireErrorOf(() => mintRequestFromJson({ leg: 'asset', account: '', unit: 'u', amount: '1' })).field).toBe('account');
    expect(wireErrorOf(() => mintRequestFromJson({ leg: 'chain', account: 'a', unit: 'u', amount: '1' })).field).toBe('leg');
    const id = '11'.repeat(32);
    expect(wireErrorOf(() => faultRequestFromJson({ leg: 'asset', fault: 'fail-apply', settlementId: id })).field).toBe('times');
    expect(wireErrorOf(() => faultRequestFromJson({ leg: 'asset', fault: 'fail-apply', settlementId: id, times: 0 })).field).toBe('times');
    expect(wireErrorOf(() => faultRequestFromJson({ leg: 'asset', fault: 'clear', settlementId: id })).field).toBe('settlementId');
    expect(wireErrorOf(() => faultRequestFromJson({ leg: 'asset', fault: 'explode' })).field).toBe('fault');
  });
});
