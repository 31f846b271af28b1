/** The JSON codec of the adapter interface's values: round trips, and strict decoding that names the field. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type LegView, U256_MAX, U64_MAX } from '@tandem/protocol';
import type { ApplyOutcome, PrepareOutcome } from '../src/index.js';
import {
  WireError,
  applyOutcomeFromJson,
  applyOutcomeToJson,
  legViewFromJson,
  legViewToJson,
  prepareOutcomeFromJson,
  prepareOutcomeToJson,
  reclaimOutcomeFromJson,
} from '../src/json.js';

/** What actually crosses the network: JSON text. */
function overTheWire<T>(v: T): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

/** What `f` threw; fails the test if it threw nothing or something other than a WireError. */
function thrown(f: () => unknown): WireError {
  let error: unknown = null;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WireError);
  return error as WireError;
}

const fieldOf = (f: () => unknown): string => thrown(f).field;

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
// Whole code points, up to 4 UTF-8 bytes each: 40 of them stay under the 256-byte string bound.
const str = fc.string({ unit: 'binary', maxLength: 40 });

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
        expect(fieldOf(() => legViewFromJson(json))).toBe(path);
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
        expect(thrown(() => legViewFromJson(missing))).toMatchObject({ field: path, problem: 'missing' });
        const extra = overTheWire(legViewToJson(view)) as Record<string, unknown>;
        const parent = path.includes('.') ? 'lock.' : '';
        setPath(extra, `${parent}surplus`, 1);
        expect(thrown(() => legViewFromJson(extra))).toMatchObject({ field: `${parent}surplus`, problem: 'unknown key' });
      }),
      { numRuns: 100 },
    );
  });

  it('outcomes: unknown kinds, a reason where none belongs, a missing reason', () => {
    expect(fieldOf(() => prepareOutcomeFromJson({ kind: 'maybe' }))).toBe('kind');
    expect(fieldOf(() => prepareOutcomeFromJson({ kind: 'locked', reason: 'x' }))).toBe('reason');
    expect(fieldOf(() => applyOutcomeFromJson({ kind: 'refused' }))).toBe('reason');
    expect(fieldOf(() => reclaimOutcomeFromJson({ kind: 'applied' }))).toBe('kind');
    expect(fieldOf(() => reclaimOutcomeFromJson({ kind: 'reclaimed', extra: 1 }))).toBe('extra');
  });
});
