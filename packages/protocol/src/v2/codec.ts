/** Whole-buffer encode and decode from a field writer and reader: every v2 codec is built so. */
import { Reader, Writer } from '../bytes.js';

export function encodeWith<T>(write: (w: Writer, v: T) => void, v: T): Uint8Array {
  const w = new Writer();
  write(w, v);
  return w.finish();
}

/** Reads one value filling all of `b`: trailing bytes are a `trailing` DecodeError. */
export function decodeWith<T>(read: (r: Reader, field: string) => T, b: Uint8Array, field: string): T {
  const r = new Reader(b);
  const v = read(r, field);
  r.end(field);
  return v;
}
