/**
 * One height of protocol v2: a one-shot Tendermint instance (Algorithm 1, the rules shared with
 * v1 in rules.ts and machine.ts) whose value is a batch header (time, liveFrom, count, root) with
 * its entries (docs/protocol.md, "Protocol v2"):
 *  - votes, locks and polkas name the header by batchHeaderDigest; the proposer of round r is
 *    member ((h + r) mod n) + 1; valid_h, the proposer's batch and the fresh-COMMIT filter are
 *    injected (HeightPorts), so the instance reads no pool, chain or clock itself;
 *  - a precommit for a header carries a BLS partial over reportDigestV2(h, r, header); the height
 *    decides when q precommits for one header in one round combine into a report valid under the
 *    group key (never across rounds), and a valid report v2 with its entries decides on its own;
 *  - proposals, votes, locks (with the batch), the valid value and the decision are persisted
 *    before anything they cover is sent: a restarted node never signs two different proposals or
 *    votes for one (height, round, step).
 * `step(input)` is the only entry point; its effects are ordered, a `persist` durable before any
 * later effect of the same step runs.
 */
import {
  type DecidedBatch,
  type FullProposal2,
  type MessageV2,
  type SignedVote2,
  type VoteStep,
  assert,
  batchHeaderDigest,
  reportBodyV2Of,
  reportDigestV2,
} from '@tandem/protocol';
import { RoundMachine } from '../machine.js';
import { decidedBatchProblem, entriesBindingProblem } from './chain.js';
import { anchorMatches, proposal2Authentic, reportV2Authentic, signProposal2, signVote2, vote2Authentic } from './height-auth.js';
import type { BatchContent, HeightContext, HeightEffect, HeightInput, PersistedHeight } from './height-types.js';
import {
  type HeightPortsForRules,
  type HeightState,
  type HeightView,
  type TakenProposal,
  BatchStore,
  HEIGHT_WIRE,
  assertHeightInvariants,
  digestOf,
  heightRulePorts,
} from './height-view.js';
import { heightProposer } from './proposer.js';


function contentOf(p: FullProposal2): BatchContent {
  return { header: p.header, entries: p.entries, terms: p.terms, justification: p.justification };
}

export class HeightInstance extends RoundMachine<string, SignedVote2, TakenProposal, FullProposal2, DecidedBatch, HeightEffect, MessageV2> {
  readonly height: number;
  /** The decided batch (report v2 and entries), once decided. */
  decidedBatch: DecidedBatch | null = null;

  private startRequested = false;
  private readonly batches = new BatchStore();
  private readonly state: HeightState;
  private readonly ports: HeightPortsForRules;

  private constructor(
    private readonly ctx: HeightContext,
    height: number,
  ) {
    super(ctx.node, HEIGHT_WIRE);
    assert(Number.isSafeInteger(height) && height >= 1, `height ${height} is not a height (1, 2, …)`);
    this.height = height;
    this.state = { ctx, height, batches: this.batches, own: this.own, votes: this.votes, started: () => this.startRequested };
    this.ports = heightRulePorts(this.state);
  }

  /** A fresh instance for `height`; create it only once height − 1 is decided (valid_h judges the next height only). */
  static create(ctx: HeightContext, height: number): HeightInstance {
    return new HeightInstance(ctx, height);
  }

  /**
   * Rebuilds a height after a restart from its persisted record: it re-enters its last round at
   * the step its signed votes imply, never signs anything conflicting with them, and schedules that
   * step's timeout. The caller feeds the pool the record's batches first (their terms and
   * justification), so the lock stays valid.
   */
  static resume(ctx: HeightContext, rec: PersistedHeight): { instance: HeightInstance; effects: HeightEffect[] } {
    const s = new HeightInstance(ctx, rec.height);
    for (const b of rec.batches) s.batches.add(b);
    for (const p of rec.proposals) {
      s.own.addProposal(p);
      s.batches.add(contentOf(p));
    }
    for (const v of rec.votes) s.own.addVote(v);
    s.decidedBatch = rec.decided;
    return { instance: s, effects: s.restore(rec) };
  }

  get decided(): boolean {
    return this.decidedBatch !== null;
  }

