/**
 * The height invariants of protocol 2 (docs/results.md): correct nodes agree on every height's
 * batch (`height-agreement`); a settlement is in at most one decided batch (`one-batch-per-settlement`);
 * every decided batch is valid on the decided prefix (`batch-validity`: V1, V3, V4, V5, V6 recomputed
 * here, V2's evidence under `validity`); no correct node votes at h before deciding h − 1
 * (`heights-in-order`); no correct fresh proposal or prevote breaks the commit guard
 * (`commit-guard`, judged by the signer's clock as it logged the signature). Pure.
 */
import { type Entry, type V2Params, batchHeaderDigest, toHex } from '@tandem/protocol';
import { DecidedChain } from '@tandem/consensus';
import { type Invariant, holds } from './check-common.js';
import type { HistoryEntry } from './history.js';
import { type DecidedHeightAt, type FactsV2, type SignedAt, decidedChain } from './check-v2-facts.js';

type Correct = (node: number) => boolean;

export function heightAgreement(facts: FactsV2, correct: Correct): Invariant {
  const problems: string[] = [];
  const first = decidedChain(facts, correct);
  for (const d of facts.decidedHeights) {
    if (!correct(d.node)) continue;
    const f = first.get(d.height)!;
    if (f.digestHex !== d.digestHex || !sameEntries(f.entries, d.entries)) problems.push(`height ${d.height}: n${f.node} decided header ${f.digestHex.slice(0, 16)}, n${d.node} ${d.digestHex.slice(0, 16)}`);
  }
  return holds('height-agreement', problems);
}

function sameEntries(a: readonly Entry[], b: readonly Entry[]): boolean {
  return a.length === b.length && a.every((e, i) => toHex(e.settlementId) === toHex(b[i]!.settlementId) && e.decision === b[i]!.decision && e.validUntilMs === b[i]!.validUntilMs);
}

/** Over every batch a correct node decided (all heights, all versions of a height), each settlement in one height at most. */
export function oneBatchPerSettlement(facts: FactsV2, correct: Correct, nameOf: (idHex: string) => string): Invariant {
  const heightsOf = new Map<string, Set<number>>();
  for (const d of facts.decidedHeights) {
    if (!correct(d.node)) continue;
    for (const e of d.entries) {
      const idHex = toHex(e.settlementId);
      let hs = heightsOf.get(idHex);
      if (hs === undefined) heightsOf.set(idHex, (hs = new Set()));
      hs.add(d.height);
    }
  }
  const problems: string[] = [];
  for (const [idHex, hs] of heightsOf) if (hs.size > 1) problems.push(`${nameOf(idHex)} is in the batches of heights ${[...hs].sort((a, b) => a - b).join(', ')}`);
  return holds('one-batch-per-settlement', problems);
}

/**
 * Each height's batch, in order, against the prefix below it: V1 (count in 1..batchEntriesMax, the
 * entries sorted, root and count recomputed), V3 and V4 (no settlement decided lower or expired at
 * chain time), V5 (time at chain time, or reached by f+1 members' bundles sent before the decision)
 * and V6 (liveFrom). A gap in the heights (no correct node decided one) ends the judging there.
 */
export function batchValidity(facts: FactsV2, correct: Correct, params: V2Params, f: number): Invariant {
  const chain = new DecidedChain();
  const byHeight = decidedChain(facts, correct);
  const problems: string[] = [];
  let unjudged: number | null = null;
  const top = Math.max(0, ...byHeight.keys());
  for (let h = 1; h <= top; h++) {
    const d = byHeight.get(h);
    if (d === undefined) {
      unjudged = h;
      break;
    }
    const problem = heightProblem(chain, d, params) ?? timeProblem(facts, chain.timeMs, d, f);
    if (problem !== null) {
      problems.push(`height ${h}: ${problem}`);
      break; // the prefix above is no longer the one correct nodes judged on
    }
    chain.processDecidedBatch(asDecidedBatch(d));
  }
  if (problems.length === 0 && unjudged !== null) return { name: 'batch-validity', ok: null, detail: `no correct node decided height ${unjudged}: heights from there not judged` };
  return holds('batch-validity', problems);
}

function heightProblem(chain: DecidedChain, d: DecidedHeightAt, params: V2Params): string | null {
  const count = d.header.count;
  if (count < 1 || count > params.batchEntriesMax) return `V1: count ${count} not in 1..${params.batchEntriesMax}`;
  for (const e of d.entries) if (e.decision !== 'COMMIT' && e.decision !== 'ABORT') return `V1: ${toHex(e.settlementId)} has decision ${String(e.decision)}`;
  return chain.nextBatchProblem(asDecidedBatch(d));
}

