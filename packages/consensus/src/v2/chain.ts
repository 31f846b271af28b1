/**
 * The decided prefix of protocol v2: heights from 1, each with its decided batch. What a node must
 * hold to judge the next height (docs/protocol.md, "Protocol v2"):
 *  - T_h, the chain time (the time of the batch decided at h; T_0 = 0), non-decreasing;
 *  - D_h, the settlements of the batches decided at heights ≤ h, pruned: an id whose validUntil is
 *    at or below T_h is forgotten, since every later height excludes it by V4;
 *  - the decided batches from liveFrom of the newest on, which hold every id not yet pruned and
 *    answer catch-up requests.
 * Pure: no clock, no I/O. A node judges height h only when h = tip + 1.
 */
import {
  type DecidedBatch,
  type Entry,
  assert,
  entriesOrderProblem,
  equalBytes,
  reportTreeRoot,
  toHex,
} from '@tandem/protocol';

/** A decided batch with what the chain derives from it once. */
interface KeptHeight {
  readonly batch: DecidedBatch;
  /** The latest validUntil of its entries: the height stays live while it is above chain time. */
  readonly validUntilMsMax: number;
}

/** Whether a header's count and root are bound to the entries it names (ids strictly ascending). */
export function entriesBindingProblem(count: number, root: Uint8Array, entries: readonly Entry[]): string | null {
  if (!Number.isSafeInteger(count) || count < 1) return `count ${count} is not positive`;
  if (count !== entries.length) return `count ${count} but ${entries.length} entries`;
  const order = entriesOrderProblem(entries);
  if (order !== null) return order;
  if (!equalBytes(reportTreeRoot(entries), root)) return 'root is not the root of the entries';
  return null;
}

/** Why a decided batch cannot extend (or, in a jump, form) any chain, or null. */
export function decidedBatchProblem(batch: DecidedBatch): string | null {
  const r = batch.report;
  if (!Number.isSafeInteger(r.height) || r.height < 1) return `decided batch: height ${r.height} is not a height`;
  if (!Number.isSafeInteger(r.timeMs) || r.timeMs < 0) return `decided batch ${r.height}: time ${r.timeMs} out of range`;
  if (!Number.isSafeInteger(r.liveFrom) || r.liveFrom < 1 || r.liveFrom > r.height) {
    return `decided batch ${r.height}: liveFrom ${r.liveFrom} not in 1..${r.height}`;
  }
  const binding = entriesBindingProblem(r.count, r.root, batch.entries);
  return binding === null ? null : `decided batch ${r.height}: ${binding}`;
}

export class DecidedChain {
  private tipHeight = 0;
  private tipTimeMs = 0;
  /** Kept decided batches, heights keptFrom … tip, in order. */
  private kept: KeptHeight[] = [];
  private keptFrom = 1;
  /** D (before pruning): id hex → validUntil, for the ids of the kept batches. */
  private decided = new Map<string, number>();
  /** liveFrom of the next height (V6), advanced as chain time grows. */
  private liveFromNext = 1;

  /** The newest decided height (0 before the first). */
  get tip(): number {
    return this.tipHeight;
  }

  /** T_tip: the chain time of the newest decided height (0 before the first). */
  get timeMs(): number {
    return this.tipTimeMs;
  }

  /** The lowest height whose decided batch this node still keeps (tip + 1 when it keeps none). */
  get keptFromHeight(): number {
    return this.kept.length === 0 ? this.tipHeight + 1 : this.keptFrom;
  }

  /**
   * Whether `id` is in D_tip as pruned: decided at some height and validUntil > T_tip. An id
   * decided with validUntil ≤ T_tip answers false: V4 excludes it instead.
   */
  holds(id: Uint8Array): boolean {
    const validUntilMs = this.decided.get(toHex(id));
    return validUntilMs !== undefined && validUntilMs > this.tipTimeMs;
  }

  /**
   * V6 for h = tip + 1: the lowest height below h whose batch has an entry with validUntil > T_{h−1},
   * else h. Only the next height can be asked: lower heights were judged on their own prefix.
   */
  liveFromFor(height: number): number {
    assert(height === this.tipHeight + 1, `liveFromFor(${height}) asked at tip ${this.tipHeight}: only the next height`);
    return this.liveFromNext;
  }

  /** Whether this node holds what judging `height` needs: the decided prefix up to height − 1. */
  canJudge(height: number): boolean {
    return height === this.tipHeight + 1;
  }

  /** The decided batch of `height` if kept (catch-up answers), else null. */
  batchAt(height: number): DecidedBatch | null {
    if (height < this.keptFrom || height > this.tipHeight) return null;
    return this.kept[height - this.keptFrom]?.batch ?? null;
  }

  /** The kept decided batches, liveFrom of the newest … tip: what a laggard fetches after a jump. */
  keptBatches(): readonly DecidedBatch[] {
    return this.kept.map((k) => k.batch);
  }

