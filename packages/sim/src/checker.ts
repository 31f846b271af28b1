/**
 * The checker (the invariants of docs/results.md): a pure function from a run's recorded history and final ledgers to the
 * verdict on every invariant. It re-derives what it needs (validity from signed observations,
 * report signatures from the group key) instead of trusting what nodes said about themselves.
 */
import {
  type Decision,
  type Report,
  type SignedObservation,
  equalBytes,
  faultsTolerated,
  fromHex,
  reportDigest,
  validUntilMs,
} from '@tandem/protocol';
import { supports } from '@tandem/consensus';
import type { RunRecord, SimSettlement } from './run-record.js';
import { admissionProblems, refusedSettlements } from './check-admission.js';
import { type DecisionAt, type DownIntervals, type Invariant, downIntervalsOf, dvpInvariants, holds, nonTriviality, oneDecisionPerSettlement, pushTo, termination } from './check-common.js';
import { checkV2, valuesEverValidV2 } from './check-v2.js';

export type { DecisionAt, Invariant };

interface Decided {
  readonly node: number;
  readonly t: number;
  readonly report: Report;
}

/** Everything the checker reads from the history, indexed once. */
interface Facts {
  readonly decided: Map<string, Decided[]>; // settlement hex → decisions in time order
  readonly observations: Map<string, { t: number; obs: SignedObservation }[]>;
  readonly votes: Map<string, Map<string, Set<string>>>; // node:settlement → `${round}:${step}` → values
  readonly downIntervals: DownIntervals;
}

function gather(run: RunRecord): Facts {
  const decided = new Map<string, Decided[]>();
  const observations = new Map<string, { t: number; obs: SignedObservation }[]>();
  const votes = new Map<string, Map<string, Set<string>>>();
  const push = pushTo;
  for (const e of run.history) {
    if (e.type !== 'node') continue;
    const ev = e.event;
    if (ev.type === 'decided') push(decided, ev.settlementIdHex, { node: e.node, t: e.t, report: ev.report });
    if (ev.type === 'signed') {
      const m = ev.message;
      if (m.kind === 'observation') push(observations, ev.settlementIdHex, { t: e.t, obs: m.observation });
      if (m.kind === 'vote' || m.kind === 'proposal') {
        const key = `${e.node}:${ev.settlementIdHex}`;
        let perNode = votes.get(key);
        if (!perNode) votes.set(key, (perNode = new Map()));
        const slot = m.kind === 'vote' ? `${m.vote.round}:${m.vote.step}` : `${m.proposal.round}:proposal`;
        const value = m.kind === 'vote' ? String(m.vote.value) : `${m.proposal.value}/${m.proposal.validRound}`;
        let set = perNode.get(slot);
        if (!set) perNode.set(slot, (set = new Set()));
        set.add(value);
      }
    }
  }
  return { decided, observations, votes, downIntervals: downIntervalsOf(run.history) };
}

function decisionAt(d: Decided): DecisionAt {
  return { node: d.node, t: d.t, decision: d.report.decision, round: d.report.round, height: null };
}

export interface CheckOutput {
  readonly invariants: Invariant[];
  /** Each settlement's decision (the first formed), or null; by id hex. */
  readonly decisions: Map<string, DecisionAt | null>;
}

/** Every invariant of docs/results.md over a finished run, by the run's protocol. */
export function check(run: RunRecord): CheckOutput {
  return run.protocol === 2 ? checkV2(run) : checkV1(run);
}

