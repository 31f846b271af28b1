import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodeError, type Terms, decodeTerms, encodeTerms, reclaimAtMs, settlementId, toHex, validUntilMs } from '../src/index.js';
import { decodeOutcome, mutationOf, show, terms } from './arbitraries.js';

const sha256 = (...parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

const sample: Terms = {
  nonce: 'dvp-1',
  asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(0xee), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1_000n },
  payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 105_000n },
  deadlineMs: 60_000,
  reportWindowMs: 30_000,
  marginMs: 10_000,
};

/** Each terms field, as a function that copies `to` with that one field taken from `from`. */
const FIELD_SWAPS: ReadonlyArray<readonly [string, (to: Terms, from: Terms) => Terms]> = [
  ['nonce', (a, b) => ({ ...a, nonce: b.nonce })],
  ['deadlineMs', (a, b) => ({ ...a, deadlineMs: b.deadlineMs })],
  ['reportWindowMs', (a, b) => ({ ...a, reportWindowMs: b.reportWindowMs })],
  ['marginMs', (a, b) => ({ ...a, marginMs: b.marginMs })],
  ...(['chainId', 'escrow', 'token', 'seller', 'buyer', 'amount'] as const).map(
    (k) => [`asset.${k}`, (a: Terms, b: Terms): Terms => ({ ...a, asset: { ...a.asset, [k]: b.asset[k] } })] as const,
  ),
  ...(['bankId', 'ledger', 'payer', 'payee', 'currency', 'amount'] as const).map(
    (k) => [`payment.${k}`, (a: Terms, b: Terms): Terms => ({ ...a, payment: { ...a.payment, [k]: b.payment[k] } })] as const,
  ),
];

