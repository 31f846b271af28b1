import { type LegState, type LockRecord, type Terms, settlementId } from '@tandem/protocol';
import type { PrepareOutcome } from '../adapter.js';

/**
 * What a prepare does: answer and change nothing (any PrepareOutcome: locked again, closed,
 * unauthorized), record a durable rejection of the id, or lock the party's value.
 */
export type PrepareDecision = PrepareOutcome | RejectDecision | LockDecision;

/** Record a durable refusal: the id is rejected for good. */
export type RejectDecision = { readonly kind: 'reject'; readonly reason: string };

/** Lock the party's value for the id. */
export type LockDecision = { readonly kind: 'lock' };

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The settlement id of `terms`. Terms that do not encode have none, so there is nothing to record
 * their refusal under: the answer is a rejection that changes nothing.
 */
export function preparedId(terms: Terms): { readonly id: Uint8Array } | { readonly id: null; readonly outcome: PrepareOutcome } {
  try {
    return { id: settlementId(terms) };
  } catch (e) {
    return { id: null, outcome: { kind: 'rejected', reason: `terms do not encode: ${errorText(e)}` } };
  }
}

/** A prepare of an id the leg has a record of: idempotent while locked, closed otherwise. Changes nothing. */
export function prepareOnRecord(state: LegState): PrepareOutcome {
  return state === 'locked' ? { kind: 'locked' } : { kind: 'closed', reason: `settlement is ${state} on this leg` };
}

/**
 * A prepare of a new id, before its funds: without the party's authorization the leg must not
 * act at all, not even to reject; then terms it can never lock are rejected for good. Null: the
 * funds decide (prepareWithFunds). `termsProblem` is asked only for an authorized prepare.
 */
export function prepareRefusal(authorizationProblem: string | null, termsProblem: () => string | null): PrepareOutcome | RejectDecision | null {
  if (authorizationProblem !== null) return { kind: 'unauthorized', reason: authorizationProblem };
  const terms = termsProblem();
  return terms === null ? null : { kind: 'reject', reason: terms };
}

/** Last: lock if the party's spendable value covers the amount, else reject the id for good. */
export function prepareWithFunds(lock: LockRecord, available: bigint): RejectDecision | LockDecision {
  if (available < lock.amount) return { kind: 'reject', reason: `insufficient funds: ${lock.from} has ${available} ${lock.unit} available, needs ${lock.amount}` };
  return { kind: 'lock' };
}
