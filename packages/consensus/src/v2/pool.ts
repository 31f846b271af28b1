/**
 * The v2 evidence pool: bundle entries from verified bundles (gossiped, or inside proposals), the
 * terms they are judged against, and each member's newest bundle time. Pure and monotone while a
 * settlement is open: entries are only added, so a decision once valid stays valid (validity.ts
 * relies on it). Bounded: per settlement and decision the first supporting entries of f + 1
 * distinct members, all that validity and a justification need (≤ 2(f + 1) per settlement);
 * entries for ids whose terms are unknown are held, ≤ PENDING_PER_MEMBER_MAX per member, for at
 * most openSettlementsMax such ids, and judged when the terms arrive.
 */
import {
  type BundleEntry,
  type Decision,
  type SignedBundleHeader,
  type Terms,
  DECISIONS,
  assert,
  faultsTolerated,
  settlementId,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import { IdMap } from './id-map.js';
import { type ExpectedLocks, entryMaySupport, entrySupports, expectedLocks } from './support.js';

/** An entry of a verified bundle, with the signed header it came under and its index there. */
export interface PooledEntry {
  readonly header: SignedBundleHeader;
  readonly index: number;
  readonly entry: BundleEntry;
}

/** An entry handed to the pool: its index in the bundle (all of them, or those a multiproof proved). */
export interface BundleItem {
  readonly index: number;
  readonly entry: BundleEntry;
}

export interface PoolConfig {
  readonly n: number;
  readonly groupPublicKey: Uint8Array;
  /** Bound on ids held while their terms are unknown. */
  readonly openSettlementsMax: number;
}

/** A decision that became valid for a settlement (announced once). */
export interface NewlyValid {
  readonly settlementId: Uint8Array;
  readonly decision: Decision;
}

export interface PoolAddResult {
  readonly newlyValid: readonly NewlyValid[];
  /** Entries not kept because openSettlementsMax ids with unknown terms are already held. */
  readonly refused: number;
  /**
   * The items kept: as a member's supporting entry, or held until their terms arrive. Only these
   * can ever justify a batch (justificationFor reads the kept entries), so only their bundles' leaves
   * need keeping; a repeat or an entry that supports nothing is not among them.
   */
  readonly kept: readonly BundleItem[];
}

/**
 * Entries kept per (member, unknown-terms id): enough for an honest member's distinct supporting
 * entries (a both-locked view, a rejection, a deadline and a guard entry); repeats are skipped.
 */
export const PENDING_PER_MEMBER_MAX = 4;

/** A settlement whose terms the pool holds. */
export interface KnownSettlement {
  readonly settlementId: Uint8Array;
  readonly terms: Terms;
  readonly validUntilMs: number;
}

interface Known extends KnownSettlement {
  readonly expected: ExpectedLocks;
  readonly support: Record<Decision, Map<number, PooledEntry>>;
  readonly announced: Set<Decision>;
}

export class EvidencePoolV2 {
  readonly f: number;
  private readonly known = new IdMap<Known>();
  /** Unknown-terms id → its may-support entries in arrival order. */
  private readonly pending = new IdMap<PooledEntry[]>();
  /** Member → the header of its newest bundle (highest time) seen. */
  private readonly newest = new Map<number, SignedBundleHeader>();

  constructor(private readonly config: PoolConfig) {
    this.f = faultsTolerated(config.n);
    assert(Number.isSafeInteger(config.openSettlementsMax) && config.openSettlementsMax >= 1, 'openSettlementsMax is a positive integer');
  }

  get n(): number {
    return this.config.n;
  }

  /**
   * Adds the entries of one verified bundle (signature and tree checked by the caller; `items` are
   * all its entries or the ones a multiproof proved). Returns the decisions it made valid. For a
   * proposal, learn its terms first: its justification then never meets the unknown-terms bound.
   * The per-tick and clock-skew limits on gossiped bundles read a clock: they are the caller's.
   */
  addBundle(header: SignedBundleHeader, items: readonly BundleItem[]): PoolAddResult {
    const signer = header.signer;
    assert(Number.isInteger(signer) && signer >= 1 && signer <= this.config.n, `bundle signer ${signer} is not a member`);
    const prior = this.newest.get(signer);
    if (prior === undefined || header.timeMs > prior.timeMs) this.newest.set(signer, header);
    const newlyValid: NewlyValid[] = [];
    const kept: BundleItem[] = [];
    let refused = 0;
    for (const item of items) {
      const pooled: PooledEntry = { header, index: item.index, entry: item.entry };
      const known = this.known.get(item.entry.settlementId);
      const outcome = known !== undefined ? this.judge(known, pooled, newlyValid) : this.holdPending(pooled);
      if (outcome === 'kept') kept.push(item);
      else if (outcome === 'refused') refused++;
    }
    return { newlyValid, refused, kept };
  }

  /** Learns terms (keyed by the id they hash to) and judges the entries held for that id. */
  learnTerms(terms: Terms): PoolAddResult {
    const id = settlementId(terms);
    if (this.known.has(id)) return { newlyValid: [], refused: 0, kept: [] };
    const known: Known = {
      settlementId: id,
      terms,
      validUntilMs: validUntilMs(terms),
      expected: expectedLocks(terms, id, this.config.groupPublicKey),
      support: { COMMIT: new Map(), ABORT: new Map() },
      announced: new Set(),
    };
    this.known.set(id, known);
    const newlyValid: NewlyValid[] = [];
    for (const pooled of this.pending.get(id) ?? []) this.judge(known, pooled, newlyValid);
    this.pending.delete(id);
    return { newlyValid, refused: 0, kept: [] };
  }

  /**
   * Forgets a settlement: only for one decided (in D) or expired (validUntil ≤ chain time), which
   * V3 and V4 exclude at every later height, so no later validity changes.
   */
  forgetSettlement(id: Uint8Array): void {
    this.known.delete(id);
    this.pending.delete(id);
  }

  termsOf(id: Uint8Array): KnownSettlement | null {
    return this.known.get(id) ?? null;
  }

  /** The settlements whose terms the pool holds, in the order their terms arrived. */
  knownSettlements(): IterableIterator<KnownSettlement> {
    return this.known.values();
  }

  /** valid(v) of the settlement: f+1 distinct members' entries support v. */
  isValid(id: Uint8Array, decision: Decision): boolean {
    return this.supportCount(id, decision) >= this.f + 1;
  }

  supportCount(id: Uint8Array, decision: Decision): number {
    return this.known.get(id)?.support[decision].size ?? 0;
  }

  /** Each supporting member's kept entry, by member index ascending. */
  supporters(id: Uint8Array, decision: Decision): PooledEntry[] {
    const support = this.known.get(id)?.support[decision];
    if (support === undefined) return [];
    return [...support.values()].sort((a, b) => a.header.signer - b.header.signer);
  }

  /** The header of the member's newest bundle seen, or null. */
  newestHeaderOf(member: number): SignedBundleHeader | null {
    return this.newest.get(member) ?? null;
  }

  /** The newest bundle header of every member heard from, newest time first (ties: lower index). */
  newestHeaders(): SignedBundleHeader[] {
    return [...this.newest.values()].sort((a, b) => b.timeMs - a.timeMs || a.signer - b.signer);
  }

  /** How many distinct members signed a bundle with time ≥ timeMs (V5). */
  membersWithBundleAtLeast(timeMs: number): number {
    let count = 0;
    for (const h of this.newest.values()) if (h.timeMs >= timeMs) count++;
    return count;
  }

  /** How many ids with unknown terms are held (≤ openSettlementsMax). */
  get pendingSettlements(): number {
    return this.pending.size;
  }

  /** Keeps the entry as the member's support for each decision it is the member's first for. */
  private judge(known: Known, pooled: PooledEntry, newlyValid: NewlyValid[]): 'kept' | 'skipped' {
    const member = pooled.header.signer;
    let outcome: 'kept' | 'skipped' = 'skipped';
    for (const d of DECISIONS) {
      const support = known.support[d];
      // f + 1 supporters make v valid (and are all a justification names): more change nothing.
      if (support.size > this.f || support.has(member) || !entrySupports(d, pooled.entry, known.expected)) continue;
      support.set(member, pooled);
      outcome = 'kept';
      if (support.size >= this.f + 1 && !known.announced.has(d)) {
        known.announced.add(d);
        newlyValid.push({ settlementId: known.settlementId, decision: d });
      }
    }
    return outcome;
  }

  /** Holds an entry for an id whose terms are unknown ('kept'); a repeat or one that supports nothing is skipped. */
  private holdPending(pooled: PooledEntry): 'kept' | 'skipped' | 'refused' {
    if (!entryMaySupport(pooled.entry)) return 'skipped';
    const id = pooled.entry.settlementId;
    let held = this.pending.get(id);
    if (held === undefined) {
      if (this.pending.size >= this.config.openSettlementsMax) return 'refused';
      held = [];
      this.pending.set(id, held);
    }
    const member = pooled.header.signer;
    const mine = held.filter((p) => p.header.signer === member);
    if (mine.some((p) => sameSupportShape(p.entry, pooled.entry))) return 'skipped';
    if (mine.length >= PENDING_PER_MEMBER_MAX) return 'skipped';
    held.push(pooled);
    return 'kept';
  }
}

/** Equal in everything support depends on (finality heights aside). */
function sameSupportShape(a: BundleEntry, b: BundleEntry): boolean {
  return a.kind === b.kind && legKey(a.asset) === legKey(b.asset) && legKey(a.payment) === legKey(b.payment);
}

function legKey(v: BundleEntry['asset']): string {
  return `${v.state}:${v.lockDigest === null ? '-' : toHex(v.lockDigest)}`;
}
