import { describe, expect, it } from 'vitest';
import { type ConsensusParams, DEFAULT_PARAMS } from '@tandem/consensus';
import { buildResult, simulate } from '../src/index.js';
import { loadScenario } from './support.js';

/**
 * Mutation testing of protocol 2: a build whose decided chain answers that no settlement was
 * decided lower (`skip-prefix-check`: valid_h skips V3) must be caught when a `replay-entry`
 * proposer re-proposes a settlement of a lower height with the other decision, justified; the
 * correct build must refuse that batch at the very same seeds.
 */
const FILE = 'explore-v2-replay-entry.yaml';
const SEEDS = [1, 2, 3];
const SKIP_PREFIX_CHECK: ConsensusParams = { ...DEFAULT_PARAMS, mutationForTesting: 'skip-prefix-check' };
/** What the correct build must keep (and the mutation breaks the first of). */
const SAFETY = ['one-batch-per-settlement', 'agreement', 'decide-once', 'one-decision-per-settlement', 'height-agreement', 'batch-validity', 'validity', 'proof-soundness'];

describe(`mutation testing of protocol 2 on ${FILE}`, () => {
  const scenario = loadScenario(FILE);

  it.each(SEEDS)('seed %i: the correct build refuses the replayed entry', async (seed) => {
    const r = buildResult(await simulate(scenario, { seed }));
    for (const name of SAFETY) expect(r.invariants.find((i) => i.name === name)?.ok, name).toBe(true);
    expect(r.settlements.find((s) => s.id === 's2')).toMatchObject({ decision: 'commit', height: 2 });
  });

  it.each(SEEDS)('seed %i: skip-prefix-check decides a settlement in two batches', async (seed) => {
    const r = buildResult(await simulate(scenario, { seed, consensusParams: SKIP_PREFIX_CHECK }));
    expect(r.invariants.find((i) => i.name === 'one-batch-per-settlement')?.ok).toBe(false);
    expect(r.ok).toBe(false);
  });
});
