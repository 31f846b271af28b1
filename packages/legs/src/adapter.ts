import type { LegName, Terms, Authorization, LegView, Report } from '@tandem/protocol';

/**
 * What the leg checks reports against: fixed when the leg is set up, never taken from a report
 * (docs/protocol.md, reading 2). The group key is copied into every lock at lock time.
 */
export interface LegAnchor {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  readonly groupPublicKey: Uint8Array;
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
