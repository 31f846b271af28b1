/**
 * The rules of Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus"
 * (arXiv:1807.04938), for one height, each labelled with the paper's line numbers (`L22` is line
 * 22 of Algorithm 1). A rule reads the instance (an AlgorithmView) and says what to do (a
 * RuleAction); the instance carries it out: signs, persists, sends (instance.ts and
 * v2/height.ts, `apply`). The rules serve both protocol versions: values are named by key (v1 the
 * decision, v2 the batch header digest) and what differs is asked of the view's ports.
 *
 * Tandem's differences from the paper, all deliberate (docs/protocol.md):
 *  - v1: a value is the decision alone, so "a PROPOSAL for v and 2f+1 votes for id(v)" (L36, L49)
 *    is "q votes for v": the proposal adds nothing a node needs to check v; v2: valid(v) and the
 *    decision need the batch's entries, which the view holds by header digest;
 *  - round 0 starts on valid evidence for some value (v1) or a ready entry (v2) (L10's "start"),
 *    and the round-skip rule (L55) also brings a node that has not started into the round of its
 *    peers;
 *  - v2: a node not locked on a fresh proposal's header (validRound −1) also asks the fresh-COMMIT
 *    filter (L23); re-proposals, locks, precommits and decisions ignore it;
 *  - every node, the proposer included, schedules the propose timeout when it enters a round (L21),
 *    and a proposer with no valid value yet waits in the propose step rather than proposing;
 *  - L49 decides v in round r exactly when q precommits for v in r carry partials that combine
 *    into a threshold signature valid under the group key: the decision and the report are one.
 */
import { assert } from '@tandem/protocol';
import type { Step } from './context.js';
import type { RoundVotes, VoteKeeper, VoteLike, VoteSet } from './votes.js';

/** What a rule decided; the instance carries it out (instance.ts, v2/height.ts: `apply`). */
export type RuleAction<V extends string, Vt, R> =
  /** L49–L51: decide with this report (its threshold signature verified by the combine). */
  | { readonly rule: 'decide'; readonly report: R }
  /** L10, L55–L56, L65–L67: StartRound(round), L11–L13 and L21. */
  | { readonly rule: 'start-round'; readonly round: number }
  /** L14–L19: broadcast a proposal of `value`, with its proof of lock when validRound ≥ 0. */
  | { readonly rule: 'propose'; readonly value: V; readonly validRound: number; readonly polka: readonly Vt[] }
  /** L22–L33, L57–L60: prevote; L44–L46, L61–L64: precommit nil. The step moves on to `step`. */
  | { readonly rule: 'vote'; readonly step: 'prevote' | 'precommit'; readonly value: V | null }
  /** L34–L35 (prevote) and L47–L48 (precommit): schedule the step's timeout, once per round. */
  | { readonly rule: 'schedule-timeout'; readonly step: 'prevote' | 'precommit' }
  /** L36–L43 in the prevote step: lock on `value`, precommit it, and make it the valid value. */
  | { readonly rule: 'lock'; readonly value: V; readonly polka: readonly Vt[] }
  /** L36, L42–L43 in the precommit step: only make `value` the valid value. */
  | { readonly rule: 'update-valid'; readonly value: V; readonly polka: readonly Vt[] };

/** Called for each precommit partial a combine found bad, before the search goes on. */
export type BadPartialSink<V extends string> = (round: number, member: number, value: V) => void;

/** A combine of q partials for (round, value): the report, or the members whose partials were bad. */
export type CombineResult<R> = { readonly ok: true; readonly report: R } | { readonly ok: false; readonly bad: readonly number[] };

/**
 * One instance as the rules see it: Algorithm 1's variables, the votes kept, and ports for what
 * differs between protocol versions. Values are keys (V): v1 the decision, v2 the header digest.
 */
