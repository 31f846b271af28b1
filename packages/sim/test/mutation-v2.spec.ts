import { describe, expect, it } from 'vitest';
import { type ConsensusParams, DEFAULT_PARAMS } from '@tandem/consensus';
import { buildResult, explore, exploreReplay, simulate } from '../src/index.js';
import { loadScenario } from './support.js';

/**
 * Mutation testing of protocol 2: a build whose decided chain answers that no settlement was
 * decided lower (`skip-prefix-check`: valid_h skips V3) must be caught by `explore` when a
 * `replay-entry` proposer re-proposes a settlement of a lower height with the other decision,
 * justified; the correct build must refuse that batch at the very same seeds.
 */
const FILE = 'explore-v2-replay-entry.yaml';
/** The first K seeds, as `tandem explore FILE --seeds K` runs them. */
const SEEDS = 5;
const SKIP_PREFIX_CHECK: ConsensusParams = { ...DEFAULT_PARAMS, mutationForTesting: 'skip-prefix-check' };
/** What the correct build must keep (and the mutation breaks the first of). */
const SAFETY = ['one-batch-per-settlement', 'agreement', 'decide-once', 'one-decision-per-settlement', 'height-agreement', 'batch-validity', 'validity', 'proof-soundness'];

describe(`mutation testing of protocol 2: explore on ${FILE}`, () => {
  const scenario = loadScenario(FILE);

  it(`the correct build passes the first ${SEEDS} seeds, refusing every replayed entry`, async () => {
    const r = await explore(scenario, { seeds: SEEDS, from: 1, file: `scenarios/${FILE}` });
    expect(r.runs).toBe(SEEDS);
    expect(r.failures.map((f) => `${f.replay}   # ${f.details.join(' | ')}`)).toEqual([]);
    const one = buildResult(await simulate(scenario, { seed: 1 }));
    for (const name of SAFETY) expect(one.invariants.find((i) => i.name === name)?.ok, name).toBe(true);
    expect(one.settlements.find((s) => s.id === 's2')).toMatchObject({ decision: 'commit', height: 2 });
  });

  it(`catches skip-prefix-check within the first ${SEEDS} seeds (a settlement decided in two batches), and the failure replays`, async () => {
    const r = await explore(scenario, { seeds: SEEDS, from: 1, file: `scenarios/${FILE}`, simOptions: { consensusParams: SKIP_PREFIX_CHECK } });
    expect(r.runs).toBe(SEEDS);
    const caught = r.failures.filter((f) => f.violations.includes('one-batch-per-settlement'));
    expect(caught.length, 'seeds where the mutated build decided a settlement twice').toBeGreaterThanOrEqual(1);
    const first = caught[0]!;
    expect(first.replay).toBe(exploreReplay(`scenarios/${FILE}`, first.seed));
    const replayed = buildResult(await simulate(scenario, { seed: first.seed, consensusParams: SKIP_PREFIX_CHECK }));
    expect(replayed.invariants.find((i) => i.name === 'one-batch-per-settlement')?.ok).toBe(false);
    expect(replayed.ok).toBe(false);
  });
});
