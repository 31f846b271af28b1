import { describe, expect, it } from 'vitest';
import { type ConsensusParams, DEFAULT_PARAMS } from '@tandem/consensus';
import { type HistoryEntry, buildResult, explore, exploreReplay, simulate } from '../src/index.js';
import { loadScenario } from './support.js';

/**
 * Mutation testing of the tooling (issue 4): a deliberately broken build, whose nodes prevote for
 * any valid proposal whatever they are locked on, must be caught by `explore` on a lock race with
 * an equivocating proposer, and the correct build must pass the very same seeds. If the first half
 * stops failing, the scenario (or explore, or the checker) has lost its power to find this bug;
 * docs/protocol.md ("Mutation testing") explains the schedule that breaks the broken build.
 */
const FILE = 'explore-lock-race-adversarial.yaml';
/**
 * The first K seeds, as `tandem explore FILE --seeds K` runs them. When this was written, 8 of
 * them failed with the mutation (40 of the first 100): the test needs one.
 */
const SEEDS = 20;
const FROM = 1;
const IGNORE_LOCK: ConsensusParams = { ...DEFAULT_PARAMS, mutationForTesting: 'ignore-lock' };

interface Decision {
  readonly node: number;
  readonly decision: string;
  readonly round: number;
}

/** Every node's first decision of the run's (only) settlement, from the history. */
function decisions(history: readonly HistoryEntry[]): Decision[] {
  const out = new Map<number, Decision>();
  for (const e of history) {
    if (e.type !== 'node' || e.event.type !== 'decided' || out.has(e.node)) continue;
    out.set(e.node, { node: e.node, decision: e.event.report.decision, round: e.event.report.round });
  }
  return [...out.values()];
}

describe(`mutation testing: explore on ${FILE}`, () => {
  const scenario = loadScenario(FILE);

  it(`catches a build that ignores its lock within the first ${SEEDS} seeds, and the failure replays`, async () => {
    const r = await explore(scenario, { seeds: SEEDS, from: FROM, file: `scenarios/${FILE}`, simOptions: { consensusParams: IGNORE_LOCK } });
    expect(r.runs).toBe(SEEDS);
    const broken = r.failures.filter((f) => f.violations.includes('agreement'));
    expect(broken.length, 'seeds where the mutated build broke agreement').toBeGreaterThanOrEqual(1);
    // Every failure is a safety failure: the broken lock splits decisions, it does not stall.
    for (const f of r.failures) expect(f.violations).toContain('agreement');

    // The replay command reproduces the first failure (with the same broken build).
    const first = broken[0]!;
    expect(first.replay).toBe(exploreReplay(`scenarios/${FILE}`, first.seed));
    const run = await simulate(scenario, { seed: first.seed, consensusParams: IGNORE_LOCK });
    const replayed = buildResult(run);
    expect(replayed.invariants.find((i) => i.name === 'agreement')?.ok).toBe(false);

    // The split is across rounds, as the lock exists to prevent: the ABORT was decided in an
    // earlier round than the COMMIT, by a correct node (n4 is the Byzantine one).
    const ds = decisions(run.history).filter((d) => d.node !== 4);
    const abort = ds.filter((d) => d.decision === 'ABORT');
    const commit = ds.filter((d) => d.decision === 'COMMIT');
    expect(abort.length).toBeGreaterThan(0);
    expect(commit.length).toBeGreaterThan(0);
    expect(Math.max(...abort.map((d) => d.round))).toBeLessThan(Math.min(...commit.map((d) => d.round)));
  }, 120_000);

  it(`passes the same ${SEEDS} seeds with the correct build, both values valid in the races`, async () => {
    const r = await explore(scenario, { seeds: SEEDS, from: FROM, file: `scenarios/${FILE}` });
    expect(r.failures.map((f) => `${f.replay}   # ${f.details.join(' | ')}`)).toEqual([]);
    expect(r.decisions.none).toBe(0);
    // A lock race proves something only if both values were valid (docs/results.md).
    expect(r.bothValid / r.runs).toBeGreaterThanOrEqual(0.8);
  }, 120_000);
});
