import type { LegName, Terms, Authorization, LegView, Report, ReportV2, Entry, TreeProof, TreeMultiproof } from '@tandem/protocol';

/**
 * What the leg checks reports against: fixed when the leg is set up, never taken from a report
 * (docs/protocol.md, reading 2). The group key is copied into every lock at lock time.
 */
export interface LegAnchor {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  readonly groupPublicKey: Uint8Array;
  /**
   * The one protocol version the leg accepts reports of (default 1): a v1 leg refuses roots, a v2
   * leg refuses v1 reports. Running both on one leg would be unsafe: a v1 instance and a v2
   * height share no quorum, so each could decide differently for one settlement.
   */
  readonly protocol?: 1 | 2;
}

/** Where an asset leg lives: the chain and the escrow contract that terms must name. */
export interface AssetVenue {
  readonly chainId: bigint;
  readonly escrow: Uint8Array; // 20 bytes
}

/** Where a payment leg lives: the bank and the ledger that terms must name. */
export interface BankVenue {
  readonly bankId: string;
  readonly ledger: string;
}

export type PrepareOutcome =
  /** Newly locked, or already locked for this id (idempotent). */
  | { readonly kind: 'locked' }
  /** No or bad party authorization: the leg stays 'none'. */
  | { readonly kind: 'unauthorized'; readonly reason: string }
  /** Durable refusal (insufficient funds, bad terms, policy): final for the id. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** The id is closed (rejected before, aborted, reclaimed, applied). */
  | { readonly kind: 'closed'; readonly reason: string };

export type ApplyOutcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'refused'; readonly reason: string };

/** What submitting a report v2 did: its root stored now, stored before (idempotent), or refused. */
export type RootOutcome =
  | { readonly kind: 'stored' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'refused'; readonly reason: string };

/** One entry of a decided batch with its proof under the batch's root. */
export interface ProvenEntry {
  readonly entry: Entry;
  readonly proof: TreeProof;
}

export type ReclaimOutcome = { readonly kind: 'reclaimed' } | { readonly kind: 'refused'; readonly reason: string };

/**
 * A transient failure (outage, RPC down): never a rejection; callers retry. An adapter that
 * throws it has changed nothing.
 */
export class TransientLegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientLegError';
  }
}

/**
 * One leg of a settlement (its rules: this package's README). Every implementation (in-memory,
 * EVM, PostgreSQL) passes the conformance suite in `@tandem/legs/conformance`.
 */
export interface LegAdapter {
  readonly leg: LegName;
  /** Locks the party's value for `settlementId(terms)`, idempotently, only with its authorization. */
  prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome>;
  /** The leg's current view of one settlement id. */
  observe(settlementId: Uint8Array): Promise<LegView>;
  /** Applies a threshold-signed COMMIT/ABORT report: at most one per settlement id. */
  applyReport(report: Report): Promise<ApplyOutcome>;
  /** Returns locked value to its owner after the reclaim time, if no report was applied. */
  reclaim(settlementId: Uint8Array): Promise<ReclaimOutcome>;
}

/**
 * A leg of protocol v2 (batches): it verifies a report v2's root once (its threshold signature
 * under the anchor's group key), then each entry by a Merkle proof, and applies each entry by the
 * same rules as applyReport (this package's README, "Protocol v2"). One call is one write of the
 * leg, however many entries it carries. Only a leg anchored to protocol 2 accepts roots.
 */
export interface BatchLegAdapter extends LegAdapter {
  /**
   * Checks the report's anchors (version 2, network id, configuration digest) and its signature,
   * then stores its root under the configuration digest with its count. Idempotent.
   */
  submitRoot(report: ReportV2): Promise<RootOutcome>;
  /**
   * Applies entries proven under a root stored before: one outcome per item, in order. An item
   * whose proof does not verify is refused alone; an unknown root refuses every item.
   */
  applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]>;
  /**
   * submitRoot and applyEntries in one call: `entries` are the batch's entries at
   * `multiproof.indices`, in that order. A root or a multiproof that does not verify refuses every
   * entry (and nothing is stored); otherwise one outcome per entry, a refused one skipped with
   * its reason.
   */
  applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]>;
  /**
   * The views of many settlement ids in one read of the leg (one query, one HTTP call): each as
   * `observe` shows it, in order. At most OBSERVE_IDS_MAX ids; more is a caller's bug (throws).
   */
  observeMany(settlementIds: readonly Uint8Array[]): Promise<readonly LegView[]>;
}

/** Ids one observeMany call takes at most (a node reads more in several calls). */
export const OBSERVE_IDS_MAX = 1024;

/** Throws (a caller's bug, not a leg's failure) unless `ids` is a list observeMany takes. */
export function assertObserveIds(ids: readonly Uint8Array[]): void {
  if (ids.length > OBSERVE_IDS_MAX) throw new RangeError(`observeMany takes at most ${OBSERVE_IDS_MAX} ids, got ${ids.length}`);
  for (const id of ids) if (id.length !== 32) throw new RangeError(`observeMany: a settlement id is 32 bytes, got ${id.length}`);
}

/** Does this adapter take roots and entries (protocol v2)? */
export function isBatchLegAdapter(adapter: LegAdapter): adapter is BatchLegAdapter {
  const a = adapter as Partial<BatchLegAdapter>;
  return typeof a.submitRoot === 'function' && typeof a.applyEntries === 'function' && typeof a.applyBatch === 'function' && typeof a.observeMany === 'function';
}
