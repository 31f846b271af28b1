import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXPLORE_FAILURES_KEPT_MAX,
  ExploreInterrupted,
  ExploreMergeError,
  type ExploreFailure,
  type ExploreResult,
  ExploreSeeds,
  ExploreTally,
  explore,
  exploreJson,
  mergeExploreJson,
  type Scenario,
} from '../src/index.js';
import { exploreChunks, threadExecArgv } from '../src/explore-workers.js';
import { loadScenario } from './support.js';

/**
 * `explore --jobs` and `--shard` change where seeds run, never what they count. Worker threads
 * run the built JS (dist/), so these tests need `pnpm build` first, as the CLI's do.
 */

// Either decision is fine for the library file; demanding COMMIT makes every aborting seed (most
// of them) fail, so there are failures whose order the comparisons below can get wrong.
const lockRace = loadScenario('explore-lock-race.yaml');
const scenario: Scenario = { ...lockRace, expect: { ...lockRace.expect, outcomes: { s1: 'commit' } } };
const SEEDS = 8;
const FROM = 7;
const noClock = { file: 'x.yaml', nowMs: () => 0 };

let sequential: ExploreResult;
beforeAll(async () => {
  sequential = await explore(scenario, { seeds: SEEDS, from: FROM, jobs: 1, ...noClock });
}, 60_000);

