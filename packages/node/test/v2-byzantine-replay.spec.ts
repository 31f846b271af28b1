import { describe, expect, it } from 'vitest';
import { type Terms, batchHeaderDigest, toHex } from '@tandem/protocol';
import { DEFAULT_PARAMS } from '@tandem/consensus';
import { byzantineV2 } from '../src/index.js';
import { WorldV2 } from './v2-world.js';
import { decidedIn, expectCorrectSafe, expectLegsAgree, headerPrevotes, idHexOf, prevotesAt, proposalsSigned } from './v2-byzantine-checks.js';

/** Member 3 proposes round 0 of height 2: the height right after the replayed settlement's. */
const BYZ = 3;
const CORRECT = [1, 2, 4];

interface ReplayRun {
  readonly w: WorldV2;
  readonly x: Terms;
  readonly y: Terms;
}

/**
 * A settlement X both of whose decisions gather support: its payment is authorized only after
 * the deadline entries (ABORT evidence: payment not locked) were signed, then it locks (COMMIT
 * evidence). Height 1 decides X one way; member 3, proposer of height 2, replays it the other way
 * with the evidence it kept. Y gives height 2 something correct to decide.
 */
async function replayRun(mutated: boolean): Promise<ReplayRun> {
  const w = new WorldV2({
    deps: (i, deps) => (i === BYZ ? byzantineV2('replay-entry', deps, { active: () => true }) : deps),
    ...(mutated ? { consensus: { ...DEFAULT_PARAMS, mutationForTesting: 'skip-prefix-check' as const } } : {}),
  });
  w.startAll();
  await w.runFor(1_000);
  const x = w.terms('replayed', 250);
  w.intent(x, [1, 2, 3, 4], ['asset']);
  await w.runUntil(x.deadlineMs + 50); // every node's deadline read is done: payment none
  for (let i = 1; i <= 4; i++) expect(w.eventsOf(i, 'decided-height')).toEqual([]);
  w.intent(x, [1], ['payment']);
  await w.runFor(1_000);
  const y = w.terms('after');
  w.intent(y);
  await w.runFor(6_000);
  return { w, x, y };
}

/** The Byzantine member's proposals carrying X with the decision other than the one decided at height 1. */
function replays(run: ReplayRun, firstDecision: string) {
  return proposalsSigned(run.w, BYZ).filter((p) => p.height > 1 && p.entries.some((e) => toHex(e.settlementId) === idHexOf(run.x) && e.decision !== firstDecision));
}

describe('protocol v2, replay-entry: a settlement decided lower, proposed again with the other decision', () => {
  it('is refused by V3 at every correct node: each settlement stays in one decided batch', async () => {
    const run = await replayRun(false);
    const { w, x, y } = run;
    const first = decidedIn(w, 1).get(idHexOf(x));
    expect(first?.length).toBe(1);
    expect(first![0]!.height).toBe(1);
    const replayed = replays(run, first![0]!.decision);
    expect(replayed.length).toBeGreaterThan(0);
    for (const p of replayed) {
      const digest = toHex(batchHeaderDigest(p.header));
      for (const i of CORRECT) {
        expect(headerPrevotes(w, i)).not.toContain(digest);
        expect(prevotesAt(w, i, p.height, p.round).every((v) => v.headerDigest === null)).toBe(true);
      }
    }
    // The correct nodes took part in the replay's round (and refused it), then decided Y.
    expect(CORRECT.every((i) => prevotesAt(w, i, 2, 0).length === 1)).toBe(true);
    for (const i of CORRECT) expect(decidedIn(w, i).get(idHexOf(y))?.[0]?.decision).toBe('COMMIT');
    expectCorrectSafe(w, CORRECT);
    await expectLegsAgree(w, [x, y]);
  });

  it('with the skip-prefix-check mutation on every node, the same run decides the settlement twice (the broken build is caught)', async () => {
    const run = await replayRun(true);
    const { w, x } = run;
    for (const i of CORRECT) {
      const seen = decidedIn(w, i).get(idHexOf(x)) ?? [];
      expect(seen.length, `decided batches of X at node ${i}`).toBeGreaterThanOrEqual(2);
      expect(new Set(seen.map((s) => s.decision)).size).toBe(2);
    }
    expect(replays(run, decidedIn(w, 1).get(idHexOf(x))![0]!.decision).length).toBeGreaterThan(0);
    expect(() => expectCorrectSafe(w, CORRECT)).toThrow(/decided batches of/);
    // The legs apply one decision per settlement whatever the nodes do: they still agree.
    await expectLegsAgree(w, [x]);
  });
});
