/**
 * Which messages may make a node track a settlement it does not know yet. State is created only by
 * an intent or by a message that proves the settlement is real: a proposal signed by the round's
 * designated proposer, or a report that verifies under the group key. Anything else (a stranger, a
 * forgery, a bare `terms` message that anyone could write) is dropped before it costs memory,
 * storage or leg polls. An intent, too, is bounded in what it may cost: intake refuses it with a
 * reason (intentRefusal) and keeps its (id, terms) in a bounded refused set (RefusedIntents).
 */
import { type Message, type Report, type SignedProposal, type Terms, assert, equalBytes, reclaimAtMs, reportDigest, settlementId, validUntilMs } from '@tandem/protocol';
import { type NodeContext, headerMatches, proposalAuthentic, proposerOf } from '@tandem/consensus';

/** Intents one call of a runtime's submitMany takes at most (the control API's batch bound). */
export const INTENTS_PER_CALL_MAX = 1024;

/** Is `from` a member index of this node's cluster (1..n)? */
export function isMember(ctx: NodeContext, from: number): boolean {
  return Number.isInteger(from) && from >= 1 && from <= ctx.n;
}

/**
 * The terms a message about an unknown settlement may open it with, or null when it may not.
 * Votes and observations carry no terms; `terms` messages are sent by no honest node (an intent is
 * how a node learns of a settlement), so they never open one. Nor does anything past the reclaim
 * time on this node's clock (`nowMs`): it could no longer move a leg. That is checked first, so a
 * stale message costs no signature check.
 */
export function termsToOpen(ctx: NodeContext, m: Message, nowMs: number): Terms | null {
  switch (m.kind) {
    case 'proposal':
      return nowMs < reclaimAtMs(m.proposal.terms) && proposalOpens(ctx, m.proposal) ? m.proposal.terms : null;
    case 'report':
      return nowMs < reclaimAtMs(m.terms) && reportOpens(ctx, m.report, m.terms) ? m.terms : null;
    case 'terms':
    case 'observation':
    case 'vote':
      return null;
  }
}

/** The designated proposer's signature, over a header of this network and configuration, for terms hashing to its id. */
function proposalOpens(ctx: NodeContext, p: SignedProposal): boolean {
  const sid = settlementId(p.terms);
  return equalBytes(sid, p.settlementId) && p.proposer === proposerOf(sid, p.round, ctx.n) && proposalAuthentic(ctx, p, sid);
}

/** A report for exactly these terms (header, validity time) whose threshold signature verifies. */
function reportOpens(ctx: NodeContext, r: Report, terms: Terms): boolean {
  const sid = settlementId(terms);
  if (!headerMatches(ctx, r, sid) || r.validUntilMs !== validUntilMs(terms)) return false;
  return ctx.verifier.bls(ctx.groupPublicKey, reportDigest(r), r.signature);
}

/** Why a node did not take an intent (docs/protocol.md, Admission). The same four in v1 and v2. */
export type RefusalReason = 'full' | 'late' | 'window-too-short' | 'horizon';
export const REFUSAL_REASONS: readonly RefusalReason[] = Object.freeze(['full', 'late', 'window-too-short', 'horizon']);

/** An intent the node did not take: returned to the caller, logged as `intent-refused`, never dropped silently. */
export interface IntentRefusal {
  readonly reason: RefusalReason;
  /** For a person: what was counted or compared. */
  readonly detail: string;
  /**
   * When the same intent may be taken: `full`, an estimate (fullRetryAfterMs); `horizon`, once its
   * validUntil falls within the horizon; null for `late` and `window-too-short` (never, for these terms).
   */
  readonly retryAfterMs: number | null;
}

/** What an intent for a new settlement may cost this node. */
export interface IntentLimits {
  /** How far ahead of the node's clock a settlement's validUntil may be. */
  readonly horizonMaxMs: number;
  /** A report window at most this long is refused; 0 (v1, which has no commit guard) refuses none. */
  readonly commitGuardMs: number;
  /** Undecided settlements a node holds, at most. */
  readonly openSettlementsMax: number;
  /** Open settlements without any authorization a leg accepted, at most. */
  readonly unauthorizedOpenMax: number;
}

/** What intake counts of the settlements a node holds (computed only when the times pass). */
export interface OpenLoad {
  /** Undecided settlements, and the earliest deadline among them (null: none). */
  readonly undecided: number;
  readonly undecidedDeadlineMinMs: number | null;
  /** Open settlements no leg took an authorization for, and the earliest deadline among them. */
  readonly unauthorized: number;
  readonly unauthorizedDeadlineMinMs: number | null;
}

