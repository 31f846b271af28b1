/**
 * The checker of protocol-2 runs (docs/results.md): the per-settlement invariants of protocol 1,
 * computed from the v2 events (a settlement's decision is the entry of the batch that holds it),
 * the bundles members sent (validity is recomputed from their entries, never taken from the nodes)
 * and the legs' events; and the invariants of heights, batches and proofs (check-v2-heights.ts,
 * check-v2-legs.ts). A pure function of the recorded history and final ledgers, like checker.ts.
 */
import { type BundleEntry, type Decision, DECISIONS, batchHeaderDigest, faultsTolerated, fromHex, toHex } from '@tandem/protocol';
import { entrySupports, expectedLocks } from '@tandem/consensus';
import { admissionProblems, refusedSettlements } from './check-admission.js';
import { type DecisionAt, type Invariant, dvpInvariants, holds, nonTriviality, oneDecisionPerSettlement, pushTo, termination } from './check-common.js';
import { type FactsV2, gatherV2 } from './check-v2-facts.js';
import { batchValidity, commitGuard, heightAgreement, heightsInOrder, oneBatchPerSettlement } from './check-v2-heights.js';
import { proofSoundness, reportSoundnessV2 } from './check-v2-legs.js';
import type { RunRecord, SimSettlement } from './run-record.js';

export function checkV2(run: RunRecord): { invariants: Invariant[]; decisions: Map<string, DecisionAt | null> } {
  const params = run.v2Params;
  if (params === undefined) throw new Error('a protocol-2 run records its v2 parameters');
  const facts = gatherV2(run);
  const f = faultsTolerated(run.cluster.n);
  const correct = (node: number) => !run.byzantine.has(node);
  const nameOf = (idHex: string) => run.settlements.find((s) => s.idHex === idHex)?.spec.id ?? idHex.slice(0, 16);
  const decisions = new Map<string, DecisionAt | null>();
  for (const s of run.settlements) decisions.set(s.idHex, facts.decided.get(s.idHex)?.find((d) => correct(d.node)) ?? null);

  const inv: Invariant[] = [...settlementSafety(run, facts, f, correct)];
  inv.push(reportSoundnessV2(run, facts, correct));
  inv.push(oneDecisionPerSettlement(run, facts.decided));
  inv.push(noEquivocation(facts, correct));
  const refused = refusedSettlements(run.history);
  // A settlement ends at a node when decided there, or dropped as expired undecided (no batch can hold it).
  const ends = new Map<string, { node: number; t: number }[]>();
  for (const [idHex, ds] of facts.decided) for (const d of ds) pushTo(ends, idHex, d);
  for (const [idHex, xs] of facts.expired) for (const x of xs) pushTo(ends, idHex, x);
  inv.push(termination(run, { ends, downIntervals: facts.downIntervals, excused: jumpedPast(facts) }, f, refused));
  inv.push(nonTriviality(run, decisions, refused));
  inv.push(...dvpInvariants(run, facts.decided, decisions));
  inv.push(holds('admission', admissionProblems(run)));
  inv.push(heightAgreement(facts, correct));
  inv.push(oneBatchPerSettlement(facts, correct, nameOf));
  inv.push(batchValidity(facts, correct, params, f));
  inv.push(heightsInOrder(run.history, correct));
  inv.push(proofSoundness(run, facts));
  inv.push(commitGuard(facts, correct, params));
  return { invariants: inv, decisions };
}

/** Agreement, decide-once, validity and commit-justified, per settlement. */
function settlementSafety(run: RunRecord, facts: FactsV2, f: number, correct: (node: number) => boolean): Invariant[] {
  const agreement: string[] = [];
  const once: string[] = [];
  const validity: string[] = [];
  const justified: string[] = [];
  const support = supportIndex(run, facts);
  for (const s of run.settlements) {
    const ds = (facts.decided.get(s.idHex) ?? []).filter((d) => correct(d.node));
    const values = new Set(ds.map((d) => d.decision));
    if (values.size > 1) agreement.push(`${s.spec.id}: nodes decided ${[...values].join(' and ')}`);
    const perNode = new Map<number, number>();
    for (const d of ds) perNode.set(d.node, (perNode.get(d.node) ?? 0) + 1);
    for (const [node, count] of perNode) if (count > 1) once.push(`${s.spec.id}: n${node} decided ${count} times`);
    for (const v of values) {
      const first = ds.find((d) => d.decision === v)!;
      const signers = supporters(support, s, v, first.t, run.cluster.commitments[0]!);
      if (signers.size < f + 1) validity.push(`${s.spec.id}: ${v} decided with evidence from ${signers.size} members (< f+1 = ${f + 1})`);
      if (v === 'COMMIT' && ![...signers].some(correct)) justified.push(`${s.spec.id}: COMMIT without any correct node observing both legs locked with the terms`);
    }
  }
  return [holds('agreement', agreement), holds('decide-once', once), holds('validity', validity), holds('commit-justified', justified)];
}

