/**
 * The heights driver: the decided chain, the evidence pool and the current height's instance
 * (HeightInstance, one at a time: no pipelining). Its ports are bound here — valid_h is
 * isValidBatch on the chain and pool, the proposer's value is assembleBatch with its justification
 * and multiproofs, the fresh-COMMIT filter reads this node's clock. A height starts on a ready
 * entry, a valid proposal of it or messages of it from f+1 members (the instance's rules); its
 * effects run in order with the write-ahead rule (persist before send, asserted). On a decision
 * the chain extends, the pool forgets what is settled, and the next height starts. Messages of
 * other heights go to catch-up (catch-up.ts).
 *
 * A silenced node (silenced.ts) never starts a height: its instance takes only decided batches (and,
 * once decided, what it answers with its decided batch), so it decides from the decided batches
 * peers send it and signs no proposal, vote or partial.
 */
import {
  type BatchHeader,
  type DecidedBatch,
  type Entry,
  type FullProposal2,
  type JustificationBundle,
  type MessageV2,
  SIGN_DOMAIN_V2,
  assert,
  encodeProposal2Body,
  toHex,
} from '@tandem/protocol';
import {
  type BatchContent,
  type HeightContext,
  type HeightEffect,
  type HeightInput,
  type PersistedHeight,
  type Settled,
  HeightInstance,
  anchorMatches,
  assembleBatch,
  forgetSettled,
  freshCommitFilterRejects,
  heightProposer,
  isValidBatch,
  justificationFor,
  memberKey,
  readyEntries,
} from '@tandem/consensus';
import { silencedInputAllowed } from '../signing-fence.js';
import { CatchUp } from './catch-up.js';
import { decidedHeightEvent } from './events.js';
import type { Gossip } from './gossip.js';
import type { ProposerView, StoredV2 } from './ports.js';
import { type Core, nowMs } from './state.js';
import { assertNotSilenced, isSilenced, silencedContext } from './silenced.js';
import { WriteAheadGuardV2 } from './write-ahead.js';

/** Proposals fed to the pool per height at most (their resends are skipped). */
const FED_PROPOSALS_MAX = 256;

export interface HeightsHooks {
  /** Batches joined the chain (one decided height, or a jump's batches); `settled` says what the pool forgot. */
  decided(batches: readonly DecidedBatch[], settled: Settled): void;
}

export class Heights {
  private current: HeightInstance;
  private started = false;
  private poolChanged = false;
  /** A look at the rules is scheduled right after the current event (noteEvidence). */
  private startSoon = false;
  private readonly fed = new Set<string>();
  /**
   * A stored height record above the next height (its decided prefix was not all stored): resumed
   * when the chain reaches it, so this node never signs against what it signed there.
   */
  private laterRecord: PersistedHeight | null = null;
  /** When the newest decided batch is next re-broadcast, and the period (resendMs … 8·resendMs). */
  private decidedResendAtMs = 0;
  private decidedResendEveryMs: number;
  private readonly catchUp: CatchUp;
  private readonly writeAhead: WriteAheadGuardV2;
  private readonly hctx: HeightContext;
  /** What a Byzantine proposer hook reads (only built when one is set). */
  private readonly proposerView: ProposerView | null;

  constructor(
    private readonly core: Core,
    private readonly gossip: Gossip,
    private readonly hooks: HeightsHooks,
  ) {
    this.catchUp = new CatchUp(core);
    this.decidedResendEveryMs = core.params.resendMs;
    this.writeAhead = new WriteAheadGuardV2(core.deps.ctx.self);
    const validity = { chain: core.chain, pool: core.pool, params: core.v2 };
    this.hctx = {
      // A silenced node's instances sign through a signer that asserts they never do.
      node: isSilenced(core) ? silencedContext(core.deps.ctx) : core.deps.ctx,
      anchor: core.anchor,
      ports: {
        isValid: (header, entries) => isValidBatch(validity, core.chain.tip + 1, header, entries),
        getValue: () => this.value(),
        freshCommitAllowed: (header, entries) => !freshCommitFilterRejects(header, entries, -1, null, nowMs(core), core.v2),
      },
    };
    this.current = HeightInstance.create(this.hctx, 1);
    this.proposerView = core.deps.proposerForTesting === undefined ? null : this.viewForHook();
  }