function checkV1(run: RunRecord): CheckOutput {
  const facts = gather(run);
  const n = run.cluster.n;
  const f = faultsTolerated(n);
  const groupKey = run.cluster.commitments[0]!;
  const inv: Invariant[] = [];
  const decided = new Map<string, DecisionAt[]>();
  for (const [idHex, ds] of facts.decided) decided.set(idHex, ds.map(decisionAt));
  const decisions = new Map<string, DecisionAt | null>();
  for (const s of run.settlements) decisions.set(s.idHex, decided.get(s.idHex)?.[0] ?? null);

  // --- Safety of consensus -----------------------------------------------------------------
  const agreement: string[] = [];
  const once: string[] = [];
  const validity: string[] = [];
  const soundness: string[] = [];
  const justified: string[] = [];
  // Byzantine members are held to nothing; every other node (crashed ones included) is correct.
  const correct = (node: number) => !run.byzantine.has(node);
  for (const s of run.settlements) {
    const ds = (facts.decided.get(s.idHex) ?? []).filter((d) => correct(d.node));
    const values = new Set(ds.map((d) => d.report.decision));
    if (values.size > 1) agreement.push(`${s.spec.id}: nodes decided ${[...values].join(' and ')}`);
    const perNode = new Map<number, number>();
    for (const d of ds) perNode.set(d.node, (perNode.get(d.node) ?? 0) + 1);
    for (const [node, count] of perNode) if (count > 1) once.push(`${s.spec.id}: n${node} decided ${count} times`);
    for (const d of ds) {
      const r = d.report;
      const bodyOk = equalBytes(r.networkId, run.cluster.networkId) && equalBytes(r.configDigest, run.configDigest) && equalBytes(r.settlementId, fromHex(s.idHex, 32)) && r.validUntilMs === validUntilMs(s.terms);
      if (!bodyOk || !run.verifier.bls(groupKey, reportDigest(r), r.signature)) soundness.push(`${s.spec.id}: n${d.node}'s report does not verify or does not match the terms`);
    }
    for (const v of values) {
      const first = ds.find((d) => d.report.decision === v)!;
      const signers = new Set<number>();
      for (const { t, obs } of facts.observations.get(s.idHex) ?? []) {
        if (t <= first.t && supports(v, obs, s.terms, groupKey)) signers.add(obs.signer);
      }
      if (signers.size < f + 1) validity.push(`${s.spec.id}: ${v} decided with evidence from ${signers.size} members (< f+1 = ${f + 1})`);
      if (v === 'COMMIT' && ![...signers].some(correct)) justified.push(`${s.spec.id}: COMMIT without any correct node observing both legs locked with the terms`);
    }
  }
  inv.push(holds('agreement', agreement));
  inv.push(holds('decide-once', once));
  inv.push(holds('validity', validity));
  inv.push(holds('report-soundness', soundness));

  inv.push(oneDecisionPerSettlement(run, decided));

  const equivocation: string[] = [];
  for (const [key, slots] of facts.votes) {
    if (!correct(Number(key.split(':')[0]))) continue;
    for (const [slot, values] of slots) if (values.size > 1) equivocation.push(`n${key.split(':')[0]} signed ${[...values].join(' and ')} at ${slot}`);
  }
  inv.push(holds('no-equivocation', equivocation));
  inv.push(holds('commit-justified', justified));

  // --- Liveness ------------------------------------------------------------------------------
  // Liveness is promised for admitted settlements: one a node refused at intake is not judged.
  const refused = refusedSettlements(run.history);
  inv.push(termination(run, { ends: decided, downIntervals: facts.downIntervals }, f, refused));
  inv.push(nonTriviality(run, decisions, refused));

  // --- DvP on the legs -------------------------------------------------------------------------
  inv.push(...dvpInvariants(run, decided, decisions));

  // --- Admission: no intent dropped silently ------------------------------------------------------
  inv.push(holds('admission', admissionProblems(run)));
  return { invariants: inv, decisions };
}

/**
 * The values that were valid at some point for a settlement: those with signed evidence from f+1
 * distinct members anywhere in the history. Runs where both were valid are the ones that test
 * safety (a lock race); explore and the property tests count them.
 */
export function valuesEverValid(run: RunRecord, s: SimSettlement): Set<Decision> {
  if (run.protocol === 2) return valuesEverValidV2(run, s);
  const f = faultsTolerated(run.cluster.n);
  const groupKey = run.cluster.commitments[0]!;
  const signers: Record<Decision, Set<number>> = { COMMIT: new Set(), ABORT: new Set() };
  for (const e of run.history) {
    if (e.type !== 'node' || e.event.type !== 'signed' || e.event.settlementIdHex !== s.idHex) continue;
    const m = e.event.message;
    if (m.kind !== 'observation') continue;
    for (const v of ['COMMIT', 'ABORT'] as const) if (supports(v, m.observation, s.terms, groupKey)) signers[v].add(m.observation.signer);
  }
  const out = new Set<Decision>();
  for (const v of ['COMMIT', 'ABORT'] as const) if (signers[v].size >= f + 1) out.add(v);
  return out;
}
