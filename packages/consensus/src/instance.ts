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
  equalBytes,
  lockEquals,
  reportDigest,
  settlementId as computeSettlementId,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import { type NodeContext, proposerOf } from './context.js';
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
import type { Effect, Input, PersistedSettlement } from './types.js';
import { EvidencePool } from './evidence.js';
import { RoundMachine } from './machine.js';
import { assertInvariants } from './invariants.js';
import { type InstanceView, type SettlementPorts, SETTLEMENT_WIRE, settlementPorts } from './view.js';

export class SettlementInstance extends RoundMachine<Decision, SignedVote, SignedProposal, SignedProposal, Report, Effect, Message> {
  readonly settlementId: Uint8Array;
  readonly settlementIdHex: string;
  readonly validUntilMs: number;

  report: Report | null = null;
  /** Set where a report is taken, after its signature was verified there (see `decide`). */
  private reportVerified = false;

  private readonly evidence: EvidencePool;
  private readonly ports: SettlementPorts;
  private latestObservation: SignedObservation | null = null;
  private deadlineObservation: SignedObservation | null = null;

  private constructor(
    private readonly ctx: NodeContext,
    readonly terms: Terms,
  ) {
    super(ctx, SETTLEMENT_WIRE);
    this.settlementId = computeSettlementId(terms);
    this.settlementIdHex = toHex(this.settlementId);
    this.validUntilMs = validUntilMs(terms);
    this.evidence = new EvidencePool(terms, ctx.groupPublicKey, ctx.f);
    this.ports = settlementPorts(ctx, this.settlementId, this.validUntilMs, this.evidence, this.own);
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
    s.deadlineObservation = rec.deadlineObservation;
    s.report = rec.report;
    // A report is persisted only by `decide`, after its signature was verified: not again here.
    s.reportVerified = rec.report !== null;
    for (const p of rec.proposals) s.own.addProposal(p);
    for (const v of rec.votes) s.own.addVote(v);
    if (rec.deadlineObservation) s.addObservation(rec.deadlineObservation);
    return { instance: s, effects: s.restore(rec) };
  }

  get decided(): boolean {
    return this.report !== null;
  }

  isValid(v: Decision): boolean {
    return this.evidence.isValid(v);
  }

  /** The only entry point: apply one input, return the effects in order. */
  step(input: Input): Effect[] {
    if (input.type === 'observe') this.onObserve(input.asset, input.payment, input.deadline);
    else this.takeShared(input);
    return this.finishStep();
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

  protected onMessage(from: number, m: Message): void {
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
    const rv = this.admitProposal(
      p,
      () => headerMatches(this.ctx, p, this.settlementId),
      () => proposalAuthentic(this.ctx, p, this.settlementId),
    );
    if (rv === null) return;
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

  // ---------------------------------------------------------------------------------------------
  // Resends

  protected onResend(): void {
    if (this.decided) {
      this.emit({ type: 'broadcast', message: this.reportMessage() });
      return;
    }
    if (this.latestObservation) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.latestObservation } });
    if (this.deadlineObservation) this.emit({ type: 'broadcast', message: { kind: 'observation', observation: this.deadlineObservation } });
    this.resendCurrent();
  }

  // ---------------------------------------------------------------------------------------------
  // The acts the rules call for (machine.ts fires the rules and carries out what they decide)

  protected signProposal(value: Decision, validRound: number, polka: readonly SignedVote[]): SignedProposal {
    return signProposal(this.ctx, {
      ...this.header(),
      round: this.round,
      proposer: this.ctx.self,
      value,
      validRound,
      terms: this.terms,
      evidence: this.evidence.justification(value),
      polka,
    });
  }

  protected ownTaken(p: SignedProposal): SignedProposal {
    return p;
  }

  protected signVote(step: VoteStep, value: VoteValue): SignedVote {
    const partial = step === 'precommit' && value !== null ? this.ctx.signer.partialSign(reportDigest(reportBodyFor(this.ctx, this.settlementId, this.validUntilMs, value, this.round))) : null;
    return signVote(this.ctx, { ...this.header(), round: this.round, step, voter: this.ctx.self, value, partial });
  }

  protected checkVote(v: SignedVote): 'ok' | 'misrouted' | 'forged' {
    if (!headerMatches(this.ctx, v, this.settlementId)) return 'misrouted';
    return voteAuthentic(this.ctx, v, this.settlementId) ? 'ok' : 'forged';
  }

  /** Takes `r` as the decision. Its signature was verified by the caller (the combine, or `onReport`). */
  protected decide(r: Report): void {
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
  protected assertInvariants(): void {
    assertInvariants(this.view());
  }

  protected view(): InstanceView {
    return {
      ...this.ports,
      ...this.algorithmState(),
      ctx: this.ctx,
      settlementId: this.settlementId,
      validUntilMs: this.validUntilMs,
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

  /** The write-ahead record: everything a restart needs to never contradict what was sent. */
  snapshot(): PersistedSettlement {
    return {
      terms: this.terms,
      ...this.persistedRounds(),
      deadlineObservation: this.deadlineObservation,
      report: this.report,
    };
  }

  protected persist(): void {
    this.emit({ type: 'persist', record: this.snapshot() });
  }
}

function sameLock(a: LockRecord | null, b: LockRecord | null): boolean {
  return a === null || b === null ? a === b : lockEquals(a, b);
}
