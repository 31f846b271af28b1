/**
 * Back-off for settlements that wait long (docs/protocol.md, "Waiting settlements"). A settlement
 * whose progress (what the node saw of each leg, the prepare answers, the authorizations it holds,
 * its round, step and decision) has not moved for `backoffAfterMs` is polled and resent less and
 * less often: each interval doubles, from pollMs (resendMs) up to `backoffMaxMs`, and any change
 * puts both back to their base at once. Bounds: per settlement at most one poll per interval and
 * at least one per `backoffMaxMs`; in total, the waiting settlements together cost at most
 * `waitingPollsPerSecondMax` leg reads (and resend rounds) a second — when many wait, each waits
 * longer than the cap.
 *
 * Until a settlement has waited `backoffAfterMs`, nothing here changes what the node does.
 */
import { assert } from '@tandem/protocol';

export interface BackoffParams {
  readonly pollMs: number;
  readonly resendMs: number;
  readonly backoffAfterMs: number;
  readonly backoffMaxMs: number;
  readonly waitingPollsPerSecondMax: number;
}

/** The interval each of `waiting` settlements needs so that together they stay under `perSecondMax` a second. */
function shareMs(waiting: number, perSecondMax: number): number {
  return Math.ceil((waiting * 1000) / perSecondMax);
}

export class Backoff {
  private fingerprint: string | null = null;
  private changedAtMs: number;
  private pollIntervalMs: number;
  private resendEveryTicks = 1;
  private resendTicksLeft = 0;

  constructor(
    private readonly p: BackoffParams,
    nowMs: number,
  ) {
    assert(p.pollMs > 0 && p.resendMs > 0 && p.backoffMaxMs >= p.pollMs && p.waitingPollsPerSecondMax > 0, 'back-off parameters are positive, the cap at least the poll period');
    this.changedAtMs = nowMs;
    this.pollIntervalMs = p.pollMs;
  }

  /** Polls or resends are spaced out beyond their base: a change must bring them back at once. */
  get backedOff(): boolean {
    return this.pollIntervalMs > this.p.pollMs || this.resendEveryTicks > 1;
  }

  /** Has nothing changed for `backoffAfterMs`? (Such a settlement counts toward the total bound.) */
  waiting(nowMs: number): boolean {
    return nowMs - this.changedAtMs >= this.p.backoffAfterMs;
  }

  /** Notes the settlement's progress; on a change, resets the back-off and returns true. */
  note(fingerprint: string, nowMs: number): boolean {
    if (fingerprint === this.fingerprint) return false;
    this.fingerprint = fingerprint;
    this.changedAtMs = nowMs;
    this.pollIntervalMs = this.p.pollMs;
    this.resendEveryTicks = 1;
    this.resendTicksLeft = 0;
    return true;
  }

  /** The delay before the next poll: pollMs, or, once waiting, double the last one up to the cap (and the total bound's share). */
  nextPollMs(nowMs: number, waitingCount: number): number {
    if (!this.waiting(nowMs)) return this.p.pollMs;
    this.pollIntervalMs = Math.min(this.p.backoffMaxMs, this.pollIntervalMs * 2);
    return Math.max(this.pollIntervalMs, shareMs(waitingCount, this.p.waitingPollsPerSecondMax));
  }

  /**
   * Asked at every resend tick (every resendMs): is this settlement's resend due? Every tick until
   * it waits; then every 2, 4, … ticks, up to the cap (and the total bound's share).
   */
  resendDue(nowMs: number, waitingCount: number): boolean {
    if (this.resendTicksLeft > 0) {
      this.resendTicksLeft--;
      return false;
    }
    if (this.waiting(nowMs)) {
      const capTicks = Math.max(1, Math.floor(this.p.backoffMaxMs / this.p.resendMs));
      this.resendEveryTicks = Math.min(capTicks, this.resendEveryTicks * 2);
      const shareTicks = Math.ceil(shareMs(waitingCount, this.p.waitingPollsPerSecondMax) / this.p.resendMs);
      this.resendTicksLeft = Math.max(this.resendEveryTicks, shareTicks) - 1;
    }
    return true;
  }
}
