/**
 * The v2 proposer: who proposes a round, the batch a correct proposer assembles for a fresh
 * proposal (validRound = −1) and the time it gives it. Re-proposing a validValue is the height
 * instance's part: unchanged, whatever the time. The clock is an argument, never read.
 */
import { type BatchHeader, type Entry, type V2Params, assert, compareIds, reportTreeRoot } from '@tandem/protocol';
import type { DecidedChain } from './chain.js';
import type { EvidencePoolV2 } from './pool.js';
import { readyEntries } from './ready.js';

/** The proposer of round r at height h: member ((h + r) mod n) + 1 (rotation by height). */
export function heightProposer(height: number, round: number, n: number): number {
  assert(height >= 1 && round >= 0 && n >= 1, `no proposer for height ${height}, round ${round}, n ${n}`);
  return ((height + round) % n) + 1;
}

/**
 * The proposer's time: the (f+1)-th largest newest bundle time per member (so f+1 members' clocks,
 * one correct, reached it: V5), lowered to u − 1 for the earliest validUntil u of a ready entry left
 * out of the batch (so chain time never strands it: V4 at the next height), never below chain time.
 */
export function proposerTimeMs(chain: DecidedChain, pool: EvidencePoolV2, leftOutValidUntilMsMin: number | null): number {
  const reachedMs = pool.newestHeaders()[pool.f]?.timeMs ?? chain.timeMs;
  let timeMs = reachedMs;
  if (leftOutValidUntilMsMin !== null) timeMs = Math.min(timeMs, leftOutValidUntilMsMin - 1);
  return Math.max(timeMs, chain.timeMs);
}

export interface AssembledBatch {
  readonly header: BatchHeader;
  /** Strictly ascending by settlement id, as the header's root names them. */
  readonly entries: readonly Entry[];
}

/**
 * A fresh batch for height tip + 1 from the proposer's pool, or null when nothing is ready: every
 * ready entry in urgency order up to batchEntriesMax, leaving out any whose validUntil lies beyond
 * the batch time + horizonMaxMs (V2). Valid at the proposer by construction (tested, not assumed).
 */
export function assembleBatch(chain: DecidedChain, pool: EvidencePoolV2, nowMs: number, params: V2Params): AssembledBatch | null {
  const height = chain.tip + 1;
  const ready = readyEntries(chain, pool, nowMs, params);
  const reachedLimitMs = proposerTimeMs(chain, pool, null) + params.horizonMaxMs;
  const chosen: Entry[] = [];
  let leftOutMin: number | null = null;
  for (const e of ready) {
    if (chosen.length < params.batchEntriesMax && e.validUntilMs <= reachedLimitMs) chosen.push(e);
    else leftOutMin = Math.min(leftOutMin ?? e.validUntilMs, e.validUntilMs);
  }
  const timeMs = proposerTimeMs(chain, pool, leftOutMin);
  // Lowering the time can push a chosen entry past the horizon; leaving it out lowers nothing more
  // (its validUntil is above the time).
  const entries = chosen.filter((e) => e.validUntilMs <= timeMs + params.horizonMaxMs).sort((a, b) => compareIds(a.settlementId, b.settlementId));
  if (entries.length === 0) return null;
  const header: BatchHeader = { timeMs, liveFrom: chain.liveFromFor(height), count: entries.length, root: reportTreeRoot(entries) };
  return { header, entries };
}