  /** The height in progress (the chain's tip + 1). */
  get height(): number {
    return this.current.height;
  }

  /** Its current round (−1 before round 0). */
  get round(): number {
    return this.current.round;
  }

  /**
   * The pool grew: look at the rules again at the next tick — or at once (after the current event)
   * while no height is running here, so a lone settlement's height starts one message delay after
   * its evidence instead of up to a tick later.
   */
  noteEvidence(): void {
    this.poolChanged = true;
    if (this.started || this.current.decided || this.startSoon) return;
    this.startSoon = true;
    this.core.deps.timers.after(0, () => {
      this.startSoon = false;
      if (!this.core.stopped && !this.started) this.tick();
    });
  }

  /**
   * Rebuilds the chain from the stored decided batches (in order from height 1, else by a jump to
   * liveFrom of the newest) and resumes the stored height, feeding the pool its batches first.
   */
  resume(stored: StoredV2): void {
    const core = this.core;
    const rec = stored.height;
    const batches = [...stored.decided];
    if (rec !== null && rec.decided !== null && !batches.some((b) => b.report.height === rec.height)) {
      // Killed between the record's commit and the batch's own: store it as decided now, before the
      // next height's record replaces this one (else storage has a gap and no later start resumes).
      batches.push(rec.decided);
      core.deps.storage.putDecided(rec.decided);
    }
    batches.sort((a, b) => a.report.height - b.report.height);
    if (batches.length > 0) {
      const newest = batches.at(-1)!.report;
      const sequential = batches[0]!.report.height === 1 && batches.every((b, i) => b.report.height === i + 1);
      const used = sequential ? batches : batches.filter((b) => b.report.height >= newest.liveFrom);
      if (sequential) for (const b of used) core.chain.processDecidedBatch(b);
      else core.chain.processJump(used);
      // Every stored batch: those below the chain's are kept for delivery.
      this.hooks.decided(batches, forgetSettled(core.chain, core.pool, batches));
    }
    if (rec !== null && rec.height > core.chain.tip + 1 && rec.decided === null) this.laterRecord = rec;
    this.begin(rec);
  }

  /** The instance of the next height: resumed from its record when there is one, else fresh. */
  private begin(stored: PersistedHeight | null): void {
    const rec = stored ?? this.laterRecord;
    const next = this.core.chain.tip + 1;
    // A silenced node resumes no round: its records hold decisions only (it never signed into one).
    if (rec === null || rec.height !== next || rec.decided !== null || isSilenced(this.core)) {
      this.current = HeightInstance.create(this.hctx, next);
      return;
    }
    this.laterRecord = null;
    for (const b of rec.batches) this.gossip.feedProposal(b);
    for (const p of rec.proposals) this.gossip.feedProposal(p);
    const { instance, effects } = HeightInstance.resume(this.hctx, rec);
    this.writeAhead.persisted(rec); // durable already: what it resends is covered
    this.current = instance;
    this.started = true;
    this.run(instance, effects);
  }

  receive(from: number, m: MessageV2): void {
    switch (m.kind) {
      case 'vote2':
        this.ofHeight(from, m.vote.height, m);
        return;
      case 'proposal2':
        this.ofHeight(from, m.proposal.height, m);
        return;
      case 'decided':
        this.onDecided(from, m.batch);
        return;
      case 'catch-up':
        this.catchUp.answerRequest(from, m.fromHeight, m.count);
        return;
      case 'bundle':
        return; // gossip.ts
    }
  }

  /** Every tick: start the height on a ready entry, or look at the rules again. */
  tick(): void {
    if (this.current.decided || isSilenced(this.core)) return; // a silenced node never starts a height
    const core = this.core;
    if (!this.started && (readyEntries(core.chain, core.pool, nowMs(core), core.v2).length > 0 || this.hookWantsHeight())) {
      this.started = true;
      this.step({ type: 'start' });
      return;
    }
    if (this.started || this.poolChanged || this.current.round >= 0) this.step({ type: 'recheck' });
    this.poolChanged = false;
  }

