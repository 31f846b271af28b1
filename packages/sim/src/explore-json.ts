/**
 * The JSON form of an exploration (`tandem explore --json`) and the merge of a sharded sweep's
 * outputs (`tandem explore merge`): shards run on different machines each print one object with
 * their `shard`; merging every shard of one sweep gives the object an unsharded run prints, except
 * `elapsedMs`, which becomes the longest shard's (the wall time when the shards run side by side).
 */
import { type ExploreFailure, type ExploreResult, ExploreSeeds, ExploreTally } from './explore-tally.js';

/** The object `tandem explore --json` prints (issue 4's keys first, then the extras). */
export interface ExploreJson {
  readonly runs: number;
  readonly failures: readonly { readonly seed: number; readonly violations: string[]; readonly replay: string; readonly details: string[] }[];
  readonly bothValid: number;
  readonly elapsedMs: number;
  readonly scenario: string;
  readonly from: number;
  /** Seeds of the whole sweep (a shard runs `runs` of them). */
  readonly seeds: number;
  /** Present on one shard's output only. */
  readonly shard?: { readonly index: number; readonly count: number };
  readonly failuresOmitted: number;
  readonly decisions: { readonly commit: number; readonly abort: number; readonly none: number };
  readonly rounds: { readonly p50: number; readonly p99: number };
  readonly roundsHistogram: readonly (readonly [number, number])[];
}

/** Bad shard output given to merge: the message names the input and the key. */
export class ExploreMergeError extends Error {
  override readonly name = 'ExploreMergeError';
}

export function exploreJson(file: string, seeds: ExploreSeeds, r: ExploreResult): ExploreJson {
  return {
    runs: r.runs,
    failures: r.failures.map((f) => ({ seed: f.seed, violations: f.violations, replay: f.replay, details: f.details })),
    bothValid: r.bothValid,
    elapsedMs: r.elapsedMs,
    scenario: file,
    from: seeds.from,
    seeds: seeds.seeds,
    ...(seeds.shard.count > 1 ? { shard: { index: seeds.shard.index, count: seeds.shard.count } } : {}),
    failuresOmitted: r.failuresOmitted,
    decisions: r.decisions,
    rounds: { p50: r.roundsP50, p99: r.roundsP99 },
    roundsHistogram: r.roundsHistogram,
  };
}

/** Merges every shard of one sweep, each given as its name (for messages) and its JSON text. */
export function mergeExploreJson(inputs: readonly { readonly name: string; readonly text: string }[]): ExploreJson {
  if (inputs.length === 0) throw new ExploreMergeError('merge: no shard outputs given');
  const parts = inputs.map(({ name, text }) => readShard(name, text));
  const first = parts[0]!;
  const count = first.json.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const { name, json } of parts) {
    for (const key of ['scenario', 'from', 'seeds'] as const) {
      if (json[key] !== first.json[key]) throw new ExploreMergeError(`${name}: ${key} is ${JSON.stringify(json[key])}, but ${first.name} has ${JSON.stringify(first.json[key])}`);
    }
    const shard = json.shard ?? { index: 0, count: 1 };
    if (shard.count !== count) throw new ExploreMergeError(`${name}: shard count is ${shard.count}, but ${first.name} has ${count}`);
    const twin = seen.get(shard.index);
    if (twin !== undefined) throw new ExploreMergeError(`${name}: shard ${shard.index}/${count} is also ${twin}`);
    seen.set(shard.index, name);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new ExploreMergeError(`merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);
  const tally = new ExploreTally();
  for (const p of parts) tally.addPart(p.result);
  const elapsedMs = Math.max(...parts.map((p) => p.json.elapsedMs));
  return exploreJson(first.json.scenario, new ExploreSeeds(first.json.from, first.json.seeds), tally.result(elapsedMs));
}

/** One shard's output, checked key by key, and its counts as a result to add. */
function readShard(name: string, text: string): { name: string; json: ExploreJson; result: ExploreResult } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ExploreMergeError(`${name}: not JSON (${(e as Error).message})`);
  }
  const at = (path: string) => `${name}: ${path}`;
  const obj = (v: unknown, path: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ExploreMergeError(`${at(path)}: expected an object`);
    return v as Record<string, unknown>;
  };
  const count = (v: unknown, path: string): number => {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new ExploreMergeError(`${at(path)}: expected a non-negative integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const list = (v: unknown, path: string): unknown[] => {
    if (!Array.isArray(v)) throw new ExploreMergeError(`${at(path)}: expected an array`);
    return v;
  };
  const strings = (v: unknown, path: string): string[] =>
    list(v, path).map((s, i) => {
      if (typeof s !== 'string') throw new ExploreMergeError(`${at(`${path}[${i}]`)}: expected a string`);
      return s;
    });
  const o = obj(raw, '(top)');
  if (typeof o.scenario !== 'string') throw new ExploreMergeError(`${at('scenario')}: expected a string`);
  const shardObj = o.shard === undefined ? undefined : obj(o.shard, 'shard');
  const shard = shardObj ? { index: count(shardObj.index, 'shard.index'), count: count(shardObj.count, 'shard.count') } : undefined;
  let seeds: ExploreSeeds;
  try {
    seeds = new ExploreSeeds(count(o.from, 'from'), count(o.seeds, 'seeds'), shard);
  } catch (e) {
    if (e instanceof RangeError) throw new ExploreMergeError(`${name}: ${e.message}`);
    throw e;
  }
  const runs = count(o.runs, 'runs');
  if (runs !== seeds.runs) throw new ExploreMergeError(`${at('runs')}: ${runs}, but the shard has ${seeds.runs} seeds (an interrupted or edited run?)`);
  const d = obj(o.decisions, 'decisions');
  const decisions = { commit: count(d.commit, 'decisions.commit'), abort: count(d.abort, 'decisions.abort'), none: count(d.none, 'decisions.none') };
  const roundsHistogram = list(o.roundsHistogram, 'roundsHistogram').map((e, i): [number, number] => {
    const pair = list(e, `roundsHistogram[${i}]`);
    return [count(pair[0], `roundsHistogram[${i}][0]`), count(pair[1], `roundsHistogram[${i}][1]`)];
  });
  const failures = list(o.failures, 'failures').map((f, i): ExploreFailure => {
    const x = obj(f, `failures[${i}]`);
    if (typeof x.replay !== 'string') throw new ExploreMergeError(`${at(`failures[${i}].replay`)}: expected a string`);
    return { seed: count(x.seed, `failures[${i}].seed`), violations: strings(x.violations, `failures[${i}].violations`), details: strings(x.details, `failures[${i}].details`), replay: x.replay };
  });
  const result: ExploreResult = {
    runs,
    failures,
    failuresOmitted: count(o.failuresOmitted, 'failuresOmitted'),
    bothValid: count(o.bothValid, 'bothValid'),
    decisions,
    roundsP50: 0,
    roundsP99: 0,
    roundsHistogram,
    elapsedMs: count(o.elapsedMs, 'elapsedMs'),
  };
  return { name, json: exploreJson(o.scenario, seeds, result), result };
}
