/**
 * One-shot Tendermint for one settlement (Buchman, Kwon, Milosevic, arXiv:1807.04938, Algorithm 1)
 * with Tandem's additions (docs/protocol.md, "Consensus"):
 *  - a value is the decision alone (COMMIT or ABORT); evidence travels with proposals and
 *    valid(v) is a pure, monotone function of the signed observations held (evidence.ts);
 *  - precommits for a value carry BLS partials over the report digest, and a node decides v in
 *    round r exactly when q precommits for v in r combine into a signature valid under the group
 *    key: the decision and the report are one event;
 *  - a valid report decides on its own; a proposal with validRound ≥ 0 carries its proof of lock.
 *
 * The instance is a deterministic state machine: `step(input)` is the only entry point. It takes
 * the input in (observations, authenticated messages, timeouts, resends), then fires the rules of
 * Algorithm 1 (rules.ts) until none applies, carrying out what each decides, and checks its
 * invariants (invariants.ts). It performs no I/O, reads no clock and draws no randomness. Effects
 * are ordered: a `persist` must be durable before any later effect of the same step runs
 * (write-ahead).
 */
import {
  type Decision,
  type LockRecord,
  type Message,
  type Report,
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
import {
  headerMatches,
  headerFor,
  observationAuthentic,
  proposalAuthentic,
  reportBodyFor,
  signObservation,
  signProposal,
  signVote,
  voteAuthentic,
} from './auth.js';
import type { Effect, Input, Misbehaviour, PersistedSettlement } from './types.js';
import { EvidencePool } from './evidence.js';
import { VoteKeeper } from './votes.js';
import { OwnMessages } from './own-messages.js';
import { type RuleAction, nextRule, timeoutRule } from './rules.js';
import { assertInvariants } from './invariants.js';
import type { InstanceView } from './view.js';

/** Evidence records kept per instance; older ones are dropped (bounded memory). */
const MISBEHAVIOUR_MAX = 64;
/**
 * Rules fired in one step, at most. Each firing changes (round, step), decides or sets a
 * once-per-round flag, and a step enters a new round at most twice (start or timeout, then one
 * skip to the highest round f+1 members are in), so a step fires about a dozen; reaching the bound
 * is a bug (a livelock), not a reason to stop quietly.
 */
const RULE_FIRINGS_PER_STEP_MAX = 64;

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
  /** Set where a report is taken, after its signature was verified there (see `decide`). */
  private reportVerified = false;

  private readonly evidence: EvidencePool;
  private readonly votes = new VoteKeeper();
  private readonly own = new OwnMessages();
  private latestObservation: SignedObservation | null = null;
  private deadlineObservation: SignedObservation | null = null;
  readonly misbehaviour: Misbehaviour[] = [];

  private effects: Effect[] = [];

  private constructor(
    private readonly ctx: NodeContext,
    readonly terms: Terms,
  ) {
    this.settlementId = computeSettlementId(terms);
    this.settlementIdHex = toHex(this.settlementId);
    this.validUntilMs = validUntilMs(terms);
    this.evidence = new EvidencePool(terms, ctx.groupPublicKey, ctx.f);
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
    // A report is persisted only by `decide`, after its signature was verified: not again here.
    s.reportVerified = rec.report !== null;
    for (const p of rec.proposals) s.own.addProposal(p);
    for (const v of rec.votes) s.own.addVote(v);
    if (rec.deadlineObservation) s.addObservation(rec.deadlineObservation);
    for (const v of rec.validPolka) s.votes.record(v);
    if (rec.report === null && rec.round >= 0) {
      s.round = rec.round;
      s.roundStep = s.own.vote(rec.round, 'precommit') ? 'precommit' : s.own.vote(rec.round, 'prevote') ? 'prevote' : 'propose';
      for (const v of rec.votes) s.votes.record(v);
      for (const p of rec.proposals) s.votes.at(p.round).proposal = p;
      s.schedule(s.roundStep, s.round);
      s.resendCurrent();
      s.checkRules();
    }
    s.assertInvariants();
    return { instance: s, effects: s.drain() };
  }

  get decided(): boolean {
    return this.report !== null;
  }

  isValid(v: Decision): boolean {
    return this.evidence.isValid(v);
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
      case 'timeout': {
        const action = timeoutRule(this.view(), input.step, input.round);
        if (action !== null) this.apply(action);
        break;
      }
      case 'resend':
        this.onResend();
        break;
    }
    if (!this.decided) this.checkRules();
    this.assertInvariants();
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

  /** Adds an authenticated observation to the evidence pool and announces values it made valid. */
  private addObservation(o: SignedObservation): void {
    for (const v of this.evidence.add(o)) this.emit({ type: 'valid', value: v });
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
      // A decided node answers any message about the settlement with the report (docs/protocol.md).
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
        if (this.acceptVoteMessage(m.vote)) this.votes.noteSender(m.vote.round, m.vote.voter);
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
    const rv = this.votes.at(p.round);
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
    this.votes.noteSender(p.round, p.proposer);
    // A valid proposal brings a node into round 0 through its evidence (now in the pool, so the
    // rule "valid evidence for some value" fires); an invalid one must not start rounds at all.
  }

  private acceptVoteMessage(v: SignedVote): boolean {
    if (!this.roundInWindow(v.round)) return false;
    return this.acceptVote(v);
  }

  /** Authenticates and records a vote; returns false for a forgery. Duplicates are by content. */
  private acceptVote(v: SignedVote): boolean {
    const set = this.votes.setOf(v.round, v.step);
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

  private roundInWindow(round: number): boolean {
    return Number.isInteger(round) && round >= 0 && round <= Math.max(this.round, 0) + this.ctx.params.roundWindow;
  }

  // ---------------------------------------------------------------------------------------------
  // Resends

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
   * precommit of the previous round. The last one is beyond the resends docs/protocol.md's Delivery lists first (reading 14),
   * but without it a lost precommit can deadlock: a node that moved on stops resending round r,
   * while a node left in round r waits forever for the q precommits that would start its
   * precommit timeout, and fewer than f+1 nodes ahead cannot pull it forward (found by explore,
   * seed 625 of explore-lock-race; docs/protocol.md, reading 14).
   */
  private resendCurrent(): void {
    if (this.round < 0) return;
    const p = this.own.proposal(this.round);
    if (p) this.emit({ type: 'broadcast', message: { kind: 'proposal', proposal: p } });
    for (const step of ['prevote', 'precommit'] as const) {
      const v = this.own.vote(this.round, step);
      if (v) this.emit({ type: 'broadcast', message: { kind: 'vote', vote: v } });
    }
    const previous = this.round > 0 ? this.own.vote(this.round - 1, 'precommit') : undefined;
    if (previous) this.emit({ type: 'broadcast', message: { kind: 'vote', vote: previous } });
  }

  // ---------------------------------------------------------------------------------------------
  // Firing the rules of Algorithm 1 (rules.ts) and carrying out what they decide

  /** Fires rules until none applies (or the node decided). */
  private checkRules(): void {
    for (let fired = 0; !this.decided; fired++) {
      const action = nextRule(this.view(), (round, member, value) => this.onBadPartial(round, member, value));
      if (action === null) return;
      assert(fired < RULE_FIRINGS_PER_STEP_MAX, `at most ${RULE_FIRINGS_PER_STEP_MAX} rules fire in one step`);
      this.apply(action);
    }
  }

  /** Carries out what a rule decided: the state change, then signing, persisting and sending. */
  private apply(a: RuleAction): void {
    switch (a.rule) {
      case 'decide':
        this.decide(a.report);
        return;
      case 'start-round':
        this.startRound(a.round);
        return;
      case 'propose':
        this.propose(a.value, a.validRound, a.polka);
        return;
      case 'vote':
        this.castVote(a.step, a.value);
        this.roundStep = a.step;
        return;
      case 'schedule-timeout': {
        const rv = this.votes.at(this.round);
        if (a.step === 'prevote') rv.prevoteTimeoutScheduled = true;
        else rv.precommitTimeoutScheduled = true;
        this.schedule(a.step, this.round);
        return;
      }
      case 'lock':
        this.votes.at(this.round).polkaHandled = true;
        this.lockedValue = a.value;
        this.lockedRound = this.round;
        this.setValid(a.value, a.polka);
        this.castVote('precommit', a.value); // persists the lock together with the vote
        this.roundStep = 'precommit';
        return;
      case 'update-valid':
        this.votes.at(this.round).polkaHandled = true;
        this.setValid(a.value, a.polka);
        this.persist();
        return;
    }
  }

  private setValid(v: Decision, polka: readonly SignedVote[]): void {
    this.validValue = v;
    this.validRound = this.round;
    this.validPolka = polka;
  }

  private startRound(r: number): void {
    assert(r > this.round, 'rounds only increase');
    this.round = r;
    this.roundStep = 'propose';
    this.emit({ type: 'round', round: r });
    this.persist();
    this.schedule('propose', r);
  }

  private propose(value: Decision, validRound: number, polka: readonly SignedVote[]): void {
    const p = signProposal(this.ctx, {
      ...this.header(),
      round: this.round,
      proposer: this.ctx.self,
      value,
      validRound,
      terms: this.terms,
      evidence: this.evidence.justification(value),
      polka,
    });
    this.own.addProposal(p);
    this.persist();
    this.emit({ type: 'signed', message: { kind: 'proposal', proposal: p } });
    this.emit({ type: 'broadcast', message: { kind: 'proposal', proposal: p } });
    this.votes.at(this.round).proposal = p;
    this.votes.noteSender(this.round, this.ctx.self);
  }

  /**
   * Signs (or re-uses) this node's vote for the current round and step. A vote once signed for a
   * (round, step) is never replaced, also across restarts: that is the slashing protection.
   */
  private castVote(step: VoteStep, value: VoteValue): void {
    let vote = this.own.vote(this.round, step);
    if (vote === undefined) {
      const partial = step === 'precommit' && value !== null ? this.ctx.signer.partialSign(reportDigest(reportBodyFor(this.ctx, this.settlementId, this.validUntilMs, value, this.round))) : null;
      vote = signVote(this.ctx, { ...this.header(), round: this.round, step, voter: this.ctx.self, value, partial });
      this.own.addVote(vote);
      this.persist();
      this.emit({ type: 'signed', message: { kind: 'vote', vote } });
    }
    this.votes.record(vote);
    this.votes.noteSender(this.round, this.ctx.self);
    this.emit({ type: 'broadcast', message: { kind: 'vote', vote } });
  }

  /** A combine named `member`'s partial for `value` in `round` bad: exclude it and record it. */
  private onBadPartial(round: number, member: number, value: Decision): void {
    this.votes.at(round).badPartials.add(member);
    this.recordMisbehaviour({ kind: 'bad-partial', member, round, value });
  }

  /** Takes `r` as the decision. Its signature was verified by the caller (the combine, or `onReport`). */
  private decide(r: Report): void {
    if (this.report !== null) return;
    this.report = r;
    this.reportVerified = true;
    this.persist();
    this.emit({ type: 'decided', report: r });
    this.emit({ type: 'broadcast', message: this.reportMessage() });
  }

  // ---------------------------------------------------------------------------------------------
  // Invariants, helpers and the persisted record

  /** Checked after every step and resume (invariants.ts); a failure is a bug, never bad input. */
  private assertInvariants(): void {
    assertInvariants(this.view());
  }

  private view(): InstanceView {
    return {
      ctx: this.ctx,
      settlementId: this.settlementId,
      validUntilMs: this.validUntilMs,
      round: this.round,
      roundStep: this.roundStep,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      validPolka: this.validPolka,
      report: this.report,
      reportVerified: this.reportVerified,
      evidence: this.evidence,
      votes: this.votes,
      own: this.own,
    };
  }

  reportMessage(): Message {
    assert(this.report !== null, 'decided');
    return { kind: 'report', report: this.report, terms: this.terms };
  }

  private header() {
    return headerFor(this.ctx, this.settlementId);
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
      proposals: this.own.allProposals(),
      votes: this.own.allVotes(),
      deadlineObservation: this.deadlineObservation,
      report: this.report,
    };
  }

  private persist(): void {
    this.emit({ type: 'persist', record: this.snapshot() });
  }
}

function sameLock(a: LockRecord | null, b: LockRecord | null): boolean {
  return a === null || b === null ? a === b : lockEquals(a, b);
}
