import {
  type Decision,
  type LegView,
  type Observation,
  type Terms,
  expectedLock,
  lockEquals,
} from '@tandem/protocol';

/** True when the leg is locked with exactly the lock the terms call for. */
function lockedExactly(view: LegView, terms: Terms, leg: 'asset' | 'payment', sid: Uint8Array, groupKey: Uint8Array): boolean {
  return view.state === 'locked' && view.lock !== null && lockEquals(view.lock, expectedLock(terms, leg, sid, groupKey));
}

/** An observation that both legs are locked with exactly the terms: COMMIT evidence. */
export function supportsCommit(o: Observation, terms: Terms, groupKey: Uint8Array): boolean {
  return lockedExactly(o.asset, terms, 'asset', o.settlementId, groupKey) && lockedExactly(o.payment, terms, 'payment', o.settlementId, groupKey);
}

/**
 * ABORT evidence: a rejection of either leg, or a deadline observation in which not both legs were
 * locked with exactly the terms. An observation showing a COMMIT already applied on a leg is never
 * ABORT evidence (docs/protocol.md, reading 5).
 */
export function supportsAbort(o: Observation, terms: Terms, groupKey: Uint8Array): boolean {
  if (o.asset.state === 'committed' || o.payment.state === 'committed') return false;
  if (o.asset.state === 'rejected' || o.payment.state === 'rejected') return true;
  return o.deadline && !supportsCommit(o, terms, groupKey);
}

export function supports(value: Decision, o: Observation, terms: Terms, groupKey: Uint8Array): boolean {
  return value === 'COMMIT' ? supportsCommit(o, terms, groupKey) : supportsAbort(o, terms, groupKey);
}
