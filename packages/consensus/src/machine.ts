/**
 * What every one-shot Tendermint instance of Tandem shares, whatever its value (v1 a settlement's
 * decision, instance.ts; v2 a height's batch header, v2/height.ts): Algorithm 1's variables, the
 * loop that fires the rules (rules.ts) until none applies, carrying out what a rule decides, the
 * slashing protection (one signed proposal per round, one vote per (round, step), persisted before
 * it is sent), taking votes and proposals in, resends and resuming after a restart. The instance
 * supplies what differs by version: signing, checking signatures, message shapes, deciding.
 * Pure: no clock, no randomness, no I/O.
 */
import { type VoteStep, assert, equalBytes } from '@tandem/protocol';
import { type NodeContext, type Step, timeoutMs } from './context.js';
import { OwnMessages } from './own-messages.js';
import { type AlgorithmPorts, type AlgorithmView, type RuleAction, nextRule, timeoutRule } from './rules.js';
import type { InstanceEffect, MisbehaviourOf, SharedInput } from './types.js';
import { type RoundVotes, VoteKeeper, type VoteKeeping, type VoteLike } from './votes.js';

/**
 * Rules fired in one step, at most. Each firing changes (round, step), decides or sets a
 * once-per-round flag, and a step enters a new round at most twice (start or timeout, then one
 * skip to the highest round f+1 members are in), so a step fires about a dozen; reaching the bound
 * is a bug (a livelock), not a reason to stop quietly.
 */
const RULE_FIRINGS_PER_STEP_MAX = 64;
/** Evidence records kept per instance; older ones are dropped (bounded memory). */
const MISBEHAVIOUR_MAX = 64;

/** The effects the shared part emits (it never persists a record itself: the instance does). */
export type MachineEffect<Msg, V extends string> = InstanceEffect<Msg, never, V>;

/**
 * How one protocol version's votes and proposals are kept and travel: the value key of a vote, the
 * message carrying a vote or a proposal, a vote's signed bytes (duplicates are recognised by
 * content, not by signature bytes), and `asEffect`, the identity `(e) => e`, which type-checks
 * only when the version's effects E include the shared ones (so the shared part needs no cast).
 */
export interface MachineWire<V extends string, Vt extends VoteLike, P, E, Msg> {
  readonly keeping: VoteKeeping<Vt>;
  readonly voteMessage: (v: Vt) => Msg;
  readonly proposalMessage: (p: P) => Msg;
  readonly voteBody: (v: Vt) => Uint8Array;
  readonly asEffect: (e: MachineEffect<Msg, V>) => E;
}

/** What every version persists of Algorithm 1's variables. */
export interface PersistedRounds<V extends string, Vt> {
  readonly round: number;
  readonly lockedValue: V | null;
  readonly lockedRound: number;
  readonly validValue: V | null;
  readonly validRound: number;
  readonly validPolka: readonly Vt[];
}

/** A proposal as the gate of `admitProposal` sees it. */
export interface ProposalFacts<V> {
  readonly round: number;
  readonly proposer: number;
  readonly value: V;
  readonly validRound: number;
}

/**
 * V values by key, Vt signed votes, Pr the proposal kept per round, P the proposal this node signs,
 * R what a decision holds, E the instance's effects (a superset of MachineEffect), Msg its messages.
 */
export abstract class RoundMachine<V extends string, Vt extends VoteLike, Pr, P extends { readonly round: number }, R, E, Msg> {
  /** -1 until the node enters round 0. */
  round = -1;
  roundStep: Step = 'propose';
  lockedValue: V | null = null;
  lockedRound = -1;
  validValue: V | null = null;
  validRound = -1;
  validPolka: readonly Vt[] = [];
  readonly misbehaviour: MisbehaviourOf<V>[] = [];

  protected readonly votes: VoteKeeper<Vt, Pr>;
  protected readonly own = new OwnMessages<P, Vt>();
  private effects: E[] = [];

  protected constructor(
    protected readonly node: NodeContext,
    private readonly wire: MachineWire<V, Vt, P, E, Msg>,
  ) {
    this.votes = new VoteKeeper<Vt, Pr>(wire.keeping);
  }

