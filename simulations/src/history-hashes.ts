/**
 * The history hashes of the scenario library at its pinned seeds (each scenario's own seed, 1001
 * and 2002): the fingerprints `packages/sim/test/scenarios.spec.ts` compares every CI run against.
 * A change that moves a hash changes what the simulator does; this script prints which entries
 * moved and, with --write, records the new ones (say why in the commit). The same for every library
 * scenario under protocol 2 (scenarios/history-hashes-v2.json, packages/sim/test/scenarios-v2.spec.ts).
 *
 *   pnpm history-hashes            # compare, exit 1 if any hash moved
 *   pnpm history-hashes --write    # record the current hashes
 *   pnpm history-hashes --write-v2 # record the protocol-2 hashes only
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoVerifier, V2_LIBRARY_EXCLUDED, parseScenario, simulate, underProtocol } from '@tandem/sim';

/** Seeds every library scenario runs at in CI, besides its own. */
export const PINNED_EXTRA_SEEDS = [1001, 2002] as const;

const ROOT = join(import.meta.dirname, '../..');
const SCENARIOS = join(ROOT, 'scenarios');
/** Every scenario as written; then every protocol-1 scenario not excluded, under protocol 2 (underProtocol). */
const GOLDENS = [
  { protocol: 1 as const, file: join(ROOT, 'scenarios/history-hashes.json') },
  { protocol: 2 as const, file: join(ROOT, 'scenarios/history-hashes-v2.json') },
];

const write = process.argv.includes('--write');
/** Records the protocol-2 hashes only (never touches the v1 file). */
const writeV2 = process.argv.includes('--write-v2');
let movedInAll = 0;
for (const golden of GOLDENS) {
  const recorded = existsSync(golden.file) ? (JSON.parse(readFileSync(golden.file, 'utf8')) as Record<string, string>) : {};
  const current: Record<string, string> = {};
  const moved: string[] = [];
  for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml')).sort()) {
    const written = parseScenario(readFileSync(join(SCENARIOS, file), 'utf8'), `scenarios/${file}`);
    // The first file holds every scenario as written (v2 ones too); the second, the v1 ones under protocol 2.
    if (golden.protocol === 2 && (written.protocol === 2 || V2_LIBRARY_EXCLUDED[file] !== undefined)) continue;
    const scenario = golden.protocol === 2 ? underProtocol(written, 2) : written;
    const verifier = new MemoVerifier();
    for (const seed of [scenario.seed, ...PINNED_EXTRA_SEEDS]) {
      const key = `${file} seed ${seed}`;
      current[key] = (await simulate(scenario, { seed, verifier })).historyHash;
      if (recorded[key] !== current[key]) moved.push(`${key}: ${recorded[key] ?? '(none)'} -> ${current[key]}`);
    }
  }
  for (const key of Object.keys(recorded)) if (!(key in current)) moved.push(`${key}: no longer in the library`);
  const which = `protocol ${golden.protocol}`;
  console.log(moved.length === 0 ? `${which}: all ${Object.keys(current).length} history hashes as recorded` : `${which}: ${moved.length} moved:\n  ${moved.join('\n  ')}`);
  movedInAll += moved.length;
  if (write || (writeV2 && golden.protocol === 2)) {
    writeFileSync(golden.file, JSON.stringify(current, null, 2) + '\n');
    console.log(`recorded in ${golden.file}`);
  }
}
if (!write && !writeV2 && movedInAll > 0) process.exitCode = 1;
