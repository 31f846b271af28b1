/**
 * The scenario's `random:` block (for `tandem explore`). Only ranges are read here; random.ts
 * draws from them.
 *
 * What is checked, so that every seed draws a scenario the loader would accept as written:
 * - every range is `[lo, hi]` with lo ≤ hi, read as the fixed key of the same name would be;
 * - crash (isolate, byzantine) candidates are not named by fixed faults of the same kind, so a
 *   drawn window can never overlap a fixed one of the same node, and drawn nodes are distinct;
 * - latency: the drawn max is drawn at or above the drawn min, which needs min.hi ≤ max.hi;
 * - at most f nodes faulty in all (fixed faults plus the most crashes, isolations and Byzantine
 *   members that can be drawn), unless allowBeyondF: true — beyond f no liveness is promised;
 *   drawn loss windows (drop) make no node faulty and are not counted;
 * - a drawn loss rate is in (0, 1), as a fixed drop fault's must be;
 * - every drawn fault ends by SCENARIO_TIME_MAX_MS.
 */
import { formatDurationMs } from './duration.js';
import {
  type ScenarioByzantineBehaviour,
  type Fault,
  type LegWeights,
  type NetworkSpec,
  type NodeIndex,
  type RandomSpec,
  type Range,
  type ScenarioSettlement,
  BYZANTINE_BEHAVIOURS,
  BYZANTINE_BEHAVIOURS_V2,
  RANDOM_PARTITIONS_MAX,
  RANDOM_WEIGHT_MAX,
  SCENARIO_SETTLEMENTS_MAX,
  SCENARIO_TIME_MAX_MS,
} from './scenario.js';
import {
  type Cx,
  LATENCY_KEYS,
  boolean,
  closedProbability,
  describe,
  duration,
  integerNumber,
  list,
  mapping,
  nodeName,
  oneOf,
  oneOfText,
  probability,
  quote,
  required,
} from './scenario-yaml.js';

const RANDOM_KEYS = ['allowBeyondF', 'network', 'crash', 'partition', 'isolate', 'drop', 'byzantine', 'legs'];
const RANDOM_BYZANTINE_KEYS = ['nodes', 'count', 'behaviours'];
const RANDOM_NETWORK_KEYS = ['latency', 'drop', 'duplicate'];
const RANDOM_CRASH_KEYS = ['nodes', 'count', 'at', 'downFor', 'restart'];
const RANDOM_PARTITION_KEYS = ['count', 'groups', 'at', 'length'];
const RANDOM_ISOLATE_KEYS = ['nodes', 'count', 'at', 'length'];
const RANDOM_DROP_KEYS = ['nodes', 'count', 'rate', 'at', 'length'];
const RANDOM_LEGS_KEYS = ['settlements', 'leg', 'weights', 'after'];
const RANDOM_WEIGHT_KEYS = ['none', 'reject', 'never-lock', 'late-lock'];
const RANGE_TEXT = 'a range [lo, hi] with lo ≤ hi';

/** Reads and checks the `random:` block of a scenario whose fixed sections are already read. */
export function parseRandom(cx: Cx, v: unknown, nodes: number, base: NetworkSpec, settlements: readonly ScenarioSettlement[], faults: readonly Fault[]): RandomSpec {
  const m = mapping(cx, v, 'random', RANDOM_KEYS);
  const allowBeyondF = m.has('allowBeyondF') ? boolean(cx, m.get('allowBeyondF'), 'random.allowBeyondF') : false;
  const spec: RandomSpec = Object.freeze({
    allowBeyondF,
    network: m.has('network') ? randomNetwork(cx, m.get('network')) : null,
    crash: m.has('crash') ? randomCrash(cx, m.get('crash'), nodes, faults) : null,
    partition: m.has('partition') ? randomPartition(cx, m.get('partition'), nodes) : null,
    isolate: m.has('isolate') ? randomIsolate(cx, m.get('isolate'), nodes, faults) : null,
    drop: m.has('drop') ? randomDrop(cx, m.get('drop'), nodes) : null,
    byzantine: m.has('byzantine') ? randomByzantine(cx, m.get('byzantine'), nodes, faults) : null,
    legs: m.has('legs') ? randomLegs(cx, m.get('legs'), settlements) : null,
  });
  if (spec.network !== null) checkRandomLatency(cx, spec.network, base);
  if (!allowBeyondF) checkRandomWithinF(cx, spec, nodes, faults);
  return spec;
}

