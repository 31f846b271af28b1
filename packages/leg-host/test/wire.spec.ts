import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Report, type Terms, U256_MAX, U64_MAX, encodeReport, encodeTerms, equalBytes, toHex } from '@tandem/protocol';
import { reportShapeProblem } from '@tandem/legs';
import { WireError } from '@tandem/legs/json';
import {
  applyRequestFromJson,
  applyRequestToJson,
  faultRequestFromJson,
  faultRequestToJson,
  mintRequestFromJson,
  prepareRequestFromJson,
  prepareRequestToJson,
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

describe('round trips through JSON text', () => {
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
