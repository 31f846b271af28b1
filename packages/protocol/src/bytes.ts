/**
 * Canonical binary encoding primitives. Every Tandem message is built from these: big-endian
 * fixed-width integers, fixed-length byte strings, and length-prefixed UTF-8 strings and lists.
 * There is exactly one encoding of every value (no optional padding, no alternative lengths), so
 * digests over encodings are well defined.
 */

/** Why a decoder refused its input. Decoders throw only this. */
export type DecodeErrorCode =
  | 'short' // input ended before the value did
  | 'trailing' // bytes left over after the value
  | 'tag' // unknown message or enum tag
  | 'range' // an integer outside its allowed range
  | 'utf8' // a string that is not valid UTF-8
  | 'length'; // a length field or fixed length that does not fit its bound

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    readonly field: string,
    readonly offset: number,
    detail = '',
  ) {
    super(`cannot decode ${field} at byte ${offset}: ${code}${detail ? ` (${detail})` : ''}`);
  }
}

/** Thrown by encoders when asked to encode a value outside the format (a programming error). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

export const U64_MAX = (1n << 64n) - 1n;
export const U256_MAX = (1n << 256n) - 1n;
/** Upper bound on any string in a Tandem message, in UTF-8 bytes. */
export const STRING_BYTES_MAX = 256;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** True when every UTF-16 surrogate in `s` is part of a pair (String#isWellFormed is ES2024). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false; // a low surrogate with no high one before it
    const next = s.charCodeAt(i + 1); // NaN past the end
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

export class Writer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodeError(`u8 out of range: ${v}`);
    return this.push(Uint8Array.of(v));
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new EncodeError(`u16 out of range: ${v}`);
    return this.push(Uint8Array.of(v >>> 8, v & 0xff));
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new EncodeError(`u32 out of range: ${v}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v);
    return this.push(b);
  }

  /** A u64 given as a safe integer (times in ms are u64 on the wire and safe integers in memory). */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new EncodeError(`u64 (safe integer) out of range: ${v}`);
    return this.u64n(BigInt(v));
  }

  u64n(v: bigint): this {
    if (v < 0n || v > U64_MAX) throw new EncodeError(`u64 out of range: ${v}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v);
    return this.push(b);
  }

  u256(v: bigint): this {
    if (v < 0n || v > U256_MAX) throw new EncodeError(`u256 out of range: ${v}`);
    const b = new Uint8Array(32);
    let x = v;
    for (let i = 31; i >= 0; i--) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return this.push(b);
  }

  /** Fixed-length bytes: the length is part of the format, not written. */
  fixed(b: Uint8Array, len: number): this {
    if (b.length !== len) throw new EncodeError(`expected ${len} bytes, got ${b.length}`);
    return this.push(b.slice());
  }

  /** Bytes with a u32 length prefix. */
  bytes(b: Uint8Array): this {
    return this.u32(b.length).push(b.slice());
  }

  /** A UTF-8 string with a u16 length prefix, at most STRING_BYTES_MAX bytes. */
  string(s: string): this {
    // TextEncoder would silently write U+FFFD for a lone surrogate, giving two different strings
    // one encoding (and two different terms one settlement id).
    if (!isWellFormed(s)) throw new EncodeError('string has a lone UTF-16 surrogate');
    const b = utf8(s);
    if (b.length > STRING_BYTES_MAX) throw new EncodeError(`string longer than ${STRING_BYTES_MAX} bytes`);
    return this.u16(b.length).push(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export class Reader {
  private offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  get position(): number {
    return this.offset;
  }

  private take(n: number, field: string): Uint8Array {
    if (this.offset + n > this.buf.length) throw new DecodeError('short', field, this.offset, `need ${n} bytes`);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(field: string): number {
    return this.take(1, field)[0]!;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0]! << 8) | b[1]!;
  }

  u32(field: string): number {
    const b = this.take(4, field);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64n(field: string): bigint {
    const b = this.take(8, field);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }

  /** A u64 that must fit a safe integer (times in ms). */
  u64(field: string): number {
    const at = this.offset;
    const v = this.u64n(field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('range', field, at, 'above 2^53-1');
    return Number(v);
  }

  u256(field: string): bigint {
    const b = this.take(32, field);
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    return v;
  }

  fixed(len: number, field: string): Uint8Array {
    return this.take(len, field).slice();
  }

  bytes(field: string, maxLen: number): Uint8Array {
    const at = this.offset;
    const len = this.u32(field);
    if (len > maxLen) throw new DecodeError('length', field, at, `${len} > ${maxLen}`);
    return this.take(len, field).slice();
  }

  string(field: string): string {
    const at = this.offset;
    const len = this.u16(field);
    if (len > STRING_BYTES_MAX) throw new DecodeError('length', field, at, `${len} > ${STRING_BYTES_MAX}`);
    const b = this.take(len, field);
    try {
      return utf8Decoder.decode(b);
    } catch {
      throw new DecodeError('utf8', field, at);
    }
  }

  /** Rejects trailing bytes: every decoder calls this last. */
  end(field: string): void {
    if (this.offset !== this.buf.length) {
      throw new DecodeError('trailing', field, this.offset, `${this.buf.length - this.offset} bytes left`);
    }
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const HEX = '0123456789abcdef';
const HEX_CODES = Uint8Array.from(HEX, (c) => c.charCodeAt(0));
const HEX_DECODER = new TextDecoder();
let hexScratch = new Uint8Array(64);
/** The scratch buffer grows to this at most (larger inputs use their own). */
const HEX_SCRATCH_MAX = 16_384;

export function toHex(b: Uint8Array): string {
  // ASCII digits written into one scratch buffer and decoded at once: a flat string, ~3× faster
  // than concatenating (ids are map keys on every hot path of the pool and the runtime).
  const bytes = 2 * b.length;
  if (hexScratch.length < bytes && bytes <= HEX_SCRATCH_MAX) hexScratch = new Uint8Array(Math.max(bytes, 2 * hexScratch.length));
  const out = bytes <= hexScratch.length ? hexScratch : new Uint8Array(bytes);
  for (let i = 0, j = 0; i < b.length; i++, j += 2) {
    const x = b[i]!;
    out[j] = HEX_CODES[x >> 4]!;
    out[j + 1] = HEX_CODES[x & 15]!;
  }
  return HEX_DECODER.decode(out.subarray(0, bytes));
}

/** Parses lower- or upper-case hex with an optional 0x prefix; throws Error naming the problem. */
export function fromHex(s: string, expectedBytes?: number): Uint8Array {
  const h = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  if (h.length % 2 !== 0) throw new Error('hex string has an odd number of digits');
  if (!/^[0-9a-fA-F]*$/.test(h)) throw new Error('hex string has a non-hex character');
  if (expectedBytes !== undefined && h.length !== expectedBytes * 2) {
    throw new Error(`expected ${expectedBytes} bytes of hex, got ${h.length / 2}`);
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
