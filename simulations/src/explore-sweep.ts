/**
 * The offline seed-exploration experiment of issue 4 (evidence of safety): `explore` over many
 * seeds of each scenario, printing the table scenario, seeds, failures, runs with both values
 * valid, decisions, rounds per decision p50/p99 — the figures CI's 500 seeds only sample.
 *
 *   pnpm build && node simulations/dist/explore-sweep.js [--seeds N] [--from S] [--jobs K] [files…]
 *
 * --seeds is per scenario (default 200); --from the first seed (default 1). Without files it runs
 * every scenario in scenarios/ that has a `random:` block. --jobs K (default: one per core) runs
 * each scenario's seeds on K worker threads (`explore`'s own; the counts are the same as one
 * job's). To spread one sweep over machines, use `tandem explore FILE --shard I/N --json` and
 * `tandem explore merge`. Exit 1 if any seed failed, with every failing seed's replay command listed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { EXPLORE_JOBS_MAX, EXPLORE_SEEDS_MAX, explore, parseScenario } from '@tandem/sim';
import { machineLines, markdownTable } from './table.js';

const ROOT = join(import.meta.dirname, '../..');

function load(file: string) {
  return parseScenario(readFileSync(join(ROOT, file), 'utf8'), file);
}

await mainThread();

function parseArgs(argv: readonly string[]): { seeds: number; from: number; jobs: number; files: string[] } {
  const args = [...argv];
  const opt = (name: string, dflt: number, min: number, max: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return dflt;
    const raw = args[i + 1] ?? '';
    const v = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new Error(`${name}: expected an integer ${min}..${max}, got '${raw}'`);
    args.splice(i, 2);
    return v;
  };
  const seeds = opt('--seeds', 200, 1, EXPLORE_SEEDS_MAX);
  const from = opt('--from', 1, 0, Number.MAX_SAFE_INTEGER - seeds);
  const jobs = opt('--jobs', Math.min(EXPLORE_JOBS_MAX, availableParallelism()), 1, EXPLORE_JOBS_MAX);
  const files = args.length > 0 ? args.map((f) => relative(ROOT, join(process.cwd(), f))) : defaultFiles();
  return { seeds, from, jobs, files };
}

/** Every library scenario with a random: block. */
function defaultFiles(): string[] {
  return readdirSync(join(ROOT, 'scenarios'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `scenarios/${f}`)
    .filter((f) => (load(f).random ?? null) !== null);
}

async function mainThread(): Promise<void> {
  const { seeds, from, jobs, files } = parseArgs(process.argv.slice(2));
  const rows: string[][] = [];
  const failing: string[] = [];
  const t0 = performance.now();
  for (const file of files) {
    const r = await explore(load(file), { seeds, from, jobs, file });
    const failures = r.failures.length + r.failuresOmitted;
    const d = r.decisions;
    rows.push([
      load(file).name,
      String(r.runs),
      String(failures),
      `${r.bothValid} (${((100 * r.bothValid) / r.runs).toFixed(1)} %)`,
      `${d.commit} / ${d.abort} / ${d.none}`,
      `${r.roundsP50} / ${r.roundsP99}`,
      (r.elapsedMs / 1000).toFixed(0),
    ]);
    for (const f of r.failures) failing.push(`${f.replay}   # ${f.details.join(' | ')}`);
    process.stderr.write(`${file}: ${r.runs} seeds, ${failures} failures\n`);
  }
  const lines = [
    ...machineLines(),
    `method: tandem explore (packages/sim/src/explore.ts) per scenario, seeds ${from}..${from + seeds - 1}, ${jobs} worker thread(s); wall ${((performance.now() - t0) / 1000).toFixed(0)} s in all`,
    '',
    ...markdownTable(
      [
        { header: 'scenario', align: 'left' },
        { header: 'seeds', align: 'right' },
        { header: 'failures', align: 'right' },
        { header: 'runs with both values valid', align: 'right' },
        { header: 'decisions commit / abort / none', align: 'right' },
        { header: 'rounds per decision p50 / p99', align: 'right' },
        { header: 'wall s', align: 'right' },
      ],
      rows,
    ),
  ];
  console.log(lines.join('\n'));
  if (failing.length > 0) {
    console.log('\nfailing seeds:');
    for (const f of failing) console.log(f);
    process.exitCode = 1;
  }
}
