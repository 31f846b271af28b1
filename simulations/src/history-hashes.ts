/**
 * The history hashes of the scenario library at its pinned seeds (each scenario's own seed, 1001
 * and 2002): the fingerprints `packages/sim/test/scenarios.spec.ts` compares every CI run against.
 * A change that moves a hash changes what the simulator does; this script prints which entries
 * moved and, with --write, records the new ones (say why in the commit).
 *
 *   pnpm history-hashes            # compare, exit 1 if any hash moved
 *   pnpm history-hashes --write    # record the current hashes
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoVerifier, parseScenario, simulate } from '@tandem/sim';

/** Seeds every library scenario runs at in CI, besides its own. */
export const PINNED_EXTRA_SEEDS = [1001, 2002] as const;

const ROOT = join(import.meta.dirname, '../..');
const SCENARIOS = join(ROOT, 'scenarios');
const GOLDEN = join(ROOT, 'scenarios/history-hashes.json');

const write = process.argv.includes('--write');
const recorded = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string>;
const current: Record<string, string> = {};
const moved: string[] = [];
for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml')).sort()) {
  const scenario = parseScenario(readFileSync(join(SCENARIOS, file), 'utf8'), `scenarios/${file}`);
  const verifier = new MemoVerifier();
  for (const seed of [scenario.seed, ...PINNED_EXTRA_SEEDS]) {
    const key = `${file} seed ${seed}`;
    current[key] = (await simulate(scenario, { seed, verifier })).historyHash;
    if (recorded[key] !== current[key]) moved.push(`${key}: ${recorded[key] ?? '(none)'} -> ${current[key]}`);
  }
}
for (const key of Object.keys(recorded)) if (!(key in current)) moved.push(`${key}: no longer in the library`);
console.log(moved.length === 0 ? `all ${Object.keys(current).length} history hashes as recorded` : `${moved.length} moved:\n  ${moved.join('\n  ')}`);
if (write) {
  writeFileSync(GOLDEN, JSON.stringify(current, null, 2) + '\n');
  console.log(`recorded in ${GOLDEN}`);
} else if (moved.length > 0) {
  process.exitCode = 1;
}
