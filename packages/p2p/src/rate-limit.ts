/**
 * A token bucket per peer: each message takes one token; tokens refill continuously at
 * `ratePerSecond` up to `burst`. Time is passed in (ms, any monotonic origin), so the arithmetic is
 * testable without a clock.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError('token bucket needs ratePerSecond > 0 and burst >= 1');
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one. A clock that steps back refills nothing (never negative time). */
  take(nowMs: number): boolean {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.lastMs = Math.max(this.lastMs, nowMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One bucket per member index, created on first use (members are few: the map is bounded by n). */
export class PeerRateLimiter {
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  allow(peer: number, nowMs: number): boolean {
    let b = this.buckets.get(peer);
    if (b === undefined) {
      b = new TokenBucket(this.ratePerSecond, this.burst, nowMs);
      this.buckets.set(peer, b);
    }
    return b.take(nowMs);
  }
}
