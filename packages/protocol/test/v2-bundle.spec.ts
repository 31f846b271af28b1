/**
 * Bundles: entry layout and bounds, the lock digest, the bundle tree (the report tree's code under
 * SHA-256 and prefixes 0x02/0x03) and its multiproofs, and the signed header body.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUNDLE_ENTRIES_LIMIT,
  BUNDLE_ENTRY_BYTES_MAX,
  BUNDLE_HEADER_BODY_BYTES,
  type BundleEntry,
  EMPTY_BUNDLE_ROOT,
  type LockRecord,
  U256_MAX,
  Writer,
  bundleProblem,
  bundleTreeMultiproof,
  bundleTreeRoot,
  concatBytes,
  decodeBundleEntry,
  decodeBundleHeaderBody,
  encodeBundleEntry,
  encodeBundleHeaderBody,
  lockDigest,
  reportTreeRoot,
  utf8,
  verifyBundleMultiproof,
  writeLock,
} from '../src/index.js';
import { LEG_STATE_CODES, decodeOutcome, lockRecord, show } from './arbitraries.js';
import { bundle, bundleEntry, signedBundleHeader } from './v2-arbitraries.js';

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** The entry layout built by hand: id ‖ kind ‖ per leg state ‖ height u64 ‖ flag ‖ [digest]. */
function handEntry(e: BundleEntry): Uint8Array {
  const leg = (v: BundleEntry['asset']) => {
    const b = Buffer.alloc(10);
    b.writeUInt8(LEG_STATE_CODES.indexOf(v.state), 0);
    b.writeBigUInt64BE(BigInt(v.finalityHeight), 1);
    b.writeUInt8(v.lockDigest === null ? 0 : 1, 9);
    return v.lockDigest === null ? b : Buffer.concat([b, v.lockDigest]);
  };
  return new Uint8Array(Buffer.concat([e.settlementId, Uint8Array.of(['view', 'deadline', 'guard'].indexOf(e.kind) + 1), leg(e.asset), leg(e.payment)]));
}

const withLocks = (e: BundleEntry): BundleEntry => ({ ...e, asset: { ...e.asset, lockDigest: new Uint8Array(32).fill(1) }, payment: { ...e.payment, lockDigest: new Uint8Array(32).fill(2) } });

describe('bundle entries', () => {
  it('have the documented layout, at most 117 bytes, and round-trip', () => {
    fc.assert(
      fc.property(bundleEntry, (e) => {
        const b = encodeBundleEntry(e);
        expect(b).toEqual(handEntry(e));
        expect(b.length).toBeLessThanOrEqual(BUNDLE_ENTRY_BYTES_MAX);
        expect(decodeBundleEntry(b)).toEqual(e);
      }),
    );
    const full = withLocks({ settlementId: new Uint8Array(32), kind: 'guard', asset: { state: 'locked', finalityHeight: 1, lockDigest: null }, payment: { state: 'none', finalityHeight: 0, lockDigest: null } });
    expect(encodeBundleEntry(full).length).toBe(BUNDLE_ENTRY_BYTES_MAX);
  });

  it('reject truncation, trailing bytes, unknown kinds, states and flags', () => {
    fc.assert(
      fc.property(bundleEntry, fc.nat(), (e, seed) => {
        const b = encodeBundleEntry(e);
        expect(decodeOutcome(() => decodeBundleEntry(b.subarray(0, seed % b.length)))).toBe('short');
        expect(decodeOutcome(() => decodeBundleEntry(concatBytes(b, Uint8Array.of(0))))).toBe('trailing');
        const patch = (at: number, v: number) => concatBytes(b.subarray(0, at), Uint8Array.of(v), b.subarray(at + 1));
        expect(decodeOutcome(() => decodeBundleEntry(patch(32, 0)))).toBe('tag');
        expect(decodeOutcome(() => decodeBundleEntry(patch(32, 4)))).toBe('tag');
        expect(decodeOutcome(() => decodeBundleEntry(patch(33, 6)))).toBe('tag');
        expect(decodeOutcome(() => decodeBundleEntry(patch(42, 2)))).toBe('tag');
      }),
    );
  });

  it('the lock digest is SHA-256("tandem/v2/lock" ‖ the v1 lock record encoding)', () => {
    fc.assert(
      fc.property(lockRecord, (l: LockRecord) => {
        const w = new Writer();
        writeLock(w, l);
        expect(lockDigest(l)).toEqual(sha256(concatBytes(utf8('tandem/v2/lock'), w.finish())));
        // Another amount (the largest u256 has no successor: step down from it).
        const other = l.amount === U256_MAX ? l.amount - 1n : l.amount + 1n;
        expect(lockDigest({ ...l, amount: other })).not.toEqual(lockDigest(l));
      }),
      { numRuns: 50 },
    );
  });
});

