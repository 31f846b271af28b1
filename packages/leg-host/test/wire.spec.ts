import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type LegView,
  type Report,
  type Terms,
  U256_MAX,
  U64_MAX,
  encodeReport,
  encodeTerms,
  equalBytes,
  toHex,
} from '@tandem/protocol';
import {
  WireError,
  applyOutcomeFromJson,
  applyOutcomeToJson,
  applyRequestFromJson,
  applyRequestToJson,
  faultRequestFromJson,
  faultRequestToJson,
  legViewFromJson,
  legViewToJson,
  mintRequestFromJson,
  prepareOutcomeFromJson,
  prepareOutcomeToJson,
  prepareRequestFromJson,
  prepareRequestToJson,
  reclaimOutcomeFromJson,
  reportShapeProblem,
} from '../src/index.js';
import type { ApplyOutcome, PrepareOutcome } from '@tandem/legs';

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

const lockArb = fc.record({
  settlementId: bytes(32),
  amount: fc.bigInt({ min: 0n, max: U256_MAX }),
  from: str,
  to: str,
  unit: str,
  venue: fc.string({ unit: 'binary', maxLength: 100 }),
  validUntilMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  reclaimAtMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  groupPublicKey: bytes(96),
});

const viewArb: fc.Arbitrary<LegView> = fc.record({
  state: fc.constantFrom('none' as const, 'locked' as const, 'rejected' as const, 'committed' as const, 'aborted' as const, 'reclaimed' as const),
  finalityHeight: fc.bigInt({ min: 0n, max: U64_MAX }),
  lock: fc.option(lockArb, { nil: null }),
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

  it('leg views keep every field, big integers included', () => {
    fc.assert(
      fc.property(viewArb, (view) => {
        expect(legViewFromJson(overTheWire(legViewToJson(view)))).toEqual(view);
      }),
      { numRuns: 300 },
    );
  });

  it('outcomes keep kind and reason, and drop extra properties an adapter might add', () => {
    const prepares: PrepareOutcome[] = [{ kind: 'locked' }, { kind: 'unauthorized', reason: 'a' }, { kind: 'rejected', reason: 'b' }, { kind: 'closed', reason: '' }];
    for (const o of prepares) expect(prepareOutcomeFromJson(overTheWire(prepareOutcomeToJson(o)))).toEqual(o);
    const applies: ApplyOutcome[] = [{ kind: 'applied' }, { kind: 'duplicate' }, { kind: 'refused', reason: 'r' }];
    for (const o of applies) expect(applyOutcomeFromJson(overTheWire(applyOutcomeToJson(o)))).toEqual(o);
    // A leg's very long refusal text is shortened, never made undecodable.
    const long = applyOutcomeFromJson(overTheWire(applyOutcomeToJson({ kind: 'refused', reason: '€'.repeat(10_000) })));
    expect(long.kind === 'refused' && long.reason.startsWith('€€€') && long.reason.length < 10_000).toBe(true);
    const withExtra = { kind: 'applied', at: 5 } as unknown as ApplyOutcome;
    expect(applyOutcomeFromJson(overTheWire(applyOutcomeToJson(withExtra)))).toEqual({ kind: 'applied' });
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
  /** [path, a wrong value]: each must be refused with exactly that path named. */
  const BAD_VIEW_FIELDS: readonly [string, unknown][] = [
    ['state', 'frozen'],
    ['state', 3],
    ['finalityHeight', 5],
    ['finalityHeight', '-1'],
    ['finalityHeight', '01'],
    ['finalityHeight', '1.5'],
    ['finalityHeight', (U64_MAX + 1n).toString()],
    ['lock', 'x'],
    ['lock', []],
    ['lock.settlementId', 'zz'.repeat(32)],
    ['lock.settlementId', '00'.repeat(31)],
    ['lock.amount', 100],
    ['lock.amount', '0x10'],
    ['lock.amount', (U256_MAX + 1n).toString()],
    ['lock.from', 3],
    ['lock.to', null],
    ['lock.unit', 'u'.repeat(257)],
    ['lock.validUntilMs', '5'],
    ['lock.validUntilMs', 1.5],
    ['lock.reclaimAtMs', -1],
    ['lock.groupPublicKey', '00'.repeat(95)],
  ];

  function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
    const keys = path.split('.');
    let at = o;
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
    at[keys[keys.length - 1]!] = value;
  }

  function deletePath(o: Record<string, unknown>, path: string): void {
    const keys = path.split('.');
    let at = o;
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
    delete at[keys[keys.length - 1]!];
  }

  const withLock = viewArb.filter((v) => v.lock !== null);

  it('a wrong value anywhere in a leg view is refused naming its path', () => {
    fc.assert(
      fc.property(withLock, fc.constantFrom(...BAD_VIEW_FIELDS), (view, [path, bad]) => {
        const json = overTheWire(legViewToJson(view)) as Record<string, unknown>;
        setPath(json, path, bad);
        expect(wireErrorOf(() => legViewFromJson(json)).field).toBe(path);
      }),
      { numRuns: 300 },
    );
  });

  it('a missing or unknown key is refused naming it', () => {
    const paths = ['state', 'finalityHeight', 'lock', ...['settlementId', 'amount', 'from', 'to', 'unit', 'venue', 'validUntilMs', 'reclaimAtMs', 'groupPublicKey'].map((k) => `lock.${k}`)];
    fc.assert(
      fc.property(withLock, fc.constantFrom(...paths), (view, path) => {
        const missing = overTheWire(legViewToJson(view)) as Record<string, unknown>;
        deletePath(missing, path);
        const e = wireErrorOf(() => legViewFromJson(missing));
        expect([e.field, e.problem]).toEqual([path, 'missing']);
        const extra = overTheWire(legViewToJson(view)) as Record<string, unknown>;
        const parent = path.includes('.') ? 'lock.' : '';
        setPath(extra, `${parent}surplus`, 1);
        const e2 = wireErrorOf(() => legViewFromJson(extra));
        expect([e2.field, e2.problem]).toEqual([`${parent}surplus`, 'unknown key']);
      }),
      { numRuns: 100 },
    );
  });

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

  it('outcomes: unknown kinds, a reason where none belongs, a missing reason', () => {
    expect(wireErrorOf(() => prepareOutcomeFromJson({ kind: 'maybe' })).field).toBe('kind');
    expect(wireErrorOf(() => prepareOutcomeFromJson({ kind: 'locked', reason: 'x' })).field).toBe('reason');
    expect(wireErrorOf(() => applyOutcomeFromJson({ kind: 'refused' })).field).toBe('reason');
    expect(wireErrorOf(() => reclaimOutcomeFromJson({ kind: 'applied' })).field).toBe('kind');
    expect(wireErrorOf(() => reclaimOutcomeFromJson({ kind: 'reclaimed', extra: 1 })).field).toBe('extra');
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