  /**
   * Every resendMs: the height's own messages again; and while the next height has not started
   * here, the newest decided batch (backing off to 8·resendMs until the next decision), so a node
   * left behind on an idle chain learns it is behind. To a peer that (re)connected: both at once.
   */
  resend(to: number | null = null): void {
    const core = this.core;
    const newest = core.chain.batchAt(core.chain.tip);
    const now = nowMs(core);
    if (newest !== null && to !== null) core.deps.transport.send(to, { kind: 'decided', batch: newest });
    if (newest !== null && to === null && this.current.round < 0 && now >= this.decidedResendAtMs) {
      core.deps.transport.broadcast({ kind: 'decided', batch: newest });
      this.decidedResendAtMs = now + this.decidedResendEveryMs;
      this.decidedResendEveryMs = Math.min(2 * this.decidedResendEveryMs, 8 * core.params.resendMs);
    }
    this.step({ type: 'resend' });
  }

  // ---------------------------------------------------------------------------------------------

  private ofHeight(from: number, height: number, m: MessageV2): void {
    const h = this.current.height;
    if (height < h) {
      this.catchUp.answerLower(from, height);
      return;
    }
    if (height > h) {
      this.catchUp.ask(from);
      return;
    }
    if (m.kind === 'proposal2') this.feedProposal(m.proposal);
    this.step({ type: 'message', from, message: m });
  }

  /** A proposal of the current height from its designated proposer, authentic: its terms and justification feed the pool first. */
  private feedProposal(p: FullProposal2): void {
    const ctx = this.core.deps.ctx;
    const sigHex = toHex(p.signature);
    if (this.fed.has(sigHex) || this.fed.size >= FED_PROPOSALS_MAX) return;
    if (p.proposer !== heightProposer(p.height, p.round, ctx.n) || !anchorMatches(this.core.anchor, p)) return;
    const key = memberKey(ctx, p.proposer);
    if (key === null || !ctx.verifier.identity(SIGN_DOMAIN_V2.proposal, key, encodeProposal2Body(p), p.signature)) return;
    this.fed.add(sigHex);
    this.gossip.feedProposal(p);
  }

  private onDecided(from: number, batch: DecidedBatch): void {
    const height = batch.report.height;
    const h = this.current.height;
    if (height === h) this.step({ type: 'message', from, message: { kind: 'decided', batch } });
    else if (height > h && this.catchUp.keepAhead(from, batch)) this.useAhead();
  }

  /** Kept batches: the next height's one (stepped in, so the instance decides), or a jump. */
  private useAhead(): void {
    const next = this.catchUp.take(this.current.height);
    if (next !== null) {
      this.step({ type: 'message', from: this.core.deps.ctx.self, message: { kind: 'decided', batch: next } });
      return;
    }
    const run = this.catchUp.jump();
    if (run === null) return;
    const core = this.core;
    core.chain.processJump(run);
    for (const b of run) {
      core.deps.storage.putDecided(b);
      core.deps.log.event(decidedHeightEvent(b));
    }
    core.deps.log.event({ type: 'catch-up', fromHeight: run[0]!.report.height, toHeight: core.chain.tip, jumped: true });
    this.advance(run);
  }

  /** The fresh batch this node proposes: the proposer rules' own, unless a Byzantine hook replaces it. */
  private value(): BatchContent | null {
    const honest = this.honestValue();
    const hook = this.core.deps.proposerForTesting;
    return hook === undefined ? honest : hook.fresh(honest, this.proposerView!);
  }

  private hookWantsHeight(): boolean {
    const hook = this.core.deps.proposerForTesting;
    return hook !== undefined && hook.wantsHeight(this.proposerView!);
  }

  private viewForHook(): ProposerView {
    const core = this.core;
    return {
      ctx: core.deps.ctx,
      anchor: core.anchor,
      v2: core.v2,
      chain: core.chain,
      pool: core.pool,
      nowMs: () => nowMs(core),
      justify: (header, entries) => this.justify(header, entries),
      prove: (parts) => this.gossip.justificationOf(parts),
    };
  }

