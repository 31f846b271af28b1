/**
 * Every call a v2 node makes to a leg's v2 interface (a root, proven entries, a whole batch), with
 * what the leg answered: the evidence the checker's proof-soundness re-verifies. The simulator
 * records them into its history (sim-world-v2.ts), a daemon into its history file (history-v2.ts
 * in packages/daemon); both see the legs through `recordingLegsV2`. A call that failed (threw) is
 * not recorded: it had no answer.
 */
import type { Entry, LegName, ReportV2, TreeMultiproof } from '@tandem/protocol';
import type { ApplyOutcome, BatchLegAdapter, ProvenEntry, RootOutcome } from '@tandem/legs';
import type { LegsV2 } from './ports.js';

/** One call of a node to a leg's v2 interface, with what the leg answered. */
export type LegCallV2 =
  | { readonly op: 'root'; readonly report: ReportV2; readonly outcome: RootOutcome }
  | { readonly op: 'entries'; readonly root: Uint8Array; readonly items: readonly ProvenEntry[]; readonly outcomes: readonly ApplyOutcome[] }
  | { readonly op: 'batch'; readonly report: ReportV2; readonly entries: readonly Entry[]; readonly multiproof: TreeMultiproof; readonly outcomes: readonly ApplyOutcome[] };

/** `legs` as they are, each answered v2 call handed to `record` (after the leg answered). */
export function recordingLegsV2(legs: LegsV2, record: (leg: LegName, call: LegCallV2) => void): LegsV2 {
  const wrap = (leg: BatchLegAdapter): BatchLegAdapter => ({
    leg: leg.leg,
    prepare: (t, a) => leg.prepare(t, a),
    observe: (id) => leg.observe(id),
    observeMany: (ids) => leg.observeMany(ids),
    applyReport: (r) => leg.applyReport(r),
    reclaim: (id) => leg.reclaim(id),
    submitRoot: async (report) => {
      const outcome = await leg.submitRoot(report);
      record(leg.leg, { op: 'root', report, outcome });
      return outcome;
    },
    applyEntries: async (root, items) => {
      const outcomes = await leg.applyEntries(root, items);
      record(leg.leg, { op: 'entries', root, items, outcomes });
      return outcomes;
    },
    applyBatch: async (report, entries, multiproof) => {
      const outcomes = await leg.applyBatch(report, entries, multiproof);
      record(leg.leg, { op: 'batch', report, entries, multiproof, outcomes });
      return outcomes;
    },
  });
  return { asset: wrap(legs.asset), payment: wrap(legs.payment) };
}
