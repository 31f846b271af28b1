/**
 * The protocol-v2 node runtime: one Tandem node deciding settlements in batches (a chain of
 * heights, docs/protocol.md "Protocol v2") over ports — v2 transport, clock, timers, v2 storage,
 * batch legs, log. It ties the phases together on one tick of tickMs:
 *   gossip (bundles in) → observe (legs read, entries signed) → bundler (one bundle out) →
 *   heights (start, recheck; the current height's instance) → deliver (decided batches to legs),
 * with intake (admission, prepare) on submit and the heights' resend every resendMs. The same code
 * runs in the simulator and in a real process; only the ports differ.
 */
import { type DecidedBatch, type LegName, type LegView, type MessageV2, type Terms, type V2Params, configDigestV2, reclaimAtMs, toHex, v2ParamsProblem } from '@tandem/protocol';
import { EvidencePoolV2, type Settled } from '@tandem/consensus';
import { type IntentRefusal, isMember } from '../admission.js';
import { DEFAULT_RUNTIME_PARAMS, type RuntimeParams } from '../params.js';
import type { Authorizations, CancelTimer, Intent } from '../ports.js';
import { Bundler } from './bundler.js';
import { Delivery } from './deliver.js';
import { Gossip } from './gossip.js';
import { Heights } from './heights.js';
import { Intake } from './intake.js';
import { decidedChainFor } from './mutation.js';
import { Observer } from './observe.js';
import { type Core, type CoreDeps, type HeldSettlement, nowMs } from './state.js';

export interface RuntimeV2Deps extends CoreDeps {
  /** The v2 parameters of the configuration (covered by its v2 configuration digest). */
  readonly v2: V2Params;
  /** Leg polling, resend, delivery stagger and retry, back-off, unauthorizedOpenMax (v1's RuntimeParams). */
  readonly params?: RuntimeParams;
}

/** What a node knows of one settlement it holds. */
export interface SettlementStatusV2 {
  readonly refused: boolean;
  readonly decided: { readonly height: number; readonly decision: 'COMMIT' | 'ABORT' } | null;
  readonly expired: boolean;
  readonly closed: boolean;
  /** One leg committed, the other aborted or reclaimed (logged at error level). */
  readonly split: boolean;
  /** Decided but not closed on both legs at reclaim time plus stuckGraceMs (logged at error level). */
  readonly stuck: boolean;
  readonly views: Record<LegName, LegView | null>;
}

export class NodeRuntimeV2 {
  private readonly core: Core;
  private readonly intake: Intake;
  private readonly observer: Observer;
  private readonly bundler: Bundler;
  private readonly gossip: Gossip;
  private readonly heights: Heights;
  private readonly delivery: Delivery;
  private cancelTick: CancelTimer | null = null;
  private cancelResend: CancelTimer | null = null;

  constructor(deps: RuntimeV2Deps) {
    const ctx = deps.ctx;
    const problem = v2ParamsProblem(deps.v2, ctx.n);
    if (problem !== null) throw new Error(`protocol v2 parameters: ${problem}`);
    this.core = {
      deps,
      v2: deps.v2,
      params: deps.params ?? DEFAULT_RUNTIME_PARAMS,
      anchor: { networkId: ctx.cluster.networkId, configDigest: configDigestV2(ctx.cluster, deps.v2) },
      chain: decidedChainFor(ctx), // the honest chain unless a test asked for the broken build
      pool: new EvidencePoolV2({ n: ctx.n, groupPublicKey: ctx.groupPublicKey, openSettlementsMax: deps.v2.openSettlementsMax }),
      held: new Map(),
      inflight: 0,
      stopped: false,
    };
    const core = this.core;
    this.gossip = new Gossip(core, () => this.heights.noteEvidence());
    this.bundler = new Bundler(core, 0, (b) => this.gossip.own(b));
    this.intake = new Intake(core, (s) => this.observer.readNow(s));
    this.observer = new Observer(core, { queue: (e) => this.bundler.queue(e), prepare: (s) => this.intake.prepareLegs(s), closed: (s) => this.drop(s, true) });
    this.heights = new Heights(core, this.gossip, { decided: (batches, settled) => this.onDecided(batches, settled) });
    this.delivery = new Delivery(core);
  }

  get self(): number {
    return this.core.deps.ctx.self;
  }

  /** Leg calls under way (the simulator drains them between events). */
  get inflight(): number {
    return this.core.inflight;
  }

  /** The newest decided height (0 before the first) and the height in progress with its round. */
  get tip(): number {
    return this.core.chain.tip;
  }

  get heightInProgress(): { readonly height: number; readonly round: number } {
    return { height: this.heights.height, round: this.heights.round };
  }

  /** The v2 configuration digest this node signs under (legs must be anchored to it). */
  get configDigest(): Uint8Array {
    return this.core.anchor.configDigest;
  }

  /** Resumes from storage (intents, own entries, bundle time, decided batches, the height in progress), then ticks. */
  start(): void {
    const core = this.core;
    const stored = core.deps.storage.load();
    this.bundler.resumeTime(stored.bundleTimeMs);
    for (const [, intent] of stored.intents) this.intake.resume(intent);
    for (const e of stored.ownEntries) {
      const s = core.held.get(toHex(e.settlementId));
      if (s === undefined) continue;
      if (e.kind === 'deadline') s.deadlineEntry = e;
      if (e.kind === 'guard') s.guardEntry = e;
      this.bundler.queue(e); // verbatim, never signed anew
    }
    this.heights.resume(stored);
    for (const s of core.held.values()) this.intake.prepareLegs(s);
    core.deps.log.event({ type: 'resumed', tip: core.chain.tip, open: core.held.size, heightRound: this.heights.round >= 0 ? this.heights.round : null });
    this.scheduleTick();
    this.scheduleResend();
  }

