/**
 * The report tree (and through it the one tree code the bundle tree shares): roots against an
 * independent level-by-level reference, proofs and multiproofs, and that every change to a leaf,
 * index, proof or root fails verification.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Entry,
  REPORT_TREE,
  type TreeMultiproof,
  type TreeProof,
  concatBytes,
  encodeEntry,
  equalBytes,
  reportLeaf,
  reportTreeMultiproof,
  reportTreeProof,
  reportTreeRoot,
  toHex,
  treeMultiproof,
  treeProof,
  treeRoot,
  verifyReportMultiproof,
  verifyReportProof,
  verifyTreeMultiproof,
  verifyTreeProof,
} from '../src/index.js';
import { bytesN } from './arbitraries.js';
import { entry, entryList } from './v2-arbitraries.js';

/** The reference: whole levels, pairing 2i with 2i + 1, a last odd node carried up as is. */
function referenceLevels(entries: readonly Entry[]): Uint8Array[][] {
  let level = entries.map((e) => keccak_256(concatBytes(Uint8Array.of(0), encodeEntry(e))));
  const levels = [level];
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? keccak_256(concatBytes(Uint8Array.of(1), level[i]!, level[i + 1]!)) : level[i]!);
    levels.push((level = up));
  }
  return levels;
}

/** The reference proof: per level the sibling i ^ 1 when it exists. */
function referenceProof(levels: readonly Uint8Array[][], index: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    if ((i ^ 1) < level.length) out.push(level[i ^ 1]!);
    i >>= 1;
  }
  return out;
}

/** Entries with ids 1..count (ascending), alternating decisions. */
const fixedEntries = (count: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ settlementId: new Uint8Array(32).fill(0).map((_, k) => (k === 30 ? (i + 1) >> 8 : k === 31 ? (i + 1) & 0xff : 0)), decision: i % 3 === 2 ? 'ABORT' : 'COMMIT', validUntilMs: 1_000 + i }));

/** An entry list, an index into it. */
const listAndIndex = entryList(1, 300).chain((entries) => fc.record({ entries: fc.constant(entries), index: fc.nat({ max: entries.length - 1 }) }));

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const out = b.slice();
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
};

/** Another valid time next to `t`. */
const otherTime = (t: number): number => (t === 0 ? 1 : t - 1);

