/**
 * Bundles in: a member's gossiped bundle is accepted once its signature (Ed25519 under
 * `tandem/v2/bundle` over encodeBundleHeaderBody) and its tree (count, root) check, at most one per
 * member per tickMs of this node's clock, and only once its time is at most skewMaxMs ahead of that
 * clock (held back until then, a few per member). Bundles inside proposals are verified on their own
 * (signature and multiproof), exempt from those limits. Every accepted bundle feeds the pool.
 *
 * The leaves of stored bundles are kept while an entry of theirs may support a decision of a
 * settlement still open, so this node can build multiproofs for its own proposals' justification.
 */
import {
  type Bundle,
  type BundleEntry,
  type FullProposal2,
  type JustificationBundle,
  type SignedBundleHeader,
  BUNDLE_TREE,
  SIGN_DOMAIN_V2,
  assert,
  encodeBundleHeaderBody,
  settlementId,
  toHex,
  treeMultiproof,
} from '@tandem/protocol';
import { type BundleItem, type JustificationPart, anchorMatches, entryMaySupport, memberKey } from '@tandem/consensus';
import { type Core, nowMs } from './state.js';
import { DIRECT_V2_CHECKS, type V2Checks } from './checks.js';

/** Bundles held back per member (too early or too soon after the last): beyond, the oldest is dropped. */
export const HELD_PER_MEMBER_MAX = 8;
/** Bundles whose leaves are kept for justification, at most (the oldest go first). */
export const STORED_BUNDLES_MAX = 65_536;

interface StoredBundle {
  readonly header: SignedBundleHeader;
  /** Every leaf (a gossiped or own bundle), or null when only a multiproof was seen. */
  readonly leaves: readonly Uint8Array[] | null;
  /** Multiproofs seen for it (inside proposals). */
  readonly proven: JustificationBundle[];
  /** Open settlements an entry of it may support: kept until all are forgotten. */
  readonly ids: Set<string>;
}

const keyOf = (h: SignedBundleHeader): string => `${h.signer}:${h.timeMs}:${toHex(h.root)}`;

export class Gossip {
  private readonly held = new Map<number, Bundle[]>();
  private readonly acceptedAtMs = new Map<number, number>();
  private readonly newestTimeMs = new Map<number, number>();
  private readonly stored = new Map<string, StoredBundle>();
  private readonly byId = new Map<string, Set<string>>();
  private readonly checks: V2Checks;

  constructor(
    private readonly core: Core,
    /** The pool made a decision valid for some settlement: the heights driver looks again. */
    private readonly poolGrew: () => void,
  ) {
    this.checks = core.deps.checks ?? DIRECT_V2_CHECKS;
  }

  /** A bundle gossiped by member `from`. */
  receive(from: number, bundle: Bundle): void {
    const h = bundle.header;
    if (h.signer !== from || !anchorMatches(this.core.anchor, h)) return;
    if (h.timeMs <= (this.newestTimeMs.get(from) ?? -1)) return; // a replay or an older one
    if (!this.authentic(h)) return;
    const leaves = this.checks.bundleLeaves(bundle);
    if (leaves === null) return;
    if (this.acceptable(from)) this.accept(bundle, leaves);
    else this.holdBack(from, bundle);
  }

  /** Every tick: releases held-back bundles whose time came. */
  tick(): void {
    for (const [member, queue] of this.held) {
      while (queue.length > 0 && this.acceptable(member)) {
        const b = queue.shift()!;
        if (b.header.timeMs > (this.newestTimeMs.get(member) ?? -1)) this.accept(b, this.leavesOf(b));
      }
      if (queue.length === 0) this.held.delete(member);
    }
  }

  /** This node's own bundle (signed here): straight into the pool. */
  own(bundle: Bundle): void {
    this.accept(bundle, this.leavesOf(bundle));
  }

  /** The leaves of a bundle whose tree checked already (held back after receive, or signed here). */
  private leavesOf(bundle: Bundle): readonly Uint8Array[] {
    const leaves = this.checks.bundleLeaves(bundle);
    assert(leaves !== null, `bundle of member ${bundle.header.signer} at ${bundle.header.timeMs}: its tree checked before`);
    return leaves;
  }

  /**
   * Before a proposal is stepped in: its terms (those of its entries) and its justification's bundles,
   * each verified on its own, feed the pool. Returns false if anything in it failed to verify.
   */
  feedProposal(p: Pick<FullProposal2, 'entries' | 'terms' | 'justification'>): boolean {
    const ids = new Set(p.entries.map((e) => toHex(e.settlementId)));
    let ok = true;
    for (const t of p.terms) {
      if (ids.has(toHex(settlementId(t)))) this.core.pool.learnTerms(t);
      else ok = false;
    }
    for (const j of p.justification) ok = this.feedJustification(j) && ok;
    this.poolGrew();
    return ok;
  }

