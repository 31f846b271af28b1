/**
 * The leg-side invariants of protocol 2 (docs/results.md): every report v2 a correct node handed a
 * leg verifies under the group key, binds the run's network and v2 configuration, and names the
 * batch correct nodes decided at its height (`report-soundness`); every entry a leg applied was
 * proven under a root whose report verified, with the root's own count (`proof-soundness`), which
 * the checker re-verifies from the recorded calls instead of trusting the leg. Pure.
 *
 * A call recorded without an answer (outcomes null: it threw on real processes, where the leg may
 * have applied it before its answer was lost) may explain what the leg applied, but only through
 * the entries it carried, re-verified like the others: an application it could not have made stays
 * a violation.
 */
import { type Decision, type ReportV2, batchHeaderDigest, batchHeaderOf, equalBytes, reportDigestV2, toHex, verifyReportMultiproof, verifyReportProof } from '@tandem/protocol';
import { type ApplyOutcome, appliedDecision } from '@tandem/legs';
import { type Invariant, holds, legEventsOf } from './check-common.js';
import { type FactsV2, decidedChain } from './check-v2-facts.js';
import type { RunRecord } from './run-record.js';

type Correct = (node: number) => boolean;

function reportVerifies(run: RunRecord, r: ReportV2): boolean {
  const groupKey = run.cluster.commitments[0]!;
  return equalBytes(r.networkId, run.cluster.networkId) && equalBytes(r.configDigest, run.configDigest) && run.verifier.bls(groupKey, reportDigestV2(r), r.signature);
}

function reportsOf(facts: FactsV2): { node: number; report: ReportV2 }[] {
  return facts.legCalls.flatMap((c) => (c.call.op === 'entries' ? [] : [{ node: c.node, report: c.call.report }]));
}

export function reportSoundnessV2(run: RunRecord, facts: FactsV2, correct: Correct): Invariant {
  const chain = decidedChain(facts, correct);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { node, report } of reportsOf(facts)) {
    const key = `${node}:${toHex(report.signature)}:${toHex(report.root)}`;
    if (!correct(node) || seen.has(key)) continue;
    seen.add(key);
    const decided = chain.get(report.height);
    if (!reportVerifies(run, report)) problems.push(`n${node}'s report of height ${report.height} does not verify under the group key and the run's configuration`);
    else if (decided === undefined || decided.digestHex !== toHex(batchHeaderDigest(batchHeaderOf(report)))) problems.push(`n${node}'s report of height ${report.height} names a batch no correct node decided there`);
  }
  return holds('report-soundness', problems);
}

/**
 * Per leg: the (settlement, decision) pairs applied through a proven entry under a verified root,
 * and the applications that were not; then every leg event that applied a decision must be one of
 * the proven ones.
 */
/** Whether a call's `i`-th entry was applied by it: its outcome says so, or the call had no answer. */
function mayHaveApplied(outcomes: readonly ApplyOutcome[] | null, i: number): boolean {
  return outcomes === null || outcomes[i]?.kind === 'applied';
}

export function proofSoundness(run: RunRecord, facts: FactsV2): Invariant {
  const problems: string[] = [];
  const nameOf = new Map(run.settlements.map((s) => [s.idHex, s.spec.id]));
  for (const legName of ['asset', 'payment'] as const) {
    const calls = facts.legCalls.filter((c) => c.leg === legName);
    const verified = new Map<string, number>(); // root hex → count, of reports that verify
    for (const c of calls) if (c.call.op !== 'entries' && reportVerifies(run, c.call.report)) verified.set(toHex(c.call.report.root), c.call.report.count);
    const proven = new Map<string, Set<Decision>>();
    const prove = (idHex: string, d: Decision) => (proven.get(idHex) ?? proven.set(idHex, new Set()).get(idHex)!).add(d);
    for (const { call } of calls) {
      if (call.op === 'entries') {
        const count = verified.get(toHex(call.root));
        call.items.forEach((item, i) => {
          if (!mayHaveApplied(call.outcomes, i)) return;
          if (count !== undefined && item.proof.count === count && verifyReportProof(call.root, item.entry, item.proof)) prove(toHex(item.entry.settlementId), item.entry.decision);
        });
      } else if (call.op === 'batch') {
        const r = call.report;
        const ok = verified.has(toHex(r.root)) && call.multiproof.count === r.count && verifyReportMultiproof(r.root, call.entries, call.multiproof);
        call.entries.forEach((e, i) => {
          if (ok && mayHaveApplied(call.outcomes, i)) prove(toHex(e.settlementId), e.decision);
        });
      }
    }
    const leg = legName === 'asset' ? run.asset : run.payment;
    for (const s of run.settlements) {
      for (const e of legEventsOf(leg, s.idHex)) {
        const d = appliedDecision(e.kind);
        if (d !== null && proven.get(s.idHex)?.has(d) !== true) problems.push(`${nameOf.get(s.idHex)}: the ${legName} leg applied ${d} (${e.kind} at ${e.atMs} ms) without a proven entry under a verified root`);
      }
    }
  }
  return holds('proof-soundness', problems);
}
