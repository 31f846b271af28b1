import { type LockRecord, type Report, assert, encodeReport, equalBytes } from '@tandem/protocol';
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
 * The apply rules (the package README's `applyReport` row; the timing in docs/honest-limit.md)
 * for a report already checked by reportShapeProblem and reportAnchorProblem, given the id's
 * record (null: none) and the leg clock: at most one report per id; after a reclaim none. The
 * signature is checked last, as it is the slow check.
 */
export function processApply(record: SettlementOnLeg | null, report: Report, nowMs: number, checks: LegChecks): ApplyDecision {
  if (record?.appliedReport != null) return equalBytes(record.appliedReport, encodeReport(report)) ? { kind: 'duplicate' } : refused('another report was already applied');
  switch (record?.state ?? 'none') {
    case 'none':
      return processUnlockedAbort(report, 'abort-closed', checks);
    case 'rejected':
      return processUnlockedAbort(report, 'abort-recorded', checks);
    case 'locked':
      assert(record?.lock != null, 'locked without a lock record');
      return processLockedReport(record.lock, report, nowMs, checks);
    case 'reclaimed':
      return refused('value was reclaimed: reports are refused');
    case 'committed':
    case 'aborted':
      throw new Error(`assertion failed: ${record!.state} without an applied report`);
  }
}

/** An ABORT for an id with no lock: it verifies against the anchor's key (there is no stored one). */
function processUnlockedAbort(report: Report, kind: 'abort-closed' | 'abort-recorded', checks: LegChecks): ApplyDecision {
  if (report.decision !== 'ABORT') return refused('COMMIT refused: nothing is locked for this settlement');
  if (!isValidReportSignature(checks.verifyReport, checks.anchor.groupPublicKey, report)) return refused('report signature does not verify');
  return { kind };
}

/** A report for a lock: validUntil must be the lock's; COMMIT only before it; ABORT any time. */
function processLockedReport(lock: LockRecord, report: Report, nowMs: number, checks: LegChecks): ApplyDecision {
  if (report.validUntilMs !== lock.validUntilMs) return refused(`report validUntil ${report.validUntilMs} ms != lock's ${lock.validUntilMs} ms`);
  if (report.decision === 'COMMIT' && nowMs >= lock.validUntilMs) return refused(`COMMIT expired: now ${nowMs} ms >= validUntil ${lock.validUntilMs} ms`);
  // The key stored at lock time, never one named by the report.
  if (!isValidReportSignature(checks.verifyReport, lock.groupPublicKey, report)) return refused('report signature does not verify');
  return report.decision === 'COMMIT' ? { kind: 'commit', lock } : { kind: 'abort', lock };
}