describe('report tree', () => {
  it('keccak-256 is the Ethereum one (empty-input vector)', () => {
    expect(toHex(keccak_256(new Uint8Array(0)))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it('one leaf is its own root; two leaves hash under the node prefix', () => {
    const [a, b] = fixedEntries(2) as [Entry, Entry];
    expect(reportTreeRoot([a])).toEqual(reportLeaf(a));
    expect(reportTreeRoot([a, b])).toEqual(keccak_256(concatBytes(Uint8Array.of(1), reportLeaf(a), reportLeaf(b))));
    expect(reportTreeProof([a], 0).siblings).toEqual([]);
    expect(verifyReportProof(reportLeaf(a), a, { index: 0, count: 1, siblings: [] })).toBe(true);
  });

  it('an empty list has no root', () => {
    expect(() => reportTreeRoot([])).toThrow(/1\.\.65535 leaves/);
  });

  it('a last node without a sibling moves up unchanged, never duplicated', () => {
    const [a, b, c] = fixedEntries(3) as [Entry, Entry, Entry];
    const node = (l: Uint8Array, r: Uint8Array) => keccak_256(concatBytes(Uint8Array.of(1), l, r));
    expect(reportTreeRoot([a, b, c])).toEqual(node(node(reportLeaf(a), reportLeaf(b)), reportLeaf(c)));
    // A duplicating tree would give [a, b, c] and [a, b, c, c] one root; this one does not.
    expect(reportTreeRoot([a, b, c])).not.toEqual(reportTreeRoot([a, b, c, c]));
  });

  it('for every count 1..300 the root and the proofs equal the reference, and every proof verifies', () => {
    for (let count = 1; count <= 300; count++) {
      const entries = fixedEntries(count);
      const levels = referenceLevels(entries);
      const root = levels.at(-1)![0]!;
      expect(toHex(reportTreeRoot(entries))).toBe(toHex(root));
      // Every index while small; beyond, the edges and a spread (a proof costs a whole tree here).
      const indices = count <= 24 ? [...Array(count).keys()] : [0, 1, count >> 1, count - 2, count - 1, (count * 7) % count];
      for (const i of indices) {
        const proof = reportTreeProof(entries, i);
        expect(proof.siblings.map(toHex)).toEqual(referenceProof(levels, i).map(toHex));
        expect(verifyReportProof(root, entries[i]!, proof)).toBe(true);
      }
    }
  });

  it('a proof of one root never verifies under another', () => {
    fc.assert(
      fc.property(listAndIndex, entryList(1, 40), ({ entries, index }, others) => {
        const otherRoot = reportTreeRoot(others);
        fc.pre(!equalBytes(otherRoot, reportTreeRoot(entries)));
        expect(verifyReportProof(otherRoot, entries[index]!, reportTreeProof(entries, index))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('any change to the leaf fails verification (a flipped bit of its encoding)', () => {
    fc.assert(
      fc.property(listAndIndex, fc.nat(), ({ entries, index }, bit) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeProof(entries, index);
        const e = entries[index]!;
        const changed = [
          { ...e, settlementId: flipBit(e.settlementId, bit) },
          { ...e, decision: e.decision === 'COMMIT' ? 'ABORT' : 'COMMIT' },
          { ...e, validUntilMs: otherTime(e.validUntilMs) },
        ] as const;
        for (const c of changed) expect(verifyReportProof(root, c, proof)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('any change to the index fails verification', () => {
    fc.assert(
      fc.property(listAndIndex.filter(({ entries }) => entries.length > 1), fc.nat(), ({ entries, index }, seed) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeProof(entries, index);
        const other = (index + 1 + (seed % (entries.length - 1))) % entries.length;
        expect(verifyReportProof(root, entries[index]!, { ...proof, index: other })).toBe(false);
        for (const bad of [-1, entries.length, 0.5, Number.NaN]) expect(verifyReportProof(root, entries[index]!, { ...proof, index: bad })).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('a changed count fails unless the index keeps its path, which proves the same leaf (so verifiers use the signed count)', () => {
    fc.assert(
      fc.property(listAndIndex, fc.integer({ min: 1, max: 600 }), ({ entries, index }, count) => {
        fc.pre(count !== entries.length);
        const root = reportTreeRoot(entries);
        const proof = reportTreeProof(entries, index);
        const ok = verifyReportProof(root, entries[index]!, { ...proof, count });
        const samePath = index < count && pathShape(index, count) === pathShape(index, entries.length);
        expect(ok).toBe(samePath);
      }),
      { numRuns: 300 },
    );
    for (const bad of [0, -1, 65_536, 2.5]) expect(verifyReportProof(reportLeaf(fixedEntries(1)[0]!), fixedEntries(1)[0]!, { index: 0, count: bad, siblings: [] })).toBe(false);
  });

  it('any change to the proof fails: a flipped bit, a dropped, added or reordered sibling', () => {
    fc.assert(
      fc.property(listAndIndex.filter(({ entries }) => entries.length > 1), fc.nat(), bytesN(32), ({ entries, index }, seed, extra) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeProof(entries, index);
        const s = proof.siblings;
        const k = seed % s.length;
        const variants: Uint8Array[][] = [
          s.map((x, j) => (j === k ? flipBit(x, seed) : x)),
          s.filter((_, j) => j !== k),
          [...s.slice(0, k), extra, ...s.slice(k)],
          [...s, extra],
          [...s.slice(0, k), s[k]!.subarray(1), ...s.slice(k + 1)],
        ];
        if (s.length > 1 && !equalBytes(s[k]!, s[(k + 1) % s.length]!)) variants.push(s.map((_, j) => (j === k ? s[(k + 1) % s.length]! : j === (k + 1) % s.length ? s[k]! : s[j]!)));
        for (const v of variants) expect(verifyReportProof(root, entries[index]!, { ...proof, siblings: v })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

/** Which levels have a sibling on the path of `index` in a tree of `count` leaves, as a string. */
function pathShape(index: number, count: number): string {
  let shape = '';
  for (let i = index, w = count; w > 1; i >>= 1, w = Math.ceil(w / 2)) shape += (i ^ 1) < w ? (i & 1 ? 'L' : 'R') : '-';
  return shape;
}

/** Sorted distinct indices from a seed list. */
const subsetOf = (count: number) => fc.uniqueArray(fc.nat({ max: count - 1 }), { minLength: 1, maxLength: count }).map((xs) => [...xs].sort((a, b) => a - b));
const listAndSubset = entryList(1, 300).chain((entries) => fc.record({ entries: fc.constant(entries), indices: subsetOf(entries.length) }));

describe('report multiproof', () => {
  it('round-trips for random index subsets, and uses no sibling for the whole list', () => {
    fc.assert(
      fc.property(listAndSubset, ({ entries, indices }) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeMultiproof(entries, indices);
        expect(verifyReportMultiproof(root, indices.map((i) => entries[i]!), proof)).toBe(true);
      }),
      { numRuns: 200 },
    );
    const all = fixedEntries(37);
    const full = reportTreeMultiproof(all, [...all.keys()]);
    expect(full.siblings).toEqual([]);
    expect(verifyReportMultiproof(reportTreeRoot(all), all, full)).toBe(true);
  });

  it('a multiproof of one index is that index\'s proof', () => {
    fc.assert(
      fc.property(listAndIndex, ({ entries, index }) => {
        expect(reportTreeMultiproof(entries, [index]).siblings).toEqual(reportTreeProof(entries, index).siblings);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects an extra, a missing or a changed sibling, other indices, other entries, and unsorted indices', () => {
    fc.assert(
      fc.property(listAndSubset, fc.nat(), bytesN(32), ({ entries, indices }, seed, extra) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeMultiproof(entries, indices);
        const picked = indices.map((i) => entries[i]!);
        const bad = (p: TreeMultiproof, es: readonly Entry[] = picked) => expect(verifyReportMultiproof(root, es, p)).toBe(false);
        bad({ ...proof, siblings: [...proof.siblings, extra] });
        bad({ ...proof, siblings: [extra, ...proof.siblings] });
        if (proof.siblings.length > 0) {
          const k = seed % proof.siblings.length;
          bad({ ...proof, siblings: proof.siblings.filter((_, j) => j !== k) });
          bad({ ...proof, siblings: proof.siblings.map((x, j) => (j === k ? flipBit(x, seed) : x)) });
        }
        if (indices.length > 1) {
          bad({ ...proof, indices: [...indices].reverse() }, [...picked].reverse());
          bad({ ...proof, indices: [indices[0]!, ...indices] }, [picked[0]!, ...picked]);
          bad(proof, picked.slice(1));
        }
        const k = seed % picked.length;
        bad(proof, picked.map((e, j) => (j === k ? { ...e, validUntilMs: otherTime(e.validUntilMs) } : e)));
        bad({ ...proof, indices: [] }, []);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a multiproof whose indices moved, even by one', () => {
    fc.assert(
      fc.property(listAndSubset.filter(({ entries, indices }) => indices.length < entries.length), fc.nat(), ({ entries, indices }, seed) => {
        const root = reportTreeRoot(entries);
        const proof = reportTreeMultiproof(entries, indices);
        const free = [...entries.keys()].filter((i) => !indices.includes(i));
        const moved = [...indices.slice(0, -1), free[seed % free.length]!].sort((a, b) => a - b);
        fc.pre(new Set(moved).size === moved.length);
        expect(verifyReportMultiproof(root, indices.map((i) => entries[i]!), { ...proof, indices: moved })).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the generic tree', () => {
  it('the same code with other hashing gives other roots (the bundle tree is domain-separated)', () => {
    const leaves = fixedEntries(5).map((e) => encodeEntry(e));
    const other = { ...REPORT_TREE, leafPrefix: 0x02, nodePrefix: 0x03 };
    const hashed = (t: typeof REPORT_TREE) => leaves.map((l) => keccak_256(concatBytes(Uint8Array.of(t.leafPrefix), l)));
    expect(treeRoot(REPORT_TREE, hashed(REPORT_TREE))).not.toEqual(treeRoot(other, hashed(other)));
    const proof: TreeProof = treeProof(other, hashed(other), 3);
    expect(verifyTreeProof(other, treeRoot(other, hashed(other)), hashed(other)[3]!, proof)).toBe(true);
    expect(verifyTreeProof(REPORT_TREE, treeRoot(other, hashed(other)), hashed(other)[3]!, proof)).toBe(false);
    const multi = treeMultiproof(other, hashed(other), [1, 4]);
    expect(verifyTreeMultiproof(other, treeRoot(other, hashed(other)), [hashed(other)[1]!, hashed(other)[4]!], multi)).toBe(true);
  });

  it('refuses to build a proof for indices out of order or range', () => {
    const entries = fixedEntries(4);
    expect(() => reportTreeMultiproof(entries, [2, 1])).toThrow(/ascend strictly/);
    expect(() => reportTreeMultiproof(entries, [4])).toThrow(/ascend strictly/);
    expect(() => reportTreeProof(entries, -1)).toThrow(/ascend strictly/);
  });

  it('one entry arbitrary leaf has the documented layout', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(reportLeaf(e)).toEqual(keccak_256(concatBytes(Uint8Array.of(0), encodeEntry(e))));
      }),
      { numRuns: 50 },
    );
  });
});
