import { beforeAll, describe, expect, it } from 'vitest';
import { type HistoryEntry, type RunRecord, check, simulate, underProtocol } from '../src/index.js';
import { loadScenario } from './support.js';

/**
 * Each invariant protocol 2 adds, broken on purpose in a fabricated history: a real run of the
 * happy path under v2 (every invariant holds), then one thing changed in its history. The check
 * must name the invariant.
 */
let run: RunRecord;

beforeAll(async () => {
  run = await simulate(underProtocol(loadScenario('happy-path.yaml'), 2));
});

type Node2 = Extract<HistoryEntry, { type: 'node2' }>;
type DecidedHeight = Node2 & { event: Extract<Node2['event'], { type: 'decided-height' }> };

const isDecided = (e: HistoryEntry): e is DecidedHeight => e.type === 'node2' && e.event.type === 'decided-height';

function verdict(history: readonly HistoryEntry[], name: string): boolean | null {
  const i = check({ ...run, history }).invariants.find((x) => x.name === name);
  if (i === undefined) throw new Error(`no invariant ${name}`);
  return i.ok;
}

/** The history with `f` applied to every entry (entries it maps to null are dropped). */
function edit(f: (e: HistoryEntry) => HistoryEntry | HistoryEntry[] | null): HistoryEntry[] {
  return run.history.flatMap((e) => f(e) ?? []);
}

/** A leg call whose proofs no longer verify under its root (other entries as they are). */
function breakProofs(e: HistoryEntry): HistoryEntry {
  if (e.type !== 'leg2') return e;
  const c = e.call;
  if (c.op === 'batch') return { ...e, call: { ...c, multiproof: { ...c.multiproof, count: c.multiproof.count + 1 } } };
  if (c.op === 'entries') return { ...e, call: { ...c, items: c.items.map((x) => ({ ...x, proof: { ...x.proof, index: x.proof.index + 1 } })) } };
  return e;
}