/** Bundle entries per settlement (hex): who signed them, and when the bundle went out. */
type SupportIndex = Map<string, { t: number; signer: number; entry: BundleEntry }[]>;

function supportIndex(run: RunRecord, facts: Pick<FactsV2, 'bundles'>): SupportIndex {
  const ids = new Set(run.settlements.map((s) => s.idHex));
  const index: SupportIndex = new Map();
  for (const { t, bundle } of facts.bundles) {
    for (const entry of bundle.entries) {
      const idHex = toHex(entry.settlementId);
      if (ids.has(idHex)) pushTo(index, idHex, { t, signer: bundle.header.signer, entry });
    }
  }
  return index;
}

/** Members whose bundles, sent by `untilMs`, carry an entry supporting `v` for `s`. */
function supporters(index: SupportIndex, s: SimSettlement, v: Decision, untilMs: number, groupKey: Uint8Array): Set<number> {
  const x = expectedLocks(s.terms, fromHex(s.idHex, 32), groupKey);
  const out = new Set<number>();
  for (const { t, signer, entry } of index.get(s.idHex) ?? []) if (t <= untilMs && entrySupports(v, entry, x)) out.add(signer);
  return out;
}

/** No correct node signs two different proposals or votes for one (height, round, step). */
function noEquivocation(facts: FactsV2, correct: (node: number) => boolean): Invariant {
  const slots = new Map<string, Set<string>>();
  for (const s of facts.signed) {
    if (!correct(s.node)) continue;
    const m = s.message;
    const [slot, value] =
      m.kind === 'vote2'
        ? [`h${m.vote.height} r${m.vote.round} ${m.vote.step}`, m.vote.headerDigest === null ? 'nil' : toHex(m.vote.headerDigest).slice(0, 16)]
        : [`h${m.proposal.height} r${m.proposal.round} proposal`, `${toHex(batchHeaderDigest(m.proposal.header)).slice(0, 16)}/${m.proposal.validRound}`];
    const key = `${s.node}:${slot}`;
    (slots.get(key) ?? slots.set(key, new Set()).get(key)!).add(value);
  }
  const problems: string[] = [];
  for (const [key, values] of slots) if (values.size > 1) problems.push(`n${key.split(':')[0]} signed ${[...values].join(' and ')} at ${key.split(':')[1]}`);
  return holds('no-equivocation', problems);
}

/** Under v2 a node that jumped past a settlement's height learns its outcome from the legs: it is not held to deciding it. */
function jumpedPast(facts: FactsV2): (node: number, idHex: string) => boolean {
  return (node, idHex) => {
    const height = facts.decided.get(idHex)?.[0]?.height;
    if (height === undefined || height === null) return false;
    return (facts.jumps.get(node) ?? []).some((j) => j.fromHeight > height) && !(facts.decided.get(idHex) ?? []).some((d) => d.node === node);
  };
}

const SUPPORT_INDEXES = new WeakMap<RunRecord, SupportIndex>();

/** The values valid at some point for a settlement under v2: f+1 distinct members' bundle entries support them. */
export function valuesEverValidV2(run: RunRecord, s: SimSettlement): Set<Decision> {
  const f = faultsTolerated(run.cluster.n);
  // Callers ask about every settlement of a run in turn: index its bundles once.
  let index = SUPPORT_INDEXES.get(run);
  if (index === undefined) SUPPORT_INDEXES.set(run, (index = supportIndex(run, gatherV2(run))));
  return new Set(DECISIONS.filter((v) => supporters(index, s, v, Number.MAX_SAFE_INTEGER, run.cluster.commitments[0]!).size >= f + 1));
}
