/**
 * A parallel exploration: the selection's seeds cut into small chunks handed to worker threads as
 * they become free (a slow seed does not hold up a fixed share of the sweep), each chunk's counts
 * added as it comes back. Every seed's run depends only on the scenario and the seed, and the tally
 * adds parts in any order to the sequential result (explore-tally.ts), so any number of jobs gives
 * the same result as one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ExploreChunk, ExploreInterrupted, type ExploreJob } from './explore-run.js';
import { type ExploreResult, type ExploreSeeds, ExploreTally } from './explore-tally.js';

/** Bound on worker threads (each holds its own copy of the simulator). */
export const EXPLORE_JOBS_MAX = 256;
/** Chunks per job: enough that jobs finish close together, few enough that messages cost nothing. */
const CHUNKS_PER_JOB = 8;
/** Bound on one chunk's seeds, so progress and load balance stay fine-grained on long sweeps. */
const CHUNK_SEEDS_MAX = 64;

// Both src/ (tests) and dist/ sit one level below the package: a thread always runs the built JS.
const THREAD_ENTRY = fileURLToPath(new URL('../dist/explore-thread.js', import.meta.url));

/**
 * The parent's Node flags without its export conditions: a thread runs the built JS, whose imports
 * must resolve to the packages' dist/ even under a test runner that resolves `source` (.ts).
 */
export function threadExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '--conditions' || a === '-C') i++; // and its value
    else if (!a.startsWith('--conditions=')) out.push(a);
  }
  return out;
}

/** What a thread is started with (structured-cloned). */
export interface ExploreThreadData {
  readonly job: ExploreJob;
  readonly seeds: { readonly from: number; readonly seeds: number; readonly shard: { readonly index: number; readonly count: number } };
}

/** Messages between the pool and a thread. */
export type ToThread = { readonly chunk: ExploreChunk };
export type FromThread = { readonly kind: 'seed'; readonly failed: boolean } | { readonly kind: 'chunk'; readonly result: ExploreResult };

export interface PoolHooks {
  readonly onSeed: (failed: boolean) => void;
  readonly signal?: AbortSignal;
}

/** The selection's seeds cut into contiguous chunks, in order. */
export function exploreChunks(runs: number, jobs: number): ExploreChunk[] {
  const size = Math.max(1, Math.min(CHUNK_SEEDS_MAX, Math.ceil(runs / (jobs * CHUNKS_PER_JOB))));
  const out: ExploreChunk[] = [];
  for (let first = 0; first < runs; first += size) out.push({ first, count: Math.min(size, runs - first) });
  return out;
}

/** Runs every seed of `seeds` on `jobs` worker threads; resolves with the summed counts (elapsedMs 0). */
export function exploreOnThreads(job: ExploreJob, seeds: ExploreSeeds, jobs: number, hooks: PoolHooks): Promise<ExploreResult> {
  if (!Number.isSafeInteger(jobs) || jobs < 2 || jobs > EXPLORE_JOBS_MAX) throw new RangeError(`jobs: expected an integer 2..${EXPLORE_JOBS_MAX}, got ${jobs}`);
  if (!existsSync(THREAD_ENTRY)) throw new Error(`explore: the worker thread entry ${THREAD_ENTRY} is missing (run pnpm build)`);
  const chunks = exploreChunks(seeds.runs, jobs);
  const data: ExploreThreadData = { job, seeds: { from: seeds.from, seeds: seeds.seeds, shard: seeds.shard } };
  const tally = new ExploreTally();
  const workers: Worker[] = [];
  let next = 0;
  let finished = 0;
  let seedsDone = 0;
  return new Promise<ExploreResult>((resolve, reject) => {
    let settled = false;
    const end = (error: Error | null) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      // Settles once every thread is gone: nothing of the sweep outlives its promise.
      void Promise.allSettled(workers.map((w) => w.terminate())).then(() => (error ? reject(error) : resolve(tally.result(0))));
    };
    const onAbort = () => end(new ExploreInterrupted(seedsDone, seeds.runs));
    if (hooks.signal?.aborted) return onAbort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const feed = (w: Worker) => {
      if (next < chunks.length) w.postMessage({ chunk: chunks[next++]! } satisfies ToThread);
    };
    for (let i = 0; i < Math.min(jobs, chunks.length); i++) {
      const w = new Worker(THREAD_ENTRY, { workerData: data, execArgv: threadExecArgv(process.execArgv) });
      workers.push(w);
      w.on('message', (m: FromThread) => {
        if (settled) return;
        if (m.kind === 'seed') {
          seedsDone++;
          hooks.onSeed(m.failed);
          return;
        }
        tally.addPart(m.result);
        if (++finished === chunks.length) end(null);
        else feed(w);
      });
      w.on('error', (e) => end(new Error(`explore worker thread failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!settled) end(new Error(`explore worker thread exited with code ${code} before the sweep ended`));
      });
      feed(w);
    }
    if (chunks.length === 0) end(null);
  });
}
