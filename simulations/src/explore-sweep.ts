/**
 * The offline seed-exploration experiment of issue 4 (evidence of safety): `explore` over many
 * seeds of each scenario, printing the table scenario, seeds, failures, runs with both values
 * valid, decisions, rounds per decision p50/p99 — the figures CI's 500 seeds only sample.
 *
 *   pnpm build && node simulations/dist/explore-sweep.js [--seeds N] [--from S] [--jobs K] [files…]
 *
 * --seeds is per scenario (default 200); --from the first seed (default 1). Without files it runs
 * every scenario in scenarios/ that has a `random:` block. --jobs K (default 1) splits each
 * scenario's seeds into K contiguous ranges run in worker threads; the merged counts are the same
 * as one job's (each seed's run depends only on the scenario and the seed). Exit 1 if any seed
 * failed, with every failing seed's replay command listed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type ExploreResult, RoundHistogram, explore, parseScenario } from '@tandem/sim';
import { machineLines, markdownTable } from './table.js';

const ROOT = join(import.meta.dirname, '../..');
const JOBS_MAX = 64;

interface Job {
  readonly file: string; // relative to the repository root, as the replay command names it
  readonly seeds: number;
  readonly from: number;
}

function load(file: string) {
  return parseScenario(readFileSync(join(ROOT, file), 'utf8'), file);
}

async function runJob(job: Job): Promise<ExploreResult> {
  return explore(load(job.file), { seeds: job.seeds, from: job.from, file: job.file });
}

if (!isMainThread) {
  const result = await runJob(workerData as Job);
  parentPort!.postMessage(result);
} else {
  await mainThread();
}

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
  const seeds = opt('--seeds', 200, 1, 10_000_000);
  const from = opt('--from', 1, 0, Number.MAX_SAFE_INTEGER - seeds);
  const jobs = opt('--jobs', 1, 1, JOBS_MAX);
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

/** Seeds from..from+seeds-1 cut into `jobs` contiguous, non-empty ranges. */
function split(file: string, seeds: number, from: number, jobs: number): Job[] {
  const k = Math.min(jobs, seeds);
  const out: Job[] = [];
  let start = from;
  for (let i = 0; i < k; i++) {
    const n = Math.floor(seeds / k) + (i < seeds % k ? 1 : 0);
    out.push({ file, seeds: n, from: start });
    start += n;
  }
  return out;
}

function inWorker(job: Job): Promise<ExploreResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker for ${job.file} from ${job.from} exited with ${code}`));
    });
  });
}

/** Sums the parts of one scenario's exploration (seed ranges that do not overlap). */
function merge(parts: readonly ExploreResult[], elapsedMs: number): ExploreResult {
  const rounds = new RoundHistogram();
  for (const p of parts) for (const [round, count] of p.roundsHistogram) rounds.add(round, count);
  const sum = (f: (r: ExploreResult) => number) => parts.reduce((k, r) => k + f(r), 0);
  return {
    runs: sum((r) => r.runs),
    failures: parts.flatMap((r) => r.failures),
    failuresOmitted: sum((r) => r.failuresOmitted),
    bothValid: sum((r) => r.bothValid),
    decisions: { commit: sum((r) => r.decisions.commit), abort: sum((r) => r.decisions.abort), none: sum((r) => r.decisions.none) },
    roundsP50: rounds.percentile(50),
    roundsP99: rounds.percentile(99),
    roundsHistogram: rounds.entries(),
    elapsedMs,
  };
}

async function mainThread(): Promise<void> {
  const { seeds, from, jobs, files } = parseArgs(process.argv.slice(2));
  const rows: string[][] = [];
  const failing: string[] = [];
  const t0 = performance.now();
  for (const file of files) {
    const started = performance.now();
    const parts = split(file, seeds, from, jobs);
    const results = jobs === 1 ? [await runJob(parts[0]!)] : await Promise.all(parts.map(inWorker));
    const r = merge(results, Math.round(performance.now() - started));
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
