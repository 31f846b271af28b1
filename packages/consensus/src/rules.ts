/**
 * The rules of Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus"
 * (arXiv:1807.04938), for one height, each labelled with the paper's line numbers (`L22` is line
 * 22 of Algorithm 1). A rule reads the instance (an InstanceView) and says what to do (a
 * RuleAction); the instance carries it out: signs, persists, sends (instance.ts, `apply`).
 *
 * Tandem's differences from the paper, all deliberate (docs/protocol.md):
 *  - a value is the decision alone, so "a PROPOSAL for v and 2f+1 votes for id(v)" (L36, L49) is
 *    "q votes for v": the proposal adds nothing a node needs to check v;
 *  - round 0 starts on valid evidence for some value (L10's "start"), and the round-skip rule
 *    (L55) also brings a node that has not started into the round of its peers;
 *  - every node, the proposer included, schedules the propose timeout when it enters a round (L21),
 *    and a proposer with no valid value yet waits in the propose step rather than proposing;
 *  - L49 decides v in round r exactly when q precommits for v in r carry partials that combine
 *    into a threshold signature valid under the group key: the decision and the report are one.
 */
import { type Decision, type Report, type VoteStep, type VoteValue, type SignedVote, DECISIONS, assert, reportDigest } from '@tandem/protocol';
import { type Step, proposerOf } from './context.js';
import { reportBodyFor } from './auth.js';
import type { RoundVotes } from './votes.js';
import type { InstanceView } from './view.js';

/** What a rule decided; the instance carries it out (instance.ts, `apply`). */
export type RuleAction =
  /** L49–L51: decide with this report (its threshold signature verified by the combine). */
  | { readonly rule: 'decide'; readonly report: Report }
  /** L10, L55–L56, L65–L67: StartRound(round), L11–L13 and L21. */
  | { readonly rule: 'start-round'; readonly round: number }
  /** L14–L19: broadcast a proposal of `value`, with its proof of lock when validRound ≥ 0. */
  | { readonly rule: 'propose'; readonly value: Decision; readonly validRound: number; readonly polka: readonly SignedVote[] }
  /** L22–L33, L57–L60: prevote; L44–L46, L61–L64: precommit nil. The step moves on to `step`. */
  | { readonly rule: 'vote'; readonly step: VoteStep; readonly value: VoteValue }
  /** L34–L35 (prevote) and L47–L48 (precommit): schedule the step's timeout, once per round. */
  | { readonly rule: 'schedule-timeout'; readonly step: 'prevote' | 'precommit' }
  /** L36–L43 in the prevote step: lock on `value`, precommit it, and make it the valid value. */
  | { readonly rule: 'lock'; readonly value: Decision; readonly polka: readonly SignedVote[] }
  /** L36, L42–L43 in the precommit step: only make `value` the valid value. */
  | { readonly rule: 'update-valid'; readonly value: Decision; readonly polka: readonly SignedVote[] };

/** Called for each precommit partial a combine found bad, before the search goes on. */
export type BadPartialSink = (round: number, member: number, value: Decision) => void;

/**
 * The first rule of Algorithm 1 that applies to the instance now, in this order, or null when none
 * does (then the instance waits for its next input). The caller evaluates it again after carrying
 * out the action, until none applies.
 */
export function nextRule(s: InstanceView, onBadPartial: BadPartialSink): RuleAction | null {
  const report = decideFromPrecommits(s, onBadPartial);
  if (report !== null) return { rule: 'decide', report };
  // L10: "upon start", where start is holding valid evidence for some value.
  if (s.round < 0 && (s.evidence.isValid('COMMIT') || s.evidence.isValid('ABORT'))) return { rule: 'start-round', round: 0 };
  const skipTo = roundToSkipTo(s);
  if (skipTo !== null) return { rule: 'start-round', round: skipTo };
  if (s.round < 0) return null;
  const rv = s.votes.at(s.round);
  if (s.roundStep === 'propose') {
    const proposal = proposeRule(s);
    if (proposal !== null) return proposal;
    const prevote = prevoteRule(s, rv);
    if (prevote !== null) return prevote;
  }
  // L34: 2f+1 prevotes of the round, for anything, while in the prevote step, the first time.
  if (s.roundStep === 'prevote' && !rv.prevoteTimeoutScheduled && rv.prevotes.voters >= s.ctx.q) return { rule: 'schedule-timeout', step: 'prevote' };
  const polka = polkaRule(s, rv);
  if (polka !== null) return polka;
  // L44: 2f+1 nil prevotes of the round while in the prevote step.
  if (s.roundStep === 'prevote' && rv.prevotes.count(null) >= s.ctx.q) return { rule: 'vote', step: 'precommit', value: null };
  // L47: 2f+1 precommits of the round, for anything, the first time.
  if (!rv.precommitTimeoutScheduled && rv.precommits.voters >= s.ctx.q) return { rule: 'schedule-timeout', step: 'precommit' };
  return null;
}