export interface AlgorithmView<V extends string, Vt extends VoteLike, Pr, R> extends AlgorithmPorts<V, Vt, Pr, R> {
  readonly q: number;
  readonly f: number;
  /** -1 until the node enters round 0. */
  readonly round: number;
  readonly roundStep: Step;
  readonly lockedValue: V | null;
  readonly lockedRound: number;
  readonly validValue: V | null;
  readonly validRound: number;
  /** The q prevotes for validValue in validRound: the proof of lock a re-proposal carries. */
  readonly validPolka: readonly Vt[];
  readonly decided: boolean;
  readonly votes: VoteKeeper<Vt, Pr>;
  /** The 'ignore-lock' mutation (a deliberately broken build, for tests only). */
  readonly ignoreLock: boolean;
}

/** What differs between protocol versions, asked by the rules. */
export interface AlgorithmPorts<V extends string, Vt extends VoteLike, Pr, R> {
  /** L10's "start": v1 valid evidence for some value, v2 a ready entry or a valid proposal. */
  canStart(): boolean;
  /** This node proposes `round` and has not signed a proposal for it. */
  mayPropose(round: number): boolean;
  /** L18 getValue(): the value a fresh proposal of this node would carry, or null for none yet. */
  getValue(): V | null;
  /** The value and validRound a taken proposal carries. */
  proposalOf(p: Pr): { readonly value: V; readonly validRound: number };
  /** valid(v) of Algorithm 1: pure and monotone (false while the value's content is unknown). */
  isValid(v: V): boolean;
  /** v2's fresh-COMMIT filter for a fresh proposal of v not locked on (v1: always true). */
  freshAllowed(v: V): boolean;
  /** The values worth a decide or polka check in a step's votes, in a fixed order. */
  candidates(set: VoteSet<Vt>): readonly V[];
  /** Combines q partials for v in round (never across rounds); null while v cannot be decided yet. */
  combine(round: number, v: V, partials: readonly { index: number; signature: Uint8Array }[]): CombineResult<R> | null;
}

type View<V extends string, Vt extends VoteLike, Pr, R> = AlgorithmView<V, Vt, Pr, R>;

/**
 * The first rule of Algorithm 1 that applies to the instance now, in this order, or null when none
 * does (then the instance waits for its next input). The caller evaluates it again after carrying
 * out the action, until none applies.
 */
export function nextRule<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>, onBadPartial: BadPartialSink<V>): RuleAction<V, Vt, R> | null {
  const report = decideFromPrecommits(s, onBadPartial);
  if (report !== null) return { rule: 'decide', report };
  // L10: "upon start".
  if (s.round < 0 && s.canStart()) return { rule: 'start-round', round: 0 };
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
  if (s.roundStep === 'prevote' && !rv.prevoteTimeoutScheduled && rv.prevotes.voters >= s.q) return { rule: 'schedule-timeout', step: 'prevote' };
  const polka = polkaRule(s, rv);
  if (polka !== null) return polka;
  // L44: 2f+1 nil prevotes of the round while in the prevote step.
  if (s.roundStep === 'prevote' && rv.prevotes.count(null) >= s.q) return { rule: 'vote', step: 'precommit', value: null };
  // L47: 2f+1 precommits of the round, for anything, the first time.
  if (!rv.precommitTimeoutScheduled && rv.precommits.voters >= s.q) return { rule: 'schedule-timeout', step: 'precommit' };
  return null;
}

/** L57–L67: what the timeout of `step` in `round` does, if it still applies. */
export function timeoutRule<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>, step: Step, round: number): RuleAction<V, Vt, R> | null {
  if (s.decided || round !== s.round) return null;
  if (step === 'propose' && s.roundStep === 'propose') return { rule: 'vote', step: 'prevote', value: null }; // L57–L60
  if (step === 'prevote' && s.roundStep === 'prevote') return { rule: 'vote', step: 'precommit', value: null }; // L61–L64
  if (step === 'precommit') return { rule: 'start-round', round: round + 1 }; // L65–L67
  return null;
}

/**
 * L49: decides v in round r when q precommits for v in r carry partials that combine into a
 * report valid under the group key. Rounds are scanned in the order first seen, values in the
 * view's candidate order. Partials a combine finds bad go to `onBadPartial` (which excludes them
 * from later combines) and the search goes on: a retry of that (r, v) waits for more partials.
 */
