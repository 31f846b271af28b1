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
  reclaimAtMs,
} from '@tandem/protocol';
import { supports } from '@tandem/consensus';
import { LEG_STATE_AFTER, type LegEvent, appliedDecision, isLockEvent } from '@tandem/legs';
import type { LegRecord, RunRecord, SimSettlement } from './run-record.js';
import { admissionProblems, refusedSettlements } from './check-admission.js';

export interface Invariant {
  readonly name: string;
  /** true holds, false broken, null unknown (the scenario's assumptions do not let it be judged). */
  readonly ok: boolean | null;
  readonly detail: string;
}

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
  readonly downIntervals: Map<number, { from: number; to: number | null }[]>;
}

function gather(run: RunRecord): Facts {
  const decided = new Map<string, Decided[]>();
  const observations = new Map<string, { t: number; obs: SignedObservation }[]>();
  const votes = new Map<string, Map<string, Set<string>>>();
  const downIntervals = new Map<number, { from: number; to: number | null }[]>();
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
    const a = m.get(k);
    if (a) a.push(v);
    else m.set(k, [v]);
  };
  for (const e of run.history) {
    if (e.type === 'crash') push(downIntervals, e.node, { from: e.t, to: null });
    if (e.type === 'restart') {
      const iv = downIntervals.get(e.node);
      const open = iv?.[iv.length - 1];
      if (open && open.to === null) open.to = e.t;
    }
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
  return { decided, observations, votes, downIntervals };
}

/** Did the event give the party its value back after the timelock? */
function isReclaim(e: LegEvent): boolean {
  return LEG_STATE_AFTER[e.kind] === 'reclaimed';
}

function legEventsOf(leg: LegRecord, idHex: string): LegEvent[] {
  return leg.events().filter((e) => e.settlementIdHex === idHex);
}

