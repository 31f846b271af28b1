/**
 * The justification a v2 proposal carries: per bundle used, once, its signed header and the
 * entries needed (the caller attaches their multiproof), giving every entry f+1 distinct
 * supporting members (V2) and, when the time is above chain time, f+1 members' headers with time
 * at or above it (V5). A node whose pool holds these (and the terms) finds the batch valid.
 */
import { type BatchHeader, type BundleEntry, type Entry, type SignedBundleHeader, assert, toHex } from '@tandem/protocol';
import type { DecidedChain } from './chain.js';
import type { BundleItem, EvidencePoolV2 } from './pool.js';

export interface JustificationPart {
  readonly header: SignedBundleHeader;
  /** Strictly ascending indices into the bundle; empty when only the header is needed (V5). */
  readonly items: readonly BundleItem[];
}

/**
 * The justification of a batch from the proposer's pool: for each entry the supporting entries of
 * the f+1 lowest member indices, and for V5 the newest headers of f+1 members, newest first.
 * Asserts the pool holds enough: call it only for a batch valid at this node.
 */
export function justificationFor(chain: DecidedChain, pool: EvidencePoolV2, header: BatchHeader, entries: readonly Entry[]): JustificationPart[] {
  const parts = new Map<string, { header: SignedBundleHeader; items: Map<number, BundleEntry> }>();
  const use = (h: SignedBundleHeader): Map<number, BundleEntry> => {
    const key = `${h.signer}:${h.timeMs}:${toHex(h.root)}`;
    let part = parts.get(key);
    if (part === undefined) {
      part = { header: h, items: new Map() };
      parts.set(key, part);
    }
    return part.items;
  };
  for (const e of entries) {
    const supporters = pool.supporters(e.settlementId, e.decision).slice(0, pool.f + 1);
    assert(supporters.length === pool.f + 1, `justification: ${toHex(e.settlementId)} ${e.decision} lacks support`);
    for (const s of supporters) use(s.header).set(s.index, s.entry);
  }
  if (header.timeMs > chain.timeMs) {
    const reached = pool.newestHeaders().filter((h) => h.timeMs >= header.timeMs).slice(0, pool.f + 1);
    assert(reached.length === pool.f + 1, `justification: time ${header.timeMs} reached by too few members`);
    for (const h of reached) use(h);
  }
  return [...parts.values()]
    .map((p) => ({ header: p.header, items: [...p.items].sort((a, b) => a[0] - b[0]).map(([index, entry]) => ({ index, entry })) }))
    .sort((a, b) => a.header.signer - b.header.signer || a.header.timeMs - b.header.timeMs);
}