function decideFromPrecommits<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>, onBadPartial: BadPartialSink<V>): R | null {
  for (const [r, rv] of s.votes.all()) {
    for (const v of s.candidates(rv.precommits)) {
      const partials: { index: number; signature: Uint8Array }[] = [];
      for (const pc of rv.precommits.votesFor(v)) {
        if (pc.partial !== null && !rv.badPartials.has(pc.voter)) partials.push({ index: pc.voter, signature: pc.partial });
      }
      if (partials.length < s.q) continue;
      partials.sort((a, b) => a.index - b.index);
      const out = s.combine(r, v, partials);
      if (out === null) continue;
      if (out.ok) return out.report;
      for (const bad of out.bad) onBadPartial(r, bad, v);
      // Every partial not found bad is good, so a retry only happens once more arrive.
      assert(out.bad.length > 0, 'a failed combine names at least one bad partial');
    }
  }
  return null;
}

/** L55: the highest round above ours from which f+1 distinct members sent messages, if any. */
function roundToSkipTo<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>): number | null {
  let best: number | null = null;
  for (const [r, rv] of s.votes.all()) {
    if (r > s.round && rv.senders.size >= s.f + 1 && (best === null || r > best)) best = r;
  }
  return best;
}

/**
 * L14–L19: the proposer of the round proposes validValue with its proof of lock if it has one
 * (L15–L16), else getValue() (L18). With no value it waits in the propose step and proposes as
 * soon as it has one, or its propose timeout fires.
 */
function proposeRule<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>): RuleAction<V, Vt, R> | null {
  if (!s.mayPropose(s.round)) return null;
  if (s.validValue !== null) return { rule: 'propose', value: s.validValue, validRound: s.validRound, polka: s.validPolka };
  const value = s.getValue();
  return value === null ? null : { rule: 'propose', value, validRound: -1, polka: [] };
}

/**
 * L22–L27 (a fresh proposal, validRound −1) and L28–L33 (a re-proposal whose proof of lock, q
 * prevotes for v in validRound, is held): prevote v when valid(v) and the lock allows it, else nil.
 * The proposer's identity and the proof of lock were checked when the proposal was accepted.
 */
function prevoteRule<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>, rv: RoundVotes<Vt, Pr>): RuleAction<V, Vt, R> | null {
  if (rv.proposal === null) return null;
  const p = s.proposalOf(rv.proposal);
  const valid = s.isValid(p.value);
  if (p.validRound === -1) {
    const lockAllows = s.ignoreLock || s.lockedRound === -1 || s.lockedValue === p.value; // L23
    const ok = valid && lockAllows && (s.lockedValue === p.value || s.freshAllowed(p.value));
    return { rule: 'vote', step: 'prevote', value: ok ? p.value : null };
  }
  if (s.votes.at(p.validRound).prevotes.count(p.value) >= s.q) {
    const ok = valid && (s.ignoreLock || s.lockedRound <= p.validRound || s.lockedValue === p.value); // L29
    return { rule: 'vote', step: 'prevote', value: ok ? p.value : null };
  }
  return null;
}

/**
 * L36: q prevotes for v in the round, valid(v), in the prevote step or later, the first time.
 * In the prevote step the node locks and precommits v (L37–L41); in both it takes v as its valid
 * value (L42–L43), with the polka as the proof of lock a later proposal of its own carries.
 */
function polkaRule<V extends string, Vt extends VoteLike, Pr, R>(s: View<V, Vt, Pr, R>, rv: RoundVotes<Vt, Pr>): RuleAction<V, Vt, R> | null {
  if (s.roundStep === 'propose' || rv.polkaHandled) return null;
  for (const v of s.candidates(rv.prevotes)) {
    if (rv.prevotes.count(v) >= s.q && s.isValid(v)) {
      const polka = rv.prevotes.votesFor(v);
      return s.roundStep === 'prevote' ? { rule: 'lock', value: v, polka } : { rule: 'update-valid', value: v, polka };
    }
  }
  return null;
}