const entriesAndSubset = fc.array(bundleEntry, { minLength: 1, maxLength: 60 }).chain((entries) =>
  fc.record({ entries: fc.constant(entries), indices: fc.uniqueArray(fc.nat({ max: entries.length - 1 }), { minLength: 1, maxLength: entries.length }).map((xs) => [...xs].sort((a, b) => a - b)) }),
);

describe('bundle tree', () => {
  it('is SHA-256 with leaf prefix 0x02 and node prefix 0x03; empty is all zeros', () => {
    const [a, b, c] = fc.sample(bundleEntry, { numRuns: 3, seed: 7 }) as [BundleEntry, BundleEntry, BundleEntry];
    const leaf = (e: BundleEntry) => sha256(concatBytes(Uint8Array.of(2), encodeBundleEntry(e)));
    const node = (l: Uint8Array, r: Uint8Array) => sha256(concatBytes(Uint8Array.of(3), l, r));
    expect(bundleTreeRoot([a])).toEqual(leaf(a));
    expect(bundleTreeRoot([a, b, c])).toEqual(node(node(leaf(a), leaf(b)), leaf(c)));
    expect(bundleTreeRoot([])).toEqual(EMPTY_BUNDLE_ROOT);
  });

  it('multiproofs round-trip and reject other entries, an extra or a missing sibling', () => {
    fc.assert(
      fc.property(entriesAndSubset, bundleEntry, ({ entries, indices }, other) => {
        const root = bundleTreeRoot(entries);
        const proof = bundleTreeMultiproof(entries, indices);
        const picked = indices.map((i) => entries[i]!);
        expect(verifyBundleMultiproof(root, picked, proof)).toBe(true);
        fc.pre(show(other) !== show(picked[0]));
        expect(verifyBundleMultiproof(root, [other, ...picked.slice(1)], proof)).toBe(false);
        expect(verifyBundleMultiproof(root, picked, { ...proof, siblings: [...proof.siblings, root] })).toBe(false);
        if (proof.siblings.length > 0) expect(verifyBundleMultiproof(root, picked, { ...proof, siblings: proof.siblings.slice(1) })).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('a bundle root is never a report root of the same bytes (other hash, other prefixes)', () => {
    const e = fc.sample(bundleEntry, { numRuns: 1, seed: 3 })[0]!;
    expect(bundleTreeRoot([e])).not.toEqual(reportTreeRoot([{ settlementId: e.settlementId, decision: 'COMMIT', validUntilMs: 0 }]));
  });
});

describe('bundle header body', () => {
  it('is 109 bytes (version 2, network, config, signer, time, count, root) and round-trips', () => {
    fc.assert(
      fc.property(signedBundleHeader(fc.integer({ min: 0, max: BUNDLE_ENTRIES_LIMIT })), ({ signature: _s, ...h }) => {
        const b = encodeBundleHeaderBody(h);
        expect(b.length).toBe(BUNDLE_HEADER_BODY_BYTES);
        expect(b[0]).toBe(2);
        expect(b.subarray(65, 67)).toEqual(Uint8Array.of(h.signer >> 8, h.signer & 0xff));
        expect(b.subarray(77)).toEqual(h.root);
        expect(decodeBundleHeaderBody(b)).toEqual(h);
        expect(decodeOutcome(() => decodeBundleHeaderBody(concatBytes(Uint8Array.of(1), b.subarray(1))))).toBe('tag');
        expect(decodeOutcome(() => decodeBundleHeaderBody(b.subarray(0, 108)))).toBe('short');
      }),
    );
  });

  it('refuses a count above BUNDLE_ENTRIES_LIMIT both ways', () => {
    const h = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), signer: 1, timeMs: 0, count: BUNDLE_ENTRIES_LIMIT + 1, root: new Uint8Array(32) };
    expect(() => encodeBundleHeaderBody(h)).toThrow(/above 8192/);
    const b = encodeBundleHeaderBody({ ...h, count: 0 });
    expect(decodeOutcome(() => decodeBundleHeaderBody(concatBytes(b.subarray(0, 75), Uint8Array.of(0x20, 0x01), b.subarray(77))))).toBe('length');
  });

  it('bundleProblem: the header must name exactly its entries', () => {
    fc.assert(
      fc.property(bundle, (b) => {
        const good = { ...b, header: { ...b.header, root: bundleTreeRoot(b.entries) } };
        expect(bundleProblem(good)).toBeNull();
        expect(bundleProblem({ ...good, header: { ...good.header, count: good.header.count + 1 } })).toMatch(/header count/);
        const changed = good.entries.map((e, i) => (i === 0 ? withLocks(e) : e));
        if (b.entries.length > 0 && show(changed) !== show(good.entries)) expect(bundleProblem({ ...good, entries: changed })).toMatch(/root is not the root/);
      }),
    );
  });
});
