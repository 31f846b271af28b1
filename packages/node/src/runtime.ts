/**
 * The node runtime: one Tandem node over ports (transport, clock, timers, storage, legs, log). It
 * prepares both legs, polls them and feeds its own observations to consensus, runs one consensus
 * instance per open settlement, persists before sending (and asserts it did), and delivers the
 * report to both legs on a staggered schedule until it sees each applied. A settlement closed on
 * both legs and past its reclaim time is dropped from memory and its record archived. Nothing
 * stays open silently: settlements that wait long are polled and resent less often (backoff.ts),
 * one still open after its reclaim time plus a grace period is reported stuck, and a split outcome
 * is reported as such. The same code runs in the simulator and in a real process; only the ports differ.
 */
import {
  type LegName,
  type LegView,
  type Message,
  type Report,
  type Terms,
  LEG_NAMES,
  assert,
  reclaimAtMs,
  settlementId,
  toHex,
} from '@tandem/protocol';
import { type Effect, type Input, type NodeContext, type PersistedSettlement, SettlementInstance } from '@tandem/consensus';
import type { Authorizations, CancelTimer, Clock, Legs, Log, Storage, Timers, Transport } from './ports.js';
import type { PrepareOutcome } from '@tandem/legs';
import { FULL_RETRY_AFTER_MIN_MS, type IntentRefusal, type OpenLoad, RefusedIntents, intentRefusal, openLoadOf, isMember, termsToOpen } from './admission.js';
import { Backoff } from './backoff.js';
import { isSplit, legClosed } from './outcome.js';
import { messageSettlementHex } from './summary.js';
import { WriteAheadGuard } from './write-ahead.js';
import { type SigningFence, silencedInputAllowed, silencedRecord } from './signing-fence.js';
import { DEFAULT_RUNTIME_PARAMS, type RuntimeParams } from './params.js';

export interface RuntimeDeps {
  readonly ctx: NodeContext;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly storage: Storage;
  readonly legs: Legs;
  readonly log: Log;
  readonly params?: RuntimeParams;
  /** Settlements this node must not sign for after a storage loss (signing-fence.ts); none when absent. */
  readonly fence?: SigningFence;
}

interface OpenSettlement {
  readonly instance: SettlementInstance;
  readonly terms: Terms;
  readonly sidHex: string;
  readonly auths: Authorizations;
  /** The answer of the last prepare with the party's authorization on this leg, null before one. */
  readonly prepared: Record<LegName, PrepareOutcome['kind'] | null>;
  /** A prepare is under way on this leg: polls must not start another (HTTP legs can be slow). */
  readonly preparing: Record<LegName, boolean>;
  readonly views: Record<LegName, LegView | null>;
  readonly lastDeliveryMs: Record<LegName, number | null>;
  /** What the last persisted record covers: checked before anything this node signed goes out. */
  readonly writeAhead: WriteAheadGuard;
  /** Observe-only (signing-fence.ts): its instance takes only the inputs that make it sign nothing. */
  readonly silenced: boolean;
  readonly backoff: Backoff;
  deliverFromMs: number | null;
  deadlineRead: boolean;
  closed: boolean;
  /** One leg committed, the other aborted or reclaimed: reported, never closed; nothing left to poll. */
  split: boolean;
  /** Reported open past its reclaim time plus the grace period. */
  stuck: boolean;
  /** Dropped from memory, record archived: late timers and leg answers must not touch it. */
  archived: boolean;
  pollBusy: boolean;
  cancelPoll: CancelTimer | null;
  cancelDeadline: CancelTimer | null;
  cancelStuckCheck: CancelTimer | null;
}

/** What moves a settlement forward: when none of it changes for a while, the settlement is waiting (backoff.ts). */
function progressOf(s: OpenSettlement): string {
  const i = s.instance;
  return `${s.views.asset?.state}/${s.views.payment?.state}/${s.prepared.asset}/${s.prepared.payment}/${s.auths.asset !== undefined}/${s.auths.payment !== undefined}/${i.round}/${i.roundStep}/${i.decided}/${s.deadlineRead}`;
}

/** No leg has taken an authorization for it: none given, or every one given refused, and nothing seen locked. */
function lacksAuthorization(s: OpenSettlement): boolean {
  return LEG_NAMES.every((leg) => (s.auths[leg] === undefined || s.prepared[leg] === 'unauthorized') && (s.views[leg]?.state ?? 'none') === 'none');
}

