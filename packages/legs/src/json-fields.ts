/**
 * Strict readers of JSON values, shared by every codec of the legs and the leg host: wrong types,
 * missing or unknown keys, out-of-range numbers and bad hex are a WireError naming the field by
 * its dotted path (`lock.amount`, `authorization.signature`, …). Big integers travel as decimal
 * strings because JSON numbers lose precision past 2^53.
 */
import { DecodeError, STRING_BYTES_MAX, fromHex, utf8 } from '@tandem/protocol';

/** Input that does not match the wire format. `field` is the dotted path of the offending value. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export type JsonObject = Record<string, unknown>;

/** An object with exactly the required keys and possibly some optional ones. */
export function objectField(v: unknown, field: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(field, `expected an object, got ${describe(v)}`);
  const o = v as JsonObject;
  for (const key of Object.keys(o)) {
    if (!required.includes(key) && !optional.includes(key)) throw new WireError(fieldPath(field, key), 'unknown key');
  }
  for (const key of required) {
    if (!Object.hasOwn(o, key)) throw new WireError(fieldPath(field, key), 'missing');
  }
  return o;
}

export function fieldPath(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

/** A string of at most `maxBytes` UTF-8 bytes (and so at most that many UTF-16 units to check). */
export function stringField(v: unknown, field: string, maxBytes = STRING_BYTES_MAX, minBytes = 0): string {
  if (typeof v !== 'string') throw new WireError(field, `expected a string, got ${describe(v)}`);
  // Cheap bound before encoding: a UTF-16 unit is at least one UTF-8 byte.
  const bytes = v.length > maxBytes ? maxBytes + 1 : utf8(v).length;
  if (bytes > maxBytes) throw new WireError(field, `longer than ${maxBytes} bytes`);
  if (bytes < minBytes) throw new WireError(field, minBytes === 1 ? 'must not be empty' : `shorter than ${minBytes} bytes`);
  return v;
}

/** Hex (either case, optional 0x), exactly `bytes` long, or at most `maxBytes` when `bytes` is null. */
export function hexField(v: unknown, field: string, bytes: number | null, maxBytes = bytes ?? 0): Uint8Array {
  if (typeof v !== 'string') throw new WireError(field, `expected a hex string, got ${describe(v)}`);
  const limit = bytes ?? maxBytes;
  // Refuse oversized input before parsing it.
  if (v.length > 2 * limit + 2) throw new WireError(field, bytes === null ? `longer than ${limit} bytes` : `expected ${bytes} bytes of hex`);
  try {
    return fromHex(v, bytes ?? undefined);
  } catch (e) {
    throw new WireError(field, (e as Error).message);
  }
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A non-negative integer as a decimal string (no sign, no leading zeros), within [min, max]. */
export function decimalField(v: unknown, field: string, max: bigint, min = 0n): bigint {
  if (typeof v !== 'string') throw new WireError(field, `expected a decimal string, got ${describe(v)}`);
  if (v.length > max.toString().length || !DECIMAL.test(v)) throw new WireError(field, `expected a decimal integer in ${min}..${max}, got ${JSON.stringify(v.slice(0, 80))}`);
  const x = BigInt(v);
  if (x < min || x > max) throw new WireError(field, `expected a decimal integer in ${min}..${max}, got ${v}`);
  return x;
}

export function intField(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new WireError(field, `expected an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

export function oneOfField<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new WireError(field, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** A short, safe rendering of an unexpected value for an error message. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** An array of at most `maxLength` items (each still to be read by the caller). */
export function arrayField(v: unknown, field: string, maxLength: number, minLength = 0): readonly unknown[] {
  if (!Array.isArray(v)) throw new WireError(field, `expected an array, got ${describe(v)}`);
  if (v.length > maxLength || v.length < minLength) throw new WireError(field, `expected ${minLength}..${maxLength} items, got ${v.length}`);
  return v;
}

/** Hex of a canonical binary encoding, decoded by `decode`: its DecodeError becomes a WireError on `field`. */
export function encodedField<T>(v: unknown, field: string, bytes: number | null, maxBytes: number, decode: (b: Uint8Array) => T): T {
  const b = hexField(v, field, bytes, maxBytes);
  try {
    return decode(b);
  } catch (e) {
    if (e instanceof DecodeError) throw new WireError(field, e.message);
    throw e;
  }
}
