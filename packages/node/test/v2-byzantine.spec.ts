import { describe, expect, it } from 'vitest';
import { type MessageV2, batchHeaderDigest, toHex } from '@tandem/protocol';
import { entriesBindingProblem } from '@tandem/consensus';
import { type ByzantineBehaviourV2, type ByzantineEnvV2, byzantineV2 } from '../src/index.js';
import { WorldV2, type WorldV2Options } from './v2-world.js';
import { decidedIn, expectCorrectSafe, expectLegsAgree, headerPrevotes, idHexOf, prevotesAt, proposalsSigned, recordingSent } from './v2-byzantine-checks.js';

/** Member 2 proposes round 0 of height 1 (rotation ((h + r) mod n) + 1): the first batch is its. */
const BYZ = 2;
const CORRECT = [1, 3, 4];

function worldWith(behaviour: ByzantineBehaviourV2, env: ByzantineEnvV2, sent: MessageV2[] = [], options: WorldV2Options = {}): WorldV2 {
  return new WorldV2({ ...options, deps: (i, deps) => (i === BYZ ? byzantineV2(behaviour, recordingSent(deps, sent), env) : deps) });
}

const always = { active: () => true };

describe('protocol v2, Byzantine proposers: correct nodes stay safe and live', () => {
  it('censor: the entries it leaves out of its (valid) batch are decided by the next correct proposer', async () => {
    let censoredHex = '';
    const w = worldWith('censor', { ...always, censored: (idHex) => idHex === censoredHex });
    w.startAll();
    await w.runFor(1_000);
    const [x, y] = [w.terms('censored'), w.terms('let-through')];
    censoredHex = idHexOf(x);
    w.intent(x);
    w.intent(y);
    await w.runFor(6_000);
    // It proposed, and every proposal of it left X out but carried Y.
    const own = proposalsSigned(w, BYZ).filter((p) => p.height === 1);
    expect(own.length).toBeGreaterThan(0);
    for (const p of own) expect(p.entries.map((e) => toHex(e.settlementId))).toEqual([idHexOf(y)]);
    expectCorrectSafe(w, CORRECT);
    for (const i of CORRECT) {
      const seen = decidedIn(w, i);
      expect(seen.get(idHexOf(y))).toEqual([{ height: 1, decision: 'COMMIT' }]);
      // Within f + 1 heights of the censored one, by a correct proposer.
      const [xAt] = seen.get(idHexOf(x)) ?? [];
      expect(xAt?.decision).toBe('COMMIT');
      expect(xAt!.height).toBeGreaterThan(1);
      expect(xAt!.height).toBeLessThanOrEqual(1 + 1 + 1);
    }
    await expectLegsAgree(w, [x, y]);
    expect(await w.legState('asset', x)).toBe('committed');
  });

  it('censor (all): with every entry left out it proposes nothing; the next round decides', async () => {
    const w = worldWith('censor', { ...always, censored: () => true });
    w.startAll();
    await w.runFor(1_000);
    const x = w.terms('all-censored');
    w.intent(x);
    await w.runFor(5_000);
    expect(proposalsSigned(w, BYZ)).toEqual([]);
    for (const i of CORRECT) {
      expect(prevotesAt(w, i, 1, 0).map((v) => v.headerDigest)).toEqual([null]);
      expect(w.eventsOf(i, 'decided-height')[0]?.round).toBeGreaterThan(0);
      expect(w.decisionAt(i, x)).toEqual({ height: 1, decision: 'COMMIT' });
    }
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, [x]);
  });

  it('stale-commit: a fresh COMMIT proposed past the filter start is prevoted nil by every correct node, never decided; guard entries then abort both legs', async () => {
    const { w, x, validUntilMs, filterFromMs, releaseMs, staleProposals } = await staleCommitRun(100);
    await w.runUntil(releaseMs);
    // The stale proposal met a settlement no correct node had decided.
    const stale = staleProposals();
    expect(stale.length).toBeGreaterThan(0);
    for (const i of CORRECT) expect(w.decisionAt(i, x)).toBeNull();
    await w.runUntil(validUntilMs);
    for (const p of stale) {
      expect(p.validRound).toBe(-1);
      expect(p.atMs).toBeGreaterThanOrEqual(filterFromMs); // the proposer rule broken, and the filter applies
      const digest = toHex(batchHeaderDigest(p.header));
      for (const i of CORRECT) {
        expect(headerPrevotes(w, i)).not.toContain(digest);
        expect(prevotesAt(w, i, p.height, p.round).every((v) => v.headerDigest === null)).toBe(true);
      }
    }
    // Every correct node took the first stale round: it prevoted (nil) where it proposed.
    for (const i of CORRECT) expect(prevotesAt(w, i, stale[0]!.height, stale[0]!.round).length).toBe(1);
    // The guard entries, once they arrive, decide ABORT (a later round of the same height).
    for (const i of CORRECT) expect(w.decisionAt(i, x)).toEqual({ height: stale[0]!.height, decision: 'ABORT' });
    expectCorrectSafe(w, CORRECT);
    expect(await w.legState('asset', x)).toBe('aborted');
    expect(await w.legState('payment', x)).toBe('aborted');
  });

  it('stale-commit (control): the same fresh COMMIT before the filter start passes, so the filter is what refuses it above', async () => {
    // Between validUntil − commitGuardMs and the filter start a fresh COMMIT is late for a correct
    // proposer but still prevoted: that half of the guard is the room left for skew and delay.
    const { w, x, validUntilMs, filterFromMs, staleProposals } = await staleCommitRun(-400);
    await w.runUntil(validUntilMs);
    const stale = staleProposals();
    expect(stale.length).toBeGreaterThan(0);
    expect(stale[0]!.atMs).toBeGreaterThan(validUntilMs - w.v2.commitGuardMs); // too late for a correct proposer
    expect(stale[0]!.atMs).toBeLessThan(filterFromMs);
    const digest = toHex(batchHeaderDigest(stale[0]!.header));
    for (const i of CORRECT) {
      expect(headerPrevotes(w, i)).toContain(digest);
      expect(w.decisionAt(i, x)).toEqual({ height: stale[0]!.height, decision: 'COMMIT' });
    }
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, [x]);
    expect(await w.legState('asset', x)).toBe('committed');
  });

  it.each(['root', 'count'] as const)('bad-root (%s): a header not bound to its entries is taken by no correct node; a later round decides', async (lie) => {
    const w = worldWith('bad-root', { ...always, badRoot: lie });
    w.startAll();
    await w.runFor(1_000);
    const x = w.terms('bad-root');
    w.intent(x);
    await w.runFor(5_000);
    const bad = proposalsSigned(w, BYZ).find((p) => p.height === 1 && p.round === 0);
    expect(bad).toBeDefined();
    expect(entriesBindingProblem(bad!.header.count, bad!.header.root, bad!.entries)).not.toBeNull();
    const digest = toHex(batchHeaderDigest(bad!.header));
    for (const i of CORRECT) {
      const votes = prevotesAt(w, i, 1, 0);
      expect(votes.length).toBe(1);
      expect(votes[0]!.headerDigest).toBeNull();
      expect(headerPrevotes(w, i)).not.toContain(digest);
      const [decided] = w.eventsOf(i, 'decided-height');
      expect(decided!.round).toBeGreaterThan(0);
      expect(w.decisionAt(i, x)).toEqual({ height: 1, decision: 'COMMIT' });
    }
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, [x]);
  });

  it('withhold-entries (entries): a proposal short of entries is void everywhere; a later round decides both', async () => {
    const sent: MessageV2[] = [];
    const w = worldWith('withhold-entries', { ...always, withhold: ['entries'] }, sent);
    w.startAll();
    await w.runFor(1_000);
    const all = [w.terms('held-1'), w.terms('held-2')];
    for (const t of all) w.intent(t);
    await w.runFor(5_000);
    const out = sentProposals(sent, 1, 0);
    expect(out.length).toBeGreaterThan(0);
    for (const p of out) expect(p.entries.length).toBeLessThan(p.header.count);
    for (const i of CORRECT) {
      expect(prevotesAt(w, i, 1, 0).map((v) => v.headerDigest)).toEqual([null]);
      for (const t of all) expect(w.decisionAt(i, t)?.decision).toBe('COMMIT');
    }
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, all);
  });

  it('withhold-entries (terms): a node without the terms cannot lock on the batch; those who hold them decide it', async () => {
    const sent: MessageV2[] = [];
    const w = worldWith('withhold-entries', { ...always, withhold: ['terms'] }, sent);
    w.startAll();
    await w.runFor(1_000);
    const x = w.terms('no-terms');
    w.intent(x, [1, 2, 4]); // node 3 never hears of it but from proposals
    await w.runFor(5_000);
    const [p] = sentProposals(sent, 1, 0);
    expect(p).toBeDefined();
    expect(p!.terms).toEqual([]);
    expect(p!.entries.length).toBe(p!.header.count);
    const digest = toHex(batchHeaderDigest(p!.header));
    expect(headerPrevotes(w, 3)).not.toContain(digest);
    for (const i of [1, 4]) expect(headerPrevotes(w, i)).toContain(digest);
    // Node 3 holds no intent for it: it learns the decided batch all the same.
    for (const i of CORRECT) expect(decidedIn(w, i).get(idHexOf(x))).toEqual([{ height: 1, decision: 'COMMIT' }]);
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, [x]);
  });

  it('withhold-entries (default: a part of each proposal in turn, no bundles): every settlement still decides once', async () => {
    const sent: MessageV2[] = [];
    const w = worldWith('withhold-entries', always, sent);
    w.startAll();
    await w.runFor(1_000);
    const all: ReturnType<WorldV2['terms']>[] = [];
    for (let k = 0; k < 6; k++) {
      const t = w.terms(`withheld-${k}`);
      all.push(t);
      w.intent(t);
      await w.runFor(700);
    }
    await w.runFor(8_000);
    expect(sent.filter((m) => m.kind === 'bundle').length).toBe(0);
    const stripped = sent.flatMap((m) => (m.kind === 'proposal2' && m.proposal.proposer === BYZ ? [m.proposal] : []));
    expect(stripped.length).toBeGreaterThan(0);
    for (const p of stripped) expect(p.entries.length < p.header.count || p.terms.length === 0 || p.justification.length === 0).toBe(true);
    for (const i of CORRECT) for (const t of all) expect(w.decisionAt(i, t)?.decision).toBe('COMMIT');
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, all);
  });
});

