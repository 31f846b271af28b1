/**
 * Which messages may make a node track a settlement it does not know yet. State is created only by
 * an intent or by a message that proves the settlement is real: a proposal signed by the round's
 * designated proposer, or a report that verifies under the group key. Anything else (a stranger, a
 * forgery, a bare `terms` message that anyone could write) is dropped before it costs memory,
 * storage or leg polls. An intent, too, is bounded in what it may cost (intentRefusal).
 */
import { type Message, type Report, type SignedProposal, type Terms, equalBytes, reclaimAtMs, reportDigest, settlementId, validUntilMs } from '@tandem/protocol';
import { type NodeContext, headerMatches, proposalAuthentic, proposerOf } from '@tandem/consensus';

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

/** Why a node did not take an intent. */
export interface IntentRefusal {
  readonly reason: string;
  /** The same intent may be taken later (a bound on open settlements was reached), or never (its times). */
  readonly retryable: boolean;
}

/** What an intent for a new settlement may cost this node. */
export interface IntentLimits {
  /** How far ahead a deadline may be. */
  readonly deadlineHorizonMs: number;
  /** Open settlements without any authorization a leg accepted, at most. */
  readonly unauthorizedOpenMax: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Why an intent that would open a new settlement is refused, or null to take it. Never past its
 * reclaim time (nothing could move a leg then), never with a deadline beyond the horizon, and
 * not without an authorization once `unauthorizedOpen()` settlements already lack one: an intent
 * nobody authorized would otherwise hold memory and leg polls until a deadline its sender picks.
 */
export function intentRefusal(terms: Terms, authorized: boolean, nowMs: number, limits: IntentLimits, unauthorizedOpen: () => number): IntentRefusal | null {
  if (nowMs >= reclaimAtMs(terms)) return { reason: `its reclaim time has passed (${nowMs - reclaimAtMs(terms)} ms ago): no report can move a leg any more`, retryable: false };
  const aheadMs = terms.deadlineMs - nowMs;
  if (aheadMs > limits.deadlineHorizonMs) {
    return { reason: `its deadline is ${Math.floor(aheadMs / DAY_MS)} days ahead, beyond this node's deadline horizon of ${Math.floor(limits.deadlineHorizonMs / DAY_MS)} days`, retryable: false };
  }
  if (!authorized) {
    const open = unauthorizedOpen();
    if (open >= limits.unauthorizedOpenMax) {
      return { reason: `${open} open settlements have no authorization yet (at most ${limits.unauthorizedOpenMax}): send the intent with a party's authorization, or later`, retryable: true };
    }
  }
  return null;
}