  /** The proposer's fresh batch with its justification, or null when nothing is ready (or a multiproof cannot be built). */
  private honestValue(): BatchContent | null {
    const core = this.core;
    const batch = assembleBatch(core.chain, core.pool, nowMs(core), core.v2);
    if (batch === null) return null;
    const justification = this.justify(batch.header, batch.entries);
    if (justification === null) return null;
    const terms = batch.entries.map((e) => core.pool.termsOf(e.settlementId)!.terms);
    return { header: batch.header, entries: batch.entries, terms, justification };
  }

  /** A batch's justification with its multiproofs (every entry valid in the pool), or null when one cannot be built. */
  private justify(header: BatchHeader, entries: readonly Entry[]): JustificationBundle[] | null {
    return this.gossip.justificationOf(justificationFor(this.core.chain, this.core.pool, header, entries));
  }

  private step(input: HeightInput): void {
    const instance = this.current;
    if (isSilenced(this.core) && !silencedInputAllowed(input, instance.decided)) return;
    this.run(instance, instance.step(input));
  }

  /** Runs an instance's effects in order (persist before anything later goes out); then a decision, if any. */
  private run(instance: HeightInstance, effects: readonly HeightEffect[]): void {
    const core = this.core;
    const { transport, log, storage, timers } = core.deps;
    let decided: DecidedBatch | null = null;
    let staged = false;
    const durable = (): void => {
      if (staged) storage.commit(); // the step's one commit, before its first message
      staged = false;
    };
    for (const e of effects) {
      switch (e.type) {
        case 'persist':
          storage.putHeight(e.record);
          staged = true;
          this.writeAhead.persisted(e.record);
          break;
        case 'broadcast':
          durable();
          this.writeAhead.check(e.message);
          transport.broadcast(e.message);
          break;
        case 'send':
          durable();
          this.writeAhead.check(e.message);
          transport.send(e.to, e.message);
          break;
        case 'schedule':
          timers.after(e.delayMs, () => {
            if (!core.stopped && this.current === instance) this.step({ type: 'timeout', step: e.step, round: e.round });
          });
          break;
        case 'decided':
          decided = e.batch;
          break;
        case 'signed':
          assertNotSilenced(core, 'signs a proposal or a vote');
          log.event({ type: 'signed', height: instance.height, round: roundOf(e.message), message: e.message });
          break;
        case 'round':
          log.event({ type: 'height-round', height: instance.height, round: e.round });
          break;
        case 'evidence':
          log.event({ type: 'evidence', height: instance.height, misbehaviour: e.misbehaviour });
          break;
      }
    }
    durable();
    if (decided !== null && instance === this.current) this.heightDecided(decided);
  }

  /** The current height decided: the chain extends, and the next height begins. */
  private heightDecided(batch: DecidedBatch): void {
    const core = this.core;
    const problem = core.chain.nextBatchProblem(batch);
    assert(problem === null, `a decided batch extends the chain it was judged on: ${problem}`);
    core.chain.processDecidedBatch(batch);
    core.deps.storage.putDecided(batch);
    core.deps.log.event(decidedHeightEvent(batch));
    this.advance([batch]);
  }

  /** After batches joined the chain: the pool forgets what they settled, the next height's instance starts. */
  private advance(batches: readonly DecidedBatch[]): void {
    const core = this.core;
    core.deps.proposerForTesting?.settling(batches, this.proposerView!);
    this.hooks.decided(batches, forgetSettled(core.chain, core.pool, batches));
    this.started = false;
    this.fed.clear();
    this.decidedResendAtMs = nowMs(core);
    this.decidedResendEveryMs = core.params.resendMs;
    this.catchUp.prune();
    this.begin(null);
    this.useAhead();
    this.tick();
  }
}

function roundOf(m: MessageV2): number {
  if (m.kind === 'vote2') return m.vote.round;
  if (m.kind === 'proposal2') return m.proposal.round;
  return -1;
}