export class NodeRuntime {
  private readonly settlements = new Map<string, OpenSettlement>();
  private readonly params: RuntimeParams;
  /** Intents refused at intake, bounded (admission.ts). */
  private readonly refused: RefusedIntents;
  private stopped = false;
  private cancelResend: CancelTimer | null = null;
  /** Settlements waiting long, as counted at the last resend tick: the total bound of the back-off. */
  private waitingCount = 0;
  /** Leg calls under way (the simulator drains them between events). */
  inflight = 0;

  constructor(private readonly deps: RuntimeDeps) {
    this.params = deps.params ?? DEFAULT_RUNTIME_PARAMS;
    this.refused = new RefusedIntents(this.params.openSettlementsMax);
  }

  get self(): number {
    return this.deps.ctx.self;
  }

  /** Starts the node: resumes every settlement found in storage, then starts the resend loop. */
  start(): void {
    for (const rec of this.deps.storage.all()) this.resume(rec);
    this.scheduleResend();
  }

  /** Stops every timer and ignores every later callback (a crash, or a clean shutdown). */
  stop(): void {
    this.stopped = true;
    this.cancelResend?.();
    for (const s of this.settlements.values()) this.stopTimers(s);
  }

  /**
   * The intent: the terms and the parties' authorizations reach this node. Called again with an
   * authorization that arrives later (a late lock); idempotent. An intent that would open a new
   * settlement passes admission first (admission.ts, intentRefusal: `late`, `window-too-short`,
   * `horizon`, `full`). Null: taken; else the refusal, also logged and kept in the refused set.
   * Every intent ends one way or the other (asserted): none is dropped silently.
   */
  submit(terms: Terms, auths: Authorizations): IntentRefusal | null {
    const sidHex = toHex(settlementId(terms));
    if (this.stopped) return this.refuse(sidHex, terms, { reason: 'full', detail: 'the node is stopping', retryAfterMs: FULL_RETRY_AFTER_MIN_MS });
    const isNew = !this.settlements.has(sidHex);
    if (isNew) {
      const authorized = LEG_NAMES.some((leg) => auths[leg] !== undefined);
      const refusal = intentRefusal(terms, authorized, this.deps.clock.nowMs(), this.params, () => this.openLoad());
      if (refusal !== null) return this.refuse(sidHex, terms, refusal);
    }
    const s = this.open(terms);
    // Past the deadline already (checked above), so past the reclaim time only if the clock moved on.
    if (s === null) return this.refuse(sidHex, terms, { reason: 'late', detail: 'its reclaim time has passed on this node\'s clock', retryAfterMs: null });
    assert(this.settlements.get(sidHex) === s, 'an intent not refused is taken: its settlement is tracked');
    // The client takes an accepted intent as delivered: its terms are durable before this returns,
    // so a node that crashes now resumes the settlement instead of forgetting it (a restarted
    // node that forgot it would ignore the others' votes, and two such nodes leave no quorum).
    if (isNew) this.execute(s, [{ type: 'persist', record: s.instance.snapshot() }]);
    for (const leg of LEG_NAMES) {
      const a = auths[leg];
      if (a !== undefined && s.auths[leg] === undefined) s.auths[leg] = a;
    }
    this.deps.log.event({ type: 'intent', settlementIdHex: s.sidHex, nonce: terms.nonce });
    this.prepareLegs(s);
    this.progressed(s);
    return null;
  }

  /** The (id, terms) of intents this node refused, the most recent openSettlementsMax (admission.ts, RefusedIntents). */
  refusedTerms(settlementIdHex: string): Terms | undefined {
    return this.refused.get(settlementIdHex);
  }

  /** A refused intent: recorded (log event, refused set) and returned, never dropped silently. */
  private refuse(sidHex: string, terms: Terms, refusal: IntentRefusal): IntentRefusal {
    this.refused.add(sidHex, terms);
    this.deps.log.event({ type: 'intent-refused', settlementIdHex: sidHex, reason: refusal.reason, detail: refusal.detail, retryAfterMs: refusal.retryAfterMs });
    return refusal;
  }

  /** A message from member `from`. A stranger's message is dropped: it creates no state and gets no answer. */
  receive(from: number, message: Message): void {
    if (this.stopped || !isMember(this.deps.ctx, from)) return;
    const s = this.lookup(message);
    if (s === null) return;
    this.apply(s, { type: 'message', from, message });
  }

