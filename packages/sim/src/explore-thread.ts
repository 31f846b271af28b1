/**
 * The entry of one worker thread of a parallel exploration (explore-workers.ts): runs the chunks
 * it is sent in this thread and posts a message after every seed (progress) and every chunk (its
 * counts). It ends when the pool terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemoVerifier } from '@tandem/node';
import { exploreChunk } from './explore-run.js';
import { ExploreSeeds, ExploreTally } from './explore-tally.js';
import type { ExploreThreadData, FromThread, ToThread } from './explore-workers.js';

const port = parentPort;
if (port === null) throw new Error('explore-thread.js runs only as a worker thread');
const { job, seeds: s } = workerData as ExploreThreadData;
const seeds = new ExploreSeeds(s.from, s.seeds, s.shard);
// One memo per thread, as one per sequential sweep: pure checks, shared only to save time.
const verifier = new MemoVerifier();

port.on('message', (m: ToThread) => {
  void (async () => {
    const tally = new ExploreTally();
    await exploreChunk(job, seeds, m.chunk, tally, { verifier, afterSeed: (failed) => port.postMessage({ kind: 'seed', failed } satisfies FromThread) });
    port.postMessage({ kind: 'chunk', result: tally.result(0) } satisfies FromThread);
  })().catch((e: unknown) => {
    // Rethrown outside the promise so the thread dies with an 'error' event the pool reports.
    setImmediate(() => {
      throw e;
    });
  });
});
