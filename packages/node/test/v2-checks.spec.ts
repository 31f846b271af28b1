import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Bundle, type BundleEntry, type TreeMultiproof, LEG_STATES, bundleTreeMultiproof, bundleTreeRoot, verifyBundleMultiproof } from '@tandem/protocol';
import { DIRECT_V2_CHECKS, MemoV2Checks } from '../src/v2/checks.js';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const legView = fc.record({ state: fc.constantFrom(...LEG_STATES), finalityHeight: fc.nat({ max: 2 ** 40 }), lockDigest: fc.option(bytes32, { nil: null }) });
const entry: fc.Arbitrary<BundleEntry> = fc.record({ settlementId: bytes32, kind: fc.constantFrom('view' as const, 'deadline' as const, 'guard' as const), asset: legView, payment: legView });
const entries = fc.array(entry, { minLength: 0, maxLength: 12 });

function bundleOf(list: readonly BundleEntry[]): Bundle {
  const header = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), signer: 1, timeMs: 1, count: list.length, root: bundleTreeRoot(list), signature: new Uint8Array(64) };
  return { header, entries: list };
}

const flipped = (b: Uint8Array, at: number): Uint8Array => {
  const out = b.slice();
  out[at % out.length]! ^= 1;
  return out;
};

/** A bundle whose header or entries were changed after the root was taken (or left valid: `none`). */
const tampering = fc.constantFrom('none', 'root', 'count', 'drop', 'id', 'height', 'lock', 'state');

function tamper(b: Bundle, how: string, at: number): Bundle {
  const list = [...b.entries];
  const k = list.length === 0 ? -1 : at % list.length;
  const e = list[k];
  if (how === 'root') return { ...b, header: { ...b.header, root: flipped(b.header.root, at) } };
  if (how === 'count') return { ...b, header: { ...b.header, count: b.header.count + 1 } };
  if (e === undefined) return b;
  if (how === 'drop') list.splice(k, 1);
  if (how === 'id') list[k] = { ...e, settlementId: flipped(e.settlementId, at) };
  if (how === 'height') list[k] = { ...e, asset: { ...e.asset, finalityHeight: e.asset.finalityHeight + 1 } };
  if (how === 'lock') list[k] = { ...e, payment: { ...e.payment, lockDigest: e.payment.lockDigest === null ? new Uint8Array(32) : null } };
  if (how === 'state') list[k] = { ...e, asset: { ...e.asset, state: e.asset.state === 'none' ? 'locked' : 'none' } };
  return { ...b, entries: list };
}

