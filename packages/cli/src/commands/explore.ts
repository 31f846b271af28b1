import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { EXPLORE_JOBS_MAX, EXPLORE_SEEDS_MAX, EXPLORE_SHARDS_MAX, ExploreInterrupted, ExploreMergeError, type ExploreJson, ExploreSeeds, explore, exploreJson, mergeExploreJson } from '@tandem/sim';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from '../command.js';
import { table } from '../render.js';
import { loadScenarioFile, parseProtocol, parseSeed } from '../options.js';

/** Width of the progress bar in characters. */
const BAR_WIDTH = 30;
/** Redraw at most this often: a bar redrawn every run would cost more than some runs. */
const BAR_REDRAW_MS = 100;
/** The exit code of a command stopped by SIGINT (128 + 2), as a shell reports it. */
const EXIT_INTERRUPTED = 130;

export function parseSeedCount(value: string | undefined): number {
  const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > EXPLORE_SEEDS_MAX) throw new UsageError(`--seeds: expected an integer from 1 to ${EXPLORE_SEEDS_MAX}, got ${value === undefined ? 'nothing' : `'${value}'`}`);
  return n;
}

/** `--jobs J`: worker threads, 1..EXPLORE_JOBS_MAX; default one per core. */
export function parseJobs(value: string | undefined): number {
  if (value === undefined) return Math.min(EXPLORE_JOBS_MAX, availableParallelism());
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > EXPLORE_JOBS_MAX) throw new UsageError(`--jobs: expected an integer from 1 to ${EXPLORE_JOBS_MAX}, got '${value}'`);
  return n;
}

/** `--shard I/N`: the seeds whose index is I modulo N (0 ≤ I < N). */
export function parseShard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && count <= EXPLORE_SHARDS_MAX && index >= 0 && index < count)) throw new UsageError(`--shard: expected I/N with 0 ≤ I < N ≤ ${EXPLORE_SHARDS_MAX}, got '${value}'`);
  return { index, count };
}

/** The readable summary: one table of counts, then each failing seed with why and how to replay it. */
export function renderExplore(r: ExploreJson): string {
  const failed = r.failures.length + r.failuresOmitted;
  const pct = (k: number) => `${k} (${r.runs === 0 ? '0.0' : ((100 * k) / r.runs).toFixed(1)} %)`;
  const shard = r.shard ? `, shard ${r.shard.index}/${r.shard.count} (${r.runs} seeds)` : '';
  let out = `explore ${r.scenario}, seeds ${r.from}..${r.from + r.seeds - 1}${shard}: ${failed === 0 ? 'OK' : 'NOT OK'}\n\n`;
  out += table(
    ['runs', 'failures', 'both values valid', 'commit', 'abort', 'no decision', 'rounds p50 / p99', 'wall s'],
    [[String(r.runs), String(failed), pct(r.bothValid), String(r.decisions.commit), String(r.decisions.abort), String(r.decisions.none), `${r.rounds.p50} / ${r.rounds.p99}`, (r.elapsedMs / 1000).toFixed(1)]],
  );
  if (failed > 0) {
    out += '\n' + table(['seed', 'violations', 'replay'], r.failures.map((f) => [String(f.seed), f.violations.join(', '), f.replay]));
    if (r.failuresOmitted > 0) out += `… and ${r.failuresOmitted} more failing seeds not listed\n`;
  }
  return out;
}

/** A one-line progress bar redrawn in place with \r; only ever written to a terminal. */
export class ProgressBar {
  private lastDrawMs = -Infinity;
  constructor(
    private readonly write: (s: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  update(done: number, total: number, failures: number): void {
    const t = this.nowMs();
    if (done < total && t - this.lastDrawMs < BAR_REDRAW_MS) return;
    this.lastDrawMs = t;
    const filled = Math.round((BAR_WIDTH * done) / total);
    this.write(`\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} seeds, ${failures} failing`);
  }

  /** Erases the bar so the summary starts on a clean line. */
  clear(): void {
    this.write(`\r${' '.repeat(BAR_WIDTH + 48)}\r`);
  }
}

/** Prints the result (JSON or the summary) and returns the exit code: 0 when no seed failed. */
function report(r: ExploreJson, json: boolean | undefined): number {
  process.stdout.write(json ? JSON.stringify(r) + '\n' : renderExplore(r));
  return r.failures.length + r.failuresOmitted === 0 ? 0 : 1;
}

type ExploreFlags = { seeds?: string; from?: string; jobs?: string; shard?: string; json?: boolean; protocol?: string };

async function runExplore(file: string, opts: ExploreFlags): Promise<number> {
  const seedCount = parseSeedCount(opts.seeds);
  const from = parseSeed(opts.from, '--from') ?? 1;
  if (from > Number.MAX_SAFE_INTEGER - (seedCount - 1)) throw new UsageError(`--from: ${from} + ${seedCount} seeds goes past the largest safe integer`);
  const [jobs, shard, protocol] = [parseJobs(opts.jobs), parseShard(opts.shard), parseProtocol(opts.protocol)];
  const seeds = new ExploreSeeds(from, seedCount, shard);
  const scenario = loadScenarioFile(file);
  const bar = process.stderr.isTTY ? new ProgressBar((s) => process.stderr.write(s)) : null;
  // Ctrl-C stops the sweep between seeds and terminates its worker threads.
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const onProgress = bar ? (d: number, t: number, k: number) => bar.update(d, t, k) : undefined;
    const optional = { ...(shard ? { shard } : {}), ...(protocol === undefined ? {} : { protocol }), ...(onProgress ? { onProgress } : {}) };
    const result = await explore(scenario, { seeds: seedCount, from, jobs, file, signal: stop.signal, ...optional });
    bar?.clear();
    return report(exploreJson(file, seeds, result), opts.json);
  } catch (e) {
    if (!(e instanceof ExploreInterrupted)) throw e;
    bar?.clear();
    process.stderr.write(`tandem: ${e.message}\n`);
    return EXIT_INTERRUPTED;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function runMerge(files: readonly string[], json: boolean | undefined): number {
  const inputs = files.map((name) => {
    try {
      return { name, text: readFileSync(name, 'utf8') };
    } catch (e) {
      throw new UsageError(`cannot read shard output ${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  });
  try {
    return report(mergeExploreJson(inputs), json);
  } catch (e) {
    if (e instanceof ExploreMergeError) throw new UsageError(e.message);
    throw e;
  }
}

export const registerExplore: RegisterCommand = (program: Command, setExit) => {
  const cmd = program
    .command('explore')
    .description("run a scenario at many seeds, each drawing its faults from the scenario's random: block; check every run")
    .argument('<file>', 'scenario file (YAML, format v1)')
    .option('--seeds <n>', 'number of seeds to run (required)')
    .option('--from <s>', 'first seed (default 1)')
    .option('--jobs <j>', 'worker threads (default: one per core); the result is the same for any number')
    .option('--shard <i/n>', 'run only the seeds whose index is i modulo n (merge the shards with `explore merge`)')
    .option('--json', 'print the result as one JSON object')
    .option('--protocol <v>', "run under protocol 1 or 2 whatever the scenario's protocol key says (as simulate --protocol)")
    .action(async (file: string, opts: ExploreFlags) => setExit(await runExplore(file, opts)));
  cmd
    .command('merge')
    .description('combine the --json outputs of every shard of one sweep into the result of the whole sweep')
    .argument('<files...>', 'the shards’ JSON outputs')
    // `--json` is explore's own option: commander gives it to the parent wherever it stands.
    .action((files: string[]) => setExit(runMerge(files, (cmd.opts() as ExploreFlags).json)));
};