/**
 * stale-commit, set up so the Byzantine member gets to propose past the commit guard while the
 * settlement is undecided. The guard entries (ABORT evidence) come commitGuardMs/2 before the
 * filter starts, so with prompt gossip the settlement aborts long before a stale COMMIT could be
 * proposed. Asynchrony holds that back: every bundle to a correct node is delayed until releaseMs,
 * so until then no correct node holds f+1 supporters of anything (its own entries are one) and
 * none starts a height; bundles to the Byzantine member are delayed until activeFromMs = the
 * filter start + `activeAfterFilterMs`, when its behaviour starts (before, it proposes as a
 * correct node: with COMMIT evidence before the guard it would propose COMMIT in time, with the
 * guard entries ABORT). At activeFromMs it holds COMMIT evidence (and the guard entries) and, the
 * round-0 proposer of height 1, proposes the settlement as a fresh COMMIT. From releaseMs the
 * correct nodes hold the guard entries too. Returns as the intent is taken.
 */
async function staleCommitRun(activeAfterFilterMs: number) {
  let activeFromMs = Infinity;
  let releaseMs = 0; // 0: no delay yet (set with the intent)
  const w = worldWith('stale-commit', { active: () => w.nowMs >= activeFromMs }, [], {
    deliverNotBeforeMs: (_, to, m) => (m.kind !== 'bundle' || releaseMs === 0 ? 0 : to === BYZ ? activeFromMs : releaseMs),
  });
  w.startAll();
  await w.runFor(1_000);
  const x = w.terms('stale');
  const validUntilMs = x.deadlineMs + x.reportWindowMs;
  const filterFromMs = validUntilMs - w.v2.commitGuardMs / 2;
  activeFromMs = filterFromMs + activeAfterFilterMs;
  releaseMs = activeFromMs + 500;
  expect(w.intent(x)).toEqual([null, null, null, null]);
  const staleProposals = () => proposalsSigned(w, BYZ).filter((p) => p.entries.some((e) => toHex(e.settlementId) === idHexOf(x) && e.decision === 'COMMIT'));
  return { w, x, validUntilMs, filterFromMs, releaseMs, staleProposals };
}

function sentProposals(sent: readonly MessageV2[], height: number, round: number) {
  return sent.flatMap((m) => (m.kind === 'proposal2' && m.proposal.proposer === BYZ && m.proposal.height === height && m.proposal.round === round ? [m.proposal] : []));
}
