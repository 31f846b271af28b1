import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from '@tandem/protocol';
import { IdMap } from '../src/index.js';

/** Ids from a small pool in which many share their first 48 bits (the map's bucket key). */
const idArb = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 })).map(([prefix, rest]) => {
  const id = new Uint8Array(32);
  id[0] = prefix; // ids with equal `prefix` share a bucket; `rest` tells them apart beyond it
  id[31] = rest;
  return id;
});

type Op = { kind: 'set'; id: Uint8Array; value: number } | { kind: 'delete'; id: Uint8Array } | { kind: 'get'; id: Uint8Array };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), id: idArb, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), id: idArb }),
  fc.record({ kind: fc.constant('get' as const), id: idArb }),
);

describe('IdMap', () => {
  it('behaves as a Map keyed by the ids’ hex, through prefix collisions and deletes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const m = new IdMap<number>();
        const ref = new Map<string, number>();
        for (const op of ops) {
          const k = toHex(op.id);
          if (op.kind === 'set') m.set(op.id, op.value), ref.set(k, op.value);
          else if (op.kind === 'delete') expect(m.delete(op.id)).toBe(ref.delete(k));
          else expect([m.get(op.id), m.has(op.id)]).toEqual([ref.get(k), ref.has(k)]);
          expect(m.size).toBe(ref.size);
        }
        expect([...m.values()].sort((a, b) => a - b)).toEqual([...ref.values()].sort((a, b) => a - b));
      }),
    );
  });

  it('keeps its own copy of an id (a caller changing its bytes later changes nothing)', () => {
    const m = new IdMap<string>();
    const id = new Uint8Array(32).fill(7);
    m.set(id, 'x');
    id[31] = 8;
    expect([m.get(new Uint8Array(32).fill(7)), m.get(id)]).toEqual(['x', undefined]);
  });

  it('refuses an id that is not 32 bytes', () => {
    expect(() => new IdMap<number>().get(new Uint8Array(31))).toThrow(/32 bytes, got 31/);
  });
});
