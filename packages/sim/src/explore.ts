/**
 * Seed exploration (issue 4, `tandem explore`): runs one scenario at many seeds, each drawing its
 * faults from the scenario's `random:` block (or sweeping seeds over the fixed scenario without
 * one), checks every run, and counts what a researcher needs to trust the sweep: failures with a
 * replay command, runs in which COMMIT and ABORT were both valid at some point (docs/results.md: safety
 * tests where only one value can ever be valid prove little), decisions, and rounds per decision.
 */
import { valuesEverValid } from './checker.js';
import { MemoVerifier } from '@tandem/node';
import { buildResult, type RunResult } from './result.js';
import type { Scenario } from './scenario.js';
import { type SimOptions, simulate } from './simulator.js';

/** Bound on the seeds of one exploration (a typo of a few zeros must not run for a week). */
export const EXPLORE_SEEDS_MAX = 10_000_000;
/** Failures kept with their details; past it only counted (`failuresOmitted`). */
export const EXPLORE_FAILURES_KEPT_MAX = 1_000;

export interface ExploreFailure {
  readonly seed: number;
  /** The names of the invariants broken (not listed in `expect.violations`), then unmet expectations. */
  readonly violations: string[];
  /** The same failures, each with the checker's detail. */
  readonly details: string[];
  /** The command that replays this run: `tandem simulate FILE --seed S`. */
  readonly replay: string;
}

export interface ExploreResult {
  readonly runs: number;
  /** The first EXPLORE_FAILURES_KEPT_MAX failing seeds, in seed order. */
  readonly failures: ExploreFailure[];
  /** Failing seeds beyond those kept in `failures` (0 unless something is badly broken). */
  readonly failuresOmitted: number;
  /** Runs in which some settlement had both COMMIT and ABORT valid at some point. */
  readonly bothValid: number;
  /** Settlements over all runs, by the decision reached (`none`: no decision). */
  readonly decisions: { readonly commit: number; readonly abort: number; readonly none: number };
  /** Over every decision of every run: the round it was decided in. */
  readonly roundsP50: number;
  readonly roundsP99: number;
  /** [round, decisions in that round], by round: lets separate explorations be merged. */
  readonly roundsHistogram: readonly (readonly [round: number, count: number])[];
  /** Wall time of the whole exploration (not part of any run's history). */
  readonly elapsedMs: number;
}

export interface ExploreOptions {
  readonly seeds: number;
  readonly from: number;
  /** The scenario file as the user named it, for the replay command; default `${name}.yaml`. */
  readonly file?: string;
  /** Called after every run with the number done so far and the failures so far. */
  readonly onProgress?: (done: number, total: number, failures: number) => void;
  /** Passed to every run (e.g. runtime parameters or a broken build under test); not seed/verifier. */
  readonly simOptions?: Omit<SimOptions, 'seed' | 'verifier' | 'onEntry'>;
  /** Wall clock for elapsedMs; performance.now by default (tests may pin it). */
  readonly nowMs?: () => number;
}

/** The replay command of one seed, as explore reports it (the file shell-quoted when it must be). */
export function exploreReplay(file: string, seed: number): string {
  return `tandem simulate ${shellWord(file)} --seed ${seed}`;
}

/** A file name as one POSIX shell word: as is when plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Why a run is not ok: names (for `violations`) and the same with details. */
export function failureReasons(result: RunResult, expectedViolations: readonly string[]): { names: string[]; details: string[] } {
  const names: string[] = [];
  const details: string[] = [];
  for (const i of result.invariants) {
    if (i.ok !== false || expectedViolations.includes(i.name)) continue;
    names.push(i.name);
    details.push(`${i.name}: ${i.detail}`);
  }
  for (const e of result.expectations) {
    if (e.ok) continue;
    names.push(e.what);
    details.push(`${e.what}: ${e.detail}`);
  }
  return { names, details };
}

export async function explore(base: Scenario, options: ExploreOptions): Promise<ExploreResult> {
  const { seeds, from } = options;
  if (!Number.isSafeInteger(seeds) || seeds < 1 || seeds > EXPLORE_SEEDS_MAX) throw new RangeError(`seeds: expected an integer 1..${EXPLORE_SEEDS_MAX}, got ${seeds}`);
  // Compared by subtraction: `from + seeds - 1` itself could round back into the safe range.
  if (!Number.isSafeInteger(from) || from < 0 || from > Number.MAX_SAFE_INTEGER - (seeds - 1)) {
    throw new RangeError(`from: expected a non-negative integer with from + seeds - 1 ≤ ${Number.MAX_SAFE_INTEGER}, got ${from}`);
  }
  const nowMs = options.nowMs ?? (() => performance.now());
  const file = options.file ?? `${base.name}.yaml`;
  const started = nowMs();
  // Signature checks are pure: one memo for every run only saves wall time, it changes no outcome.
  const verifier = new MemoVerifier();
  const failures: ExploreFailure[] = [];
  const decisions = { commit: 0, abort: 0, none: 0 };
  const rounds = new RoundHistogram();
  let bothValid = 0;
  let failuresOmitted = 0;
  for (let seed = from; seed < from + seeds; seed++) {
    // The simulator draws the seed's member of a scenario family (random: block) itself.
    const run = await simulate(base, { ...options.simOptions, seed, verifier });
    const result = buildResult(run);
    if (run.settlements.some((s) => valuesEverValid(run, s).size === 2)) bothValid++;
    for (const s of result.settlements) {
      decisions[s.decision ?? 'none']++;
      if (s.round !== undefined) rounds.add(s.round);
    }
    if (!result.ok && failures.length >= EXPLORE_FAILURES_KEPT_MAX) failuresOmitted++;
    else if (!result.ok) {
      const { names, details } = failureReasons(result, run.scenario.expect.violations);
      failures.push({ seed, violations: names, details, replay: exploreReplay(file, seed) });
    }
    options.onProgress?.(seed - from + 1, seeds, failures.length + failuresOmitted);
  }
  return {
    runs: seeds,
    failures,
    failuresOmitted,
    bothValid,
    decisions,
    roundsP50: rounds.percentile(50),
    roundsP99: rounds.percentile(99),
    roundsHistogram: rounds.entries(),
    elapsedMs: Math.round(nowMs() - started),
  };
}

/**
 * Rounds of decisions as counts per round: memory bounded by the highest round, not by the number
 * of decisions. Percentiles follow result.ts's `percentile` (nearest rank).
 */
export class RoundHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;

  add(round: number, count = 1): void {
    if (!Number.isSafeInteger(round) || round < 0 || !Number.isSafeInteger(count) || count < 1) throw new RangeError(`bad round ${round} × ${count}`);
    this.counts.set(round, (this.counts.get(round) ?? 0) + count);
    this.total += count;
  }

  entries(): [round: number, count: number][] {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** The nearest-rank percentile; 0 when empty (as `percentile([])`). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(0, Math.min(this.total - 1, Math.ceil((p / 100) * this.total) - 1));
    let seen = 0;
    for (const round of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(round)!;
      if (seen > rank) return round;
    }
    throw new Error('unreachable: rank beyond the total');
  }
}