  abstract get decided(): boolean;
  protected abstract view(): AlgorithmView<V, Vt, Pr, R>;
  protected abstract assertInvariants(): void;
  protected abstract decide(report: R): void;
  protected abstract persist(): void;
  protected abstract onMessage(from: number, m: Msg): void;
  /** Re-broadcasts what docs/protocol.md's Delivery asks of this instance (its current round, or its decision). */
  protected abstract onResend(): void;
  /** Signs this node's proposal of `value` for the current round, with its attachments. */
  protected abstract signProposal(value: V, validRound: number, polka: readonly Vt[]): P;
  /** What the round's record keeps of a proposal this node made. */
  protected abstract ownTaken(p: P): Pr;
  /** Signs this node's vote (with its partial on a precommit for a value) for the current round. */
  protected abstract signVote(step: VoteStep, value: V | null): Vt;
  /**
   * Whether a vote binds this network, configuration and instance ('misrouted' when not: no
   * forgery) and carries its voter's signature ('forged' when not).
   */
  protected abstract checkVote(v: Vt): 'ok' | 'misrouted' | 'forged';

  /** Algorithm 1's variables and the votes, as every version's view carries them. */
  protected algorithmState(): Omit<AlgorithmView<V, Vt, Pr, R>, keyof AlgorithmPorts<V, Vt, Pr, R>> {
    return {
      q: this.node.q,
      f: this.node.f,
      round: this.round,
      roundStep: this.roundStep,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      validPolka: this.validPolka,
      decided: this.decided,
      votes: this.votes,
      ignoreLock: this.node.params.mutationForTesting === 'ignore-lock',
    };
  }

  /** What every version's write-ahead record holds of Algorithm 1 and of what this node signed. */
  protected persistedRounds(): PersistedRounds<V, Vt> & { readonly proposals: P[]; readonly votes: Vt[] } {
    return {
      round: this.round,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      validPolka: [...this.validPolka],
      proposals: this.own.allProposals(),
      votes: this.own.allVotes(),
    };
  }