/** V5: a time above chain time needs f+1 members whose bundles (sent before the decision) reached it. */
function timeProblem(facts: FactsV2, chainTimeMs: number, d: DecidedHeightAt, f: number): string | null {
  const t = d.header.timeMs;
  if (t === chainTimeMs) return null;
  const members = new Set<number>();
  for (const b of facts.bundles) if (b.t <= d.t && b.bundle.header.timeMs >= t) members.add(b.bundle.header.signer);
  return members.size >= f + 1 ? null : `V5: time ${t} reached by ${members.size} members' bundles, needs ${f + 1}`;
}

/** The chain reads only the report's height, round and header fields: the signature is not needed here. */
function asDecidedBatch(d: DecidedHeightAt) {
  const report = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), height: d.height, round: d.round, ...d.header, signature: new Uint8Array(48) };
  return { report, entries: d.entries };
}

/**
 * A correct node's tip only grows, by deciding heights and by catch-up jumps (persisted across
 * restarts); each vote it signs is at most one above it. Read in history order, which is the
 * order things happened in.
 */
export function heightsInOrder(history: readonly HistoryEntry[], correct: Correct): Invariant {
  const tips = new Map<number, number>();
  const problems: string[] = [];
  for (const e of history) {
    if (e.type !== 'node2' || !correct(e.node)) continue;
    const ev = e.event;
    const tip = tips.get(e.node) ?? 0;
    if (ev.type === 'decided-height') tips.set(e.node, Math.max(tip, ev.height));
    else if (ev.type === 'catch-up') tips.set(e.node, Math.max(tip, ev.toHeight));
    else if (ev.type === 'signed' && ev.message.kind === 'vote2' && ev.message.vote.height > tip + 1) {
      problems.push(`n${e.node} voted at height ${ev.message.vote.height} at ${e.t} ms, having decided up to ${tip}`);
    }
  }
  return holds('heights-in-order', problems);
}

/**
 * The commit guard: a correct fresh proposal (validRound −1) holds a COMMIT entry only while the
 * proposer's clock is at least commitGuardMs before its validUntil; a correct prevote for a fresh
 * proposal holding a COMMIT entry at or past validUntil − commitGuardMs/2 of the voter's clock is
 * allowed only when the voter is locked on that header (its latest precommit for a header at that
 * height names it).
 */
export function commitGuard(facts: FactsV2, correct: Correct, params: V2Params): Invariant {
  const problems: string[] = [];
  const proposals = new Map<string, SignedAt[]>(); // `${h}:${r}:${digest}` → proposals signed
  for (const s of facts.signed) {
    if (s.message.kind !== 'proposal2') continue;
    const p = s.message.proposal;
    const key = `${p.height}:${p.round}:${toHex(headerDigestOf(s)!)}`;
    proposals.set(key, [...(proposals.get(key) ?? []), s]);
    if (!correct(s.node) || p.validRound !== -1) continue;
    for (const e of p.entries) {
      if (e.decision === 'COMMIT' && s.clockMs > e.validUntilMs - params.commitGuardMs) {
        problems.push(`n${s.node} proposed a fresh COMMIT of ${toHex(e.settlementId).slice(0, 16)} at height ${p.height} round ${p.round} with its clock at ${s.clockMs} ms, after validUntil − commitGuard = ${e.validUntilMs - params.commitGuardMs} ms`);
      }
    }
  }
  const locks = new Map<string, string>(); // `${node}:${h}` → header digest of the latest precommit for a header
  for (const s of facts.signed) {
    if (s.message.kind !== 'vote2' || s.message.vote.headerDigest === null) continue;
    const v = s.message.vote;
    const digest = toHex(v.headerDigest!);
    if (v.step === 'precommit') locks.set(`${s.node}:${v.height}`, digest);
    if (v.step !== 'prevote' || !correct(s.node) || locks.get(`${s.node}:${v.height}`) === digest) continue;
    const signedProposals = proposals.get(`${v.height}:${v.round}:${digest}`) ?? [];
    if (signedProposals.length === 0 || signedProposals.some((x) => x.message.kind === 'proposal2' && x.message.proposal.validRound !== -1)) continue;
    const p = signedProposals[0]!.message;
    if (p.kind !== 'proposal2') continue;
    const late = p.proposal.entries.find((e) => e.decision === 'COMMIT' && s.clockMs >= e.validUntilMs - params.commitGuardMs / 2);
    if (late !== undefined) problems.push(`n${s.node} prevoted a fresh COMMIT of ${toHex(late.settlementId).slice(0, 16)} at height ${v.height} round ${v.round} with its clock at ${s.clockMs} ms, past validUntil − commitGuard/2`);
  }
  return holds('commit-guard', problems);
}

function headerDigestOf(s: SignedAt): Uint8Array | null {
  return s.message.kind === 'proposal2' ? batchHeaderDigest(s.message.proposal.header) : s.message.vote.headerDigest;
}