function randomNetwork(cx: Cx, v: unknown): NonNullable<RandomSpec['network']> {
  const m = mapping(cx, v, 'random.network', RANDOM_NETWORK_KEYS);
  let latencyMinMs: Range | null = null;
  let latencyMaxMs: Range | null = null;
  if (m.has('latency')) {
    const lat = mapping(cx, m.get('latency'), 'random.network.latency', LATENCY_KEYS);
    if (lat.has('min')) latencyMinMs = range(cx, lat.get('min'), 'random.network.latency.min', (x, p) => duration(cx, x, p, 0));
    if (lat.has('max')) latencyMaxMs = range(cx, lat.get('max'), 'random.network.latency.max', (x, p) => duration(cx, x, p, 0));
  }
  const drop = m.has('drop') ? range(cx, m.get('drop'), 'random.network.drop', (x, p) => probability(cx, x, p)) : null;
  const duplicate = m.has('duplicate') ? range(cx, m.get('duplicate'), 'random.network.duplicate', (x, p) => probability(cx, x, p)) : null;
  return Object.freeze({ latencyMinMs, latencyMaxMs, drop, duplicate });
}

/** The drawn max is drawn from [max(max.lo, drawn min), max.hi]: non-empty iff min.hi ≤ max.hi. */
function checkRandomLatency(cx: Cx, net: NonNullable<RandomSpec['network']>, base: NetworkSpec): void {
  const minHi = net.latencyMinMs?.[1] ?? base.latencyMinMs;
  const maxHi = net.latencyMaxMs?.[1] ?? base.latencyMaxMs;
  if (minHi > maxHi) {
    const problem = `a min of up to ${formatDurationMs(minHi)} can exceed every max (up to ${formatDurationMs(maxHi)})`;
    cx.fail('random.network.latency', problem, 'the highest min ≤ the highest max (an absent range keeps network.latency)');
  }
}

function randomCrash(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['crash']> {
  const path = 'random.crash';
  const m = mapping(cx, v, path, RANDOM_CRASH_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, faults, 'crash');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const restart = m.has('restart') ? closedProbability(cx, m.get('restart'), `${path}.restart`) : 1;
  // Without any restart downFor means nothing: not required then, but still checked if given.
  const downForValue = restart > 0 ? required(cx, m, path, 'downFor', `${RANGE_TEXT} of durations (restart > 0)`) : m.get('downFor');
  const downForMs: Range = downForValue === undefined ? [1, 1] : range(cx, downForValue, `${path}.downFor`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, downForMs);
  return Object.freeze({ nodes: candidates, count, atMs, downForMs, restart });
}

function randomPartition(cx: Cx, v: unknown, nodes: number): NonNullable<RandomSpec['partition']> {
  const path = 'random.partition';
  const m = mapping(cx, v, path, RANDOM_PARTITION_KEYS);
  if (nodes < 2) cx.fail(path, 'a cluster of one node cannot be split', 'no partition section when nodes is 1');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, RANDOM_PARTITIONS_MAX, 'the partition bound');
  const groups: Range = m.has('groups') ? range(cx, m.get('groups'), `${path}.groups`, (x, p) => integerNumber(cx, x, p, 2, nodes)) : [2, 2];
  const { atMs, lengthMs } = randomWindow(cx, m, path);
  return Object.freeze({ count, groups, atMs, lengthMs });
}