  /**
   * The answer to a peer asking for heights from `fromHeight`: the kept batches from there, at most
   * `batchesMax` (catchUpBatchesMax); the newest alone when that height is no longer kept (the peer
   * then fetches liveFrom of the newest … newest and jumps); nothing when it is not decided yet.
   */
  catchUpAnswer(fromHeight: number, batchesMax: number): DecidedBatch[] {
    assert(Number.isSafeInteger(batchesMax) && batchesMax >= 1, 'batchesMax is a positive integer');
    if (fromHeight > this.tipHeight || this.kept.length === 0) return [];
    if (fromHeight < this.keptFrom) return [this.kept.at(-1)!.batch];
    const start = fromHeight - this.keptFrom;
    return this.kept.slice(start, start + batchesMax).map((k) => k.batch);
  }

  /** Why `batch` cannot be the next height of this chain, or null. */
  nextBatchProblem(batch: DecidedBatch): string | null {
    const r = batch.report;
    if (r.height !== this.tipHeight + 1) return `decided batch ${r.height}: the chain expects height ${this.tipHeight + 1}`;
    const shape = decidedBatchProblem(batch);
    if (shape !== null) return shape;
    if (r.timeMs < this.tipTimeMs) return `decided batch ${r.height}: time ${r.timeMs} below chain time ${this.tipTimeMs}`;
    if (r.liveFrom !== this.liveFromNext) return `decided batch ${r.height}: liveFrom ${r.liveFrom}, the chain says ${this.liveFromNext}`;
    for (const e of batch.entries) {
      if (this.holds(e.settlementId)) return `decided batch ${r.height}: ${toHex(e.settlementId)} already decided`;
      if (e.validUntilMs <= this.tipTimeMs) return `decided batch ${r.height}: ${toHex(e.settlementId)} expired at chain time`;
    }
    return null;
  }

  /**
   * Appends the decided batch of height tip + 1, then prunes. A decided batch was judged valid on
   * this same prefix by f+1 correct nodes, so a problem here means more than f faults or a caller
   * bug: it is asserted, never skipped (check nextBatchProblem first for bytes off the network).
   */
  processDecidedBatch(batch: DecidedBatch): void {
    const problem = this.nextBatchProblem(batch);
    assert(problem === null, problem ?? '');
    this.append(batch);
  }

  /**
   * Catch-up by jump: replaces the chain by decided batches liveFrom(H) … H of a peer (H > tip),
   * each already authenticated by its report signature. Heights below liveFrom(H) hold only ids
   * with validUntil ≤ T_{H−1}, which V4 excludes from every later height, so nothing is lost for
   * judging; their outcomes are learned from the legs.
   */
  jumpProblem(batches: readonly DecidedBatch[]): string | null {
    const last = batches.at(-1);
    if (last === undefined) return 'jump: no decided batches';
    if (last.report.height <= this.tipHeight) return `jump: height ${last.report.height} is not ahead of tip ${this.tipHeight}`;
    const first = batches[0]!.report.height;
    if (last.report.liveFrom !== first) return `jump: batches start at ${first}, liveFrom of ${last.report.height} is ${last.report.liveFrom}`;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const shape = decidedBatchProblem(b);
      if (shape !== null) return `jump: ${shape}`;
      if (b.report.height !== first + i) return `jump: height ${b.report.height} where ${first + i} was expected`;
      if (i > 0 && b.report.timeMs < batches[i - 1]!.report.timeMs) return `jump: time goes back at height ${b.report.height}`;
    }
    return null;
  }

  processJump(batches: readonly DecidedBatch[]): void {
    const problem = this.jumpProblem(batches);
    assert(problem === null, problem ?? '');
    const first = batches[0]!.report;
    this.kept = [];
    this.decided = new Map();
    this.keptFrom = first.height;
    this.liveFromNext = first.height;
    this.tipHeight = first.height - 1;
    this.tipTimeMs = first.timeMs;
    for (const b of batches) this.append(b);
  }

  private append(batch: DecidedBatch): void {
    const r = batch.report;
    this.kept.push({ batch, validUntilMsMax: validUntilMax(batch.entries) });
    for (const e of batch.entries) this.decided.set(toHex(e.settlementId), e.validUntilMs);
    this.tipHeight = r.height;
    this.tipTimeMs = r.timeMs;
    this.advanceLiveFrom();
    this.dropBelow(r.liveFrom);
  }

  /** Chain time only grows, so a height once not live never is again: one pass overall. */
  private advanceLiveFrom(): void {
    let h = Math.max(this.liveFromNext, this.keptFrom);
    while (h <= this.tipHeight && this.kept[h - this.keptFrom]!.validUntilMsMax <= this.tipTimeMs) h++;
    this.liveFromNext = h;
  }

  /**
   * Forgets the batches below `height` (liveFrom of the newest) and their ids: every entry there has
   * validUntil ≤ T_{tip−1}, already pruned from D. Ids of kept batches at or below chain time stay
   * in memory until their batch goes, but `holds` no longer answers for them.
   */
  private dropBelow(height: number): void {
    const drop = Math.min(Math.max(0, height - this.keptFrom), this.kept.length);
    if (drop === 0) return;
    for (const k of this.kept.splice(0, drop)) {
      for (const e of k.batch.entries) {
        assert(e.validUntilMs <= this.tipTimeMs, 'a dropped height holds no live entry');
        this.decided.delete(toHex(e.settlementId));
      }
    }
    this.keptFrom += drop;
  }
}

function validUntilMax(entries: readonly Entry[]): number {
  let max = 0;
  for (const e of entries) max = Math.max(max, e.validUntilMs);
  return max;
}
