/**
 * Observation of the v2 runtime: each tick, the legs of every held settlement whose poll is due
 * are read — all of them in one observeMany per leg, one such read under way at a time; polls
 * backed off as v1 does, backoff.ts — and turned into bundle
 * entries — a `view` entry when the view changed, the `deadline` entry at the deadline and the
 * `guard` entry at max(deadline, validUntil − commitGuardMs) while undecided, both persisted before
 * they are queued. A refused settlement gets its guard entry at its guard time without any read.
 * A decided one is read until closed on both legs. As under v1, a split outcome (one leg committed,
 * the other aborted or reclaimed) is reported at once and never called closed, and a decided
 * settlement still not closed on both legs at its reclaim time plus stuckGraceMs is read once more
 * and reported stuck (still polled).
 */
import { type BundleEntry, LEG_NAMES, type LegName, type LegView, assert, encodeBundleEntry, equalBytes, reclaimAtMs } from '@tandem/protocol';
import { OBSERVE_IDS_MAX } from '@tandem/legs';
import { isSplit, legClosed } from '../outcome.js';
import { type Core, type HeldSettlement, entryOf, nowMs, undecided } from './state.js';
import { assertNotSilenced, isSilenced } from './silenced.js';

/** Settlements read per tick at most (the rest wait for the next tick). */
export const READS_PER_TICK_MAX = 4096;

export interface ObserveHooks {
  /** A new entry of this node: into the next bundle. */
  queue(entry: BundleEntry): void;
  /** Re-prepare a leg whose lock vanished (intake.ts). */
  prepare(s: HeldSettlement): void;
  /** Closed on both legs (or refused and done): the runtime drops it. */
  closed(s: HeldSettlement): void;
}

export class Observer {
  /** Settlements waiting long, counted at the last tick: the total bound of the back-off. */
  private waitingCount = 0;
  /** Settlements to read in the next batched read (due at a tick, or asked for at once), in order. */
  private readonly queued = new Map<string, HeldSettlement>();
  /** A batched read of both legs is under way (at most one: the next takes what queued meanwhile). */
  private reading = false;

  constructor(
    private readonly core: Core,
    private readonly hooks: ObserveHooks,
  ) {}

  /** One tick: queues what is due and reads it, signs refused settlements' guard entries. */
  tick(): void {
    const now = nowMs(this.core);
    let waiting = 0;
    for (const s of this.core.held.values()) {
      if (s.closed || s.split) continue;
      if (s.refused) {
        this.refusedGuard(s, now);
        continue;
      }
      if (s.backoff.waiting(now)) waiting++;
      if (this.due(s, now)) this.queued.set(s.idHex, s);
    }
    this.waitingCount = waiting;
    this.readQueued();
  }

  /**
   * Reads a settlement's legs as soon as it can (after a prepare locked or rejected): now when no
   * read is under way, else right after it (that read may predate the lock).
   */
  readNow(s: HeldSettlement): void {
    if (s.closed || s.split || s.refused) return;
    this.queued.set(s.idHex, s);
    this.readQueued();
  }

  private due(s: HeldSettlement, now: number): boolean {
    if (s.pollBusy) return false;
    if (now >= s.pollAtMs || this.stuckDue(s, now)) return true;
    // A silenced node makes no deadline or guard entry: those never fall due there (silenced.ts).
    return undecided(s) && !isSilenced(this.core) && ((now >= s.terms.deadlineMs && s.deadlineEntry === null) || (now >= s.guardDueMs && s.guardEntry === null));
  }

  /** Decided, not yet reported stuck, and past its reclaim time plus the grace period: one more read decides. */
  private stuckDue(s: HeldSettlement, now: number): boolean {
    return s.decided !== null && !s.stuck && now >= reclaimAtMs(s.terms) + this.core.params.stuckGraceMs;
  }

  private refusedGuard(s: HeldSettlement, now: number): void {
    if (!undecided(s) || s.guardEntry !== null || now < s.guardDueMs || isSilenced(this.core)) return;
    this.own(s, 'guard'); // views are null: both legs shown `none`, nothing read
  }