describe('explore on worker threads', () => {
  it('the sequential sweep has failures to order (else the comparisons below prove little)', () => {
    expect(sequential.runs).toBe(SEEDS);
    expect(sequential.failures.length).toBeGreaterThan(1);
    expect(sequential.failures.length).toBeLessThan(SEEDS);
  });

  it('--jobs 2 gives the same result as --jobs 1: counts, rounds, failures in seed order', async () => {
    const progress: [number, number, number][] = [];
    const parallel = await explore(scenario, { seeds: SEEDS, from: FROM, jobs: 2, ...noClock, onProgress: (d, t, k) => progress.push([d, t, k]) });
    expect(parallel).toEqual(sequential);
    expect(progress.map(([d]) => d)).toEqual(Array.from({ length: SEEDS }, (_, i) => i + 1));
    expect(progress.every(([, t]) => t === SEEDS)).toBe(true);
    expect(progress.at(-1)![2]).toBe(sequential.failures.length);
  }, 60_000);

  it('an aborted sweep rejects with ExploreInterrupted once its threads are terminated', async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    const run = explore(scenario, {
      seeds: 1_000,
      from: 1,
      jobs: 2,
      signal: stop.signal,
      onProgress: (d) => {
        seen.push(d);
        if (d === 1) stop.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(ExploreInterrupted);
    const atAbort = seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(atAbort); // no thread reports after the abort
    expect(atAbort).toBeLessThan(20);
  }, 60_000);

  it('an aborted sequential sweep stops between seeds', async () => {
    const stop = new AbortController();
    const run = explore(scenario, { seeds: 1_000, from: 1, signal: stop.signal, onProgress: (d) => d === 1 && stop.abort() });
    await expect(run).rejects.toThrow('explore interrupted after 1 of 1000 seeds');
  }, 60_000);

  it("threads keep the parent's Node flags but not its export conditions", () => {
    expect(threadExecArgv(['--conditions', 'source', '--max-old-space-size=512', '-C', 'development', '--conditions=x', '--require', 'a.cjs'])).toEqual(['--max-old-space-size=512', '--require', 'a.cjs']);
  });

  it('chunks cover every seed index once, in order', () => {
    for (const [runs, jobs] of [[1, 2], [20, 2], [1_000, 3], [100_000, 8]] as const) {
      const chunks = exploreChunks(runs, jobs);
      expect(chunks[0]!.first).toBe(0);
      for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.first).toBe(chunks[i - 1]!.first + chunks[i - 1]!.count);
      expect(chunks.at(-1)!.first + chunks.at(-1)!.count).toBe(runs);
      expect(chunks.every((c) => c.count >= 1 && c.count <= 64)).toBe(true);
    }
  });
});

describe('explore --shard and merge', () => {
  it('shards 0/2 and 1/2, merged, equal the unsharded sweep', async () => {
    const shards = await Promise.all(
      [0, 1].map(async (index) => {
        const shard = { index, count: 2 };
        const r = await explore(scenario, { seeds: SEEDS, from: FROM, shard, ...noClock });
        expect(r.runs).toBe(SEEDS / 2);
        return JSON.stringify(exploreJson('x.yaml', new ExploreSeeds(FROM, SEEDS, shard), r));
      }),
    );
    const whole = exploreJson('x.yaml', new ExploreSeeds(FROM, SEEDS), sequential);
    // Given in either order.
    expect(mergeExploreJson([{ name: 'b.json', text: shards[1]! }, { name: 'a.json', text: shards[0]! }])).toEqual(whole);
    expect(JSON.parse(shards[0]!).shard).toEqual({ index: 0, count: 2 });
    expect('shard' in whole).toBe(false);
  }, 60_000);

  it('shards partition the sweep: every seed in exactly one shard (property)', () => {
    fc.assert(
      fc.property(fc.nat(1_000), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 9 }), (from, seeds, count) => {
        const all: number[] = [];
        for (let index = 0; index < count; index++) {
          const s = new ExploreSeeds(from, seeds, { index, count });
          for (let k = 0; k < s.runs; k++) {
            expect((s.seedAt(k) - from) % count).toBe(index);
            all.push(s.seedAt(k));
          }
        }
        expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: seeds }, (_, i) => from + i));
      }),
    );
  });

  it('parts added in any order keep the first failures by seed and count the rest, as one sequential tally', () => {
    // More failures than are kept, so the cut matters: every seed fails, seeds 1..2,500, three shards.
    const seeds = new ExploreSeeds(1, 2_500);
    const outcome = (seed: number) => ({ bothValid: seed % 3 === 0, decisions: ['abort' as const], rounds: [seed % 4], failure: fail(seed) });
    const one = new ExploreTally();
    for (let k = 0; k < seeds.runs; k++) one.addSeed(outcome(seeds.seedAt(k)));
    const parts = [0, 1, 2].map((index) => {
      const shard = new ExploreSeeds(1, 2_500, { index, count: 3 });
      const t = new ExploreTally();
      for (let k = 0; k < shard.runs; k++) t.addSeed(outcome(shard.seedAt(k)));
      return t.result(0);
    });
    const merged = new ExploreTally();
    for (const p of [parts[2]!, parts[0]!, parts[1]!]) merged.addPart(p);
    const expected = one.result(0);
    expect(expected.failures.length).toBe(EXPLORE_FAILURES_KEPT_MAX);
    expect(expected.failures.at(-1)!.seed).toBe(EXPLORE_FAILURES_KEPT_MAX);
    expect(expected.failuresOmitted).toBe(2_500 - EXPLORE_FAILURES_KEPT_MAX);
    expect(merged.result(0)).toEqual(expected);
  });

  it('refuses an incomplete or mixed set of shards, naming the input and the key', () => {
    const shard = (index: number, count: number, over: object = {}) => {
      const s = new ExploreSeeds(1, 10, { index, count });
      const r = { runs: s.runs, failures: [], failuresOmitted: 0, bothValid: 0, decisions: { commit: s.runs, abort: 0, none: 0 }, roundsP50: 0, roundsP99: 0, roundsHistogram: [[0, s.runs] as const], elapsedMs: 5 };
      return JSON.stringify({ ...exploreJson('x.yaml', s, r), ...over });
    };
    const merge = (...texts: string[]) => () => mergeExploreJson(texts.map((text, i) => ({ name: `s${i}.json`, text })));
    expect(merge(shard(0, 3), shard(2, 3))).toThrow('merge: shard 1/3 missing');
    expect(merge(shard(0, 2), shard(0, 2))).toThrow('s1.json: shard 0/2 is also s0.json');
    expect(merge(shard(0, 2), shard(1, 3))).toThrow('s1.json: shard count is 3, but s0.json has 2');
    expect(merge(shard(0, 2), shard(1, 2, { scenario: 'y.yaml' }))).toThrow('s1.json: scenario is "y.yaml", but s0.json has "x.yaml"');
    expect(merge(shard(0, 2), shard(1, 2, { runs: 4 }))).toThrow('s1.json: runs: 4, but the shard has 5 seeds');
    expect(merge(shard(0, 1, { bothValid: -1 }))).toThrow('s0.json: bothValid: expected a non-negative integer, got -1');
    expect(merge('{"runs": 1')).toThrow(/^s0\.json: not JSON/);
    expect(merge()).toThrow(ExploreMergeError);
    expect(mergeExploreJson([{ name: 'a', text: shard(0, 2) }, { name: 'b', text: shard(1, 2, { elapsedMs: 9 }) }]).elapsedMs).toBe(9);
  });

  it('refuses a bad shard, or jobs', async () => {
    expect(() => new ExploreSeeds(1, 10, { index: 2, count: 2 })).toThrow(RangeError);
    expect(() => new ExploreSeeds(1, 10, { index: 0, count: 0 })).toThrow(RangeError);
    await expect(explore(scenario, { seeds: 2, from: 1, jobs: 0 })).rejects.toThrow('jobs: expected an integer');
    await expect(explore(scenario, { seeds: 2, from: 1, jobs: 1.5 })).rejects.toThrow(RangeError);
  });
});

function fail(seed: number): ExploreFailure {
  return { seed, violations: ['outcome of s1'], details: [`outcome of s1: seed ${seed}`], replay: `tandem simulate x.yaml --seed ${seed}` };
}