/** The load of a node holding these open settlements (closed and split ones left out by the caller). */
export function openLoadOf(held: readonly { readonly decided: boolean; readonly unauthorized: boolean; readonly deadlineMs: number }[]): OpenLoad {
  let undecided = 0;
  let unauthorized = 0;
  let undecidedDeadlineMinMs: number | null = null;
  let unauthorizedDeadlineMinMs: number | null = null;
  const earlier = (a: number | null, b: number) => (a === null || b < a ? b : a);
  for (const s of held) {
    if (!s.decided) {
      undecided++;
      undecidedDeadlineMinMs = earlier(undecidedDeadlineMinMs, s.deadlineMs);
    }
    if (s.unauthorized) {
      unauthorized++;
      unauthorizedDeadlineMinMs = earlier(unauthorizedDeadlineMinMs, s.deadlineMs);
    }
  }
  return { undecided, undecidedDeadlineMinMs, unauthorized, unauthorizedDeadlineMinMs };
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Bounds on the `full` estimate: never "now" (the count will not drop within a message delay), never years. */
export const FULL_RETRY_AFTER_MIN_MS = 1_000;
export const FULL_RETRY_AFTER_MAX_MS = 60_000;

/**
 * When a full node may have room: at the earliest deadline among the settlements that fill it. A
 * settlement reaching its deadline is decided (COMMIT or ABORT) within a few message delays, and
 * a decided one no longer counts; bounded to FULL_RETRY_AFTER_MIN_MS..FULL_RETRY_AFTER_MAX_MS,
 * since a far deadline says little about when some other settlement decides.
 */
export function fullRetryAfterMs(deadlineMinMs: number | null, nowMs: number): number {
  const untilMs = deadlineMinMs === null ? FULL_RETRY_AFTER_MIN_MS : deadlineMinMs - nowMs;
  return Math.min(FULL_RETRY_AFTER_MAX_MS, Math.max(FULL_RETRY_AFTER_MIN_MS, untilMs));
}

/** A span for a person: whole days from a day on (horizons are long), else ms. */
function span(ms: number): string {
  return ms >= DAY_MS ? `${Math.floor(ms / DAY_MS)} days` : `${ms} ms`;
}

/**
 * Why an intent that would open a new settlement is refused, or null to take it. The terms' times
 * first (they never change for these terms), then the node's load (`load()`, counted only then):
 * - `late`: the node's clock is at or past the deadline. A settlement taken then can only end in
 *   ABORT (its deadline observation is due at once), so taking it buys nothing and holds legs;
 * - `window-too-short`: reportWindow ≤ commitGuardMs (a COMMIT could never be proposed in time);
 *   off when commitGuardMs is 0;
 * - `horizon`: validUntil beyond now + horizonMaxMs;
 * - `full`: openSettlementsMax undecided settlements held; or, for an intent without any
 *   authorization, unauthorizedOpenMax open settlements already lack one (an intent nobody
 *   authorized would otherwise hold memory and leg polls until a deadline its sender picks).
 */
export function intentRefusal(terms: Terms, authorized: boolean, nowMs: number, limits: IntentLimits, load: () => OpenLoad): IntentRefusal | null {
  if (nowMs >= terms.deadlineMs) {
    return { reason: 'late', detail: `its deadline passed ${nowMs - terms.deadlineMs} ms ago on this node's clock: it could only abort`, retryAfterMs: null };
  }
  if (limits.commitGuardMs > 0 && terms.reportWindowMs <= limits.commitGuardMs) {
    return { reason: 'window-too-short', detail: `its report window of ${terms.reportWindowMs} ms is not longer than this node's commit guard of ${limits.commitGuardMs} ms`, retryAfterMs: null };
  }
  const beyondMs = validUntilMs(terms) - (nowMs + limits.horizonMaxMs);
  if (beyondMs > 0) {
    const detail = `its validUntil is ${span(validUntilMs(terms) - nowMs)} ahead, beyond this node's horizon of ${span(limits.horizonMaxMs)}`;
    return { reason: 'horizon', detail, retryAfterMs: beyondMs };
  }
  const open = load();
  if (open.undecided >= limits.openSettlementsMax) {
    const detail = `this node holds ${open.undecided} undecided settlements (at most ${limits.openSettlementsMax})`;
    return { reason: 'full', detail, retryAfterMs: fullRetryAfterMs(open.undecidedDeadlineMinMs, nowMs) };
  }
  if (!authorized && open.unauthorized >= limits.unauthorizedOpenMax) {
    const detail = `${open.unauthorized} open settlements have no authorization yet (at most ${limits.unauthorizedOpenMax}): send the intent with a party's authorization, or later`;
    return { reason: 'full', detail, retryAfterMs: fullRetryAfterMs(open.unauthorizedDeadlineMinMs, nowMs) };
  }
  return null;
}

/**
 * The (id, terms) of intents this node refused, the most recent `max` of them (the oldest goes
 * first). Recorded for the guard entries of protocol v2; v1 only keeps them.
 */
export class RefusedIntents {
  private readonly terms = new Map<string, Terms>();

  constructor(private readonly max: number) {
    assert(Number.isInteger(max) && max >= 1, 'the refused set needs a positive bound');
  }

  add(settlementIdHex: string, terms: Terms): void {
    this.terms.delete(settlementIdHex); // re-inserted last: the newest refusal
    this.terms.set(settlementIdHex, terms);
    if (this.terms.size > this.max) this.terms.delete(this.terms.keys().next().value!);
    assert(this.terms.size <= this.max, 'the refused set stays within its bound');
  }

  get(settlementIdHex: string): Terms | undefined {
    return this.terms.get(settlementIdHex);
  }

  get size(): number {
    return this.terms.size;
  }
}