function randomIsolate(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['isolate']> {
  const path = 'random.isolate';
  const m = mapping(cx, v, path, RANDOM_ISOLATE_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, faults, 'isolate');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const { atMs, lengthMs } = randomWindow(cx, m, path);
  return Object.freeze({ nodes: candidates, count, atMs, lengthMs });
}

/**
 * Directional loss windows. Lost messages make no node faulty (the checker counts only crashed,
 * Byzantine and skewed members), so these do not count towards f; and a drawn window may overlap
 * a fixed `drop` fault of the same sender, since loss rates simply combine.
 */
function randomDrop(cx: Cx, v: unknown, nodes: number): NonNullable<RandomSpec['drop']> {
  const path = 'random.drop';
  const m = mapping(cx, v, path, RANDOM_DROP_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, [], null);
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const rate = range(cx, required(cx, m, path, 'rate', `${RANGE_TEXT} of probabilities`), `${path}.rate`, (x, p) => probability(cx, x, p));
  // As for a fixed drop fault: a rate of 0 does nothing, so no seed may draw it.
  if (rate[0] === 0) cx.fail(`${path}.rate[0]`, 'a rate of 0 does nothing', 'a probability in (0, 1)');
  const { atMs, lengthMs } = randomWindow(cx, m, path);
  return Object.freeze({ nodes: candidates, count, rate, atMs, lengthMs });
}

function randomByzantine(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['byzantine']> {
  const path = 'random.byzantine';
  const m = mapping(cx, v, path, RANDOM_BYZANTINE_KEYS);
  if (nodes < 4) cx.fail(path, `Byzantine members with nodes: ${nodes} (f = 0 tolerates none)`, 'nodes: 4 or more (f = floor((n-1)/3) ≥ 1)');
  const candidates = randomNodes(cx, m, path, nodes, faults, 'byzantine');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  // Without a list: the behaviours of protocol 1 (those of protocol 2 only when listed, under protocol 2).
  let behaviours: readonly ScenarioByzantineBehaviour[] = BYZANTINE_BEHAVIOURS;
  if (m.has('behaviours')) {
    const all: readonly ScenarioByzantineBehaviour[] = [...BYZANTINE_BEHAVIOURS, ...BYZANTINE_BEHAVIOURS_V2];
    const items = list(cx, m.get('behaviours'), `${path}.behaviours`, `a non-empty list of ${all.join(', ')}`, all.length);
    if (items.length === 0) cx.fail(`${path}.behaviours`, 'the list is empty', 'at least one behaviour (or no behaviours key: all)');
    const picked = items.map((item, i) => oneOf(cx, item, `${path}.behaviours[${i}]`, all));
    picked.forEach((b, i) => {
      if (picked.indexOf(b) !== i) cx.fail(`${path}.behaviours[${i}]`, `${quote(b)} is listed twice`, 'each behaviour at most once');
    });
    behaviours = Object.freeze(picked);
  }
  return Object.freeze({ nodes: candidates, count, behaviours });
}

function randomLegs(cx: Cx, v: unknown, settlements: readonly ScenarioSettlement[]): NonNullable<RandomSpec['legs']> {
  const path = 'random.legs';
  const m = mapping(cx, v, path, RANDOM_LEGS_KEYS);
  const ids = settlements.map((s) => s.id);
  let chosen: readonly string[] = ids;
  if (m.has('settlements')) {
    const items = list(cx, m.get('settlements'), `${path}.settlements`, 'a non-empty list of settlement ids', SCENARIO_SETTLEMENTS_MAX);
    if (items.length === 0) cx.fail(`${path}.settlements`, 'the list is empty', 'at least one settlement id (or no settlements key: all)');
    const picked = new Set<string>();
    items.forEach((item, i) => {
      const id = oneOfText(cx, item, `${path}.settlements[${i}]`, ids, 'one of the settlement ids');
      if (picked.has(id)) cx.fail(`${path}.settlements[${i}]`, `${quote(id)} is listed twice`, 'each settlement at most once');
      picked.add(id);
    });
    chosen = ids.filter((id) => picked.has(id)); // scenario order: the draw order is the file's
  }
  let legs: readonly ('asset' | 'payment')[] = ['asset', 'payment'];
  if (m.has('leg')) {
    const items = list(cx, m.get('leg'), `${path}.leg`, 'a non-empty list of asset, payment', 2);
    if (items.length === 0) cx.fail(`${path}.leg`, 'the list is empty', 'at least one of asset, payment');
    const picked = items.map((item, i) => oneOf(cx, item, `${path}.leg[${i}]`, ['asset', 'payment'] as const));
    if (picked.length === 2 && picked[0] === picked[1]) cx.fail(`${path}.leg[1]`, `${quote(picked[1]!)} is listed twice`, 'each leg at most once');
    legs = picked;
  }
  const weights = legWeights(cx, required(cx, m, path, 'weights', `a mapping with keys ${RANDOM_WEIGHT_KEYS.join(', ')}`), `${path}.weights`);
  let afterMs: Range | null = null;
  if (weights.lateLock > 0) {
    const afterValue = required(cx, m, path, 'after', `${RANGE_TEXT} of durations (late-lock has a weight)`);
    afterMs = range(cx, afterValue, `${path}.after`, (x, p) => duration(cx, x, p, 1));
    if (afterMs[1] > SCENARIO_TIME_MAX_MS) cx.fail(`${path}.after`, `up to ${formatDurationMs(afterMs[1])} is too long`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  } else if (m.has('after')) {
    cx.fail(`${path}.after`, "'after' applies only to late-lock, whose weight is 0", 'no after, or a late-lock weight above 0');
  }
  return Object.freeze({ settlements: Object.freeze(chosen), legs: Object.freeze(legs), weights, afterMs });
}

function legWeights(cx: Cx, v: unknown, path: string): LegWeights {
  const m = mapping(cx, v, path, RANDOM_WEIGHT_KEYS);
  const weight = (key: string) => (m.has(key) ? integerNumber(cx, m.get(key), `${path}.${key}`, 0, RANDOM_WEIGHT_MAX) : 0);
  const w = Object.freeze({ none: weight('none'), reject: weight('reject'), neverLock: weight('never-lock'), lateLock: weight('late-lock') });
  if (w.none + w.reject + w.neverLock + w.lateLock === 0) cx.fail(path, 'every weight is 0', 'at least one weight above 0');
  return w;
}

/**
 * Candidate nodes (default: all), distinct, none of them already crashed/isolated/Byzantine by
 * `faults` when `kind` names that fault (null: no exclusion, as for loss windows).
 */
function randomNodes(cx: Cx, m: Map<string, unknown>, path: string, nodes: number, faults: readonly Fault[], kind: 'crash' | 'isolate' | 'byzantine' | null): readonly NodeIndex[] {
  const fixed = new Map<NodeIndex, number>();
  faults.forEach((f, i) => {
    if (kind !== null && f.kind === kind && !fixed.has(f.node)) fixed.set(f.node, i);
  });
  if (!m.has('nodes')) {
    const all = Array.from({ length: nodes }, (_, i) => i + 1).filter((node) => !fixed.has(node));
    return Object.freeze(all);
  }
  const items = list(cx, m.get('nodes'), `${path}.nodes`, 'a non-empty list of node names', nodes);
  if (items.length === 0) cx.fail(`${path}.nodes`, 'the list is empty', 'at least one node name (or no nodes key: every node)');
  const seen = new Set<NodeIndex>();
  return Object.freeze(
    items.map((item, i) => {
      const node = nodeName(cx, item, `${path}.nodes[${i}]`, nodes);
      if (seen.has(node)) cx.fail(`${path}.nodes[${i}]`, `n${node} is listed twice`, 'each node at most once');
      const at = fixed.get(node);
      if (at !== undefined) cx.fail(`${path}.nodes[${i}]`, `n${node} is already a ${kind} in faults[${at}]`, `candidates that no fixed ${kind} fault names (windows of one node must not overlap)`);
      seen.add(node);
      return node;
    }),
  );
}

/** The `at` and `length` ranges of a drawn window; the latest it can end is within the time bound. */
function randomWindow(cx: Cx, m: Map<string, unknown>, path: string): { atMs: Range; lengthMs: Range } {
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const lengthMs = range(cx, required(cx, m, path, 'length', RANGE_TEXT), `${path}.length`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, lengthMs);
  return { atMs, lengthMs };
}

function checkRandomEnd(cx: Cx, path: string, atMs: Range, lengthMs: Range): void {
  const endMs = atMs[1] + lengthMs[1];
  if (endMs > SCENARIO_TIME_MAX_MS) cx.fail(path, `a drawn fault can end at ${formatDurationMs(endMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
}

/**
 * Nodes faulty by the fixed faults (crashed, isolated, Byzantine, or with a skewed clock: the
 * checker counts all of these as faulty), plus the most that can be drawn, stay ≤ f.
 */
function checkRandomWithinF(cx: Cx, spec: RandomSpec, nodes: number, faults: readonly Fault[]): void {
  const f = Math.floor((nodes - 1) / 3);
  const fixed = new Set<NodeIndex>();
  for (const x of faults) {
    if (x.kind === 'crash' || x.kind === 'isolate' || x.kind === 'byzantine') fixed.add(x.node);
    if (x.kind === 'clock-skew' && typeof x.target === 'number') fixed.add(x.target);
  }
  const crashes = spec.crash?.count[1] ?? 0;
  const isolations = spec.isolate?.count[1] ?? 0;
  const byzantine = spec.byzantine?.count[1] ?? 0;
  if (fixed.size + crashes + isolations + byzantine <= f) return;
  const sections = (['crash', 'isolate', 'byzantine'] as const).filter((k) => spec[k] !== null);
  const path = sections.length === 1 ? `random.${sections[0]}.count` : 'random';
  const drawn = `up to ${crashes} drawn crashes, ${isolations} drawn isolations and ${byzantine} drawn Byzantine members`;
  const problem = `${drawn}, with ${fixed.size} nodes faulty in faults, can exceed f = ${f} for ${nodes} nodes`;
  cx.fail(path, problem, 'at most f faulty nodes in all, or allowBeyondF: true (then liveness is not promised)');
}

/** `[lo, hi]`, each end read by `read`, lo ≤ hi. */
function range(cx: Cx, v: unknown, path: string, read: (x: unknown, path: string) => number): Range {
  if (!Array.isArray(v) || v.length !== 2) return cx.fail(path, Array.isArray(v) ? `a list of ${v.length} items` : `${describe(v)} is not a range`, RANGE_TEXT);
  const lo = read(v[0], `${path}[0]`);
  const hi = read(v[1], `${path}[1]`);
  if (lo > hi) cx.fail(path, `lo ${describe(v[0])} is above hi ${describe(v[1])}`, RANGE_TEXT);
  return Object.freeze([lo, hi] as const);
}

function countRange(cx: Cx, v: unknown, path: string, max: number, maxText: string): Range {
  return range(cx, v, path, (x, p) => {
    if (typeof x === 'bigint' && x > BigInt(max)) cx.fail(p, `${describe(x)} is above ${maxText} (${max})`, `an integer from 0 to ${max}`);
    return integerNumber(cx, x, p, 0, max);
  });
}
