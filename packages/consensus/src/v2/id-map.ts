/**
 * A map keyed by settlement ids (32-byte SHA-256 outputs) that builds no string per lookup: the
 * pool looks an id up for every entry of every bundle, n² entries per settlement, and a hex key
 * costs ~10× a number key. Buckets by the id's first 48 bits (a number), compared in full, so two
 * ids sharing a prefix are both kept; finding many ids with one 48-bit prefix takes ~2^48 hashes
 * per id, so no member can lengthen a bucket by choice. Iteration is in bucket insertion order
 * (deterministic; the insertion order of the ids unless two share a prefix).
 */
import { assert, equalBytes } from '@tandem/protocol';

interface Slot<V> {
  readonly id: Uint8Array;
  value: V;
  /** Another id with the same 48-bit prefix, or null. */
  next: Slot<V> | null;
}

export const ID_BYTES = 32;

function prefixOf(id: Uint8Array): number {
  assert(id.length === ID_BYTES, `a settlement id is ${ID_BYTES} bytes, got ${id.length}`);
  return ((id[0]! << 16) | (id[1]! << 8) | id[2]!) * 0x1000000 + ((id[3]! << 16) | (id[4]! << 8) | id[5]!);
}

export class IdMap<V> {
  private readonly buckets = new Map<number, Slot<V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: Uint8Array): V | undefined {
    return this.slotOf(id)?.value;
  }

  has(id: Uint8Array): boolean {
    return this.slotOf(id) !== null;
  }

  set(id: Uint8Array, value: V): this {
    const found = this.slotOf(id);
    if (found !== null) {
      found.value = value;
      return this;
    }
    const key = prefixOf(id);
    const head = this.buckets.get(key);
    const slot: Slot<V> = { id: id.slice(), value, next: null };
    if (head === undefined) this.buckets.set(key, slot);
    else {
      let last = head;
      while (last.next !== null) last = last.next;
      last.next = slot;
    }
    this.count++;
    return this;
  }

  delete(id: Uint8Array): boolean {
    const key = prefixOf(id);
    let prev: Slot<V> | null = null;
    for (let s = this.buckets.get(key) ?? null; s !== null; prev = s, s = s.next) {
      if (!equalBytes(s.id, id)) continue;
      if (prev !== null) prev.next = s.next;
      else if (s.next !== null) this.buckets.set(key, s.next);
      else this.buckets.delete(key);
      this.count--;
      return true;
    }
    return false;
  }

  /** The id's slot in its bucket's chain, or null. */
  private slotOf(id: Uint8Array): Slot<V> | null {
    for (let s = this.buckets.get(prefixOf(id)) ?? null; s !== null; s = s.next) if (equalBytes(s.id, id)) return s;
    return null;
  }

  *values(): IterableIterator<V> {
    for (const head of this.buckets.values()) for (let s: Slot<V> | null = head; s !== null; s = s.next) yield s.value;
  }
}