/** L57–L67: what the timeout of `step` in `round` does, if it still applies. */
export function timeoutRule(s: InstanceView, step: Step, round: number): RuleAction | null {
  if (s.report !== null || round !== s.round) return null;
  if (step === 'propose' && s.roundStep === 'propose') return { rule: 'vote', step: 'prevote', value: null }; // L57–L60
  if (step === 'prevote' && s.roundStep === 'prevote') return { rule: 'vote', step: 'precommit', value: null }; // L61–L64
  if (step === 'precommit') return { rule: 'start-round', round: round + 1 }; // L65–L67
  return null;
}

/**
 * L49: decides v in round r when q precommits for v in r carry partials that combine into a
 * report valid under the group key. Rounds are scanned in the order first seen, values in
 * DECISIONS order. Partials a combine finds bad go to `onBadPartial` (which excludes them from
 * later combines) and the search goes on: a retry of that (r, v) waits for more partials.
 */
function decideFromPrecommits(s: InstanceView, onBadPartial: BadPartialSink): Report | null {
  for (const [r, rv] of s.votes.all()) {
    for (const v of DECISIONS) {
      const partials: { index: number; signature: Uint8Array }[] = [];
      for (const pc of rv.precommits.votesFor(v)) {
        if (pc.partial !== null && !rv.badPartials.has(pc.voter)) partials.push({ index: pc.voter, signature: pc.partial });
      }
      if (partials.length < s.ctx.q) continue;
      partials.sort((a, b) => a.index - b.index);
      const body = reportBodyFor(s.ctx, s.settlementId, s.validUntilMs, v, r);
      const out = s.ctx.verifier.combine(s.ctx.cluster.commitments, reportDigest(body), partials, s.ctx.q);
      if (out.ok) return { ...body, signature: out.signature };
      for (const bad of out.bad) onBadPartial(r, bad, v);
      // Every partial not found bad is good, so a retry only happens once more arrive.
      assert(out.bad.length > 0, 'a failed combine names at least one bad partial');
    }
  }
  return null;
}

/** L55: the highest round above ours from which f+1 distinct members sent messages, if any. */
function roundToSkipTo(s: InstanceView): number | null {
  let best: number | null = null;
  for (const [r, rv] of s.votes.all()) {
    if (r > s.round && rv.senders.size >= s.ctx.f + 1 && (best === null || r > best)) best = r;
  }
  return best;
}

/**
 * L14–L19: the proposer of the round proposes validValue with its proof of lock if it has one
 * (L15–L16), else getValue() (L18): COMMIT if valid, else ABORT if valid. With neither it waits in
 * the propose step and proposes as soon as a value becomes valid, or its propose timeout fires.
 */
function proposeRule(s: InstanceView): RuleAction | null {
  if (s.ctx.self !== proposerOf(s.settlementId, s.round, s.ctx.n) || s.own.proposal(s.round) !== undefined) return null;
  if (s.validValue !== null) return { rule: 'propose', value: s.validValue, validRound: s.validRound, polka: s.validPolka };
  const value = s.evidence.isValid('COMMIT') ? 'COMMIT' : s.evidence.isValid('ABORT') ? 'ABORT' : null;
  return value === null ? null : { rule: 'propose', value, validRound: -1, polka: [] };
}

/**
 * L22–L27 (a fresh proposal, validRound −1) and L28–L33 (a re-proposal whose proof of lock, q
 * prevotes for v in validRound, is held): prevote v when valid(v) and the lock allows it, else nil.
 * The proposer's identity and the proof of lock were checked when the proposal was accepted.
 */
function prevoteRule(s: InstanceView, rv: RoundVotes): RuleAction | null {
  const p = rv.proposal;
  if (p === null) return null;
  const ignoreLock = s.ctx.params.mutationForTesting === 'ignore-lock';
  const valid = s.evidence.isValid(p.value);
  if (p.validRound === -1) {
    const ok = valid && (ignoreLock || s.lockedRound === -1 || s.lockedValue === p.value); // L23
    return { rule: 'vote', step: 'prevote', value: ok ? p.value : null };
  }
  if (s.votes.at(p.validRound).prevotes.count(p.value) >= s.ctx.q) {
    const ok = valid && (ignoreLock || s.lockedRound <= p.validRound || s.lockedValue === p.value); // L29
    return { rule: 'vote', step: 'prevote', value: ok ? p.value : null };
  }
  return null;
}

/**
 * L36: q prevotes for v in the round, valid(v), in the prevote step or later, the first time.
 * In the prevote step the node locks and precommits v (L37–L41); in both it takes v as its valid
 * value (L42–L43), with the polka as the proof of lock a later proposal of its own carries.
 */
function polkaRule(s: InstanceView, rv: RoundVotes): RuleAction | null {
  if (s.roundStep === 'propose' || rv.polkaHandled) return null;
  for (const v of DECISIONS) {
    if (rv.prevotes.count(v) >= s.ctx.q && s.evidence.isValid(v)) {
      const polka = rv.prevotes.votesFor(v);
      return s.roundStep === 'prevote' ? { rule: 'lock', value: v, polka } : { rule: 'update-valid', value: v, polka };
    }
  }
  return null;
}