  /** A peer (re)connected: resend to it, and hand it the reports it may have missed. */
  peerConnected(peer: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.nowMs();
    for (const s of this.settlements.values()) {
      if (s.instance.decided) {
        if (now < reclaimAtMs(s.terms)) this.execute(s, [{ type: 'send', to: peer, message: s.instance.reportMessage() }]);
      } else if (!s.closed && !s.split) {
        this.apply(s, { type: 'resend' });
      }
    }
  }

  /** What this node knows of one settlement: its decision (the report), its last view of each leg, and how it ended. */
  settlementStatus(
    settlementIdHex: string,
  ): { decided: boolean; report: Report | null; round: number; views: Record<LegName, LegView | null>; closed: boolean; split: boolean; stuck: boolean } | null {
    const s = this.settlements.get(settlementIdHex);
    if (s === undefined) return null;
    return { decided: s.instance.decided, report: s.instance.report, round: s.instance.round, views: { ...s.views }, closed: s.closed, split: s.split, stuck: s.stuck };
  }

  /** Settlements this node knows: whether it decided and closed each, and whether one is split or stuck (status displays, runners). */
  decisions(): { settlementIdHex: string; decided: boolean; closed: boolean; split: boolean; stuck: boolean }[] {
    return [...this.settlements.values()].map((s) => ({ settlementIdHex: s.sidHex, decided: s.instance.decided, closed: s.closed, split: s.split, stuck: s.stuck }));
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The settlement a message is about: a tracked one, or a new one when the message proves it is
   * real (admission.ts). Votes and observations for an unknown settlement are dropped: resends
   * repeat them once the intent or a proposal arrived.
   */
  private lookup(m: Message): OpenSettlement | null {
    const known = this.settlements.get(messageSettlementHex(m, settlementId));
    if (known !== undefined) return known;
    const terms = termsToOpen(this.deps.ctx, m, this.deps.clock.nowMs());
    return terms === null ? null : this.open(terms);
  }

  /**
   * Tracks a settlement (or returns the tracked one). Not once its reclaim time has passed on this
   * node's clock: nothing the node could sign or deliver then moves a leg, and a settlement already
   * archived must never come back without its record (a fresh instance could sign against it).
   */
  private open(terms: Terms): OpenSettlement | null {
    const sidHex = toHex(settlementId(terms));
    const known = this.settlements.get(sidHex);
    if (known !== undefined) return known;
    if (this.deps.clock.nowMs() >= reclaimAtMs(terms)) return null;
    const s = this.track(SettlementInstance.create(this.deps.ctx, terms), terms);
    this.startWatching(s);
    return s;
  }

  private track(instance: SettlementInstance, terms: Terms): OpenSettlement {
    const s: OpenSettlement = {
      instance,
      terms,
      sidHex: instance.settlementIdHex,
      auths: {},
      prepared: { asset: null, payment: null },
      preparing: { asset: false, payment: false },
      views: { asset: null, payment: null },
      lastDeliveryMs: { asset: null, payment: null },
      writeAhead: new WriteAheadGuard(this.self, instance.settlementIdHex),
      silenced: this.deps.fence?.silences(terms) ?? false,
      backoff: new Backoff(this.params, this.deps.clock.nowMs()),
      deliverFromMs: null,
      deadlineRead: false,
      closed: false,
      split: false,
      stuck: false,
      archived: false,
      pollBusy: false,
      cancelPoll: null,
      cancelDeadline: null,
      cancelStuckCheck: null,
    };
    this.settlements.set(s.sidHex, s);
    return s;
  }

  private resume(rec: PersistedSettlement): void {
    const { instance, effects } = SettlementInstance.resume(this.deps.ctx, this.deps.fence?.silences(rec.terms) ? silencedRecord(rec) : rec);
    const s = this.track(instance, rec.terms);
    s.writeAhead.persisted(rec); // durable already: what the resumed node resends is covered
    this.deps.log.event({ type: 'resumed', settlementIdHex: s.sidHex, round: instance.round, decided: instance.decided });
    this.execute(s, effects);
    if (instance.decided) this.startDelivery(s);
    this.startWatching(s);
  }

  private startWatching(s: OpenSettlement): void {
    this.schedulePoll(s, 0);
    const now = this.deps.clock.nowMs();
    if (!s.instance.decided) {
      s.cancelDeadline = this.deps.timers.after(Math.max(0, s.terms.deadlineMs - now), () => {
        s.cancelDeadline = null;
        this.readDeadline(s);
      });
    }
    s.cancelStuckCheck = this.deps.timers.after(Math.max(0, reclaimAtMs(s.terms) + this.params.stuckGraceMs - now), () => {
      s.cancelStuckCheck = null;
      this.checkStuck(s);
    });
  }

  private stopTimers(s: OpenSettlement): void {
    s.cancelPoll?.();
    s.cancelDeadline?.();
    s.cancelStuckCheck?.();
  }

  private apply(s: OpenSettlement, input: Input): void {
    if (s.archived || (s.silenced && !silencedInputAllowed(input, s.instance.decided))) return;
    const wasDecided = s.instance.decided;
    this.execute(s, s.instance.step(input));
    if (!wasDecided && s.instance.decided) this.startDelivery(s);
    this.progressed(s);
  }

  /**
   * A backed-off settlement that moved is polled and resent at its base rate again, from now: a
   * report to deliver or a lock to observe must not wait out a long interval.
   */
  private progressed(s: OpenSettlement): void {
    if (!s.backoff.backedOff || s.closed || s.split || s.archived) return;
    if (!s.backoff.note(progressOf(s), this.deps.clock.nowMs())) return;
    s.cancelPoll?.();
    this.schedulePoll(s, this.params.pollMs);
  }

  /** What admission counts of the settlements this node holds (admission.ts, openLoadOf). */
  private openLoad(): OpenLoad {
    const held = [...this.settlements.values()].filter((s) => !s.closed && !s.split);
    return openLoadOf(held.map((s) => ({ decided: s.instance.decided, unauthorized: lacksAuthorization(s), deadlineMs: s.terms.deadlineMs })));
  }

  /**
   * Executes effects in order; `persist` completes before any later effect, and nothing this node
   * signed goes out unless the last persisted record covers it (write-ahead, asserted).
   */
  private execute(s: OpenSettlement, effects: readonly Effect[]): void {
    const log = this.deps.log;
    for (const e of effects) {
      switch (e.type) {
        case 'persist':
          this.deps.storage.put(s.sidHex, e.record);
          s.writeAhead.persisted(e.record);
          break;
        case 'broadcast':
          s.writeAhead.check(e.message);
          this.deps.transport.broadcast(e.message);
          break;
        case 'send':
          s.writeAhead.check(e.message);
          this.deps.transport.send(e.to, e.message);
          break;
        case 'schedule':
          this.deps.timers.after(e.delayMs, () => {
            if (!this.stopped) this.apply(s, { type: 'timeout', step: e.step, round: e.round });
          });
          break;
        case 'decided':
          log.event({ type: 'decided', settlementIdHex: s.sidHex, report: e.report });
          break;
        case 'signed':
          log.event({ type: 'signed', settlementIdHex: s.sidHex, message: e.message });
          break;
        case 'valid':
          log.event({ type: 'valid', settlementIdHex: s.sidHex, value: e.value });
          break;
        case 'round':
          log.event({ type: 'round', settlementIdHex: s.sidHex, round: e.round });
          break;
        case 'evidence':
          log.event({ type: 'evidence', settlementIdHex: s.sidHex, misbehaviour: e.misbehaviour });
          break;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Legs: prepare, poll, deadline reading, delivery

  /** Runs a leg call; transient failures are logged and retried by the caller's loop. */
  private legCall<T>(s: OpenSettlement, leg: LegName, op: string, call: () => Promise<T>, then: (result: T) => void): void {
    this.inflight++;
    call().then(
      (result) => {
        this.inflight--;
        if (!this.stopped) then(result);
      },
      (err: unknown) => {
        this.inflight--;
        if (!this.stopped) this.deps.log.event({ type: 'leg-error', settlementIdHex: s.sidHex, leg, op, error: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  private prepareLegs(s: OpenSettlement): void {
    for (const leg of LEG_NAMES) {
      const auth = s.auths[leg];
      if (auth === undefined || s.prepared[leg] !== null || s.preparing[leg] || s.instance.decided) continue;
      s.preparing[leg] = true;
      const call = () => this.deps.legs[leg].prepare(s.terms, auth).finally(() => (s.preparing[leg] = false));
      this.legCall(s, leg, 'prepare', call, (out) => {
        s.prepared[leg] = out.kind;
        this.deps.log.event({ type: 'prepare', settlementIdHex: s.sidHex, leg, outcome: out.kind });
        // What this node just did to a leg is worth observing now, not at the next poll.
        if (out.kind === 'locked' || out.kind === 'rejected') this.observeNow(s);
      });
    }
  }

  private schedulePoll(s: OpenSettlement, delayMs: number): void {
    s.cancelPoll = this.deps.timers.after(delayMs, () => {
      s.cancelPoll = null;
      this.poll(s);
    });
  }

  private poll(s: OpenSettlement): void {
    if (s.closed || s.split) return;
    this.prepareLegs(s); // retries a prepare that failed transiently
    this.observeNow(s);
    if (s.closed || s.split) return;
    const now = this.deps.clock.nowMs();
    s.backoff.note(progressOf(s), now);
    this.schedulePoll(s, Math.min(s.backoff.nextPollMs(now, this.waitingCount), this.deliveryCapMs(s, now)));
  }

  /**
   * A COMMIT still to deliver before validUntil is never polled (so delivered) less often than a
   * quarter of the time left: back-off must not make a report expire.
   */
  private deliveryCapMs(s: OpenSettlement, nowMs: number): number {
    const report = s.instance.report;
    if (report === null || report.decision !== 'COMMIT' || nowMs >= s.instance.validUntilMs) return Infinity;
    return Math.max(this.params.pollMs, Math.floor((s.instance.validUntilMs - nowMs) / 4));
  }

  /** Reads both legs (unless a read is under way), feeds consensus, delivers, checks closure; then `then`, if given. */
  private observeNow(s: OpenSettlement, then?: () => void): void {
    if (s.pollBusy || s.closed || s.split) return;
    s.pollBusy = true;
    this.readLegs(s, (asset, payment) => {
      s.pollBusy = false;
      // A leg seen `none` after our prepare locked it (a reorg undid an unfinalized lock, or the
      // lock is not final yet): prepare again; legs are idempotent by settlement id.
      // (Only after a lock: an unauthorized prepare also leaves `none`, and repeating it each poll
      // would change nothing.)
      if (asset.state === 'none' && s.prepared.asset === 'locked') s.prepared.asset = null;
      if (payment.state === 'none' && s.prepared.payment === 'locked') s.prepared.payment = null;
      s.views.asset = asset;
      s.views.payment = payment;
      this.apply(s, { type: 'observe', asset, payment, deadline: false });
      this.deliver(s);
      this.checkClosed(s);
      then?.();
    }, () => {
      s.pollBusy = false;
      then?.();
    });
  }

  private readLegs(s: OpenSettlement, then: (asset: LegView, payment: LegView) => void, failed: () => void): void {
    const sid = s.instance.settlementId;
    this.inflight++;
    Promise.all([this.deps.legs.asset.observe(sid), this.deps.legs.payment.observe(sid)]).then(
      ([asset, payment]) => {
        this.inflight--;
        if (!this.stopped) then(asset, payment);
      },
      (err: unknown) => {
        this.inflight--;
        if (this.stopped) return;
        this.deps.log.event({ type: 'leg-error', settlementIdHex: s.sidHex, leg: 'asset', op: 'observe', error: err instanceof Error ? err.message : String(err) });
        failed();
      },
    );
  }

  /** The one deadline observation; retried each poll period until both legs could be read. */
  private readDeadline(s: OpenSettlement): void {
    if (s.instance.decided || s.deadlineRead) return;
    this.readLegs(s, (asset, payment) => {
      if (s.deadlineRead) return;
      s.deadlineRead = true;
      this.apply(s, { type: 'observe', asset, payment, deadline: true });
    }, () => {
      s.cancelDeadline = this.deps.timers.after(this.params.pollMs, () => this.readDeadline(s));
    });
  }

  /** This node's transmission rank for a settlement: a per-settlement rotation of the members. */
  private rank(s: OpenSettlement): number {
    const sid = s.instance.settlementId;
    const offset = ((sid[4]! << 8) | sid[5]!) % this.deps.ctx.n;
    return (this.self - 1 + offset) % this.deps.ctx.n;
  }

  private startDelivery(s: OpenSettlement): void {
    s.cancelDeadline?.();
    s.deliverFromMs = this.deps.clock.nowMs() + this.rank(s) * this.params.transmitStaggerMs;
    this.deliver(s);
  }

  /** Delivers the report to each leg not yet seen closed, at most once per retry period. */
  private deliver(s: OpenSettlement): void {
    const report = s.instance.report;
    if (report === null || s.deliverFromMs === null) return;
    const now = this.deps.clock.nowMs();
    if (now < s.deliverFromMs) return; // a lower rank delivers first; the next poll looks again
    for (const leg of LEG_NAMES) {
      if (legClosed(s.views[leg], true)) continue;
      const last = s.lastDeliveryMs[leg];
      if (last !== null && now - last < this.params.transmitRetryMs) continue;
      s.lastDeliveryMs[leg] = now;
      this.legCall(s, leg, 'apply', () => this.deps.legs[leg].applyReport(report), (out) => {
        this.deps.log.event({ type: 'deliver', settlementIdHex: s.sidHex, leg, outcome: out.kind === 'refused' ? `refused: ${out.reason}` : out.kind });
      });
    }
  }

  private checkClosed(s: OpenSettlement): void {
    if (s.closed || s.split) return;
    if (isSplit(s.views.asset, s.views.payment)) {
      // Both legs are final, one moved and the other did not: an operator must look. Never "closed".
      s.split = true;
      this.stopTimers(s);
      this.deps.log.event({ type: 'split', settlementIdHex: s.sidHex, asset: s.views.asset!.state, payment: s.views.payment!.state });
      return;
    }
    const decided = s.instance.decided;
    // An undecided node stays open even when both legs are closed (the others delivered while it
    // was cut off): it keeps resending, so a decided peer answers with the report and it decides
    // too (termination). Found by cluster mode: closing here left it undecided for good. Past the
    // reclaim time no report changes a leg any more, so an undecided node then closes too.
    if (!decided && this.deps.clock.nowMs() < reclaimAtMs(s.terms)) return;
    if (legClosed(s.views.asset, decided) && legClosed(s.views.payment, decided)) {
      s.closed = true;
      this.stopTimers(s);
      this.deps.log.event({ type: 'closed', settlementIdHex: s.sidHex });
    }
  }

  /**
   * At reclaim time plus the grace period: reads both legs once more and, if the settlement is still
   * not closed on both (nor split, which is reported apart), reports it stuck. It stays open and
   * polled (backed off); a later close is logged as usual.
   */
  private checkStuck(s: OpenSettlement): void {
    if (s.closed || s.split || s.archived || s.stuck) return;
    if (s.pollBusy) {
      s.cancelStuckCheck = this.deps.timers.after(this.params.pollMs, () => this.checkStuck(s));
      return;
    }
    this.observeNow(s, () => {
      if (s.closed || s.split || s.archived || s.stuck) return;
      s.stuck = true;
      const i = s.instance;
      this.deps.log.event({ type: 'stuck', settlementIdHex: s.sidHex, reclaimAtMs: reclaimAtMs(s.terms), decided: i.decided, asset: s.views.asset?.state ?? null, payment: s.views.payment?.state ?? null });
    });
  }

  /**
   * Every resendMs: resend for each open settlement whose resend is due (every tick, or backed off
   * for one that waits long), and archive the closed ones past their reclaim time.
   */
  private scheduleResend(): void {
    this.cancelResend = this.deps.timers.after(this.params.resendMs, () => {
      const now = this.deps.clock.nowMs();
      let waiting = 0;
      for (const s of this.settlements.values()) {
        if (s.closed) {
          if (now >= reclaimAtMs(s.terms)) this.archive(s);
          continue;
        }
        if (s.split) continue;
        if (s.backoff.waiting(now)) waiting++;
        if (s.backoff.resendDue(now, this.waitingCount)) this.apply(s, { type: 'resend' });
      }
      this.waitingCount = waiting;
      if (!this.stopped) this.scheduleResend();
    });
  }

  /**
   * Drops a settlement from memory and archives its record. Only once it is closed on both legs
   * and past its reclaim time: until then a decided node answers peers with the report, after it
   * no report changes a leg (and `open` refuses to track it again).
   */
  private archive(s: OpenSettlement): void {
    assert(s.closed && this.deps.clock.nowMs() >= reclaimAtMs(s.terms), 'only a closed settlement past its reclaim time is archived');
    this.deps.storage.archive(s.sidHex);
    s.archived = true;
    this.stopTimers(s);
    this.settlements.delete(s.sidHex);
  }
}
