/**
 * Small builders for the v2 rule tests: terms, bundle entries of each shape, bundle headers (their
 * signatures and roots are placeholders: the pool takes bundles the caller already verified),
 * pools, chains and decided batches. Deterministic: no clock, no randomness.
 */
import {
  type BatchHeader,
  type BundleEntry,
  type BundleLegView,
  type DecidedBatch,
  type Decision,
  type Entry,
  type SignedBundleHeader,
  type Terms,
  type V2Params,
  bundleTreeRoot,
  compareIds,
  defaultV2Params,
  reportTreeRoot,
  settlementId,
  validUntilMs,
} from '@tandem/protocol';
import { DecidedChain, EvidencePoolV2, type ExpectedLocks, expectedLocks } from '../src/index.js';

export const N = 4;
export const F = 1;
export const GROUP_KEY = new Uint8Array(96).fill(7);
export const PARAMS: V2Params = { ...defaultV2Params(N), commitGuardMs: 1000, horizonMaxMs: 1_000_000, openSettlementsMax: 8, batchEntriesMax: 6 };

export interface Settlement {
  readonly terms: Terms;
  readonly id: Uint8Array;
  readonly validUntilMs: number;
  readonly locks: ExpectedLocks;
}

export function settlement(nonce: string, deadlineMs: number, reportWindowMs = 2000): Settlement {
  const terms: Terms = {
    nonce,
    asset: { chainId: 1n, escrow: new Uint8Array(20).fill(1), token: 'TKN', seller: 'seller', buyer: 'buyer', amount: 5n },
    payment: { bankId: 'bank', ledger: 'main', payer: 'buyer', payee: 'seller', currency: 'EUR', amount: 700n },
    deadlineMs,
    reportWindowMs,
    marginMs: 10_000,
  };
  const id = settlementId(terms);
  return { terms, id, validUntilMs: validUntilMs(terms), locks: expectedLocks(terms, id, GROUP_KEY) };
}

/** What a member's entry shows: each a reading an honest or a lying member may sign. */
export type Shape =
  | 'locked'
  | 'wrongLock'
  | 'rejected'
  | 'deadlineNone'
  | 'deadlineLocked'
  | 'deadlineWrongLock'
  | 'guardNone'
  | 'guardLocked'
  | 'guardWrongLock'
  | 'committed'
  | 'none';
export const SHAPES: readonly Shape[] = ['locked', 'wrongLock', 'rejected', 'deadlineNone', 'deadlineLocked', 'deadlineWrongLock', 'guardNone', 'guardLocked', 'guardWrongLock', 'committed', 'none'];

const WRONG_DIGEST = new Uint8Array(32).fill(9);

function leg(state: BundleLegView['state'], lockDigest: Uint8Array | null): BundleLegView {
  return { state, finalityHeight: 1, lockDigest };
}

export function bundleEntry(s: Settlement, shape: Shape): BundleEntry {
  const asset = leg('locked', s.locks.asset);
  const payment = leg('locked', s.locks.payment);
  const none = leg('none', null);
  const at = (kind: BundleEntry['kind'], a: BundleLegView, p: BundleLegView): BundleEntry => ({ settlementId: s.id, kind, asset: a, payment: p });
  switch (shape) {
    case 'locked':
      return at('view', asset, payment);
    case 'wrongLock':
      return at('view', asset, leg('locked', WRONG_DIGEST));
    case 'rejected':
      return at('view', asset, leg('rejected', null));
    case 'deadlineNone':
      return at('deadline', asset, none);
    case 'deadlineLocked':
      return at('deadline', asset, payment);
    case 'deadlineWrongLock':
      return at('deadline', asset, leg('locked', WRONG_DIGEST));
    case 'guardNone':
      return at('guard', none, none);
    case 'guardLocked':
      return at('guard', asset, payment);
    case 'guardWrongLock':
      return at('guard', asset, leg('locked', WRONG_DIGEST));
    case 'committed':
      return at('guard', leg('committed', s.locks.asset), none);
    case 'none':
      return at('view', none, none);
  }
}

/** A bundle's header over `entries` (the signature a placeholder: the pool takes verified bundles). */
export function bundleHeader(signer: number, timeMs: number, entries: readonly BundleEntry[]): SignedBundleHeader {
  const root = bundleTreeRoot(entries);
  return { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), signer, timeMs, count: entries.length, root, signature: new Uint8Array(64) };
}

export function newPool(openSettlementsMax = PARAMS.openSettlementsMax): EvidencePoolV2 {
  return new EvidencePoolV2({ n: N, groupPublicKey: GROUP_KEY, openSettlementsMax });
}

/** Feeds one bundle of `entries` signed by `signer` at `timeMs`. */
export function feed(pool: EvidencePoolV2, signer: number, timeMs: number, entries: readonly BundleEntry[]): void {
  pool.addBundle(bundleHeader(signer, timeMs, entries), entries.map((entry, index) => ({ index, entry })));
}

/** Terms and f+1 (or `members`) supporting entries of each settlement for `decision`. */
export function justify(pool: EvidencePoolV2, settlements: readonly Settlement[], decision: Decision, timeMs: number, members = [1, 2]): void {
  const shape: Shape = decision === 'COMMIT' ? 'locked' : 'deadlineNone';
  for (const s of settlements) pool.learnTerms(s.terms);
  for (const m of members) feed(pool, m, timeMs, settlements.map((s) => bundleEntry(s, shape)));
}

export function entryOf(s: Settlement, decision: Decision): Entry {
  return { settlementId: s.id, decision, validUntilMs: s.validUntilMs };
}

export function sortById(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => compareIds(a.settlementId, b.settlementId));
}

/** A batch (header and entries sorted by id) with the given time and liveFrom. */
export function batchOf(entries: readonly Entry[], timeMs: number, liveFrom: number): { header: BatchHeader; entries: Entry[] } {
  const sorted = sortById(entries);
  return { header: { timeMs, liveFrom, count: sorted.length, root: reportTreeRoot(sorted) }, entries: sorted };
}

export function decidedBatch(height: number, timeMs: number, liveFrom: number, entries: readonly Entry[]): DecidedBatch {
  const b = batchOf(entries, timeMs, liveFrom);
  const report = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), height, round: 0, ...b.header, signature: new Uint8Array(48) };
  return { report, entries: b.entries };
}

/** Appends a batch of `entries` at chain tip + 1 with the liveFrom the chain computes. */
export function decide(chain: DecidedChain, timeMs: number, entries: readonly Entry[]): DecidedBatch {
  const height = chain.tip + 1;
  const batch = decidedBatch(height, timeMs, chain.liveFromFor(height), entries);
  chain.processDecidedBatch(batch);
  return batch;
}