function holds(name: string, problems: string[]): Invariant {
  return { name, ok: problems.length === 0, detail: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; … ${problems.length - 5} more` : '') };
}

/** The decision a settlement reached (the first report formed), or null. */
export function decisionOf(facts: { decided: Map<string, Decided[]> }, s: SimSettlement): Decided | null {
  return facts.decided.get(s.idHex)?.[0] ?? null;
}

export interface CheckOutput {
  readonly invariants: Invariant[];
  readonly decisions: Map<string, Decided | null>;
}

export function check(run: RunRecord): CheckOutput {
  const facts = gather(run);
  const n = run.cluster.n;
  const f = faultsTolerated(n);
  const groupKey = run.cluster.commitments[0]!;
  const inv: Invariant[] = [];
  const decisions = new Map<string, Decided | null>();
  for (const s of run.settlements) decisions.set(s.idHex, decisionOf(facts, s));

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

  const oneDecision: string[] = [];
  for (const s of run.settlements) {
    const values = new Set<Decision>((facts.decided.get(s.idHex) ?? []).map((d) => d.report.decision));
    for (const leg of [run.asset, run.payment]) {
      for (const e of legEventsOf(leg, s.idHex)) {
        const applied = appliedDecision(e.kind);
        if (applied !== null) values.add(applied);
      }
    }
    if (values.size > 1) oneDecision.push(`${s.spec.id}: reports of both COMMIT and ABORT exist`);
  }
  inv.push(holds('one-decision-per-settlement', oneDecision));

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
  inv.push(termination(run, facts, f, refused));
  inv.push(nonTriviality(run, decisions, refused));

  // --- DvP on the legs -------------------------------------------------------------------------
  const aonA: string[] = [];
  const aonB: string[] = [];
  const moves: string[] = [];
  const double: string[] = [];
  const match: string[] = [];
  for (const s of run.settlements) {
    const a = legEventsOf(run.asset, s.idHex);
    const p = legEventsOf(run.payment, s.idHex);
    const commitA = a.find((e) => appliedDecision(e.kind) === 'COMMIT');
    const commitP = p.find((e) => appliedDecision(e.kind) === 'COMMIT');
    const reclaimA = a.find((e) => isReclaim(e));
    const reclaimP = p.find((e) => isReclaim(e));
    if ((commitA === undefined) !== (commitP === undefined)) {
      const [applied, otherReclaim, otherName] = commitA ? [commitA, reclaimP, 'payment'] : [commitP!, reclaimA, 'asset'];
      if (otherReclaim !== undefined && otherReclaim.atMs <= applied.atMs) aonA.push(`${s.spec.id}: ${otherName} leg reclaimed at ${otherReclaim.atMs} ms before the other applied the COMMIT at ${applied.atMs} ms`);
      else aonB.push(`${s.spec.id}: the COMMIT applied at ${applied.atMs} ms on one leg never applied on the ${otherName} leg`);
    }
    const d = decisions.get(s.idHex) ?? null;
    for (const [legName, events] of [['asset', a], ['payment', p]] as const) {
      const applied = events.flatMap((e) => {
        const value = appliedDecision(e.kind);
        return value === null ? [] : [{ e, value }];
      });
      if (applied.length > 1) double.push(`${s.spec.id}: ${legName} leg applied ${applied.length} reports`);
      for (const { e, value } of applied) {
        const formed = (facts.decided.get(s.idHex) ?? []).some((x) => x.report.decision === value && x.t <= e.atMs);
        if (!formed) moves.push(`${s.spec.id}: ${legName} leg moved (${e.kind}) at ${e.atMs} ms without a ${value} report`);
      }
      for (const e of events) {
        // Leg logs are on the simulator's timeline; the reclaim rule is on the leg's own clock.
        const legMs = run.legTimeMs(legName, e.atMs);
        if (isReclaim(e) && legMs < reclaimAtMs(s.terms)) moves.push(`${s.spec.id}: ${legName} reclaimed at ${legMs} ms of its clock, before its time ${reclaimAtMs(s.terms)} ms`);
      }
    }
    const expired = d?.report.decision === 'COMMIT' && reclaimA !== undefined && reclaimP !== undefined && commitA === undefined && commitP === undefined;
    if (d?.report.decision === 'COMMIT' && !expired && (commitA === undefined || commitP === undefined)) match.push(`${s.spec.id}: COMMIT decided but not applied on both legs`);
    if (d?.report.decision !== 'COMMIT' && (commitA !== undefined || commitP !== undefined)) match.push(`${s.spec.id}: value delivered without a COMMIT decision`);
  }
  inv.push(holds('all-or-nothing-a', aonA));
  inv.push(holds('all-or-nothing-b', aonB));
  inv.push(holds('legs-move-on-reports', moves));
  inv.push(holds('no-double-execution', double));
  const conservation = [run.asset.conservationProblem(), run.payment.conservationProblem()].filter((x): x is string => x !== null);
  inv.push(holds('conservation', conservation));
  inv.push(holds('ledgers-match-reports', match));

  // --- Admission: no intent dropped silently ------------------------------------------------------
  inv.push(holds('admission', admissionProblems(run)));
  return { invariants: inv, decisions };
}

/**
 * Liveness at bound B = max(settlement's at, end of the last fault with an `until`) + decideWithin:
 * by B a valid report exists and every node correct and up at B has decided. Unknown when more
 * than f nodes are faulty at B (down, or crashed for good), since then nothing is promised.
 * Settlements some node refused at intake are not judged (`refused`).
 */
function termination(run: RunRecord, facts: Facts, f: number, refused: ReadonlySet<string>): Invariant {
  const within = run.scenario.expect.decideWithinMs;
  if (within === null) return { name: 'termination', ok: null, detail: 'no decideWithin bound in the scenario' };
  let lastUntil = 0;
  for (const x of run.scenario.faults) if (x.untilMs !== null) lastUntil = Math.max(lastUntil, x.untilMs);
  const problems: string[] = [];
  const unjudged: string[] = [];
  for (const s of run.settlements) {
    if (refused.has(s.idHex)) continue;
    const bound = Math.max(s.spec.atMs, lastUntil) + within;
    // Faulty at the bound: down, Byzantine, or with a skewed clock (docs/protocol.md: they count against f).
    const down = new Set<number>([...run.byzantine, ...run.skewed]);
    for (const [node, ivs] of facts.downIntervals) for (const iv of ivs) if (iv.from <= bound && (iv.to === null || iv.to > bound)) down.add(node);
    if (down.size > f) return { name: 'termination', ok: null, detail: `${down.size} nodes faulty at the bound (down, Byzantine or skewed), more than f = ${f}` };
    if (run.endMs < bound && !everyoneDecided(run, facts, s, down)) {
      unjudged.push(s.spec.id); // the run stopped (reclaim time passed) before the bound
      continue;
    }
    const ds = facts.decided.get(s.idHex) ?? [];
    if (!ds.some((d) => d.t <= bound)) {
      problems.push(`${s.spec.id}: no report by ${bound} ms`);
      continue;
    }
    for (let node = 1; node <= run.cluster.n; node++) {
      if (down.has(node)) continue;
      if (!ds.some((d) => d.node === node && d.t <= bound)) problems.push(`${s.spec.id}: n${node} had not decided by ${bound} ms`);
    }
  }
  if (problems.length === 0 && unjudged.length > 0) return { name: 'termination', ok: null, detail: `the run ended before the bound of ${unjudged.join(', ')}` };
  return holds('termination', problems);
}

function everyoneDecided(run: RunRecord, facts: Facts, s: SimSettlement, down: Set<number>): boolean {
  const ds = facts.decided.get(s.idHex) ?? [];
  for (let node = 1; node <= run.cluster.n; node++) if (!down.has(node) && !ds.some((d) => d.node === node)) return false;
  return true;
}

/** A fault-free run whose legs both lock before the deadline must commit (admitted settlements). */
function nonTriviality(run: RunRecord, decisions: Map<string, Decided | null>, refused: ReadonlySet<string>): Invariant {
  if (run.scenario.faults.length > 0) return { name: 'non-triviality', ok: null, detail: 'the scenario injects faults' };
  const problems: string[] = [];
  let judged = 0;
  for (const s of run.settlements) {
    if (refused.has(s.idHex)) continue;
    const lockedBy = (leg: LegRecord) => legEventsOf(leg, s.idHex).find((e) => isLockEvent(e.kind));
    const a = lockedBy(run.asset);
    const p = lockedBy(run.payment);
    if (a === undefined || p === undefined || run.legTimeMs('asset', a.atMs) >= s.terms.deadlineMs || run.legTimeMs('payment', p.atMs) >= s.terms.deadlineMs) continue;
    judged++;
    const d = decisions.get(s.idHex);
    if (d?.report.decision !== 'COMMIT') problems.push(`${s.spec.id}: both legs locked before the deadline, decided ${d?.report.decision ?? 'nothing'}`);
  }
  if (judged === 0) return { name: 'non-triviality', ok: null, detail: 'no settlement had both legs locked' };
  return holds('non-triviality', problems);
}

/**
 * The values that were valid at some point for a settlement: those with signed evidence from f+1
 * distinct members anywhere in the history. Runs where both were valid are the ones that test
 * safety (a lock race); explore and the property tests count them.
 */
export function valuesEverValid(run: RunRecord, s: SimSettlement): Set<Decision> {
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
