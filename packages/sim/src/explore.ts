/**
 * Seed exploration (issue 4, `tandem explore`): runs one scenario at many seeds, each drawing its
 * faults from the scenario's `random:` block (or sweeping seeds over the fixed scenario without
 * one), checks every run, and counts what a researcher needs to trust the sweep: failures with a
 * replay command, runs in which COMMIT and ABORT were both valid at some point (docs/results.md: safety
 * tests where only one value can ever be valid prove little), decisions, and rounds per decision.
 *
 * A sweep runs in this thread or on worker threads (`jobs`), and may be one shard of a sweep
 * spread over machines (`shard`; explore-json.ts merges the shards' outputs). Neither changes any
 * count: see explore-tally.ts.
 */
import { MemoVerifier } from '@tandem/node';
import { assert } from '@tandem/protocol';
import { exploreChunk, ExploreInterrupted, type ExploreJob } from './explore-run.js';
import { type ExploreResult, ExploreSeeds, type ExploreShard, ExploreTally } from './explore-tally.js';
import { EXPLORE_JOBS_MAX, exploreOnThreads } from './explore-workers.js';
import type { Scenario } from './scenario.js';
import { underProtocol } from './scenario-v2.js';
import type { SimOptions } from './simulator.js';

export * from './explore-json.js';
export { exploreReplay, ExploreInterrupted, failureReasons } from './explore-run.js';
export * from './explore-tally.js';
export { EXPLORE_JOBS_MAX } from './explore-workers.js';

export interface ExploreOptions {
  /** The seeds of the whole sweep: from..from+seeds−1 (a shard runs only its share of them). */
  readonly seeds: number;
  readonly from: number;
  /** Run only the seeds whose index (seed − from) is `index` modulo `count`; default all. */
  readonly shard?: ExploreShard;
  /** Worker threads; 1 (the default) runs every seed in this thread. */
  readonly jobs?: number;
  /** The scenario file as the user named it, for the replay command; default `${name}.yaml`. */
  readonly file?: string;
  /** Called after every run with the number done so far and the failures so far. */
  readonly onProgress?: (done: number, total: number, failures: number) => void;
  /** Run under this protocol whatever the scenario's `protocol` key says (as `simulate --protocol`); replays say it too. */
  readonly protocol?: 1 | 2;
  /** Passed to every run (e.g. runtime parameters or a broken build under test); not seed/verifier. Data only when jobs > 1. */
  readonly simOptions?: Omit<SimOptions, 'seed' | 'verifier' | 'onEntry'>;
  /** Stops the sweep between seeds (and terminates its threads); it then rejects with ExploreInterrupted. */
  readonly signal?: AbortSignal;
  /** Wall clock for elapsedMs; performance.now by default (tests may pin it). */
  readonly nowMs?: () => number;
}

export async function explore(base: Scenario, options: ExploreOptions): Promise<ExploreResult> {
  const seeds = new ExploreSeeds(options.from, options.seeds, options.shard);
  const jobs = options.jobs ?? 1;
  if (!Number.isSafeInteger(jobs) || jobs < 1 || jobs > EXPLORE_JOBS_MAX) throw new RangeError(`jobs: expected an integer 1..${EXPLORE_JOBS_MAX}, got ${jobs}`);
  const nowMs = options.nowMs ?? (() => performance.now());
  const scenario = options.protocol === undefined ? base : underProtocol(base, options.protocol);
  const job: ExploreJob = {
    scenario,
    file: options.file ?? `${base.name}.yaml`,
    ...(options.simOptions ? { simOptions: options.simOptions } : {}),
    ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
  };
  const started = nowMs();
  let done = 0;
  let failed = 0;
  const afterSeed = (f: boolean) => {
    done++;
    if (f) failed++;
    options.onProgress?.(done, seeds.runs, failed);
  };
  let counts: ExploreResult;
  if (jobs > 1 && seeds.runs > 1) {
    counts = await exploreOnThreads(job, seeds, jobs, { onSeed: afterSeed, ...(options.signal ? { signal: options.signal } : {}) });
  } else {
    const tally = new ExploreTally();
    // Signature checks are pure: one memo for every run only saves wall time, it changes no outcome.
    const hooks = { verifier: new MemoVerifier(), afterSeed, stop: () => options.signal?.aborted === true };
    await exploreChunk(job, seeds, { first: 0, count: seeds.runs }, tally, hooks);
    if (done < seeds.runs) throw new ExploreInterrupted(done, seeds.runs);
    counts = tally.result(0);
  }
  assert(counts.runs === seeds.runs && done === seeds.runs, `explore: ${counts.runs} runs counted, ${done} reported, of ${seeds.runs} seeds`);
  return { ...counts, elapsedMs: Math.round(nowMs() - started) };
}
