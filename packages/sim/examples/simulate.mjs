// Runs a scenario in the simulator, checks it and prints the verdict (after `pnpm build`):
//   node packages/sim/examples/simulate.mjs [scenario.yaml] [seed]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScenarioError, buildResult, parseScenario, simulate } from '@tandem/sim';

const [fileArg, seedArg] = process.argv.slice(2);
const file = fileArg ?? fileURLToPath(new URL('../../../scenarios/happy-path.yaml', import.meta.url));
let scenario;
try {
  scenario = parseScenario(readFileSync(file, 'utf8'), file);
} catch (e) {
  console.error(e instanceof ScenarioError ? e.message : `${file}: ${e.message}`); // bad YAML, or no such file
  process.exit(2);
}
const seed = seedArg === undefined ? scenario.seed : Number(seedArg);
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error(`seed ${seedArg}: expected an integer ≥ 0`);
  process.exit(2);
}
const run = await simulate(scenario, { seed });
const result = buildResult(run);
console.log(`${result.scenario} seed ${result.seed}: ${result.ok ? 'ok' : 'NOT OK'} (history hash ${run.historyHash})`);
for (const s of result.settlements) console.log(`  ${s.id}: ${s.decision ?? 'no decision'} at ${s.decidedAtMs ?? '-'} ms; asset ${s.asset}, payment ${s.payment}`);
