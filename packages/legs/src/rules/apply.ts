import { type Decision, type LockRecord, type Report, assert, encodeReport, equalBytes } from '@tandem/protocol';
import type { LegChecks } from './options.js';
import { type SettlementOnLeg, type Refusal, refused } from './record.js';
import { isValidReportSignature } from './signature.js';

/**
 * What applying a report does: refuse it, answer `duplicate` (the same report again), or apply it
 * — COMMIT moves the locked value to its receiver, ABORT returns it to its owner, an ABORT on an
 * id that never locked closes the id, and one on a rejected id is recorded (the state stays).
 */
export type ApplyDecision =
  | Refusal
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'commit'; readonly lock: LockRecord }
  | { readonly kind: 'abort'; readonly lock: LockRecord }
  | { readonly kind: 'abort-closed' }
  | { readonly kind: 'abort-recorded' };

/**
 * One settlement's outcome as a v1 report or a v2 entry states it, with how to tell it is the
 * committee's: `authenticityProblem(locked)` checks it against what the locked record stored (the
 * lock's group key, or the configuration it was made under), or against the anchor when `locked`
 * is null (nothing is locked); null when authentic, else why not. `marker` identifies this
 * application: the same marker again is a duplicate.
 */
export interface StatedOutcome {
  readonly decision: Decision;
  readonly validUntilMs: number;
  readonly marker: Uint8Array;
  readonly authenticityProblem: (locked: SettlementOnLeg | null) => string | null;
}

/**
 * The apply rules (the package README's `applyReport` row; the timing in docs/honest-limit.md),
 * shared by v1 reports and v2 entries, given the id's record (null: none) and the leg clock: at
 * most one outcome per id; COMMIT only on a lock, before its validUntil, with its validUntil;
 * ABORT any time while locked, closing a never-locked id; after a reclaim none. Authenticity is
 * checked last, as it may be the slow check.
 */
export function processOutcome(record: SettlementOnLeg | null, outcome: StatedOutcome, nowMs: number): ApplyDecision {
  if (record?.appliedReport != null) return equalBytes(record.appliedReport, outcome.marker) ? { kind: 'duplicate' } : refused('another report was already applied');
  switch (record?.state ?? 'none') {
    case 'none':
      return processUnlockedAbort(outcome, 'abort-closed');
    case 'rejected':
      return processUnlockedAbort(outcome, 'abort-recorded');
    case 'locked':
      assert(record?.lock != null, 'locked without a lock record');
      return processLocked(record, record.lock, outcome, nowMs);
    case 'reclaimed':
      return refused('value was reclaimed: reports are refused');
    case 'committed':
    case 'aborted':
      throw new Error(`assertion failed: ${record!.state} without an applied report`);
  }
}

/**
 * processOutcome for a v1 report already checked by reportShapeProblem and reportAnchorProblem:
 * its signature verifies under the key stored in the lock (the anchor's when nothing is locked).
 */
export function processApply(record: SettlementOnLeg | null, report: Report, nowMs: number, checks: LegChecks): ApplyDecision {
  return processOutcome(record, reportOutcome(report, checks), nowMs);
}

function reportOutcome(report: Report, checks: LegChecks): StatedOutcome {
  return {
    decision: report.decision,
    validUntilMs: report.validUntilMs,
    marker: encodeReport(report),
    // The key stored at lock time, never one named by the report.
    authenticityProblem: (locked) =>
      isValidReportSignature(checks.verifyReport, locked?.lock?.groupPublicKey ?? checks.anchor.groupPublicKey, report) ? null : 'report signature does not verify',
  };
}

/** An ABORT for an id with no lock: it is checked against the anchor (there is no lock to check against). */
function processUnlockedAbort(outcome: StatedOutcome, kind: 'abort-closed' | 'abort-recorded'): ApplyDecision {
  if (outcome.decision !== 'ABORT') return refused('COMMIT refused: nothing is locked for this settlement');
  const problem = outcome.authenticityProblem(null);
  return problem === null ? { kind } : refused(problem);
}

/** An outcome for a lock: validUntil must be the lock's; COMMIT only before it; ABORT any time. */
function processLocked(locked: SettlementOnLeg, lock: LockRecord, outcome: StatedOutcome, nowMs: number): ApplyDecision {
  if (outcome.validUntilMs !== lock.validUntilMs) return refused(`report validUntil ${outcome.validUntilMs} ms != lock's ${lock.validUntilMs} ms`);
  if (outcome.decision === 'COMMIT' && nowMs >= lock.validUntilMs) return refused(`COMMIT expired: now ${nowMs} ms >= validUntil ${lock.validUntilMs} ms`);
  const problem = outcome.authenticityProblem(locked);
  if (problem !== null) return refused(problem);
  return outcome.decision === 'COMMIT' ? { kind: 'commit', lock } : { kind: 'abort', lock };
}