  stop(): void {
    this.core.stopped = true;
    this.cancelTick?.();
    this.cancelResend?.();
  }

  /** An intent: null when taken, else the refusal (also logged). */
  submit(terms: Terms, auths: Authorizations): IntentRefusal | null {
    return this.intake.submit(terms, auths);
  }

  /** Intents at once (at most INTENTS_PER_CALL_MAX), answered in order, with one storage commit for those taken. */
  submitMany(intents: readonly Intent[]): (IntentRefusal | null)[] {
    return this.intake.submitMany(intents);
  }

  /** A v2 message from member `from`; a stranger's is dropped. */
  receive(from: number, message: MessageV2): void {
    if (this.core.stopped || !isMember(this.core.deps.ctx, from)) return;
    if (message.kind === 'bundle') this.gossip.receive(from, message.bundle);
    else this.heights.receive(from, message);
  }

  /** A peer (re)connected: our newest decided batch and our current height's messages go to it. */
  peerConnected(peer: number): void {
    if (!this.core.stopped && isMember(this.core.deps.ctx, peer)) this.heights.resend(peer);
  }

  settlementStatus(settlementIdHex: string): SettlementStatusV2 | null {
    const s = this.core.held.get(settlementIdHex);
    if (s === undefined) return null;
    const decided = s.decided === null ? null : { height: s.decided.height, decision: s.decided.entry.decision };
    return { refused: s.refused, decided, expired: s.expired, closed: s.closed, split: s.split, stuck: s.stuck, views: { asset: s.legs.asset.view, payment: s.legs.payment.view } };
  }

  /** Every settlement this node holds, briefly (status displays, runners). */
  decisions(): { settlementIdHex: string; refused: boolean; height: number | null; decision: 'COMMIT' | 'ABORT' | null; expired: boolean; split: boolean; stuck: boolean }[] {
    return [...this.core.held.values()].map((s) => ({
      settlementIdHex: s.idHex,
      refused: s.refused,
      height: s.decided?.height ?? null,
      decision: s.decided?.entry.decision ?? null,
      expired: s.expired,
      split: s.split,
      stuck: s.stuck,
    }));
  }

  // ---------------------------------------------------------------------------------------------

  private scheduleTick(): void {
    this.cancelTick = this.core.deps.timers.after(this.core.v2.tickMs, () => {
      if (this.core.stopped) return;
      this.gossip.tick();
      this.observer.tick();
      this.bundler.tick();
      this.heights.tick();
      this.delivery.tick();
      this.dropExpired();
      this.scheduleTick();
    });
  }

  private scheduleResend(): void {
    this.cancelResend = this.core.deps.timers.after(this.core.params.resendMs, () => {
      if (this.core.stopped) return;
      this.heights.resend();
      this.scheduleResend();
    });
  }

  /** Batches joined the chain: settlements decided or expired, delivery starts, old batches leave storage. */
  private onDecided(batches: readonly DecidedBatch[], settled: Settled): void {
    const core = this.core;
    for (const b of batches) {
      for (const entry of b.entries) {
        const idHex = toHex(entry.settlementId);
        this.gossip.forget(idHex);
        const s = core.held.get(idHex);
        if (s === undefined || s.decided !== null) continue;
        s.decided = { height: b.report.height, entry };
        s.pollAtMs = nowMs(core);
        core.deps.log.event({ type: 'settlement-decided', settlementIdHex: idHex, height: b.report.height, decision: entry.decision });
        if (s.refused) this.intake.dropRefused(idHex);
      }
      this.delivery.add(b);
    }
    for (const x of settled.expired) {
      const idHex = toHex(x.settlementId);
      this.gossip.forget(idHex);
      const s = core.held.get(idHex);
      if (s === undefined || s.decided !== null || s.expired) continue;
      s.expired = true;
      // Reported for an admitted settlement only: a refused one was never this node's to terminate.
      if (s.refused) this.intake.dropRefused(idHex);
      else core.deps.log.event({ type: 'expired-undecided', settlementIdHex: idHex, chainTimeMs: core.chain.timeMs });
    }
    this.bundler.heightDecided();
    core.deps.storage.dropDecidedBelow(Math.min(core.chain.keptFromHeight, this.delivery.lowestHeight() ?? Number.MAX_SAFE_INTEGER));
  }

  /** An expired settlement past its reclaim time: its parties reclaim; nothing this node holds moves a leg. */
  private dropExpired(): void {
    const now = nowMs(this.core);
    for (const s of [...this.core.held.values()]) if (s.expired && !s.refused && now >= reclaimAtMs(s.terms)) this.drop(s, false);
  }

  private drop(s: HeldSettlement, closed: boolean): void {
    s.closed = true;
    this.core.held.delete(s.idHex);
    this.core.deps.storage.dropIntent(s.idHex);
    if (!closed) return;
    this.delivery.closedOnBoth(s.idHex);
    this.core.deps.log.event({ type: 'closed', settlementIdHex: s.idHex });
  }
}