  protected drain(): E[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  protected emit(e: E): void {
    this.effects.push(e);
  }

  private emitShared(e: MachineEffect<Msg, V>): void {
    this.effects.push(this.wire.asEffect(e));
  }

  /** After a step's input was taken: fire the rules, check the invariants, hand out the effects. */
  protected finishStep(): E[] {
    if (!this.decided) this.checkRules();
    this.assertInvariants();
    return this.drain();
  }

  /** Takes an input every version has: a message, a timeout (L57–L67, if it still applies) or a resend. */
  protected takeShared(input: SharedInput<Msg>): void {
    if (input.type === 'message') {
      this.onMessage(input.from, input.message);
    } else if (input.type === 'timeout') {
      const action = timeoutRule(this.view(), input.step, input.round);
      if (action !== null) this.apply(action);
    } else {
      this.onResend();
    }
  }

  /**
   * After a restart, once the instance restored its own proposals and votes and its decision:
   * takes back the lock and the valid value, and an undecided instance re-enters its last round at
   * the step its signed votes imply, schedules that step's timeout so it keeps making progress,
   * re-sends what it signed there and fires the rules. It never signs anything conflicting with
   * what it restored. Returns the effects of resuming.
   */
  protected restore(rec: PersistedRounds<V, Vt>): E[] {
    this.lockedValue = rec.lockedValue;
    this.lockedRound = rec.lockedRound;
    this.validValue = rec.validValue;
    this.validRound = rec.validRound;
    this.validPolka = rec.validPolka;
    for (const v of rec.validPolka) this.votes.record(v, true);
    if (!this.decided && rec.round >= 0) {
      for (const v of this.own.allVotes()) this.votes.record(v, true);
      for (const p of this.own.allProposals()) this.votes.at(p.round).proposal = this.ownTaken(p);
      this.round = rec.round;
      this.roundStep = this.own.vote(rec.round, 'precommit') ? 'precommit' : this.own.vote(rec.round, 'prevote') ? 'prevote' : 'propose';
      this.schedule(this.roundStep, this.round);
      this.resendCurrent();
      this.checkRules();
    }
    this.assertInvariants();
    return this.drain();
  }

  /** Re-broadcasts what this node signed in the current round (OwnMessages.resendable says what). */
  protected resendCurrent(): void {
    const { proposal, votes } = this.own.resendable(this.round);
    if (proposal) this.emitShared({ type: 'broadcast', message: this.wire.proposalMessage(proposal) });
    for (const vote of votes) this.emitShared({ type: 'broadcast', message: this.wire.voteMessage(vote) });
  }

  protected roundInWindow(round: number): boolean {
    return Number.isInteger(round) && round >= 0 && round <= Math.max(this.round, 0) + this.node.params.roundWindow;
  }

  /**
   * Authenticates and records a vote; false for a forgery or a misrouted vote. Duplicates are by
   * content. `force` keeps it past the per-member bound (a proof of lock's votes).
   */
  protected acceptVote(v: Vt, force = false): boolean {
    const set = this.votes.setOf(v.round, v.step);
    const prior = set.get(v.voter, this.wire.keeping.keyOf(v));
    if (prior !== undefined && equalBytes(this.wire.voteBody(prior), this.wire.voteBody(v))) return true;
    const check = this.checkVote(v);
    if (check === 'misrouted') return false;
    if (check === 'forged') {
      this.recordMisbehaviour({ kind: 'bad-signature', member: v.voter, what: v.step });
      return false;
    }
    const earlier = set.anyOf(v.voter);
    if (set.add(v, force) === 'conflict') {
      this.recordMisbehaviour({ kind: 'equivocation', member: v.voter, round: v.round, step: v.step, first: String(this.wire.keeping.keyOf(earlier!)), second: String(this.wire.keeping.keyOf(v)) });
    }
    return true;
  }

  /**
   * The gate every proposal passes, in order: the same proposal again (content identity: round,
   * value, validRound) is dropped; one not addressed here is misrouting; a bad signature and a
   * second proposal for the round are recorded. Returns the round's record to take it into, or null.
   */
  protected admitProposal(p: ProposalFacts<V>, addressed: () => boolean, authentic: () => boolean): RoundVotes<Vt, Pr> | null {
    const rv = this.votes.at(p.round);
    const taken = rv.proposal === null ? null : this.view().proposalOf(rv.proposal);
    if (taken !== null && taken.value === p.value && taken.validRound === p.validRound) return null;
    if (!addressed()) return null; // misrouted, not forged
    if (!authentic()) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: p.proposer, what: 'proposal' });
      return null;
    }
    if (taken !== null) {
      this.recordMisbehaviour({ kind: 'equivocation', member: p.proposer, round: p.round, step: 'proposal', first: taken.value, second: p.value });
      return null;
    }
    return rv;
  }

  protected recordMisbehaviour(m: MisbehaviourOf<V>): void {
    if (this.misbehaviour.length >= MISBEHAVIOUR_MAX) this.misbehaviour.shift();
    this.misbehaviour.push(m);
    this.emitShared({ type: 'evidence', misbehaviour: m });
  }

  protected schedule(step: Step, round: number): void {
    this.emitShared({ type: 'schedule', step, round, delayMs: timeoutMs(this.node.params, step, round) });
  }

  /** Fires rules until none applies (or the node decided). */
  protected checkRules(): void {
    for (let fired = 0; !this.decided; fired++) {
      const action = nextRule(this.view(), (round, member, value) => this.onBadPartial(round, member, value));
      if (action === null) return;
      assert(fired < RULE_FIRINGS_PER_STEP_MAX, `at most ${RULE_FIRINGS_PER_STEP_MAX} rules fire in one step`);
      this.apply(action);
    }
  }

  /** A combine named `member`'s partial for `value` in `round` bad: exclude it and record it. */
  private onBadPartial(round: number, member: number, value: V): void {
    this.votes.at(round).badPartials.add(member);
    this.recordMisbehaviour({ kind: 'bad-partial', member, round, value });
  }

  /** Carries out what a rule decided: the state change, then signing, persisting and sending. */
  private apply(a: RuleAction<V, Vt, R>): void {
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

  private setValid(v: V, polka: readonly Vt[]): void {
    this.validValue = v;
    this.validRound = this.round;
    this.validPolka = polka;
  }

  private startRound(r: number): void {
    assert(r > this.round, 'rounds only increase');
    this.round = r;
    this.roundStep = 'propose';
    this.emitShared({ type: 'round', round: r });
    this.persist();
    this.schedule('propose', r);
  }

  /** L19: signs, persists and broadcasts this node's proposal for the current round. */
  private propose(value: V, validRound: number, polka: readonly Vt[]): void {
    const p = this.signProposal(value, validRound, polka);
    this.own.addProposal(p);
    this.persist();
    this.emitShared({ type: 'signed', message: this.wire.proposalMessage(p) });
    this.emitShared({ type: 'broadcast', message: this.wire.proposalMessage(p) });
    this.votes.at(this.round).proposal = this.ownTaken(p);
    this.votes.noteSender(this.round, this.node.self);
  }

  /**
   * Signs (or re-uses) this node's vote for the current round and step. A vote once signed for a
   * (round, step) is never replaced, also across restarts: that is the slashing protection.
   */
  private castVote(step: VoteStep, value: V | null): void {
    let vote = this.own.vote(this.round, step);
    if (vote === undefined) {
      vote = this.signVote(step, value);
      this.own.addVote(vote);
      this.persist();
      this.emitShared({ type: 'signed', message: this.wire.voteMessage(vote) });
    }
    this.votes.record(vote, true);
    this.votes.noteSender(this.round, this.node.self);
    this.emitShared({ type: 'broadcast', message: this.wire.voteMessage(vote) });
  }
}
