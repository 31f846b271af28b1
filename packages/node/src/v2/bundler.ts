/**
 * Bundles out: at most one per tickMs, with the entries new since the last bundle, each undecided
 * settlement's latest `view` entry and its `deadline` and `guard` entries repeated verbatim every
 * refreshMs (backing off to 8·refreshMs; a decided height that omits it resets the back-off), and a
 * heartbeat every heartbeatMs even when empty (V5 needs fresh times). Bundle times strictly
 * increase, across restarts too: the time is persisted before the bundle is sent. Deadline and guard
 * entries were persisted when signed (observe.ts).
 *
 * A new entry does not wait for the next tick: it goes out as soon as the one-per-tickMs bound
 * allows (at once after a quiet tick, else tickMs after the last bundle). So a lone settlement's
 * views travel in one message delay, and under load bundles still go once per tickMs and grow.
 *
 * A silenced node (silenced.ts) signs no bundle, not even the empty heartbeat, and has no entry to queue.
 */
import { type Bundle, type BundleEntry, type BundleHeader, SIGN_DOMAIN_V2, bundleTreeRoot, encodeBundleHeaderBody, toHex } from '@tandem/protocol';
import { type Core, type HeldSettlement, nowMs, undecided } from './state.js';
import { assertNotSilenced, isSilenced } from './silenced.js';

/** The repeat period backs off up to this many refresh periods. */
export const REPEAT_BACKOFF_FACTOR = 8;

export class Bundler {
  /** New entries by (id, kind), in arrival order: a newer view of one id replaces the older. */
  private fresh = new Map<string, BundleEntry>();
  private lastTimeMs: number;
  private lastSentAtMs = -Infinity;
  /** A send is scheduled for fresh entries (at most one pending). */
  private flushPending = false;

  constructor(
    private readonly core: Core,
    lastTimeMs: number,
    /** Our own bundle goes to our own pool too (gossip.ts). */
    private readonly own: (bundle: Bundle) => void,
  ) {
    this.lastTimeMs = lastTimeMs;
  }

  /** After a restart: the next bundle is later than the last one signed. */
  resumeTime(lastTimeMs: number): void {
    this.lastTimeMs = Math.max(this.lastTimeMs, lastTimeMs);
  }

  queue(entry: BundleEntry): void {
    assertNotSilenced(this.core, 'queues a bundle entry');
    const key = `${toHex(entry.settlementId)}:${entry.kind}`;
    this.fresh.delete(key);
    this.fresh.set(key, entry);
    this.wake();
  }

  /** Fresh entries wait: a send at the earliest time the one-per-tickMs bound allows. */
  private wake(): void {
    if (this.flushPending) return;
    const core = this.core;
    this.flushPending = true;
    const waitMs = this.tooSoonByMs(nowMs(core));
    core.deps.timers.after(waitMs, () => {
      this.flushPending = false;
      if (!core.stopped && this.fresh.size > 0) this.tick();
    });
  }

  /**
   * How long until the next bundle may go (0: now). A clock that went back (now before the last
   * send) never holds bundles back: the bound paces sends, it must not stall them for as long as
   * the clock jumped (bundle times still increase: lastTimeMs).
   */
  private tooSoonByMs(now: number): number {
    const sinceMs = now - this.lastSentAtMs;
    return sinceMs < 0 ? 0 : Math.max(0, this.core.v2.tickMs - sinceMs);
  }

  /** A height decided: the undecided settlements it omitted are repeated at the base period again. */
  heightDecided(): void {
    const now = nowMs(this.core);
    for (const s of this.core.held.values()) {
      if (!undecided(s) || s.repeatEveryMs === this.core.v2.refreshMs) continue;
      s.repeatEveryMs = this.core.v2.refreshMs;
      s.repeatAtMs = Math.min(s.repeatAtMs, now + s.repeatEveryMs);
    }
  }

  /** One tick: signs and sends a bundle if there is anything to send, or a heartbeat is due (never two within tickMs). */
  tick(): void {
    const core = this.core;
    if (isSilenced(core)) {
      core.deps.storage.commit(); // no bundle, but the tick's puts (intents taken, refused or dropped) are still made durable
      return;
    }
    const now = nowMs(core);
    if (this.tooSoonByMs(now) > 0) {
      if (this.fresh.size > 0) this.wake();
      return;
    }
    const max = core.v2.bundleEntriesMax;
    const entries: BundleEntry[] = [];
    const included = new Set<string>();
    for (const [key, e] of this.fresh) {
      if (entries.length >= max) break;
      entries.push(e);
      included.add(key);
      this.fresh.delete(key);
    }
    for (const s of core.held.values()) {
      if (entries.length >= max) break;
      if (undecided(s) && now >= s.repeatAtMs) this.repeat(s, entries, included, now);
    }
    if (entries.length === 0 && now - this.lastSentAtMs < core.v2.heartbeatMs) return;
    this.send(entries, now);
  }

  /** Repeats a settlement's entries verbatim (those not already in this bundle) and backs off its period. */
  private repeat(s: HeldSettlement, entries: BundleEntry[], included: Set<string>, now: number): void {
    const own = [s.lastView, s.deadlineEntry, s.guardEntry].filter((e): e is BundleEntry => e !== null);
    if (own.length === 0) return;
    for (const e of own) if (!included.has(`${s.idHex}:${e.kind}`)) entries.push(e);
    s.repeatEveryMs = Math.min(s.repeatEveryMs * 2, REPEAT_BACKOFF_FACTOR * this.core.v2.refreshMs);
    s.repeatAtMs = now + s.repeatEveryMs;
  }

  private send(entries: readonly BundleEntry[], now: number): void {
    const core = this.core;
    assertNotSilenced(core, 'signs a bundle');
    const ctx = core.deps.ctx;
    const timeMs = Math.max(now, this.lastTimeMs + 1);
    core.deps.storage.putBundleTime(timeMs);
    core.deps.storage.commit(); // the tick's one commit: its own entries and this time, before the bundle goes out
    this.lastTimeMs = timeMs;
    this.lastSentAtMs = now;
    const header: BundleHeader = { ...core.anchor, signer: ctx.self, timeMs, count: entries.length, root: bundleTreeRoot(entries) };
    const bundle: Bundle = { header: { ...header, signature: ctx.signer.sign(SIGN_DOMAIN_V2.bundle, encodeBundleHeaderBody(header)) }, entries };
    this.own(bundle);
    core.deps.transport.broadcast({ kind: 'bundle', bundle });
    const kinds = { view: 0, deadline: 0, guard: 0 };
    for (const e of entries) kinds[e.kind]++;
    core.deps.log.event({ type: 'bundle-signed', timeMs, count: entries.length, kinds });
  }
}