describe('protocol 2 invariants on a fabricated history', () => {
  it('the unchanged run holds every invariant', () => {
    const broken = check(run).invariants.filter((i) => i.ok === false);
    expect(broken).toEqual([]);
    expect(run.history.some(isDecided)).toBe(true);
  });

  it('height-agreement: one correct node decided another header at height 1', () => {
    const history = edit((e) => (isDecided(e) && e.event.height === 1 && e.node === 2 ? { ...e, event: { ...e.event, header: { ...e.event.header, timeMs: e.event.header.timeMs + 1 } } } : e));
    expect(verdict(history, 'height-agreement')).toBe(false);
  });

  it('one-batch-per-settlement: a settlement of height 1 is decided again at height 2', () => {
    const first = run.history.find((e): e is DecidedHeight => isDecided(e) && e.event.height === 1)!;
    const history = edit((e) => (isDecided(e) && e.event.height === 2 ? { ...e, event: { ...e.event, entries: [...e.event.entries, first.event.entries[0]!] } } : e));
    expect(verdict(history, 'one-batch-per-settlement')).toBe(false);
  });

  it('batch-validity: height 2 names a liveFrom the prefix does not give (V6), at every node', () => {
    const history = edit((e) => (isDecided(e) && e.event.height === 2 ? { ...e, event: { ...e.event, header: { ...e.event.header, liveFrom: 2 } } } : e));
    expect(verdict(history, 'batch-validity')).toBe(false);
  });

  it('batch-validity: a header whose count is not its entries (V1)', () => {
    const history = edit((e) => (isDecided(e) && e.event.height === 1 ? { ...e, event: { ...e.event, header: { ...e.event.header, count: e.event.header.count + 1 } } } : e));
    expect(verdict(history, 'batch-validity')).toBe(false);
  });

  it('heights-in-order: n1 votes at height 3 before deciding height 1', () => {
    const vote = run.history.find((e): e is Node2 => e.type === 'node2' && e.node === 1 && e.event.type === 'signed' && e.event.message.kind === 'vote2' && e.event.height === 3)!;
    const firstSigned = run.history.findIndex((e) => e.type === 'node2' && e.node === 1 && e.event.type === 'signed');
    const history = [...run.history.slice(0, firstSigned), { ...vote, t: run.history[firstSigned]!.t }, ...run.history.slice(firstSigned)];
    expect(verdict(history, 'heights-in-order')).toBe(false);
  });

  it('proof-soundness: a leg applied entries the recorded calls never proved', () => {
    const history = edit((e) => (e.type === 'leg2' ? null : e));
    expect(verdict(history, 'proof-soundness')).toBe(false);
  });

  it('proof-soundness: a proof that does not verify under its root', () => {
    expect(verdict(edit(breakProofs), 'proof-soundness')).toBe(false);
  });

  // Real processes: a call whose answer was lost (outcomes null) may have been applied by the leg.
  const unanswered = (e: HistoryEntry): HistoryEntry => (e.type !== 'leg2' || e.call.op === 'root' ? e : { ...e, call: { ...e.call, outcomes: null } });

  it('proof-soundness: calls without an answer explain what the leg applied through the entries they carried, proven', () => {
    expect(verdict(edit(unanswered), 'proof-soundness')).toBe(true);
  });

  it('proof-soundness: a call without an answer whose proof does not verify explains nothing', () => {
    expect(verdict(edit((e) => breakProofs(unanswered(e))), 'proof-soundness')).toBe(false);
  });

  it('commit-guard: a fresh COMMIT proposed with the proposer clock past validUntil − commitGuard', () => {
    const history = edit((e) => {
      if (e.type !== 'node2' || e.event.type !== 'signed' || e.event.message.kind !== 'proposal2') return e;
      const p = e.event.message.proposal;
      const commit = p.entries.find((x) => x.decision === 'COMMIT');
      return commit === undefined || p.validRound !== -1 ? e : { ...e, clockMs: commit.validUntilMs - run.v2Params!.commitGuardMs + 1 };
    });
    expect(verdict(history, 'commit-guard')).toBe(false);
  });

  it('commit-guard: a fresh COMMIT prevoted with the voter clock past validUntil − commitGuard/2', () => {
    const validUntil = Math.min(...run.settlements.map((s) => s.terms.deadlineMs + s.terms.reportWindowMs));
    const history = edit((e) => {
      if (e.type !== 'node2' || e.event.type !== 'signed' || e.event.message.kind !== 'vote2' || e.event.message.vote.step !== 'prevote') return e;
      return { ...e, clockMs: validUntil + 1 };
    });
    expect(verdict(history, 'commit-guard')).toBe(false);
  });

  it('report-soundness: a report a correct node handed a leg does not verify under the group key', () => {
    const history = edit((e) => {
      if (e.type !== 'leg2' || e.call.op === 'entries') return e;
      const report = { ...e.call.report, signature: Uint8Array.from(e.call.report.signature, (b, i) => (i === 5 ? b ^ 1 : b)) };
      return { ...e, call: { ...e.call, report } };
    });
    expect(verdict(history, 'report-soundness')).toBe(false);
  });

  it('admission: an intent a node neither took nor refused', () => {
    const history = edit((e) => (e.type === 'node2' && e.node === 3 && e.event.type === 'intent' ? null : e));
    expect(verdict(history, 'admission')).toBe(false);
  });

  it('agreement and validity stay per settlement: a node deciding the other value without evidence', () => {
    const history = edit((e) => (isDecided(e) && e.node === 4 && e.event.height === 1 ? { ...e, event: { ...e.event, entries: e.event.entries.map((x) => ({ ...x, decision: 'ABORT' as const })) } } : e));
    expect(verdict(history, 'agreement')).toBe(false);
    expect(verdict(history, 'validity')).toBe(false);
  });
});
