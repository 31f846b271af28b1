/**
 * The time rules of protocol v2, kept out of valid_h so it stays pure and monotone: which entries
 * are ready at the next height, their urgency, the fresh-COMMIT prevote filter, guard entries and
 * expired-undecided settlements. The clock is always an argument (`nowMs`), never read.
 */
import {
  type BatchHeader,
  type DecidedBatch,
  type Decision,
  type Entry,
  type Terms,
  type V2Params,
  batchHeaderDigest,
  compareIds,
  equalBytes,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import type { DecidedChain } from './chain.js';
import type { EvidencePoolV2, KnownSettlement } from './pool.js';

/**
 * The decision a settlement is ready with at the next height, or null: COMMIT when valid and the
 * clock is at least commitGuardMs before validUntil, else ABORT when valid. Whether it is decided
 * or expired is the chain's part (readyEntries).
 */
export function readyDecision(pool: EvidencePoolV2, id: Uint8Array, entryValidUntilMs: number, nowMs: number, params: V2Params): Decision | null {
  if (pool.isValid(id, 'COMMIT') && nowMs <= entryValidUntilMs - params.commitGuardMs) return 'COMMIT';
  if (pool.isValid(id, 'ABORT')) return 'ABORT';
  return null;
}

/**
 * The ready entries at height tip + 1, most urgent first: settlements with terms, not in D, live at
 * chain time (validUntil > T_tip), with a ready decision. Bounded by the pool's known settlements.
 */
export function readyEntries(chain: DecidedChain, pool: EvidencePoolV2, nowMs: number, params: V2Params): Entry[] {
  const ready: Entry[] = [];
  for (const s of pool.knownSettlements()) {
    if (s.validUntilMs <= chain.timeMs || chain.holds(s.settlementId)) continue;
    const decision = readyDecision(pool, s.settlementId, s.validUntilMs, nowMs, params);
    if (decision !== null) ready.push({ settlementId: s.settlementId, decision, validUntilMs: s.validUntilMs });
  }
  return ready.sort((a, b) => compareUrgency(a, b, params));
}

/** Urgency: a COMMIT by validUntil − commitGuardMs/2 (where the prevote filter starts), an ABORT by validUntil. */
export function urgencyMs(e: Entry, params: V2Params): number {
  return e.decision === 'COMMIT' ? e.validUntilMs - params.commitGuardMs / 2 : e.validUntilMs;
}

/** Earliest urgency first; ties by id, so every proposer orders alike. */
export function compareUrgency(a: Entry, b: Entry, params: V2Params): number {
  return urgencyMs(a, params) - urgencyMs(b, params) || compareIds(a.settlementId, b.settlementId);
}

/**
 * The fresh-COMMIT prevote filter: a node not locked on this header prevotes nil on a fresh
 * proposal (validRound = −1) holding a COMMIT entry once its clock is at or past validUntil −
 * commitGuardMs/2. Re-proposals (validRound ≥ 0), locks, precommits and decisions ignore it.
 * `lockedHeaderDigest`: batchHeaderDigest of the header the node is locked on, or null.
 */
export function freshCommitFilterRejects(
  header: BatchHeader,
  entries: readonly Entry[],
  validRound: number,
  lockedHeaderDigest: Uint8Array | null,
  nowMs: number,
  params: V2Params,
): boolean {
  if (validRound >= 0) return false;
  if (lockedHeaderDigest !== null && equalBytes(lockedHeaderDigest, batchHeaderDigest(header))) return false;
  return entries.some((e) => e.decision === 'COMMIT' && nowMs >= e.validUntilMs - params.commitGuardMs / 2);
}

/**
 * When a node signs its `guard` entry for a settlement it has not decided (or refused at intake):
 * max(deadline, validUntil − commitGuardMs). From then on a COMMIT is too late to propose fresh.
 */
export function guardDueMs(terms: Terms, params: V2Params): number {
  return Math.max(terms.deadlineMs, validUntilMs(terms) - params.commitGuardMs);
}

/**
 * A settlement the node holds open (never saw decided) that can never be decided: validUntil ≤
 * chain time, so V4 excludes it at every later height. The caller asks only about settlements it
 * has not seen decided: an id pruned from D after its decision would answer true as well.
 */
export function isExpiredUndecided(chain: DecidedChain, id: Uint8Array, settlementValidUntilMs: number): boolean {
  return settlementValidUntilMs <= chain.timeMs && !chain.holds(id);
}

export interface Settled {
  /** The entries of the batches just processed: decided, whatever chain time says of them. */
  readonly decided: readonly Entry[];
  /** Settlements the pool held that can never be decided now (validUntil ≤ chain time). */
  readonly expired: readonly KnownSettlement[];
}

/**
 * After the chain processed `batches` (one decided height, or the batches of a jump): forgets in the
 * pool every settlement they decided and every one expired undecided, which V3 and V4 exclude at
 * every later height, and says which were which. An entry can be pruned from D at the very height
 * that decides it (validUntil ≤ its batch's time), so "decided" comes from the batches, not from D.
 * After a jump, a settlement decided at a skipped height shows as expired: its outcome is on the legs.
 */
export function forgetSettled(chain: DecidedChain, pool: EvidencePoolV2, batches: readonly DecidedBatch[]): Settled {
  const decided = batches.flatMap((b) => b.entries);
  const decidedIds = new Set(decided.map((e) => toHex(e.settlementId)));
  const expired = [...pool.knownSettlements()].filter((s) => !decidedIds.has(toHex(s.settlementId)) && isExpiredUndecided(chain, s.settlementId, s.validUntilMs));
  for (const e of decided) pool.forgetSettlement(e.settlementId);
  for (const s of expired) pool.forgetSettlement(s.settlementId);
  return { decided, expired };
}