  /** The only entry point: apply one input, return the effects in order. */
  step(input: HeightInput): HeightEffect[] {
    if (input.type === 'start') this.startRequested = true;
    else if (input.type !== 'recheck') this.takeShared(input);
    return this.finishStep();
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  protected onMessage(from: number, m: MessageV2): void {
    if (this.decidedBatch !== null) {
      // A decided node answers a message of its height with the decided batch (catch-up).
      const ofHeight = (m.kind === 'vote2' && m.vote.height === this.height) || (m.kind === 'proposal2' && m.proposal.height === this.height);
      if (ofHeight && from !== this.ctx.node.self) this.emit({ type: 'send', to: from, message: { kind: 'decided', batch: this.decidedBatch } });
      return;
    }
    switch (m.kind) {
      case 'vote2':
        if (m.vote.height === this.height && this.roundInWindow(m.vote.round) && this.acceptVote(m.vote)) this.votes.noteSender(m.vote.round, m.vote.voter);
        return;
      case 'proposal2':
        this.onProposal(m.proposal);
        return;
      case 'decided':
        this.onDecided(from, m.batch);
        return;
      default:
        return; // bundles and catch-up requests are the runtime's
    }
  }

  private onProposal(p: FullProposal2): void {
    if (p.height !== this.height || !this.roundInWindow(p.round)) return;
    if (p.proposer !== heightProposer(this.height, p.round, this.ctx.node.n)) return;
    const digest = digestOf(p);
    // Identity is (height, round, header, validRound).
    const rv = this.admitProposal(
      { ...p, value: digest },
      () => anchorMatches(this.ctx.anchor, p),
      () => proposal2Authentic(this.ctx, p),
    );
    if (rv === null) return;
    // Entries that are not the signed header's make the proposal void (V1 would refuse it anyway).
    if (entriesBindingProblem(p.header.count, p.header.root, p.entries) !== null) return;
    if (p.validRound >= 0 && !this.proofOfLockHolds(p, digest)) return;
    this.batches.add(contentOf(p));
    rv.proposal = { proposal: p, digest };
    this.votes.noteSender(p.round, p.proposer);
  }

  /** q distinct members' authentic prevotes for the header in validRound; kept whatever the per-member bound. */
  private proofOfLockHolds(p: FullProposal2, digest: string): boolean {
    const voters = new Set<number>();
    for (const v of p.polka) {
      const forIt = v.step === 'prevote' && v.height === this.height && v.round === p.validRound && HEIGHT_WIRE.keeping.keyOf(v) === digest;
      if (forIt && this.acceptVote(v, true)) voters.add(v.voter);
    }
    return voters.size >= this.ctx.node.q;
  }

  /** A decided node re-broadcasts its decided batch; an undecided one what it signed in its round. */
  protected onResend(): void {
    if (this.decidedBatch !== null) this.emit({ type: 'broadcast', message: { kind: 'decided', batch: this.decidedBatch } });
    else this.resendCurrent();
  }

  /** A decided batch decides on its own: report v2 of this height, entries bound, signature valid. */
  private onDecided(from: number, batch: DecidedBatch): void {
    const r = batch.report;
    if (r.height !== this.height || !anchorMatches(this.ctx.anchor, r)) return;
    // Relayed by anyone, but a correct node relays only batches it checked: the sender is the one to suspect.
    if (decidedBatchProblem(batch) !== null) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: from, what: 'decided entries' });
      return;
    }
    if (!reportV2Authentic(this.ctx, batch)) {
      this.recordMisbehaviour({ kind: 'bad-signature', member: from, what: 'decided report' });
      return;
    }
    this.decide(batch);
  }

  // ---------------------------------------------------------------------------------------------
  // The acts the rules call for (machine.ts fires the rules and carries out what they decide)

  protected signProposal(value: string, validRound: number, polka: readonly SignedVote2[]): FullProposal2 {
    const b = this.batch(value);
    const signed = signProposal2(this.ctx, { ...this.ctx.anchor, height: this.height, round: this.round, proposer: this.ctx.node.self, validRound, header: b.header });
    return { ...signed, entries: b.entries, terms: b.terms, justification: b.justification, polka };
  }

  protected ownTaken(proposal: FullProposal2): TakenProposal {
    return { proposal, digest: digestOf(proposal) };
  }

  protected signVote(step: VoteStep, value: string | null): SignedVote2 {
    const header = value === null ? null : this.batch(value).header;
    const partial = step === 'precommit' && header !== null ? this.ctx.node.signer.partialSign(reportDigestV2(reportBodyV2Of(this.ctx.anchor, this.height, this.round, header))) : null;
    const headerDigest = header === null ? null : batchHeaderDigest(header);
    return signVote2(this.ctx, { ...this.ctx.anchor, height: this.height, round: this.round, step, voter: this.ctx.node.self, headerDigest, partial });
  }

  protected checkVote(v: SignedVote2): 'ok' | 'misrouted' | 'forged' {
    if (!anchorMatches(this.ctx.anchor, v)) return 'misrouted';
    return vote2Authentic(this.ctx, v) ? 'ok' : 'forged';
  }

  /** Takes `batch` as the decision; its signature was verified by the combine or by onDecided. */
  protected decide(batch: DecidedBatch): void {
    if (this.decidedBatch !== null) return;
    this.decidedBatch = batch;
    this.persist();
    this.emit({ type: 'decided', batch });
    this.emit({ type: 'broadcast', message: { kind: 'decided', batch } });
  }

  // ---------------------------------------------------------------------------------------------
  // The view, invariants and the persisted record

  protected view(): HeightView {
    return { ...this.ports, ...this.algorithmState() };
  }

  protected assertInvariants(): void {
    assertHeightInvariants(this.view(), this.state, this.decidedBatch);
  }

  /** The batch of a value this node proposes or votes for: always kept (the rules saw it valid or it is ours). */
  private batch(digest: string): BatchContent {
    const b = this.batches.get(digest);
    assert(b !== undefined, `the batch of ${digest} is kept`);
    return b;
  }

  /** The write-ahead record: everything a restart needs to never contradict what was sent. */
  snapshot(): PersistedHeight {
    const kept = new Set([this.lockedValue, this.validValue].filter((d): d is string => d !== null));
    return {
      height: this.height,
      ...this.persistedRounds(),
      batches: [...kept].map((d) => this.batch(d)),
      decided: this.decidedBatch,
    };
  }

  protected persist(): void {
    this.emit({ type: 'persist', record: this.snapshot() });
  }
}
