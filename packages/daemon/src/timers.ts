/**
 * The timers port over the host's timers, for a node that runs as a real process.
 *
 * `setTimeout` holds a delay in a signed 32-bit integer: anything above 2^31 − 1 ms (about 24.8
 * days) fires after 1 ms instead (Node only warns). A deadline a month out once made every node
 * sign its deadline observation at once and abort a valid settlement. So a long delay is armed in
 * steps of at most TIMER_STEP_MS_MAX, each re-armed against the node's clock (Date.now, the clock
 * the runtime reads its deadlines on) until the whole delay has passed: any delay up to
 * Number.MAX_SAFE_INTEGER ms works, the steps add no drift, and a clock that was stepped (or a
 * machine that slept) is caught up with at the next step, not weeks later.
 */
import { assert } from '@tandem/protocol';
import type { CancelTimer, Timers } from '@tandem/node';

/** The longest single host timer: one day, far below the 2^31 − 1 ms the host accepts. */
export const TIMER_STEP_MS_MAX = 24 * 60 * 60 * 1000;

/** The host's timer functions and the node's clock; injectable so a test can drive them. */
export interface HostTimers {
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
  nowMs(): number;
}

const HOST: HostTimers = {
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  nowMs: () => Date.now(),
};

/**
 * Calls `fn` once, `delayMs` from now (a negative delay counts as 0), however long the delay:
 * the host timer is armed for at most TIMER_STEP_MS_MAX at a time. Returns its cancel function.
 */
export function afterMs(delayMs: number, fn: () => void, host: HostTimers = HOST): CancelTimer {
  assert(Number.isFinite(delayMs) && Math.abs(delayMs) <= Number.MAX_SAFE_INTEGER, 'a timer delay is a finite number of ms');
  const dueMs = host.nowMs() + Math.max(0, delayMs);
  let handle: unknown = null;
  let cancelled = false;
  const arm = (): void => {
    if (cancelled) return;
    const leftMs = dueMs - host.nowMs();
    if (leftMs > TIMER_STEP_MS_MAX) {
      handle = host.setTimeout(arm, TIMER_STEP_MS_MAX);
      return;
    }
    handle = host.setTimeout(() => {
      handle = null;
      if (!cancelled) fn();
    }, Math.max(0, leftMs));
  };
  arm();
  return () => {
    cancelled = true;
    if (handle !== null) host.clearTimeout(handle);
    handle = null;
  };
}

/** The timers port of a real node: afterMs for every timer, and all of them cancelled at stop. */
export class SystemTimers implements Timers {
  /** Pending timers; bounded by what the runtime keeps armed (a few per open settlement). */
  private readonly pending = new Set<CancelTimer>();

  constructor(private readonly host: HostTimers = HOST) {}

  after(delayMs: number, fn: () => void): CancelTimer {
    const cancel = afterMs(
      delayMs,
      () => {
        this.pending.delete(cancel);
        fn();
      },
      this.host,
    );
    this.pending.add(cancel);
    return () => {
      cancel();
      this.pending.delete(cancel);
    };
  }

  /** Timers armed and not yet fired or cancelled. */
  get size(): number {
    return this.pending.size;
  }

  /** Cancels every pending timer (the node stops). */
  cancelAll(): void {
    for (const cancel of this.pending) cancel();
    this.pending.clear();
  }
}
