/**
 * Every call a v2 node makes to a leg's v2 interface (a root, proven entries, a whole batch), with
 * what the leg answered: the evidence the checker's proof-soundness re-verifies. The simulator
 * records them into its history (sim-world-v2.ts), a daemon into its history file (history-v2.ts
 * in packages/daemon); both see the legs through `recordingLegsV2`.
 *
 * A call that threw had no answer. In the simulator it changed nothing (its legs fail before they
 * apply), and it is not recorded. Across processes it may have been applied all the same (the leg
 * host committed, then its answer was lost: a timeout, the leg host or the chain killed), so a daemon
 * records it with `null` outcomes (`unanswered`): what it carried, the leg's answer unknown.
 */
import type { Entry, LegName, ReportV2, TreeMultiproof } from '@tandem/protocol';
import type { ApplyOutcome, BatchLegAdapter, ProvenEntry, RootOutcome } from '@tandem/legs';
import type { LegsV2 } from './ports.js';

/** One call of a node to a leg's v2 interface, with what the leg answered. */
export type LegCallV2 =
  | { readonly op: 'root'; readonly report: ReportV2; readonly outcome: RootOutcome | null }
  | { readonly op: 'entries'; readonly root: Uint8Array; readonly items: readonly ProvenEntry[]; readonly outcomes: readonly ApplyOutcome[] | null }
  | { readonly op: 'batch'; readonly report: ReportV2; readonly entries: readonly Entry[]; readonly multiproof: TreeMultiproof; readonly outcomes: readonly ApplyOutcome[] | null };

/**
 * `legs` as they are, each answered v2 call handed to `record` (after the leg answered); with
 * `unanswered`, each call that threw too (outcomes null), before the error goes on.
 */
export function recordingLegsV2(legs: LegsV2, record: (leg: LegName, call: LegCallV2) => void, unanswered = false): LegsV2 {
  /** The call's answer, recorded; a throw recorded as no answer when asked to, and thrown on. */
  const answered = async <T>(leg: LegName, call: () => Promise<T>, asCall: (answer: T | null) => LegCallV2): Promise<T> => {
    let answer: T;
    try {
      answer = await call();
    } catch (e) {
      if (unanswered) record(leg, asCall(null));
      throw e;
    }
    record(leg, asCall(answer));
    return answer;
  };
  const wrap = (leg: BatchLegAdapter): BatchLegAdapter => ({
    leg: leg.leg,
    prepare: (t, a) => leg.prepare(t, a),
    observe: (id) => leg.observe(id),
    observeMany: (ids) => leg.observeMany(ids),
    applyReport: (r) => leg.applyReport(r),
    reclaim: (id) => leg.reclaim(id),
    submitRoot: (report) => answered(leg.leg, () => leg.submitRoot(report), (outcome) => ({ op: 'root', report, outcome })),
    applyEntries: (root, items) => answered(leg.leg, () => leg.applyEntries(root, items), (outcomes) => ({ op: 'entries', root, items, outcomes })),
    applyBatch: (report, entries, multiproof) => answered(leg.leg, () => leg.applyBatch(report, entries, multiproof), (outcomes) => ({ op: 'batch', report, entries, multiproof, outcomes })),
  });
  return { asset: wrap(legs.asset), payment: wrap(legs.payment) };
}
