/**
 * Observation of the v2 runtime: each tick, the legs of every held settlement whose poll is due
 * are read (per settlement for now; backed off as v1 does, backoff.ts) and turned into bundle
 * entries — a `view` entry when the view changed, the `deadline` entry at the deadline and the
 * `guard` entry at max(deadline, validUntil − commitGuardMs) while undecided, both persisted before
 * they are queued. A refused settlement gets its guard entry at its guard time without any read.
 * A decided one is read until closed on both legs.
 */
import { type BundleEntry, LEG_NAMES, encodeBundleEntry, equalBytes } from '@tandem/protocol';
import { legClosed } from '../outcome.js';
import { type Core, type HeldSettlement, entryOf, nowMs, undecided } from './state.js';

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

  constructor(
    private readonly core: Core,
    private readonly hooks: ObserveHooks,
  ) {}

  /** One tick: reads what is due, signs refused settlements' guard entries. */
  tick(): void {
    const now = nowMs(this.core);
    let reads = 0;
    let waiting = 0;
    for (const s of [...this.core.held.values()]) {
      if (s.closed) continue;
      if (s.refused) {
        this.refusedGuard(s, now);
        continue;
      }
      if (s.backoff.waiting(now)) waiting++;
      if (reads < READS_PER_TICK_MAX && this.due(s, now)) {
        reads++;
        this.read(s);
      }
    }
    this.waitingCount = waiting;
  }

  /** Reads a settlement's legs at once (after a prepare locked or rejected). */
  readNow(s: HeldSettlement): void {
    if (s.closed || s.refused) return;
    if (s.pollBusy) s.pollAtMs = nowMs(this.core); // the read under way may predate the lock: again next tick
    else this.read(s);
  }

  private due(s: HeldSettlement, now: number): boolean {
    if (s.pollBusy) return false;
    if (now >= s.pollAtMs) return true;
    return undecided(s) && ((now >= s.terms.deadlineMs && s.deadlineEntry === null) || (now >= s.guardDueMs && s.guardEntry === null));
  }

  private refusedGuard(s: HeldSettlement, now: number): void {
    if (!undecided(s) || s.guardEntry !== null || now < s.guardDueMs) return;
    this.own(s, 'guard'); // views are null: both legs shown `none`, nothing read
  }

  private read(s: HeldSettlement): void {
    const core = this.core;
    s.pollBusy = true;
    const id = s.id;
    core.inflight++;
    Promise.all([core.deps.legs.asset.observe(id), core.deps.legs.payment.observe(id)]).then(
      ([asset, payment]) => {
        core.inflight--;
        s.pollBusy = false;
        if (core.stopped || s.closed) return;
        // A lock seen vanished after our prepare locked it (a reorg, or a lock not final yet):
        // prepare again, idempotently, but at most once per pollMs — a chain that shows an
        // unfinalized lock as `none` would otherwise loop prepare → read → prepare at one instant.
        const seen = { asset, payment };
        const readAtMs = nowMs(core);
        for (const leg of LEG_NAMES) {
          const progress = s.legs[leg];
          const lockedLongAgo = progress.lockedAtMs === null || readAtMs - progress.lockedAtMs >= core.params.pollMs;
          if (seen[leg].state === 'none' && progress.prepared === 'locked' && lockedLongAgo) progress.prepared = null;
          progress.view = seen[leg];
        }
        this.afterRead(s);
      },
      (err: unknown) => {
        core.inflight--;
        s.pollBusy = false;
        if (core.stopped) return;
        core.deps.log.event({ type: 'leg-error', settlementIdHex: s.idHex, leg: 'asset', op: 'observe', error: err instanceof Error ? err.message : String(err) });
        s.pollAtMs = nowMs(core) + core.params.pollMs;
      },
    );
  }

  private afterRead(s: HeldSettlement): void {
    const now = nowMs(this.core);
    if (undecided(s)) {
      const view = entryOf(s, 'view');
      if (s.lastView === null || !equalBytes(encodeBundleEntry(view), encodeBundleEntry(s.lastView))) {
        s.lastView = view;
        this.hooks.queue(view);
      }
      if (now >= s.terms.deadlineMs && s.deadlineEntry === null) this.own(s, 'deadline');
      if (now >= s.guardDueMs && s.guardEntry === null) this.own(s, 'guard');
      this.hooks.prepare(s);
    }
    if (!undecided(s) && LEG_NAMES.every((leg) => legClosed(s.legs[leg].view, true))) {
      this.hooks.closed(s);
      return;
    }
    const fingerprint = LEG_NAMES.map((leg) => `${s.legs[leg].view?.state}/${s.legs[leg].prepared}`).join('/') + `/${s.decided !== null}`;
    s.backoff.note(fingerprint, now);
    s.pollAtMs = now + s.backoff.nextPollMs(now, this.waitingCount);
  }

  /** A deadline or guard entry: signed once, persisted before it is queued, repeated verbatim after. */
  private own(s: HeldSettlement, kind: 'deadline' | 'guard'): void {
    const entry = entryOf(s, kind);
    this.core.deps.storage.putOwnEntry(entry);
    if (kind === 'deadline') s.deadlineEntry = entry;
    else s.guardEntry = entry;
    this.hooks.queue(entry);
  }
}
