/**
 * One seed of an exploration, and a run of seeds in this thread: what both the sequential
 * `explore` and each worker thread of a parallel one do, so the two cannot drift apart.
 */
import { MemoVerifier } from '@tandem/node';
import { valuesEverValid } from './checker.js';
import { ExploreSeeds, ExploreTally, type SeedOutcome } from './explore-tally.js';
import { buildResult, type RunResult } from './result.js';
import type { Scenario } from './scenario.js';
import { type SimOptions, simulate } from './simulator.js';

/** What every run of one exploration shares: data only, so a worker thread can be handed a copy. */
export interface ExploreJob {
  readonly scenario: Scenario;
  /** The scenario file as the user named it, for the replay command. */
  readonly file: string;
  /** Passed to every run (e.g. runtime parameters); not seed/verifier/onEntry. */
  readonly simOptions?: Omit<SimOptions, 'seed' | 'verifier' | 'onEntry'>;
  /** The protocol the sweep forced over the scenario's own key, if any: the replay says it too. */
  readonly protocol?: 1 | 2;
}

/** A sweep stopped before its end (Ctrl-C): how far it got. */
export class ExploreInterrupted extends Error {
  constructor(
    readonly done: number,
    readonly total: number,
  ) {
    super(`explore interrupted after ${done} of ${total} seeds`);
    this.name = 'ExploreInterrupted';
  }
}

/** The replay command of one seed, as explore reports it (the file shell-quoted when it must be). */
export function exploreReplay(file: string, seed: number, protocol?: 1 | 2): string {
  return `tandem simulate ${shellWord(file)} --seed ${seed}${protocol === undefined ? '' : ` --protocol ${protocol}`}`;
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

/** Runs and checks one seed. The verifier is only a memo of pure checks: sharing it changes no outcome. */
export async function exploreSeed(job: ExploreJob, seed: number, verifier: MemoVerifier): Promise<SeedOutcome> {
  // The simulator draws the seed's member of a scenario family (random: block) itself.
  const run = await simulate(job.scenario, { ...job.simOptions, seed, verifier });
  const result = buildResult(run);
  let failure = null;
  if (!result.ok) {
    const { names, details } = failureReasons(result, run.scenario.expect.violations);
    failure = { seed, violations: names, details, replay: exploreReplay(job.file, seed, job.protocol) };
  }
  return {
    bothValid: run.settlements.some((s) => valuesEverValid(run, s).size === 2),
    decisions: result.settlements.map((s) => s.decision ?? null),
    rounds: result.settlements.flatMap((s) => (s.round === undefined ? [] : [s.round])),
    failure,
  };
}

/** A contiguous piece of a selection: its seeds k = first..first+count−1 (ExploreSeeds.seedAt). */
export interface ExploreChunk {
  readonly first: number;
  readonly count: number;
}

/**
 * Runs a chunk's seeds in order in this thread, adding each to `tally`; `afterSeed` is called
 * after every seed (progress), and `stop` before each (an interrupted sweep ends between seeds).
 */
export async function exploreChunk(
  job: ExploreJob,
  seeds: ExploreSeeds,
  chunk: ExploreChunk,
  tally: ExploreTally,
  hooks: { readonly verifier: MemoVerifier; readonly afterSeed?: (failed: boolean) => void; readonly stop?: () => boolean },
): Promise<void> {
  for (let k = chunk.first; k < chunk.first + chunk.count; k++) {
    if (hooks.stop?.()) return;
    const outcome = await exploreSeed(job, seeds.seedAt(k), hooks.verifier);
    tally.addSeed(outcome);
    hooks.afterSeed?.(outcome.failure !== null);
  }
}
