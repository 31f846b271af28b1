/**
 * Which decision a v2 bundle entry supports: the evidence rule of v1 (src/validity.ts) with a lock
 * digest in place of the lock record. Pure.
 */
import {
  type BundleEntry,
  type BundleLegView,
  type Decision,
  type Terms,
  equalBytes,
  expectedLock,
  lockDigest,
} from '@tandem/protocol';

/** The lock digests the terms call for on each leg (lockDigest of the expected lock record). */
export interface ExpectedLocks {
  readonly asset: Uint8Array;
  readonly payment: Uint8Array;
}

export function expectedLocks(terms: Terms, settlementId: Uint8Array, groupPublicKey: Uint8Array): ExpectedLocks {
  return {
    asset: lockDigest(expectedLock(terms, 'asset', settlementId, groupPublicKey)),
    payment: lockDigest(expectedLock(terms, 'payment', settlementId, groupPublicKey)),
  };
}

function lockedAs(v: BundleLegView, digest: Uint8Array): boolean {
  return v.state === 'locked' && v.lockDigest !== null && equalBytes(v.lockDigest, digest);
}

/** Both legs locked with exactly the terms: COMMIT evidence, whatever the entry's kind. */
export function entrySupportsCommit(e: BundleEntry, x: ExpectedLocks): boolean {
  return lockedAs(e.asset, x.asset) && lockedAs(e.payment, x.payment);
}

/**
 * ABORT evidence: a rejection of either leg, a `deadline` entry in which not both legs are locked
 * with exactly the terms, or any `guard` entry — signed once the node's clock passed
 * max(deadline, validUntil − commitGuardMs) with the settlement undecided, it supports ABORT even
 * with both legs locked, so a settlement too late to be proposed as COMMIT aborts instead of
 * holding both legs until the reclaim time. An entry showing a COMMIT applied on a leg never is.
 */
export function entrySupportsAbort(e: BundleEntry, x: ExpectedLocks): boolean {
  if (e.asset.state === 'committed' || e.payment.state === 'committed') return false;
  if (e.asset.state === 'rejected' || e.payment.state === 'rejected') return true;
  if (e.kind === 'guard') return true;
  return e.kind === 'deadline' && !entrySupportsCommit(e, x);
}

export function entrySupports(decision: Decision, e: BundleEntry, x: ExpectedLocks): boolean {
  return decision === 'COMMIT' ? entrySupportsCommit(e, x) : entrySupportsAbort(e, x);
}

/**
 * Whether an entry could support some decision under some terms: both legs locked (any digests),
 * or ABORT-shaped by its states and kind alone. The pool keeps only such entries for settlements
 * whose terms it does not hold yet.
 */
export function entryMaySupport(e: BundleEntry): boolean {
  const bothLocked = e.asset.state === 'locked' && e.asset.lockDigest !== null && e.payment.state === 'locked' && e.payment.lockDigest !== null;
  if (bothLocked) return true;
  if (e.asset.state === 'committed' || e.payment.state === 'committed') return false;
  return e.asset.state === 'rejected' || e.payment.state === 'rejected' || e.kind !== 'view';
}
