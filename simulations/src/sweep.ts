/**
 * Seed sweep over the scenario library: runs every scenario in scenarios/ (or the files given)
 * for seeds FROM..FROM+COUNT-1 and prints a table of failures per scenario, with the replay command
 * of each failing seed. Run by hand: `pnpm build && node simulations/dist/sweep.js [--seeds N] [--from S] [files…]`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MemoVerifier, buildResult, parseScenario, simulate, valuesEverValid } from '@tandem/sim';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const seeds = opt('--seeds', 20);
const from = opt('--from', 1);
const dir = join(import.meta.dirname, '../../scenarios');
const files = args.length > 0 ? args : readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(dir, f));

console.log(`| scenario | seeds | failures | both values valid | rounds p99 | wall s |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
const failures: string[] = [];
for (const file of files) {
  const scenario = parseScenario(readFileSync(file, 'utf8'), file);
  const verifier = new MemoVerifier();
  let failed = 0;
  let both = 0;
  let roundsMax = 0;
  const t0 = performance.now();
  for (let seed = from; seed < from + seeds; seed++) {
    const run = await simulate(scenario, { seed, verifier });
    const r = buildResult(run);
    if (run.settlements.some((s) => valuesEverValid(run, s).size === 2)) both++;
    roundsMax = Math.max(roundsMax, r.metrics.rounds.p99);
    if (!r.ok) {
      failed++;
      const why = [...r.invariants.filter((i) => i.ok === false).map((i) => `${i.name}: ${i.detail}`), ...r.expectations.filter((e) => !e.ok).map((e) => e.detail)];
      failures.push(`pnpm tandem simulate ${file} --seed ${seed}   # ${why.join(' | ')}`);
    }
  }
  console.log(`| ${scenario.name} | ${seeds} | ${failed} | ${both} | ${roundsMax} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
}
if (failures.length > 0) {
  console.log('\nfailing seeds:');
  for (const f of failures) console.log(f);
  process.exitCode = 1;
}
