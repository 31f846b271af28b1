/**
 * One-shot Tendermint for one settlement (Buchman, Kwon, Milosevic, arXiv:1807.04938, Algorithm 1)
 * with Tandem's additions (DESIGN §2.2–§2.3):
 *  - a value is the decision alone (COMMIT or ABORT); evidence travels with proposals and
 *    valid(v) is a pure, monotone function of the signed observations held (f+1 distinct members);
 *  - precommits for a value carry BLS partials over the report digest, and a node decides v in
 *    round r exactly when q precommits for v in r combine into a signature valid under the group
 *    key: the decision and the report are one event;
 *  - a valid report decides on its own; a proposal with validRound ≥ 0 carries its proof of lock.
 *
 * The instance is a deterministic state machine: `step(input)` mutates the instance's own state and
 * returns effects. It performs no I/O, reads no clock and draws no randomness. Effects are ordered:
 * a `persist` must be durable before any later effect of the same step runs (write-ahead).
 */
import {
  type Decision,
  type LockRecord,
  type Message,
  type Report,
  type ReportBody,
  type SignedObservation,
  type SignedProposal,
  type SignedVote,
  type Terms,
  type VoteStep,
  type VoteValue,
  assert,
  encodeVoteBody,
  equalBytes,
  lockEquals,
  reportDigest,
  settlementId as computeSettlementId,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import { type NodeContext, type Step, proposerOf, timeoutMs } from './context.js';
import { headerMatches, observationAuthentic, proposalAuthentic, signObservation, signProposal, signVote, voteAuthentic } from './auth.js';
import type { Effect, Input, Misbehaviour, PersistedSettlement } from './types.js';
import { VoteSet } from './votes.js';
import { supports } from './validity.js';

const DECISIONS: readonly Decision[] = ['COMMIT', 'ABORT'];
/** Evidence records kept per instance; older ones are dropped (bounded memory). */
const MISBEHAVIOUR_MAX = 64;

interface RoundVotes {
  readonly prevotes: VoteSet;
  readonly precommits: VoteSet;
  proposal: SignedProposal | null;
  /** Members from which some message of this round was received (the f+1 round-skip rule). */
  readonly senders: Set<number>;
  /** Precommit partials known bad (excluded from combines) or known good. */
  readonly badPartials: Set<number>;
  prevoteTimeoutScheduled: boolean;
  precommitTimeoutScheduled: boolean;
  polkaHandled: boolean;
}

function newRound(): RoundVotes {
  return {
    prevotes: new VoteSet(),
    precommits: new VoteSet(),
    proposal: null,
    senders: new Set(),
    badPartials: new Set(),
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    polkaHandled: false,
  };
}

export class SettlementInstance {
  readonly settlementId: Uint8Array;
  readonly settlementIdHex: string;
  readonly validUntilMs: number;

  /** -1 until the node enters round 0. */
  round = -1;
  roundStep: Step = 'propose';
  lockedValue: Decision | null = null;
  lockedRound = -1;
  validValue: Decision | null = null;
  validRound = -1;
  validPolka: readonly SignedVote[] = [];
  report: Report | null = null;

  private readonly rounds = new Map<number, RoundVotes>();
  /** Per value, the first supporting observation of each member: valid(v) ⇔ size ≥ f+1. */
  private readonly support: Record<Decision, Map<number, SignedObservation>> = { COMMIT: new Map(), ABORT: new Map() };
  private readonly validAnnounced = new Set<Decision>();
  private latestObservation: SignedObservation | null = null;
  private deadlineObservation: SignedObservation | null = null;
  private readonly signedProposals = new Map<number, SignedProposal>();
  private readonly signedVotes = new Map<string, SignedVote>();
  readonly misbehaviour: Misbehaviour[] = [];

  private effects: Effect[] = [];

  private constructor(
    private readonly ctx: NodeContext,
    readonly terms: Terms,
  ) {
    this.settlementId = computeSettlementId(terms);
    this.settlementIdHex = toHex(this.settlementId);
    this.validUntilMs = validUntilMs(terms);
  }

  /** A fresh instance for terms learned from the intent, a proposal or a report. */
  static create(ctx: NodeContext, terms: Terms): SettlementInstance {
    return new SettlementInstance(ctx, terms);
  }

  /**
   * Rebuilds an instance after a restart from what was persisted. The node re-enters its last
   * round at the step its signed votes imply, never signs anything conflicting with them, and
   * schedules the timeout of that step so it keeps making progress.
   */
  static resume(ctx: NodeContext, rec: PersistedSettlement): { instance: SettlementInstance; effects: Effect[] } {
    const s = new SettlementInstance(ctx, rec.terms);
    s.lockedValue = rec.lockedValue;
    s.lockedRound = rec.lockedRound;
    s.validValue = rec.validValue;
    s.validRound = rec.validRound;
    s.validPolka = rec.validPolka;
    s.deadlineObservation = rec.deadlineObservation;
    s.report = rec.report;
    for (const p of rec.proposals) s.signedProposals.set(p.round, p);
    for (const v of rec.votes) s.signedVotes.set(voteKey(v.round, v.step), v);
    if (rec.deadlineObservation) s.addObservation(rec.deadlineObservation);
    for (const v of rec.validPolka) s.recordVote(v);
    if (rec.report === null && rec.round >= 0) {
      s.round = rec.round;
      s.roundStep = s.signedVotes.has(voteKey(rec.round, 'precommit')) ? 'precommit' : s.signedVotes.has(voteKey(rec.round, 'prevote')) ? 'prevote' : 'propose';
      for (const v of rec.votes) s.recordVote(v);
      for (const p of rec.proposals) s.roundVotes(p.round).proposal = p;
      s.schedule(s.roundStep, s.round);
      s.resendCurrent();
      s.checkRules();
    }
    return { instance: s, effects: s.drain() };
  }

  get decided(): boolean {
    return this.report !== null;
  }

  isValid(v: Decision): boolean {
    return this.support[v].size >= this.ctx.f + 1;
  }

  /** The only entry point: apply one input, return the effects in order. */
  step(input: Input): Effect[] {
    switch (input.type) {
      case 'observe':
        this.onObserve(input.asset, input.payment, input.deadline);
        break;
      case 'message':
        this.onMessage(input.from, input.message);
        break;
      case 'timeout':
        this.onTimeout(input.step, input.round);
        break;
      case 'resend':
        this.onResend();
        break;
    }
    if (!this.decided) this.checkRules();
    return this.drain();
  }

  private drain(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  private emit(e: Effect): void {
    this.effects.push(e);
  }

  // ---------------------------------------------------------------------------------------------
  // Observations and validity

  private onObserve(asset: SignedObservation['asset'], payment: SignedObservation['payment'], deadline: boolean): void {
    if (deadline) {
      // One deadline observation per settlement, ever: re-send the persisted one if it exists.
      if (this.deadlineObservation === null) {
        this.deadlineObservation = this.signOwnObservation(asset, payment, true);
        this.addObservation(this.deadlineObservation);
        this.emit({ type: 'signed', message: { kind: 'observation', observation: this.deadlineObservation } });
        this.persist();
      }
      if (!this.decided) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.deadlineObservation } });
      return;
    }
    const last = this.latestObservation;
    if (last !== null && last.asset.state === asset.state && last.payment.state === payment.state && sameLock(last.asset.lock, asset.lock) && sameLock(last.payment.lock, payment.lock)) {
      return; // nothing new to say
    }
    this.latestObservation = this.signOwnObservation(asset, payment, false);
    this.addObservation(this.latestObservation);
    this.emit({ type: 'signed', message: { kind: 'observation', observation: this.latestObservation } });
    if (!this.decided) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.latestObservation } });
  }

  private signOwnObservation(asset: SignedObservation['asset'], payment: SignedObservation['payment'], deadline: boolean): SignedObservation {
    return signObservation(this.ctx, { ...this.header(), signer: this.ctx.self, deadline, asset, payment });
  }

  /** Adds an authenticated observation to the evidence pool (monotone: nothing is ever removed). */
  private addObservation(o: SignedObservation): void {
    for (const v of DECISIONS) {
      if (!this.support[v].has(o.signer) && supports(v, o, this.terms, this.ctx.groupPublicKey)) {
        this.support[v].set(o.signer, o);
        if (this.isValid(v) && !this.validAnnounced.has(v)) {
          this.validAnnounced.add(v);
          this.emit({ type: 'valid', value: v });
        }
      }
    }
  }

  private acceptObservation(o: SignedObservation): boolean {
    if (!headerMatches(this.ctx, o, this.settlementId)) return false; // misrouted, not forged
    if (!observationAuthentic(this.ctx, o, this.settlementId)) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: o.signer, what: 'observation' });
      return false;
    }
    this.addObservation(o);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  private onMessage(from: number, m: Message): void {
    if (this.decided) {
      // A decided node answers any message about the settlement with the report (DESIGN §2.3).
      if (m.kind !== 'report' && from !== this.ctx.self) this.emit({ type: 'send', to: from, message: this.reportMessage() });
      return;
    }
    switch (m.kind) {
      case 'terms':
        return; // the runtime creates instances from terms; nothing more to do here
      case 'observation':
        this.acceptObservation(m.observation);
        return;
      case 'proposal':
        this.onProposal(m.proposal);
        return;
      case 'vote':
        if (this.acceptVoteMessage(m.vote)) this.noteSender(m.vote.round, m.vote.voter);
        return;
      case 'report':
        this.onReport(from, m.report);
        return;
    }
  }

  private onProposal(p: SignedProposal): void {
    if (!this.roundInWindow(p.round)) return;
    if (p.proposer !== proposerOf(this.settlementId, p.round, this.ctx.n)) return;
    if (!equalBytes(computeSettlementId(p.terms), this.settlementId)) return;
    const rv = this.roundVotes(p.round);
    if (rv.proposal !== null && rv.proposal.value === p.value && rv.proposal.validRound === p.validRound) {
      return; // the same proposal again (content identity is round, value and validRound)
    }
    if (!headerMatches(this.ctx, p, this.settlementId)) return; // misrouted, not forged
    if (!proposalAuthentic(this.ctx, p, this.settlementId)) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: p.proposer, what: 'proposal' });
      return;
    }
    if (rv.proposal !== null) {
      this.recordMisbehaviour({ kind: 'equivocation', member: p.proposer, round: p.round, step: 'proposal', first: rv.proposal.value, second: p.value });
      return;
    }
    for (const o of p.evidence) this.acceptObservation(o);
    if (p.validRound >= 0) {
      // The proof of lock: q prevotes for the value in validRound. Without it the proposal is void.
      const voters = new Set<number>();
      for (const v of p.polka) {
        if (v.step === 'prevote' && v.round === p.validRound && v.value === p.value && this.acceptVote(v)) voters.add(v.voter);
      }
      if (voters.size < this.ctx.q) return;
    }
    rv.proposal = p;
    this.noteSender(p.round, p.proposer);
    // A valid proposal brings a node into round 0 through its evidence (now in the pool, so the
    // rule "valid evidence for some value" fires); an invalid one must not start rounds at all.
  }

  private acceptVoteMessage(v: SignedVote): boolean {
    if (!this.roundInWindow(v.round)) return false;
    return this.acceptVote(v);
  }

  /** Authenticates and records a vote; returns false for a forgery. Duplicates are by content. */
  private acceptVote(v: SignedVote): boolean {
    const rv = this.roundVotes(v.round);
    const set = v.step === 'prevote' ? rv.prevotes : rv.precommits;
    const prior = set.get(v.voter, v.value);
    if (prior !== undefined && equalBytes(encodeVoteBody(prior), encodeVoteBody(v))) return true;
    if (!headerMatches(this.ctx, v, this.settlementId)) return false; // misrouted, not forged
    if (!voteAuthentic(this.ctx, v, this.settlementId)) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: v.voter, what: v.step });
      return false;
    }
    const earlier = set.anyOf(v.voter);
    if (set.add(v) === 'conflict') {
      this.recordMisbehaviour({ kind: 'equivocation', member: v.voter, round: v.round, step: v.step, first: String(earlier!.value), second: String(v.value) });
    }
    return true;
  }

  /** Records an already-authenticated vote (own votes, persisted polka). */
  private recordVote(v: SignedVote): void {
    const rv = this.roundVotes(v.round);
    (v.step === 'prevote' ? rv.prevotes : rv.precommits).add(v);
  }

  private onReport(from: number, r: Report): void {
    if (!this.reportMatches(r)) return;
    if (!this.ctx.verifier.bls(this.ctx.groupPublicKey, reportDigest(r), r.signature)) {
      // Reports are relayed by anyone, so the sender is only the relayer, but a correct node never
      // relays a report it did not verify: the sender is the one to suspect.
      this.recordMisbehaviour({ kind: 'bad-signature', member: from, what: 'report' });
      return;
    }
    this.decide(r);
  }

  private reportMatches(r: Report): boolean {
    return headerMatches(this.ctx, r, this.settlementId) && r.validUntilMs === this.validUntilMs;
  }

  private noteSender(round: number, member: number): void {
    this.roundVotes(round).senders.add(member);
  }

  private roundInWindow(round: number): boolean {
    return Number.isInteger(round) && round >= 0 && round <= Math.max(this.round, 0) + this.ctx.params.roundWindow;
  }

  private roundVotes(round: number): RoundVotes {
    let rv = this.rounds.get(round);
    if (rv === undefined) {
      rv = newRound();
      this.rounds.set(round, rv);
    }
    return rv;
  }

  // ---------------------------------------------------------------------------------------------
  // Timeouts and resends

  private onTimeout(step: Step, round: number): void {
    if (this.decided || round !== this.round) return;
    if (step === 'propose' && this.roundStep === 'propose') {
      this.castVote('prevote', null);
      this.roundStep = 'prevote';
    } else if (step === 'prevote' && this.roundStep === 'prevote') {
      this.castVote('precommit', null);
      this.roundStep = 'precommit';
    } else if (step === 'precommit') {
      this.startRound(round + 1);
    }
  }

  private onResend(): void {
    if (this.decided) {
      this.emit({ type: 'broadcast', message: this.reportMessage() });
      return;
    }
    if (this.latestObservation) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.latestObservation } });
    if (this.deadlineObservation) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.deadlineObservation } });
    this.resendCurrent();
  }

  /**
   * Re-broadcasts this node's proposal, prevote and precommit of the current round, and its
   * precommit of the previous round. The last one is not in DESIGN §2.3's list, but without it a
   * lost precommit can deadlock: a node that moved on stops resending round r, while a node left
   * in round r waits forever for the q precommits that would start its precommit timeout, and
   * fewer than f+1 nodes ahead cannot pull it forward (found by explore, seed 625 of
   * explore-lock-race).
   */
  private resendCurrent(): void {
    if (this.round < 0) return;
    const p = this.signedProposals.get(this.round);
    if (p) this.emit({ type: 'broadcast', message: { kind: 'proposal', proposal: p } });
    for (const step of ['prevote', 'precommit'] as const) {
      const v = this.signedVotes.get(voteKey(this.round, step));
      if (v) this.emit({ type: 'broadcast', message: { kind: 'vote', vote: v } });
    }
    const previous = this.round > 0 ? this.signedVotes.get(voteKey(this.round - 1, 'precommit')) : undefined;
    if (previous) this.emit({ type: 'broadcast', message: { kind: 'vote', vote: previous } });
  }

  // ---------------------------------------------------------------------------------------------
  // The rules of Algorithm 1, evaluated until none fires.

  private checkRules(): void {
    // Each pass either changes (round, step) or fires a once-per-round rule, so this terminates;
    // the bound guards against a bug turning it into a livelock.
    for (let pass = 0; pass < 64 && !this.decided; pass++) {
      if (!this.fireOneRule()) return;
    }
  }

  /** Fires the first applicable rule; returns whether one fired. */
  private fireOneRule(): boolean {
    if (this.tryDecide()) return true;
    if (this.round < 0) {
      if (this.isValid('COMMIT') || this.isValid('ABORT')) {
        this.startRound(0);
        return true;
      }
    }
    const skipTo = this.roundToSkipTo();
    if (skipTo !== null) {
      this.startRound(skipTo);
      return true;
    }
    if (this.round < 0) return false;
    const rv = this.roundVotes(this.round);
    const p = rv.proposal;
    if (this.roundStep === 'propose') {
      if (this.ctx.self === proposerOf(this.settlementId, this.round, this.ctx.n) && !this.signedProposals.has(this.round) && this.tryPropose()) return true;
      if (p !== null) {
        const ignoreLock = this.ctx.params.mutationForTesting === 'ignore-lock';
        const valid = this.isValid(p.value);
        if (p.validRound === -1) {
          const ok = valid && (ignoreLock || this.lockedRound === -1 || this.lockedValue === p.value);
          this.castVote('prevote', ok ? p.value : null);
          this.roundStep = 'prevote';
          return true;
        }
        if (this.roundVotes(p.validRound).prevotes.count(p.value) >= this.ctx.q) {
          const ok = valid && (ignoreLock || this.lockedRound <= p.validRound || this.lockedValue === p.value);
          this.castVote('prevote', ok ? p.value : null);
          this.roundStep = 'prevote';
          return true;
        }
      }
    }
    if (this.roundStep === 'prevote' && !rv.prevoteTimeoutScheduled && rv.prevotes.voters >= this.ctx.q) {
      rv.prevoteTimeoutScheduled = true;
      this.schedule('prevote', this.round);
      return true;
    }
    if (this.roundStep !== 'propose' && !rv.polkaHandled) {
      for (const v of DECISIONS) {
        if (rv.prevotes.count(v) >= this.ctx.q && this.isValid(v)) {
          rv.polkaHandled = true;
          const polka = rv.prevotes.votesFor(v);
          if (this.roundStep === 'prevote') {
            this.lockedValue = v;
            this.lockedRound = this.round;
            this.validValue = v;
            this.validRound = this.round;
            this.validPolka = polka;
            this.castVote('precommit', v); // persists the lock together with the vote
            this.roundStep = 'precommit';
          } else {
            this.validValue = v;
            this.validRound = this.round;
            this.validPolka = polka;
            this.persist();
          }
          return true;
        }
      }
    }
    if (this.roundStep === 'prevote' && rv.prevotes.count(null) >= this.ctx.q) {
      this.castVote('precommit', null);
      this.roundStep = 'precommit';
      return true;
    }
    if (!rv.precommitTimeoutScheduled && rv.precommits.voters >= this.ctx.q) {
      rv.precommitTimeoutScheduled = true;
      this.schedule('precommit', this.round);
      return true;
    }
    return false;
  }

  /** The highest round above ours from which f+1 distinct members sent messages, if any. */
  private roundToSkipTo(): number | null {
    let best: number | null = null;
    for (const [r, rv] of this.rounds) {
      if (r > this.round && rv.senders.size >= this.ctx.f + 1 && (best === null || r > best)) best = r;
    }
    return best;
  }

  private startRound(r: number): void {
    assert(r > this.round, 'rounds only increase');
    this.round = r;
    this.roundStep = 'propose';
    this.emit({ type: 'round', round: r });
    this.persist();
    this.schedule('propose', r);
    // The proposer proposes in fireOneRule as soon as it has a valid value (maybe later).
  }

  private tryPropose(): boolean {
    let value: Decision | null = this.validValue;
    if (value === null) value = this.isValid('COMMIT') ? 'COMMIT' : this.isValid('ABORT') ? 'ABORT' : null;
    if (value === null) return false; // nothing valid yet: propose when evidence arrives, or time out
    const evidence = [...this.support[value].values()].sort((a, b) => a.signer - b.signer).slice(0, this.ctx.f + 1);
    const withLock = this.validValue !== null;
    const p = signProposal(this.ctx, {
      ...this.header(),
      round: this.round,
      proposer: this.ctx.self,
      value,
      validRound: withLock ? this.validRound : -1,
      terms: this.terms,
      evidence,
      polka: withLock ? this.validPolka : [],
    });
    this.signedProposals.set(this.round, p);
    this.persist();
    this.emit({ type: 'signed', message: { kind: 'proposal', proposal: p } });
    this.emit({ type: 'broadcast', message: { kind: 'proposal', proposal: p } });
    this.roundVotes(this.round).proposal = p;
    this.noteSender(this.round, this.ctx.self);
    return true;
  }

  /**
   * Signs (or re-uses) this node's vote for the current round and step. A vote once signed for a
   * (round, step) is never replaced, also across restarts: that is the slashing protection.
   */
  private castVote(step: VoteStep, value: VoteValue): void {
    const key = voteKey(this.round, step);
    let vote = this.signedVotes.get(key);
    if (vote === undefined) {
      const partial = step === 'precommit' && value !== null ? this.ctx.signer.partialSign(reportDigest(this.reportBody(value, this.round))) : null;
      vote = signVote(this.ctx, { ...this.header(), round: this.round, step, voter: this.ctx.self, value, partial });
      this.signedVotes.set(key, vote);
      this.persist();
      this.emit({ type: 'signed', message: { kind: 'vote', vote } });
    }
    this.recordVote(vote);
    this.noteSender(this.round, this.ctx.self);
    this.emit({ type: 'broadcast', message: { kind: 'vote', vote } });
  }

  /**
   * Decides v in round r when q precommits for v in r carry partials that combine into a valid
   * report. Bad partials are excluded and recorded; the node keeps collecting.
   */
  private tryDecide(): boolean {
    for (const [r, rv] of this.rounds) {
      for (const v of DECISIONS) {
        const partials: { index: number; signature: Uint8Array }[] = [];
        for (const pc of rv.precommits.votesFor(v)) {
          if (pc.partial !== null && !rv.badPartials.has(pc.voter)) partials.push({ index: pc.voter, signature: pc.partial });
        }
        if (partials.length < this.ctx.q) continue;
        partials.sort((a, b) => a.index - b.index);
        const body = this.reportBody(v, r);
        const out = this.ctx.verifier.combine(this.ctx.cluster.commitments, reportDigest(body), partials, this.ctx.q);
        if (out.ok) {
          this.decide({ ...body, signature: out.signature });
          return true;
        }
        for (const bad of out.bad) {
          rv.badPartials.add(bad);
          this.recordMisbehaviour({ kind: 'bad-partial', member: bad, round: r, value: v });
        }
        // Every partial not found bad is good, so a retry only happens once more arrive.
        assert(out.bad.length > 0, 'a failed combine names at least one bad partial');
      }
    }
    return false;
  }

  private decide(r: Report): void {
    if (this.report !== null) return;
    this.report = r;
    this.persist();
    this.emit({ type: 'decided', report: r });
    this.emit({ type: 'broadcast', message: this.reportMessage() });
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private reportBody(decision: Decision, round: number): ReportBody {
    return { ...this.header(), decision, round, validUntilMs: this.validUntilMs };
  }

  reportMessage(): Message {
    assert(this.report !== null, 'decided');
    return { kind: 'report', report: this.report, terms: this.terms };
  }

  private header() {
    return { networkId: this.ctx.cluster.networkId, configDigest: this.ctx.configDigest, settlementId: this.settlementId };
  }

  private schedule(step: Step, round: number): void {
    this.emit({ type: 'schedule', step, round, delayMs: timeoutMs(this.ctx.params, step, round) });
  }

  private recordMisbehaviour(m: Misbehaviour): void {
    if (this.misbehaviour.length >= MISBEHAVIOUR_MAX) this.misbehaviour.shift();
    this.misbehaviour.push(m);
    this.emit({ type: 'evidence', misbehaviour: m });
  }

  /** The write-ahead record: everything a restart needs to never contradict what was sent. */
  snapshot(): PersistedSettlement {
    return {
      terms: this.terms,
      round: this.round,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      validPolka: [...this.validPolka],
      proposals: [...this.signedProposals.values()],
      votes: [...this.signedVotes.values()],
      deadlineObservation: this.deadlineObservation,
      report: this.report,
    };
  }

  private persist(): void {
    this.emit({ type: 'persist', record: this.snapshot() });
  }
}

function voteKey(round: number, step: VoteStep): string {
  return `${round}:${step}`;
}

function sameLock(a: LockRecord | null, b: LockRecord | null): boolean {
  return a === null || b === null ? a === b : lockEquals(a, b);
}