describe('terms encoding', () => {
  it('has the documented layout (docs/wire-format.md)', () => {
    const str = (s: string): number[] => [0, s.length, ...ascii(s)];
    const be = (v: bigint, len: number): number[] => Array.from({ length: len }, (_, i) => Number((v >> BigInt(8 * (len - 1 - i))) & 0xffn));
    const expected = Uint8Array.from([
      1, // version
      ...str('dvp-1'),
      ...be(31337n, 8),
      ...new Array<number>(20).fill(0xee),
      ...str('OUSG'),
      ...str('alice'),
      ...str('bob'),
      ...be(1_000n, 32),
      ...str('bank'),
      ...str('main'),
      ...str('bob'),
      ...str('alice'),
      ...str('USD'),
      ...be(105_000n, 32),
      ...be(60_000n, 8),
      ...be(30_000n, 8),
      ...be(10_000n, 8),
    ]);
    expect(toHex(encodeTerms(sample))).toBe(toHex(expected));
  });

  it('is at most 2,439 bytes, well inside the 4,096-byte bound of nested terms', () => {
    const long = 'z'.repeat(256);
    const max: Terms = {
      ...sample,
      nonce: long,
      asset: { ...sample.asset, token: long, seller: long, buyer: long },
      payment: { bankId: long, ledger: long, payer: long, payee: long, currency: long, amount: 1n },
    };
    expect(encodeTerms(max)).toHaveLength(2439);
  });

  it('round-trips every valid value, and the encoding is canonical', () => {
    fc.assert(
      fc.property(terms, (t) => {
        const b = encodeTerms(t);
        const back = decodeTerms(b);
        expect(back).toEqual(t);
        expect(toHex(encodeTerms(back))).toBe(toHex(b));
      }),
    );
  });

  it('rejects every truncation as short and any trailing bytes as trailing', () => {
    fc.assert(
      fc.property(terms, fc.uint8Array({ minLength: 1, maxLength: 8 }), (t, extra) => {
        const b = encodeTerms(t);
        for (let len = 0; len < b.length; len++) expect(decodeOutcome(() => decodeTerms(b.subarray(0, len)))).toBe('short');
        const longer = new Uint8Array(b.length + extra.length);
        longer.set(b);
        longer.set(extra, b.length);
        expect(decodeOutcome(() => decodeTerms(longer))).toBe('trailing');
      }),
      { numRuns: 30 },
    );
  });

  it('decodes a single-byte mutation only to a value that re-encodes to the mutated bytes', () => {
    fc.assert(
      fc.property(
        terms.chain((t) => mutationOf(encodeTerms(t))),
        ({ mutated }) => {
          // decodeOutcome re-throws anything but DecodeError, which fails the property.
          if (decodeOutcome(() => decodeTerms(mutated)) !== 'ok') return;
          expect(toHex(encodeTerms(decodeTerms(mutated)))).toBe(toHex(mutated));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects an unknown version, zero amounts, unsafe times and overflowing time sums', () => {
    const b = encodeTerms(sample);
    const at = (offset: number, bytes: number[]): Uint8Array => {
      const m = b.slice();
      m.set(bytes, offset);
      return m;
    };
    expect(decodeOutcome(() => decodeTerms(at(0, [2])))).toBe('tag');
    expect(decodeOutcome(() => decodeTerms(at(0, [0])))).toBe('tag');
    // Times are the last 24 bytes: deadline, reportWindow, margin.
    const deadlineAt = b.length - 24;
    const twoTo53 = [0, 0x20, 0, 0, 0, 0, 0, 0];
    expect(decodeOutcome(() => decodeTerms(at(deadlineAt, twoTo53)))).toBe('range');
    expect(decodeOutcome(() => decodeTerms(at(deadlineAt + 16, new Array<number>(8).fill(0xff))))).toBe('range');
    // Each time safe, the sum not: 2^53 - 1 plus the sample's window and margin.
    const maxSafe = [0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    expect(decodeOutcome(() => decodeTerms(at(deadlineAt, maxSafe)))).toBe('range');
    expect(decodeOutcome(() => decodeTerms(encodeTerms({ ...sample, deadlineMs: Number.MAX_SAFE_INTEGER, reportWindowMs: 0, marginMs: 0 })))).toBe('ok');
    // Amounts: the payment amount is the 32 bytes just before the times.
    expect(decodeOutcome(() => decodeTerms(at(deadlineAt - 32, new Array<number>(32).fill(0))))).toBe('range');
  });

  it('refuses to encode zero amounts and times whose sum is not a safe integer', () => {
    expect(() => encodeTerms({ ...sample, asset: { ...sample.asset, amount: 0n } })).toThrow(EncodeError);
    expect(() => encodeTerms({ ...sample, payment: { ...sample.payment, amount: 0n } })).toThrow(EncodeError);
    expect(() => encodeTerms({ ...sample, deadlineMs: Number.MAX_SAFE_INTEGER, marginMs: 1 })).toThrow(EncodeError);
    expect(() => encodeTerms({ ...sample, asset: { ...sample.asset, escrow: new Uint8Array(19) } })).toThrow(EncodeError);
  });
});

describe('settlementId', () => {
  it('is SHA-256 of "tandem/v1/terms" followed by the canonical terms', () => {
    fc.assert(
      fc.property(terms, (t) => {
        expect(toHex(settlementId(t))).toBe(sha256(ascii('tandem/v1/terms'), encodeTerms(t)));
      }),
      { numRuns: 50 },
    );
  });

  it('changes when any single term changes, and only then', () => {
    fc.assert(
      fc.property(terms, terms, (a, b) => {
        const idA = toHex(settlementId(a));
        for (const [field, swap] of FIELD_SWAPS) {
          const changed = swap(a, b);
          const same = toHex(encodeTerms(changed)) === toHex(encodeTerms(a));
          const sameValue = show(changed) === show(a);
          expect(same, field).toBe(sameValue);
          expect(toHex(settlementId(changed)) === idA, field).toBe(sameValue);
        }
      }),
    );
  });

  it('differs for the smallest changes to the sample', () => {
    const id = toHex(settlementId(sample));
    const variants: Terms[] = [
      { ...sample, nonce: 'dvp-2' },
      { ...sample, deadlineMs: sample.deadlineMs + 1 },
      { ...sample, marginMs: sample.marginMs - 1 },
      { ...sample, asset: { ...sample.asset, amount: sample.asset.amount + 1n } },
      // Moving one character between adjacent strings must change the id (length prefixes).
      { ...sample, asset: { ...sample.asset, seller: 'alic', buyer: 'ebob' } },
      { ...sample, payment: { ...sample.payment, bankId: 'ban', ledger: 'kmain' } },
    ];
    const ids = new Set(variants.map((v) => toHex(settlementId(v))));
    expect(ids.size).toBe(variants.length);
    expect(ids.has(id)).toBe(false);
  });
});

describe('derived times', () => {
  it('validUntil = deadline + reportWindow; reclaimAt = validUntil + margin', () => {
    expect(validUntilMs(sample)).toBe(90_000);
    expect(reclaimAtMs(sample)).toBe(100_000);
    fc.assert(
      fc.property(terms, (t) => {
        expect(validUntilMs(t)).toBe(t.deadlineMs + t.reportWindowMs);
        expect(reclaimAtMs(t) - validUntilMs(t)).toBe(t.marginMs);
        expect(validUntilMs(t)).toBeGreaterThanOrEqual(t.deadlineMs);
        expect(Number.isSafeInteger(reclaimAtMs(t))).toBe(true);
      }),
    );
  });
});
