import type { Entry, ReportV2, TreeMultiproof } from '@tandem/protocol';
import type { ApplyOutcome } from '../adapter.js';
import { batchProofProblem } from './entry.js';
import type { LegChecks } from './options.js';
import { refused } from './record.js';
import { type RootDecision, processRoot, reportV2Problem } from './root.js';

/**
 * The root step of applyBatch, before anything is written: the report's shape and anchors, then
 * the multiproof must put `entries` under its root (with the stored count when the root is
 * stored, else the report's), then processRoot (the signature, for a root not stored yet).
 */
export function processBatchRoot(report: ReportV2, storedCount: number | null, entries: readonly Entry[], multiproof: TreeMultiproof, checks: LegChecks): RootDecision {
  const problem = reportV2Problem(report, checks) ?? batchProofProblem(report.root, storedCount ?? report.count, entries, multiproof);
  return problem === null ? processRoot(report, storedCount, checks) : refused(problem);
}

/** The answer of a batch call refused as a whole: every entry refused for the same reason. */
export function refuseAll(n: number, reason: string): readonly ApplyOutcome[] {
  const outcome = refused(reason);
  return Array.from({ length: n }, () => outcome);
}
