/** The runtime's timing and its bounds: what a node may spend on each settlement and in total. */

export interface RuntimeParams {
  /** How often each open settlement's legs are read. */
  readonly pollMs: number;
  /** How often a node re-broadcasts its latest messages (docs/protocol.md, Delivery). */
  readonly resendMs: number;
  /** Transmission stagger: the node of rank k first delivers the report after k·transmitStaggerMs. */
  readonly transmitStaggerMs: number;
  /** A delivery that has not shown up on the leg is retried after this long. */
  readonly transmitRetryMs: number;
  /** A settlement with nothing new for this long starts backing off its polls and resends (backoff.ts). */
  readonly backoffAfterMs: number;
  /** Backed-off polls and resends of one settlement happen at least this often (unless the total bound stretches them). */
  readonly backoffMaxMs: number;
  /** All waiting settlements together: at most this many leg reads, and resend rounds, a second. */
  readonly waitingPollsPerSecondMax: number;
  /** A settlement still open this long after its reclaim time is reported stuck. */
  readonly stuckGraceMs: number;
  /** Intents whose validUntil is further ahead than this are refused (`horizon`). */
  readonly horizonMaxMs: number;
  /** Undecided settlements a node holds, at most; further intents are refused (`full`). */
  readonly openSettlementsMax: number;
  /** Open settlements without any authorization, at most; further intents without one are refused (`full`). */
  readonly unauthorizedOpenMax: number;
  /**
   * Intents whose report window is not longer than this are refused (`window-too-short`). Protocol
   * v1 has no commit guard: 0, which refuses none.
   */
  readonly commitGuardMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_RUNTIME_PARAMS: RuntimeParams = {
  pollMs: 100,
  resendMs: 500,
  transmitStaggerMs: 200,
  transmitRetryMs: 1_000,
  backoffAfterMs: 10_000,
  backoffMaxMs: 60_000,
  waitingPollsPerSecondMax: 200,
  stuckGraceMs: 60_000,
  // Ten years, their leap days, and a day for the report window: a deadline ten years out is always taken.
  horizonMaxMs: (10 * 365 + 3 + 1) * DAY_MS,
  openSettlementsMax: 5_000,
  unauthorizedOpenMax: 1_000,
  commitGuardMs: 0,
};
