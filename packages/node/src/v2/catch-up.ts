/**
 * Catch-up by decided batches: a node answers a message of a lower height with that height's
 * decided batch (its newest if it no longer keeps that one), answers a catch-up request with up to
 * catchUpBatchesMax kept batches, asks a peer that is ahead for the heights it misses, and keeps
 * verified decided batches above its next height (bounded) until it can use them: in order, or by
 * a jump to liveFrom(H) … H when the heights below liveFrom(H) are no longer needed. Each
 * answer and request is sent at most once per resendMs per peer.
 */
import { type DecidedBatch, reportDigestV2 } from '@tandem/protocol';
import { anchorMatches, decidedBatchProblem } from '@tandem/consensus';
import { type Core, nowMs } from './state.js';

export class CatchUp {
  /** Verified decided batches above the next height, by height. */
  private readonly ahead = new Map<number, DecidedBatch>();
  private readonly answeredAtMs = new Map<number, number>();
  private readonly requestsAnsweredAtMs = new Map<number, number>();
  private readonly askedAtMs = new Map<number, number>();

  constructor(private readonly core: Core) {}

  /** Heights kept ahead at most: two answers' worth. */
  private get aheadMax(): number {
    return 2 * this.core.v2.catchUpBatchesMax;
  }

  /** A message of `height` below our next one came from `peer`: it is behind; hand it that height's decided batch. */
  answerLower(peer: number, height: number): void {
    if (!this.due(this.answeredAtMs, peer)) return;
    const chain = this.core.chain;
    const batch = chain.batchAt(height) ?? chain.batchAt(chain.tip);
    if (batch !== null) this.core.deps.transport.send(peer, { kind: 'decided', batch });
  }

  /** A catch-up request from `peer`. */
  answerRequest(peer: number, fromHeight: number, count: number): void {
    if (!this.due(this.requestsAnsweredAtMs, peer)) return;
    const max = Math.max(1, Math.min(count, this.core.v2.catchUpBatchesMax));
    for (const batch of this.core.chain.catchUpAnswer(fromHeight, max)) this.core.deps.transport.send(peer, { kind: 'decided', batch });
  }

  /** `peer` is at a height above ours: ask it for the first height we miss. */
  ask(peer: number): void {
    if (!this.due(this.askedAtMs, peer)) return;
    this.core.deps.transport.send(peer, { kind: 'catch-up', fromHeight: this.wanted(), count: this.core.v2.catchUpBatchesMax });
  }

  /**
   * The first height to ask for: the next one, unless a kept batch H lets us skip to liveFrom(H)
   * (a jump), then the first one of liveFrom(H) … H not kept yet.
   */
  private wanted(): number {
    const next = this.core.chain.tip + 1;
    const highest = Math.max(0, ...this.ahead.keys());
    const live = this.ahead.get(highest)?.report.liveFrom ?? next;
    let h = Math.max(next, live);
    while (this.ahead.has(h) && h < highest) h++;
    return h;
  }

  /**
   * A decided batch above our next height from `peer`: kept once its report verifies (and its
   * entries are the report's), then more is asked for. Returns false if it did not verify.
   */
  keepAhead(peer: number, batch: DecidedBatch): boolean {
    const core = this.core;
    const r = batch.report;
    const next = core.chain.tip + 1;
    if (!anchorMatches(core.anchor, r) || decidedBatchProblem(batch) !== null) return false;
    if (!core.deps.ctx.verifier.bls(core.deps.ctx.groupPublicKey, reportDigestV2(r), r.signature)) return false;
    if (!this.ahead.has(r.height) && this.ahead.size >= this.aheadMax) {
      const highest = Math.max(...this.ahead.keys());
      if (r.height > highest) return true;
      this.ahead.delete(highest);
    }
    this.ahead.set(r.height, batch);
    if (!this.ahead.has(next)) this.ask(peer);
    return true;
  }

  /** The kept batch of `height`, taken out. */
  take(height: number): DecidedBatch | null {
    const b = this.ahead.get(height) ?? null;
    this.ahead.delete(height);
    return b;
  }

  /**
   * A jump the kept batches allow: some kept H whose liveFrom is above our next height, with every
   * height liveFrom(H) … H kept. The batches in order, or null.
   */
  jump(): DecidedBatch[] | null {
    const next = this.core.chain.tip + 1;
    const heights = [...this.ahead.keys()].sort((a, b) => b - a);
    for (const h of heights) {
      const from = this.ahead.get(h)!.report.liveFrom;
      if (from <= next) continue;
      const run: DecidedBatch[] = [];
      for (let k = from; k <= h && this.ahead.has(k); k++) run.push(this.ahead.get(k)!);
      if (run.length === h - from + 1) return run;
    }
    return null;
  }

  /** Drops kept batches at or below the tip. */
  prune(): void {
    for (const h of [...this.ahead.keys()]) if (h <= this.core.chain.tip) this.ahead.delete(h);
  }

  private due(at: Map<number, number>, peer: number): boolean {
    const now = nowMs(this.core);
    const last = at.get(peer);
    if (last !== undefined && now - last < this.core.params.resendMs) return false;
    at.set(peer, now);
    return true;
  }
}
