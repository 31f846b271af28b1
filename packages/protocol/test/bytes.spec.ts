import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  EncodeError,
  Reader,
  STRING_BYTES_MAX,
  U256_MAX,
  U64_MAX,
  Writer,
  concatBytes,
  equalBytes,
  fromHex,
  toHex,
  utf8,
} from '../src/index.js';
import { U32_MAX, decodeOutcome, timeMs, u64n, wireString } from './arbitraries.js';

/** Big-endian bytes of `v` in `len` bytes, computed independently of Writer (by division). */
function beBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x % 256n);
    x /= 256n;
  }
  return out;
}

describe('Writer and Reader primitives', () => {
  it('write fixed-width integers big-endian', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: U32_MAX }), u64n, fc.bigInt({ min: 0n, max: U256_MAX }), (a, b, c, d, e) => {
        const bytes = new Writer().u8(a).u16(b).u32(c).u64n(d).u256(e).finish();
        const expected = concatBytes(beBytes(BigInt(a), 1), beBytes(BigInt(b), 2), beBytes(BigInt(c), 4), beBytes(d, 8), beBytes(e, 32));
        expect(toHex(bytes)).toBe(toHex(expected));
        const r = new Reader(bytes);
        expect([r.u8('a'), r.u16('b'), r.u32('c'), r.u64n('d'), r.u256('e')]).toEqual([a, b, c, d, e]);
        r.end('all');
      }),
    );
  });

  it('round-trip safe-integer u64 times, and reject 2^53 and above when reading one', () => {
    fc.assert(
      fc.property(timeMs, (v) => {
        expect(new Reader(new Writer().u64(v).finish()).u64('t')).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(Number.MAX_SAFE_INTEGER) + 1n, max: U64_MAX }), (v) => {
        const r = new Reader(new Writer().u64n(v).finish());
        expect(decodeOutcome(() => r.u64('t'))).toBe('range');
      }),
    );
  });

  it('refuse to encode values outside each width with EncodeError', () => {
    const w = new Writer();
    for (const bad of [-1, 256, 1.5, Number.NaN]) expect(() => w.u8(bad)).toThrow(EncodeError);
    for (const bad of [-1, 0x10000]) expect(() => w.u16(bad)).toThrow(EncodeError);
    for (const bad of [-1, U32_MAX + 1]) expect(() => w.u32(bad)).toThrow(EncodeError);
    for (const bad of [-1, Number.MAX_SAFE_INTEGER + 1, 0.5]) expect(() => w.u64(bad)).toThrow(EncodeError);
    for (const bad of [-1n, U64_MAX + 1n]) expect(() => w.u64n(bad)).toThrow(EncodeError);
    for (const bad of [-1n, U256_MAX + 1n]) expect(() => w.u256(bad)).toThrow(EncodeError);
    expect(() => w.fixed(new Uint8Array(31), 32)).toThrow(EncodeError);
    expect(() => w.string('x'.repeat(STRING_BYTES_MAX + 1))).toThrow(EncodeError);
    // The bound is in UTF-8 bytes, not characters: 129 two-byte characters are 258 bytes.
    expect(() => w.string('é'.repeat(129))).toThrow(EncodeError);
    expect(w.finish()).toHaveLength(0);
  });

  it('round-trip strings up to the byte bound with a u16 length prefix', () => {
    fc.assert(
      fc.property(wireString, (s) => {
        const b = new Writer().string(s).finish();
        const len = utf8(s).length;
        expect((b[0]! << 8) | b[1]!).toBe(len);
        expect(b).toHaveLength(2 + len);
        const r = new Reader(b);
        expect(r.string('s')).toBe(s);
        r.end('s');
      }),
    );
    const max = 'y'.repeat(STRING_BYTES_MAX);
    expect(new Reader(new Writer().string(max).finish()).string('s')).toBe(max);
  });

  it('refuse strings with a lone surrogate, which UTF-8 cannot carry', () => {
    for (const bad of ['\uD800', 'a\uDC00', '\uDBFFx', 'x\uD83D']) expect(() => new Writer().string(bad), JSON.stringify(bad)).toThrow(EncodeError);
    // Surrogate pairs are fine: U+1F600 is four UTF-8 bytes.
    expect(new Writer().string('\uD83D\uDE00').finish()).toEqual(Uint8Array.of(0, 4, 0xf0, 0x9f, 0x98, 0x80));
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 8 }), fc.constantFrom('\uD800', '\uDFFF'), fc.string({ unit: 'binary', maxLength: 8 }), (a, lone, b) => {
        expect(() => new Writer().string(a + lone + b)).toThrow(EncodeError);
      }),
    );
  });

  it('keep a leading byte-order mark, so decoding stays one-to-one', () => {
    const s = '\uFEFFabc';
    expect(new Reader(new Writer().string(s).finish()).string('s')).toBe(s);
  });

  it('reject invalid UTF-8 with DecodeError utf8', () => {
    const bad = [
      [0xff],
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
      [0xe2, 0x82], // truncated sequence
      [0x80], // lone continuation byte
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    ];
    for (const seq of bad) {
      const b = Uint8Array.of(0, seq.length, ...seq);
      expect(decodeOutcome(() => new Reader(b).string('s')), `bytes ${toHex(Uint8Array.from(seq))}`).toBe('utf8');
    }
  });

  it('reject a string length above the bound before reading it', () => {
    const b = new Uint8Array(2 + STRING_BYTES_MAX + 1);
    b[0] = (STRING_BYTES_MAX + 1) >> 8;
    b[1] = (STRING_BYTES_MAX + 1) & 0xff;
    expect(decodeOutcome(() => new Reader(b).string('s'))).toBe('length');
  });

  it('bound length-prefixed bytes by the reader-given maximum', () => {
    const b = new Writer().bytes(new Uint8Array(10)).finish();
    expect(new Reader(b).bytes('b', 10)).toHaveLength(10);
    expect(decodeOutcome(() => new Reader(b).bytes('b', 9))).toBe('length');
    // A huge claimed length is refused by the bound, not by trying to allocate it.
    expect(decodeOutcome(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff)).bytes('b', 1 << 20))).toBe('length');
  });

  it('report short input and trailing bytes with their own codes and offsets', () => {
    const r = new Reader(Uint8Array.of(1, 2, 3));
    expect(r.u16('x')).toBe(0x0102);
    try {
      r.u16('y');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe('short');
      expect((e as DecodeError).field).toBe('y');
      expect((e as DecodeError).offset).toBe(2);
    }
    const t = new Reader(Uint8Array.of(1, 2));
    t.u8('a');
    expect(decodeOutcome(() => t.end('all'))).toBe('trailing');
  });

  it('copy fixed-length reads, so decoded values do not alias the input buffer', () => {
    const input = Uint8Array.of(1, 2, 3, 4);
    const out = new Reader(input).fixed(4, 'f');
    input[0] = 9;
    expect(out[0]).toBe(1);
  });
});

describe('hex and byte helpers', () => {
  it('round-trip hex, with or without 0x, in either case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const h = toHex(b);
        expect(h).toMatch(/^[0-9a-f]*$/);
        expect(h).toHaveLength(2 * b.length);
        expect(fromHex(h)).toEqual(b);
        expect(fromHex(`0x${h.toUpperCase()}`, b.length)).toEqual(b);
      }),
    );
  });

  it('reject odd-length, non-hex and wrong-length hex', () => {
    expect(() => fromHex('abc')).toThrow(/odd/);
    expect(() => fromHex('zz')).toThrow(/non-hex/);
    expect(() => fromHex('abcd', 3)).toThrow(/expected 3 bytes/);
  });

  it('compare and concatenate bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), (a, b) => {
        expect(equalBytes(a, b)).toBe(toHex(a) === toHex(b));
        expect(equalBytes(a, a.slice())).toBe(true);
        expect(toHex(concatBytes(a, b))).toBe(toHex(a) + toHex(b));
      }),
    );
  });
});
