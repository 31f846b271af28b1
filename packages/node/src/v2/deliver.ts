/**
 * Delivery of decided batches: per (decided batch, leg), the entries not yet closed on that leg,
 * in settleBatch-style calls (applyBatch: the report, the entries, one multiproof) of at most
 * legBatchEntriesMax, most urgent first, one call per pair per tick. Pairs go by the earliest
 * validUntil of an undelivered COMMIT; each starts after rank·transmitStaggerMs, the ranks a
 * rotation of the members that differs per height; a failed call is retried after transmitRetryMs. A batch is kept
 * until every entry has a final answer on each leg (applied, duplicate, or refused: applied
 * elsewhere, expired, reclaimed), or this node sees that leg closed for it.
 *
 * The legs port holds one adapter per leg, so every entry's terms name it.
 */
import { type DecidedBatch, type Entry, LEG_NAMES, type LegName, compareIds, reportTreeMultiproof, toHex } from '@tandem/protocol';
import { legClosed } from '../outcome.js';
import { type Core, legCall, nowMs } from './state.js';

interface Pending {
  readonly batch: DecidedBatch;
  readonly leg: LegName;
  /** Indices into batch.entries still to deliver. */
  readonly undone: Set<number>;
  /** The next call may go at this time: after the stagger, on the next tick after an answer, or transmitRetryMs after a failure. */
  nextCallAtMs: number;
  busy: boolean;
}

/** Settlements remembered as closed on both legs while batches are delivered; beyond, forgotten (more calls, answered `duplicate`). */
export const CLOSED_REMEMBERED_MAX = 65_536;

export class Delivery {
  private pending: Pending[] = [];
  /** Settlements this node saw closed on both legs (and stopped tracking) while batches are pending. */
  private readonly closed = new Set<string>();

  constructor(private readonly core: Core) {}

  /** A decided batch to deliver to both legs. */
  add(batch: DecidedBatch): void {
    const now = nowMs(this.core);
    const fromMs = now + this.rank(batch) * this.core.params.transmitStaggerMs;
    for (const leg of LEG_NAMES) {
      if (this.pending.some((p) => p.leg === leg && p.batch.report.height === batch.report.height)) continue;
      this.pending.push({ batch, leg, undone: new Set(batch.entries.keys()), nextCallAtMs: fromMs, busy: false });
    }
  }

  /** This node saw the settlement closed on both legs: no call for it. */
  closedOnBoth(idHex: string): void {
    if (this.pending.length === 0) return;
    if (this.closed.size >= CLOSED_REMEMBERED_MAX) this.closed.clear();
    this.closed.add(idHex);
  }

  /** The lowest height still being delivered, or null. */
  lowestHeight(): number | null {
    let low: number | null = null;
    for (const p of this.pending) low = low === null ? p.batch.report.height : Math.min(low, p.batch.report.height);
    return low;
  }

  /** Every tick: the due pairs, most urgent first. */
  tick(): void {
    const now = nowMs(this.core);
    for (const p of this.pending) this.dropClosed(p);
    this.pending = this.pending.filter((p) => p.undone.size > 0);
    if (this.pending.length === 0) this.closed.clear();
    const due = this.pending.filter((p) => !p.busy && now >= p.nextCallAtMs);
    due.sort((a, b) => urgencyOf(a) - urgencyOf(b) || a.batch.report.height - b.batch.report.height);
    for (const p of due) this.call(p, now);
  }

  /** Entries this node sees closed on the leg need no call. */
  private dropClosed(p: Pending): void {
    for (const i of p.undone) {
      const idHex = toHex(p.batch.entries[i]!.settlementId);
      const s = this.core.held.get(idHex);
      if (this.closed.has(idHex) || (s !== undefined && legClosed(s.legs[p.leg].view, true))) p.undone.delete(i);
    }
  }

  private call(p: Pending, now: number): void {
    const core = this.core;
    const entries = p.batch.entries;
    const chosen = [...p.undone].sort((a, b) => entryUrgency(entries[a]!) - entryUrgency(entries[b]!) || compareIds(entries[a]!.settlementId, entries[b]!.settlementId));
    const indices = chosen.slice(0, core.v2.legBatchEntriesMax).sort((a, b) => a - b);
    const items = indices.map((i) => entries[i]!);
    const proof = reportTreeMultiproof(entries, indices);
    const height = p.batch.report.height;
    p.busy = true;
    legCall(
      core,
      null,
      p.leg,
      'applyBatch',
      () => core.deps.legs[p.leg].applyBatch(p.batch.report, items, proof),
      (outcomes) => {
        p.busy = false;
        p.nextCallAtMs = nowMs(core);
        outcomes.forEach((out, k) => {
          const i = indices[k]!;
          p.undone.delete(i);
          const outcome = out.kind === 'refused' ? `refused: ${out.reason}` : out.kind;
          core.deps.log.event({ type: 'deliver', height, leg: p.leg, settlementIdHex: toHex(entries[i]!.settlementId), outcome });
        });
      },
      () => {
        p.busy = false;
        p.nextCallAtMs = nowMs(core) + core.params.transmitRetryMs;
      },
    );
  }

  /** This node's rank for a batch: a rotation of the members by the batch's root, so it differs per height. */
  private rank(batch: DecidedBatch): number {
    const root = batch.report.root;
    const n = this.core.deps.ctx.n;
    const offset = ((root[0]! << 8) | root[1]!) % n;
    return (this.core.deps.ctx.self - 1 + offset) % n;
  }
}

/** A COMMIT by its validUntil (it expires); an ABORT has no hurry. */
function entryUrgency(e: Entry): number {
  return e.decision === 'COMMIT' ? e.validUntilMs : Number.MAX_SAFE_INTEGER;
}

/** A pair by the earliest validUntil of an undelivered COMMIT. */
function urgencyOf(p: Pending): number {
  let min = Number.MAX_SAFE_INTEGER;
  for (const i of p.undone) min = Math.min(min, entryUrgency(p.batch.entries[i]!));
  return min;
}