const proofCase = fc
  .tuple(fc.array(entry, { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), fc.nat())
  .map(([list, pick, first]) => {
    const chosen = list.map((_, i) => i).filter((i) => pick[i]);
    const indices = chosen.length > 0 ? chosen : [first % list.length];
    return { list, indices, proof: bundleTreeMultiproof(list, indices), root: bundleTreeRoot(list) };
  });
const proofTampering = fc.constantFrom('none', 'root', 'sibling', 'index', 'count', 'entry', 'fewer');

function tamperProof(c: { list: BundleEntry[]; indices: number[]; proof: TreeMultiproof; root: Uint8Array }, how: string, at: number) {
  let root = c.root;
  let proof = c.proof;
  let proven = c.indices.map((i) => c.list[i]!);
  if (how === 'root') root = flipped(root, at);
  if (how === 'sibling' && proof.siblings.length > 0) proof = { ...proof, siblings: proof.siblings.map((s, k) => (k === at % proof.siblings.length ? flipped(s, at) : s)) };
  if (how === 'index') proof = { ...proof, indices: proof.indices.map((i, k) => (k === 0 ? (i + 1 + (at % proof.count)) % (proof.count + 1) : i)) };
  if (how === 'count') proof = { ...proof, count: proof.count + 1 };
  if (how === 'entry') proven = proven.map((e, k) => (k === 0 ? { ...e, settlementId: flipped(e.settlementId, at) } : e));
  if (how === 'fewer') proven = proven.slice(1);
  return { root, proof, proven };
}

/** The outcome of a check, or the message of what it threw (the memo must throw alike). */
function outcome<T>(check: () => T): T | string {
  try {
    return check();
  } catch (e) {
    return `threw: ${(e as Error).message}`;
  }
}

describe('MemoV2Checks: the same answers as the direct checks', () => {
  it('bundle trees: valid and tampered bundles, asked twice (computed, then remembered)', () => {
    const memo = new MemoV2Checks();
    let refused = 0;
    fc.assert(
      fc.property(entries, tampering, fc.nat(), (list, how, at) => {
        const b = tamper(bundleOf(list), how, at);
        const direct = outcome(() => DIRECT_V2_CHECKS.bundleLeaves(b));
        if (direct === null) refused++;
        expect(outcome(() => memo.bundleLeaves(b))).toEqual(direct);
        expect(outcome(() => memo.bundleLeaves(b))).toEqual(direct);
        if (how === 'none') expect(direct).not.toBeNull();
      }),
      { numRuns: 300 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('bundle trees: an equal copy (other objects, same content) gets the remembered answer without recomputing', () => {
    const memo = new MemoV2Checks();
    fc.assert(
      fc.property(entries, (list) => {
        const b = bundleOf(list);
        const first = memo.bundleLeaves(b);
        const before = memo.computations;
        const copy = structuredClone(b);
        expect(memo.bundleLeaves(copy)).toEqual(first);
        expect(memo.computations).toBe(before);
      }),
      { numRuns: 100 },
    );
  });

  it('multiproofs: valid and tampered proofs, asked twice', () => {
    const memo = new MemoV2Checks();
    let refused = 0;
    fc.assert(
      fc.property(proofCase, proofTampering, fc.nat(), (c, how, at) => {
        const { root, proof, proven } = tamperProof(c, how, at);
        const direct = outcome(() => verifyBundleMultiproof(root, proven, proof));
        if (direct === false) refused++;
        expect(outcome(() => memo.multiproofHolds(root, proven, proof))).toBe(direct);
        expect(outcome(() => memo.multiproofHolds(root, proven, proof))).toBe(direct);
        if (how === 'none') expect(direct).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(refused).toBeGreaterThan(0);
  });
});

describe('MemoV2Checks: bounded', () => {
  it('never holds more leaves or proof results than its bounds, and still answers right past them', () => {
    const memo = new MemoV2Checks(20, 5);
    fc.assert(
      fc.property(entries, proofCase, (list, c) => {
        const b = bundleOf(list);
        expect(memo.bundleLeaves(b)).toEqual(DIRECT_V2_CHECKS.bundleLeaves(b));
        const proven = c.indices.map((i) => c.list[i]!);
        expect(memo.multiproofHolds(c.root, proven, c.proof)).toBe(true);
        expect(memo.size.leaves).toBeLessThanOrEqual(20);
        expect(memo.size.bundles).toBeLessThanOrEqual(20);
        expect(memo.size.proofs).toBeLessThanOrEqual(5);
      }),
      { numRuns: 200 },
    );
    expect(memo.size.proofs).toBe(5);
    expect(memo.size.leaves).toBeGreaterThan(0);
  });

  it('a bundle with more leaves than the bound is answered but not remembered', () => {
    const memo = new MemoV2Checks(2, 1);
    const list = fc.sample(entry, { numRuns: 3, seed: 7 });
    const b = bundleOf(list);
    expect(memo.bundleLeaves(b)).toEqual(DIRECT_V2_CHECKS.bundleLeaves(b));
    expect(memo.size).toEqual({ bundles: 0, leaves: 0, proofs: 0 });
    expect(memo.bundleLeaves(b)).toEqual(DIRECT_V2_CHECKS.bundleLeaves(b));
    expect(memo.computations).toBe(2);
  });
});
