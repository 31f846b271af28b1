import type { Command } from 'commander';
import { EXPLORE_SEEDS_MAX, type ExploreResult, explore } from '@tandem/sim';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from '../command.js';
import { table } from '../render.js';
import { loadScenarioFile, parseSeed } from '../options.js';

/** Width of the progress bar in characters. */
const BAR_WIDTH = 30;
/** Redraw at most this often: a bar redrawn every run would cost more than some runs. */
const BAR_REDRAW_MS = 100;

export function parseSeedCount(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > EXPLORE_SEEDS_MAX) throw new UsageError(`--seeds: expected an integer from 1 to ${EXPLORE_SEEDS_MAX}, got '${value}'`);
  return n;
}

/** The JSON object of issue 4: runs, failures (seed, violations, replay), bothValid, elapsedMs, plus extras. */
export function exploreJson(file: string, seeds: { from: number }, r: ExploreResult): object {
  return {
    runs: r.runs,
    failures: r.failures.map((f) => ({ seed: f.seed, violations: f.violations, replay: f.replay, details: f.details })),
    bothValid: r.bothValid,
    elapsedMs: r.elapsedMs,
    scenario: file,
    from: seeds.from,
    failuresOmitted: r.failuresOmitted,
    decisions: r.decisions,
    rounds: { p50: r.roundsP50, p99: r.roundsP99 },
  };
}

/** The readable summary: one table of counts, then each failing seed with why and how to replay it. */
export function renderExplore(file: string, from: number, r: ExploreResult): string {
  const failed = r.failures.length + r.failuresOmitted;
  const pct = (k: number) => `${k} (${((100 * k) / r.runs).toFixed(1)} %)`;
  let out = `explore ${file}, seeds ${from}..${from + r.runs - 1}: ${failed === 0 ? 'OK' : 'NOT OK'}\n\n`;
  out += table(
    ['runs', 'failures', 'both values valid', 'commit', 'abort', 'no decision', 'rounds p50 / p99', 'wall s'],
    [[String(r.runs), String(failed), pct(r.bothValid), String(r.decisions.commit), String(r.decisions.abort), String(r.decisions.none), `${r.roundsP50} / ${r.roundsP99}`, (r.elapsedMs / 1000).toFixed(1)]],
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

export const registerExplore: RegisterCommand = (program: Command, setExit) => {
  program
    .command('explore')
    .description("run a scenario at many seeds, each drawing its faults from the scenario's random: block; check every run")
    .argument('<file>', 'scenario file (YAML, format v1)')
    .requiredOption('--seeds <n>', 'number of seeds to run')
    .option('--from <s>', 'first seed (default 1)')
    .option('--json', 'print the result as one JSON object')
    .action(async (file: string, opts: { seeds: string; from?: string; json?: boolean }) => {
      const seeds = parseSeedCount(opts.seeds);
      const from = parseSeed(opts.from, '--from') ?? 1;
      if (from > Number.MAX_SAFE_INTEGER - (seeds - 1)) throw new UsageError(`--from: ${from} + ${seeds} seeds goes past the largest safe integer`);
      const scenario = loadScenarioFile(file);
      const bar = process.stderr.isTTY ? new ProgressBar((s) => process.stderr.write(s)) : null;
      const result = await explore(scenario, { seeds, from, file, ...(bar ? { onProgress: (d: number, t: number, k: number) => bar.update(d, t, k) } : {}) });
      bar?.clear();
      if (opts.json) process.stdout.write(JSON.stringify(exploreJson(file, { from }, result)) + '\n');
      else process.stdout.write(renderExplore(file, from, result));
      setExit(result.failures.length + result.failuresOmitted === 0 ? 0 : 1);
    });
};
