/**
 * JSON with bytes and big integers: Uint8Array ↔ {"$hex": "…"}, bigint ↔ {"$big": "…"}. Used for
 * the write-ahead records a node keeps on disk and for control-API bodies.
 */
import { fromHex, toHex } from '@tandem/protocol';

export function toJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v instanceof Uint8Array) return { $hex: toHex(v) };
      if (typeof v === 'bigint') return { $big: v.toString() };
      return v;
    },
    space,
  );
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$hex') return fromHex((v as { $hex: string }).$hex);
      if (keys.length === 1 && keys[0] === '$big') return BigInt((v as { $big: string }).$big);
    }
    return v;
  }) as T;
}