  /** The justification bundles of the parts justificationFor chose, or null when a multiproof cannot be built. */
  justificationOf(parts: readonly JustificationPart[]): JustificationBundle[] | null {
    const out: JustificationBundle[] = [];
    for (const part of parts) {
      const h = part.header;
      if (part.items.length === 0) {
        out.push({ header: h, entries: [], proof: { indices: [], count: h.count, siblings: [] } });
        continue;
      }
      const s = this.stored.get(keyOf(h));
      const indices = part.items.map((i) => i.index);
      if (s?.leaves != null) {
        out.push({ header: h, entries: part.items.map((i) => i.entry), proof: treeMultiproof(BUNDLE_TREE, s.leaves, indices) });
        continue;
      }
      const covering = s?.proven.find((j) => indices.every((i) => j.proof.indices.includes(i)));
      if (covering === undefined) return null;
      out.push(covering);
    }
    return out;
  }

  /** A settlement is decided or expired: bundles kept only for it go. */
  forget(idHex: string): void {
    const keys = this.byId.get(idHex);
    if (keys === undefined) return;
    this.byId.delete(idHex);
    for (const key of keys) {
      const s = this.stored.get(key);
      if (s === undefined) continue;
      s.ids.delete(idHex);
      if (s.ids.size === 0) this.stored.delete(key);
    }
  }

  private authentic(h: SignedBundleHeader): boolean {
    const key = memberKey(this.core.deps.ctx, h.signer);
    return key !== null && this.core.deps.ctx.verifier.identity(SIGN_DOMAIN_V2.bundle, key, encodeBundleHeaderBody(h), h.signature);
  }

  /** At most one per member per tickMs of this node's clock. */
  private acceptable(member: number): boolean {
    const last = this.acceptedAtMs.get(member);
    const head = this.held.get(member)?.[0];
    const now = nowMs(this.core);
    if (head !== undefined && head.header.timeMs > now + this.core.v2.skewMaxMs) return false;
    return last === undefined || now - last >= this.core.v2.tickMs;
  }

  private holdBack(member: number, bundle: Bundle): void {
    const queue = this.held.get(member) ?? [];
    queue.push(bundle);
    queue.sort((a, b) => a.header.timeMs - b.header.timeMs);
    if (queue.length > HELD_PER_MEMBER_MAX) queue.shift();
    this.held.set(member, queue);
  }

  private accept(bundle: Bundle, leaves: readonly Uint8Array[]): void {
    const h = bundle.header;
    if (h.timeMs > nowMs(this.core) + this.core.v2.skewMaxMs && h.signer !== this.core.deps.ctx.self) {
      this.holdBack(h.signer, bundle);
      return;
    }
    this.acceptedAtMs.set(h.signer, nowMs(this.core));
    this.newestTimeMs.set(h.signer, h.timeMs);
    this.addToPool(h, bundle.entries.map((entry, index) => ({ index, entry })), leaves, null);
  }

  private feedJustification(j: JustificationBundle): boolean {
    const h = j.header;
    if (!anchorMatches(this.core.anchor, h) || !this.authentic(h)) return false;
    if (j.entries.length > 0 && (j.proof.count !== h.count || !this.checks.multiproofHolds(h.root, j.entries, j.proof))) return false;
    this.addToPool(h, j.proof.indices.map((index, k) => ({ index, entry: j.entries[k]! })), null, j.entries.length > 0 ? j : null);
    return true;
  }

  private addToPool(h: SignedBundleHeader, items: readonly BundleItem[], leaves: readonly Uint8Array[] | null, proven: JustificationBundle | null): void {
    const result = this.core.pool.addBundle(h, items);
    // Only entries the pool kept can justify a batch: a bundle of repeats keeps nothing here.
    this.store(h, result.kept.map((i) => i.entry), leaves, proven);
    if (result.newlyValid.length > 0) this.poolGrew();
  }

  private store(h: SignedBundleHeader, entries: readonly BundleEntry[], leaves: readonly Uint8Array[] | null, proven: JustificationBundle | null): void {
    const useful = entries.filter(entryMaySupport);
    if (useful.length === 0) return;
    const key = keyOf(h);
    let s = this.stored.get(key);
    if (s === undefined) {
      s = { header: h, leaves, proven: [], ids: new Set() };
      this.stored.set(key, s);
      if (this.stored.size > STORED_BUNDLES_MAX) this.stored.delete(this.stored.keys().next().value!);
    } else if (s.leaves === null && leaves !== null) {
      s = { ...s, leaves };
      this.stored.set(key, s);
    }
    if (proven !== null && s.leaves === null && s.proven.length < HELD_PER_MEMBER_MAX) s.proven.push(proven);
    for (const e of useful) {
      const idHex = toHex(e.settlementId);
      s.ids.add(idHex);
      let keys = this.byId.get(idHex);
      if (keys === undefined) this.byId.set(idHex, (keys = new Set()));
      keys.add(key);
    }
  }
}