  /**
   * One read of each leg (observeMany, in calls of at most OBSERVE_IDS_MAX ids) for up to
   * READS_PER_TICK_MAX queued settlements: the per-tick leg I/O of the runtime is one call per leg
   * under any load, and a lone settlement is read at once.
   */
  private readQueued(): void {
    const core = this.core;
    if (this.reading || this.queued.size === 0 || core.stopped) return;
    const batch: HeldSettlement[] = [];
    for (const [key, s] of this.queued) {
      if (batch.length >= READS_PER_TICK_MAX) break;
      this.queued.delete(key);
      if (!s.closed) batch.push(s);
    }
    if (batch.length === 0) return;
    this.reading = true;
    for (const s of batch) s.pollBusy = true;
    const ids = batch.map((s) => s.id);
    const chunks: Uint8Array[][] = [];
    for (let i = 0; i < ids.length; i += OBSERVE_IDS_MAX) chunks.push(ids.slice(i, i + OBSERVE_IDS_MAX));
    // Each leg's failure carries its name, so the log says which leg failed to answer.
    const observe = (leg: LegName) =>
      Promise.all(chunks.map((c) => core.deps.legs[leg].observeMany(c))).then(
        (parts) => parts.flat(),
        (err: unknown) => Promise.reject(new LegReadFailure(leg, err)),
      );
    core.inflight++;
    Promise.all([observe('asset'), observe('payment')]).then(
      ([asset, payment]) => {
        core.inflight--;
        this.reading = false;
        assert(asset.length === batch.length && payment.length === batch.length, 'a batched read answers one view per id and leg');
        const readAtMs = nowMs(core);
        batch.forEach((s, k) => {
          s.pollBusy = false;
          if (!core.stopped && !s.closed) this.afterViews(s, { asset: asset[k]!, payment: payment[k]! }, readAtMs);
        });
        this.readQueued();
      },
      (err: unknown) => {
        core.inflight--;
        this.reading = false;
        for (const s of batch) s.pollBusy = false;
        if (core.stopped) return;
        assert(err instanceof LegReadFailure, 'a failed read names its leg');
        const { leg, cause } = err;
        const error = `${cause instanceof Error ? cause.message : String(cause)} (a read of ${batch.length} settlements)`;
        core.deps.log.event({ type: 'leg-error', settlementIdHex: batch.length === 1 ? batch[0]!.idHex : null, leg, op: 'observe', error });
        const retryAtMs = nowMs(core) + core.params.pollMs;
        for (const s of batch) s.pollAtMs = Math.max(s.pollAtMs, retryAtMs);
      },
    );
  }

  /**
   * The views one read gave. A lock seen vanished after our prepare locked it (a reorg, or a lock
   * not final yet): prepare again, idempotently, but at most once per pollMs — a chain that shows
   * an unfinalized lock as `none` would otherwise loop prepare → read → prepare at one instant.
   */
  private afterViews(s: HeldSettlement, seen: Record<LegName, LegView>, readAtMs: number): void {
    for (const leg of LEG_NAMES) {
      const progress = s.legs[leg];
      const lockedLongAgo = progress.lockedAtMs === null || readAtMs - progress.lockedAtMs >= this.core.params.pollMs;
      if (seen[leg].state === 'none' && progress.prepared === 'locked' && lockedLongAgo) progress.prepared = null;
      progress.view = seen[leg];
    }
    this.afterRead(s);
  }

  private afterRead(s: HeldSettlement): void {
    const now = nowMs(this.core);
    const asset = s.legs.asset.view;
    const payment = s.legs.payment.view;
    if (isSplit(asset, payment)) {
      // Both legs are final, one moved and the other did not: an operator must look. Never "closed".
      s.split = true;
      this.core.deps.log.event({ type: 'split', settlementIdHex: s.idHex, asset: asset!.state, payment: payment!.state });
      return;
    }
    if (undecided(s)) {
      if (!isSilenced(this.core)) this.newEntries(s, now); // a silenced node signs no entry (silenced.ts)
      this.hooks.prepare(s);
    }
    if (!undecided(s) && LEG_NAMES.every((leg) => legClosed(s.legs[leg].view, true))) {
      this.hooks.closed(s);
      return;
    }
    if (this.stuckDue(s, now)) {
      s.stuck = true;
      this.core.deps.log.event({ type: 'stuck', settlementIdHex: s.idHex, reclaimAtMs: reclaimAtMs(s.terms), height: s.decided!.height, asset: asset?.state ?? null, payment: payment?.state ?? null });
    }
    const fingerprint = LEG_NAMES.map((leg) => `${s.legs[leg].view?.state}/${s.legs[leg].prepared}`).join('/') + `/${s.decided !== null}`;
    s.backoff.note(fingerprint, now);
    s.pollAtMs = now + s.backoff.nextPollMs(now, this.waitingCount);
  }

  /** An undecided settlement's entries after a read: its view when it changed, its deadline and guard entries when due. */
  private newEntries(s: HeldSettlement, now: number): void {
    const view = entryOf(s, 'view');
    if (s.lastView === null || !equalBytes(encodeBundleEntry(view), encodeBundleEntry(s.lastView))) {
      s.lastView = view;
      this.hooks.queue(view);
    }
    if (now >= s.terms.deadlineMs && s.deadlineEntry === null) this.own(s, 'deadline');
    if (now >= s.guardDueMs && s.guardEntry === null) this.own(s, 'guard');
  }

  /** A deadline or guard entry: signed once, persisted before it is queued, repeated verbatim after. */
  private own(s: HeldSettlement, kind: 'deadline' | 'guard'): void {
    assertNotSilenced(this.core, `makes a ${kind} entry`);
    const entry = entryOf(s, kind);
    this.core.deps.storage.putOwnEntry(entry);
    if (kind === 'deadline') s.deadlineEntry = entry;
    else s.guardEntry = entry;
    this.hooks.queue(entry);
  }
}

/** A leg's observe failed: which leg, and why. */
class LegReadFailure {
  constructor(
    readonly leg: LegName,
    readonly cause: unknown,
  ) {}
}
