/**
 * valid_h(B) of protocol v2 (docs/protocol.md, "Protocol v2"): whether a batch may be prevoted,
 * locked and precommitted at height h = tip + 1 of the decided prefix. A pure function of the
 * prefix (fixed once decided), the evidence pool (only grows) and the parameters: it reads no
 * clock, so once a batch is valid it stays valid and a locked node can prevote it in every later
 * round. Time rules (the commit guard) are proposer and prevote rules instead (ready.ts).
 */
import {
  type BatchHeader,
  type Entry,
  type V2Params,
  assert,
  toHex,
} from '@tandem/protocol';
import { type DecidedChain, entriesBindingProblem } from './chain.js';
import type { EvidencePoolV2 } from './pool.js';

export interface ValidityContext {
  readonly chain: DecidedChain;
  readonly pool: EvidencePoolV2;
  readonly params: V2Params;
}

/**
 * The first of V1–V6 the batch (header and the entries it names) breaks at `height`, as a reason
 * starting with the rule's name (`'V3: …'`), or null when the batch is valid. The caller judges
 * only the next height (`chain.canJudge(height)`); asking for another is a bug.
 */
export function batchProblem(ctx: ValidityContext, height: number, header: BatchHeader, entries: readonly Entry[]): string | null {
  assertJudgeable(ctx, height);
  for (const rule of BATCH_RULES) {
    const problem = rule(ctx, height, header, entries);
    if (problem !== null) return problem;
  }
  return null;
}

export function isValidBatch(ctx: ValidityContext, height: number, header: BatchHeader, entries: readonly Entry[]): boolean {
  return batchProblem(ctx, height, header, entries) === null;
}

/**
 * Every rule the batch breaks, in order (the checker and tests; a node needs only the first). V2–V4
 * read the entries' fields, so they are asked only once V1 holds.
 */
export function batchProblems(ctx: ValidityContext, height: number, header: BatchHeader, entries: readonly Entry[]): string[] {
  assertJudgeable(ctx, height);
  const shape = shapeProblem(ctx, height, header, entries);
  if (shape !== null) return [shape];
  return BATCH_RULES.map((rule) => rule(ctx, height, header, entries)).filter((p): p is string => p !== null);
}

function assertJudgeable(ctx: ValidityContext, height: number): void {
  assert(ctx.chain.canJudge(height), `height ${height} judged at tip ${ctx.chain.tip}: only the next height`);
}

type BatchRule = (ctx: ValidityContext, height: number, header: BatchHeader, entries: readonly Entry[]) => string | null;

/** V1: the header is bound to the entries it names, and they are a well-formed batch. */
function shapeProblem(ctx: ValidityContext, _height: number, header: BatchHeader, entries: readonly Entry[]): string | null {
  const params = ctx.params;
  const count = header.count;
  if (!Number.isSafeInteger(count) || count < 1 || count > params.batchEntriesMax) return `V1: count ${count} not in 1..${params.batchEntriesMax}`;
  for (const e of entries) {
    if (e.decision !== 'COMMIT' && e.decision !== 'ABORT') return `V1: ${toHex(e.settlementId)} has decision ${String(e.decision)}`;
    if (!Number.isSafeInteger(e.validUntilMs) || e.validUntilMs < 0) return `V1: ${toHex(e.settlementId)} has validUntil ${e.validUntilMs}`;
  }
  const binding = entriesBindingProblem(count, header.root, entries);
  return binding === null ? null : `V1: ${binding}`;
}

/** V2: terms held for each entry, its validUntil theirs and within the horizon, f+1 supporters. */
function evidenceProblem(ctx: ValidityContext, _height: number, header: BatchHeader, entries: readonly Entry[]): string | null {
  const horizonMs = header.timeMs + ctx.params.horizonMaxMs;
  for (const e of entries) {
    const id = toHex(e.settlementId);
    const known = ctx.pool.termsOf(e.settlementId);
    if (known === null) return `V2: no terms for ${id}`;
    if (known.validUntilMs !== e.validUntilMs) return `V2: ${id} has validUntil ${e.validUntilMs}, its terms say ${known.validUntilMs}`;
    if (e.validUntilMs > horizonMs) return `V2: ${id} has validUntil ${e.validUntilMs}, beyond time + horizonMaxMs = ${horizonMs}`;
    if (!ctx.pool.isValid(e.settlementId, e.decision)) {
      return `V2: ${id} ${e.decision} has ${ctx.pool.supportCount(e.settlementId, e.decision)} supporting members, needs ${ctx.pool.f + 1}`;
    }
  }
  return null;
}

/** V3: no entry's settlement was decided at a lower height (D_{h−1}, as pruned). */
function decidedProblem(ctx: ValidityContext, _height: number, _header: BatchHeader, entries: readonly Entry[]): string | null {
  for (const e of entries) if (ctx.chain.holds(e.settlementId)) return `V3: ${toHex(e.settlementId)} was decided at a lower height`;
  return null;
}

/** V4: every entry is still live at chain time T_{h−1}; this also excludes every pruned id. */
function expiredProblem(ctx: ValidityContext, _height: number, _header: BatchHeader, entries: readonly Entry[]): string | null {
  const chainTimeMs = ctx.chain.timeMs;
  for (const e of entries) {
    if (e.validUntilMs <= chainTimeMs) return `V4: ${toHex(e.settlementId)} has validUntil ${e.validUntilMs} ≤ chain time ${chainTimeMs}`;
  }
  return null;
}

/** V5: time = T_{h−1}, or above it and reached by f+1 members' bundle times (one correct clock). */
function timeProblem(ctx: ValidityContext, _height: number, header: BatchHeader): string | null {
  const chainTimeMs = ctx.chain.timeMs;
  const t = header.timeMs;
  if (!Number.isSafeInteger(t) || t < chainTimeMs) return `V5: time ${t} below chain time ${chainTimeMs}`;
  if (t === chainTimeMs) return null;
  const reached = ctx.pool.membersWithBundleAtLeast(t);
  if (reached < ctx.pool.f + 1) return `V5: time ${t} reached by ${reached} members' bundles, needs ${ctx.pool.f + 1}`;
  return null;
}

/** V6: liveFrom is the lowest height below h with an entry live at T_{h−1}, else h. */
function liveFromProblem(ctx: ValidityContext, height: number, header: BatchHeader): string | null {
  const expected = ctx.chain.liveFromFor(height);
  if (header.liveFrom !== expected) return `V6: liveFrom ${header.liveFrom}, the chain says ${expected}`;
  return null;
}

/** V1–V6 in order. */
const BATCH_RULES: readonly BatchRule[] = [shapeProblem, evidenceProblem, decidedProblem, expiredProblem, timeProblem, liveFromProblem];
