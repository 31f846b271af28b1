/**
 * The pure checks of received v2 data: a gossiped bundle's tree (count and root) and a
 * justification's multiproof. Direct by default; MemoV2Checks remembers them across all simulated
 * nodes, which check the same broadcast data each (as MemoVerifier does for signatures). Results
 * are pure functions of their inputs, so memoizing changes no outcome, only the wall time.
 */
import { createHash } from 'node:crypto';
import {
  type Bundle,
  type BundleEntry,
  type BundleLegView,
  type TreeMultiproof,
  BUNDLE_TREE,
  EMPTY_BUNDLE_ROOT,
  LEG_STATES,
  assert,
  bundleLeaf,
  equalBytes,
  treeRoot,
  verifyBundleMultiproof,
} from '@tandem/protocol';

export interface V2Checks {
  /** The leaves of a bundle's entries when its header names exactly them (count and root), else null. */
  bundleLeaves(bundle: Bundle): readonly Uint8Array[] | null;
  /** `entries` (those at proof.indices, at least one) are under `root` by `proof` (verifyBundleMultiproof). */
  multiproofHolds(root: Uint8Array, entries: readonly BundleEntry[], proof: TreeMultiproof): boolean;
}

function directBundleLeaves(bundle: Bundle): readonly Uint8Array[] | null {
  if (bundle.header.count !== bundle.entries.length) return null;
  const leaves = bundle.entries.map(bundleLeaf);
  const root = leaves.length === 0 ? EMPTY_BUNDLE_ROOT : treeRoot(BUNDLE_TREE, leaves);
  return equalBytes(root, bundle.header.root) ? leaves : null;
}

/** Every check computed where it is asked (a real node: each bundle reaches it once). */
export const DIRECT_V2_CHECKS: V2Checks = { bundleLeaves: directBundleLeaves, multiproofHolds: verifyBundleMultiproof };

/**
 * Leaves remembered at most (bundles are evicted oldest first past it): ~150 B each. A bundle is
 * asked about by every node within a few message delays, so a short memory suffices (16 Ki leaves
 * ran as fast as 256 Ki at n = 10).
 */
export const MEMO_LEAVES_MAX = 65_536;
/** Multiproof results remembered at most (past it the oldest go). */
export const MEMO_PROOFS_MAX = 100_000;
/** Key bytes of a leg besides its lock digest: state 1, height 8, lock flag 1. */
const LEG_KEY_BYTES = 10;
const KIND_CODES: ReadonlyMap<string, number> = new Map([['view', 1], ['deadline', 2], ['guard', 3]]);

/**
 * A content key of the inputs: SHA-256 over an injective serialization of them (not the wire codec,
 * whose Writer allocates per field and costs as much as the leaf hashes it would save). Values the
 * codec refuses (an unknown kind or state) share a code, but the direct check throws on each, so
 * no result is ever stored under it.
 */
class KeyWriter {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  private at = 0;

  start(tag: number): this {
    this.at = 0;
    return this.num(tag);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + bytes));
    grown.set(this.buf.subarray(0, this.at));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Any number, exactly (float64: distinct numbers give distinct bytes). */
  num(v: number): this {
    this.room(8);
    this.view.setFloat64(this.at, v);
    this.at += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.room(4 + b.length);
    this.view.setUint32(this.at, b.length);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.length;
    return this;
  }

  private leg(v: BundleLegView): void {
    this.room(LEG_KEY_BYTES);
    this.buf[this.at++] = LEG_STATES.indexOf(v.state) + 1;
    this.view.setFloat64(this.at, v.finalityHeight);
    this.at += 8;
    if (v.lockDigest === null) this.buf[this.at++] = 0;
    else {
      this.buf[this.at++] = 1;
      this.bytes(v.lockDigest);
    }
  }

  entries(list: readonly BundleEntry[]): this {
    this.num(list.length);
    for (const e of list) {
      this.bytes(e.settlementId);
      this.room(1);
      this.buf[this.at++] = KIND_CODES.get(e.kind) ?? 0;
      this.leg(e.asset);
      this.leg(e.payment);
    }
    return this;
  }

  digest(): string {
    return createHash('sha256').update(this.buf.subarray(0, this.at)).digest('base64');
  }
}

export class MemoV2Checks implements V2Checks {
  private readonly leaves = new Map<string, readonly Uint8Array[] | null>();
  /** Results by bundle object (weak: they go with the object); bundles are never changed after signing. */
  private readonly byObject = new WeakMap<Bundle, readonly Uint8Array[] | null>();
  private leavesHeld = 0;
  private readonly proofs = new Map<string, boolean>();
  private readonly key = new KeyWriter();
  /** Real computations done (the rest came from the memo). */
  computations = 0;

  constructor(
    private readonly leavesMax = MEMO_LEAVES_MAX,
    private readonly proofsMax = MEMO_PROOFS_MAX,
  ) {
    assert(leavesMax >= 0 && proofsMax >= 0, 'memo bounds are not negative');
  }

  bundleLeaves(bundle: Bundle): readonly Uint8Array[] | null {
    // The simulator hands one broadcast object to every node: known by identity, no key to hash.
    const seen = this.byObject.get(bundle);
    if (seen !== undefined) return seen;
    const key = this.key.start(1).num(bundle.header.count).bytes(bundle.header.root).entries(bundle.entries).digest();
    const hit = this.leaves.get(key);
    if (hit !== undefined) {
      this.byObject.set(bundle, hit);
      return hit;
    }
    this.computations++;
    const out = directBundleLeaves(bundle);
    const size = out?.length ?? 0;
    if (size > this.leavesMax) return out; // too large to remember
    this.byObject.set(bundle, out);
    this.leaves.set(key, out);
    this.leavesHeld += size;
    // Each pass evicts the oldest bundle, and at most leavesMax + 1 are held: a bounded loop.
    while (this.leavesHeld > this.leavesMax || this.leaves.size > this.leavesMax) {
      const [oldest, gone] = this.leaves.entries().next().value!;
      this.leaves.delete(oldest);
      this.leavesHeld -= gone?.length ?? 0;
    }
    return out;
  }

  multiproofHolds(root: Uint8Array, entries: readonly BundleEntry[], proof: TreeMultiproof): boolean {
    const k = this.key.start(2).bytes(root).num(proof.count).num(proof.indices.length);
    for (const i of proof.indices) k.num(i);
    k.num(proof.siblings.length);
    for (const s of proof.siblings) k.bytes(s);
    const key = k.entries(entries).digest();
    const hit = this.proofs.get(key);
    if (hit !== undefined) return hit;
    this.computations++;
    const out = verifyBundleMultiproof(root, entries, proof);
    if (this.proofs.size >= this.proofsMax) this.proofs.delete(this.proofs.keys().next().value!);
    if (this.proofsMax > 0) this.proofs.set(key, out);
    return out;
  }

  /** Remembered bundles and multiproof results (for tests of the bounds). */
  get size(): { readonly bundles: number; readonly leaves: number; readonly proofs: number } {
    return { bundles: this.leaves.size, leaves: this.leavesHeld, proofs: this.proofs.size };
  }
}
