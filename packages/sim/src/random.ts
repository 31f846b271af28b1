/**
 * Draws one concrete scenario from a scenario's `random:` block (scenarios/README.md): swarm testing for
 * `tandem explore`. Each seed picks network rates, crashes, partitions, isolations, directional
 * loss windows, Byzantine members and leg faults from the declared ranges; the drawn faults are
 * appended to the scenario's fixed ones.
 *
 * drawScenario is a pure function of (scenario, seed): `tandem simulate FILE --seed S` draws the
 * same member of the family that `tandem explore FILE` ran at seed S, so every failing seed of an
 * exploration replays exactly. Draws come from `Rng.fromSeed(seed).fork('explore')`, a stream the
 * simulator itself never uses, and each section forks its own sub-stream: adding a `partition:`
 * section does not change which nodes the `crash:` section picks for the same seed.
 *
 * What the loader checked (scenario.ts, parseRandom) makes every draw well-formed: candidates are
 * not named by fixed faults of the same kind and drawn nodes are distinct (so no two windows of one
 * node overlap), the f bound holds, and every drawn fault ends within SCENARIO_TIME_MAX_MS.
 */
import { Rng } from './rng.js';
import type { Fault, LegWeights, NetworkSpec, NodeIndex, Range, RandomSpec, Scenario } from './scenario.js';

/** The concrete scenario seed `seed` runs: `scenario` itself when it has no `random:` block. */
export function drawScenario(scenario: Scenario, seed: number): Scenario {
  const spec = scenario.random ?? null;
  if (spec === null) return scenario;
  const rng = Rng.fromSeed(seed).fork('explore');
  const network = spec.network === null ? scenario.network : drawNetwork(scenario.network, spec.network, rng.fork('network'));
  const faults: Fault[] = [...scenario.faults];
  if (spec.crash !== null) faults.push(...drawCrashes(spec.crash, rng.fork('crash')));
  if (spec.partition !== null) faults.push(...drawPartitions(spec.partition, scenario.nodes, rng.fork('partition')));
  if (spec.isolate !== null) faults.push(...drawIsolations(spec.isolate, rng.fork('isolate')));
  if (spec.drop !== null) faults.push(...drawDrops(spec.drop, scenario.nodes, rng.fork('drop')));
  if (spec.byzantine !== null) faults.push(...drawByzantine(spec.byzantine, rng.fork('byzantine')));
  if (spec.legs !== null) faults.push(...drawLegFaults(spec.legs, scenario, rng.fork('legs')));
  return Object.freeze({ ...scenario, network, faults: Object.freeze(faults), random: null });
}

/** A uniform integer in [lo, hi]. */
function intIn(rng: Rng, r: Range): number {
  return rng.intBetween(r[0], r[1]);
}

/** A uniform real in [lo, hi) (exactly lo when lo = hi), so a probability stays below 1. */
function realIn(rng: Rng, r: Range): number {
  return r[0] + (r[1] - r[0]) * rng.nextFloat();
}

/** `k` distinct items of `from`, in draw order (a partial Fisher–Yates shuffle). */
function pickDistinct<T>(rng: Rng, from: readonly T[], k: number): T[] {
  const pool = [...from];
  const out: T[] = [];
  for (let i = 0; i < k && i < pool.length; i++) {
    const j = rng.intBetween(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    out.push(pool[i]!);
  }
  return out;
}

function drawNetwork(base: NetworkSpec, spec: NonNullable<RandomSpec['network']>, rng: Rng): NetworkSpec {
  // Every value is drawn whether or not its range is given, so the stream stays aligned.
  const latencyMinMs = intIn(rng, spec.latencyMinMs ?? [base.latencyMinMs, base.latencyMinMs]);
  const maxRange = spec.latencyMaxMs ?? [base.latencyMaxMs, base.latencyMaxMs];
  // The max is drawn at or above the drawn min (the loader checked min.hi ≤ max.hi).
  const latencyMaxMs = rng.intBetween(Math.max(maxRange[0], latencyMinMs), maxRange[1]);
  const drop = realIn(rng, spec.drop ?? [base.drop, base.drop]);
  const duplicate = realIn(rng, spec.duplicate ?? [base.duplicate, base.duplicate]);
  return Object.freeze({ latencyMinMs, latencyMaxMs, drop, duplicate });
}

function drawCrashes(spec: NonNullable<RandomSpec['crash']>, rng: Rng): Fault[] {
  const nodes = pickDistinct(rng, spec.nodes, intIn(rng, spec.count));
  return nodes.map((node): Fault => {
    const atMs = intIn(rng, spec.atMs);
    const downForMs = intIn(rng, spec.downForMs);
    const restarts = spec.restart >= 1 || rng.chance(spec.restart);
    return Object.freeze({ kind: 'crash', atMs, untilMs: restarts ? atMs + downForMs : null, node });
  });
}

function drawPartitions(spec: NonNullable<RandomSpec['partition']>, nodes: number, rng: Rng): Fault[] {
  const count = intIn(rng, spec.count);
  const out: Fault[] = [];
  for (let i = 0; i < count; i++) {
    const groups = randomSplit(rng, nodes, Math.min(intIn(rng, spec.groups), nodes));
    const atMs = intIn(rng, spec.atMs);
    const lengthMs = intIn(rng, spec.lengthMs);
    out.push(Object.freeze({ kind: 'partition', atMs, untilMs: atMs + lengthMs, groups }));
  }
  return out;
}

/**
 * Nodes 1..n dealt into `k` non-empty groups: a shuffle seeds each group with one node, the rest
 * go to groups drawn uniformly. Members sorted, groups ordered by their smallest member, so one
 * split has one spelling (as the loader's would, every node listed exactly once).
 */
function randomSplit(rng: Rng, n: number, k: number): readonly (readonly NodeIndex[])[] {
  const order = pickDistinct(rng, Array.from({ length: n }, (_, i) => i + 1), n);
  const groups: NodeIndex[][] = Array.from({ length: k }, () => []);
  order.forEach((node, i) => groups[i < k ? i : rng.intBetween(0, k - 1)]!.push(node));
  for (const g of groups) g.sort((a, b) => a - b);
  groups.sort((a, b) => a[0]! - b[0]!);
  return Object.freeze(groups.map((g) => Object.freeze(g)));
}

function drawIsolations(spec: NonNullable<RandomSpec['isolate']>, rng: Rng): Fault[] {
  const nodes = pickDistinct(rng, spec.nodes, intIn(rng, spec.count));
  return nodes.map((node): Fault => {
    const atMs = intIn(rng, spec.atMs);
    return Object.freeze({ kind: 'isolate', atMs, untilMs: atMs + intIn(rng, spec.lengthMs), node });
  });
}

/** Distinct senders, each losing its messages to every node at a drawn rate for a drawn window. */
function drawDrops(spec: NonNullable<RandomSpec['drop']>, nodes: number, rng: Rng): Fault[] {
  const senders = pickDistinct(rng, spec.nodes, intIn(rng, spec.count));
  const everyone = Object.freeze(Array.from({ length: nodes }, (_, i) => i + 1));
  return senders.map((node): Fault => {
    const atMs = intIn(rng, spec.atMs);
    const untilMs = atMs + intIn(rng, spec.lengthMs);
    return Object.freeze({ kind: 'drop', atMs, untilMs, rate: realIn(rng, spec.rate), from: Object.freeze([node]), to: everyone });
  });
}

/** Distinct members, each Byzantine for the whole run with a behaviour drawn uniformly. */
function drawByzantine(spec: NonNullable<RandomSpec['byzantine']>, rng: Rng): Fault[] {
  const nodes = pickDistinct(rng, spec.nodes, intIn(rng, spec.count));
  return nodes.map((node): Fault => {
    const behaviour = spec.behaviours[rng.intBetween(0, spec.behaviours.length - 1)]!;
    return Object.freeze({ kind: 'byzantine', atMs: 0, untilMs: null, node, behaviour });
  });
}

type PrepareFail = 'none' | 'reject' | 'never-lock' | 'late-lock';

/** A weighted choice; the loader made the sum positive. */
function weighted(rng: Rng, w: LegWeights): PrepareFail {
  const table: readonly [PrepareFail, number][] = [
    ['none', w.none],
    ['reject', w.reject],
    ['never-lock', w.neverLock],
    ['late-lock', w.lateLock],
  ];
  let ticket = rng.intBetween(0, w.none + w.reject + w.neverLock + w.lateLock - 1);
  for (const [fail, weight] of table) {
    if (ticket < weight) return fail;
    ticket -= weight;
  }
  throw new Error('unreachable: ticket beyond the weight sum');
}

/**
 * Per listed settlement, one prepare outcome by weight on one leg. A leg that already has a
 * reject, never-lock or late-lock among the fixed faults is never drawn (the two would
 * contradict); a settlement with no such leg left draws nothing.
 */
function drawLegFaults(spec: NonNullable<RandomSpec['legs']>, scenario: Scenario, rng: Rng): Fault[] {
  const fixed = new Set<string>();
  for (const f of scenario.faults) {
    if (f.kind === 'leg' && (f.fail === 'reject' || f.fail === 'never-lock' || f.fail === 'late-lock')) fixed.add(`${f.leg} ${f.settlement}`);
  }
  const out: Fault[] = [];
  for (const settlement of spec.settlements) {
    // Three draws per settlement whatever the outcome, so one settlement's draw never shifts the next.
    const fail = weighted(rng, spec.weights);
    const legIndex = rng.intBetween(0, spec.legs.length - 1);
    const afterMs = spec.afterMs === null ? 0 : intIn(rng, spec.afterMs);
    if (fail === 'none') continue;
    const open = spec.legs.filter((leg) => !fixed.has(`${leg} ${settlement}`));
    const leg = open.includes(spec.legs[legIndex]!) ? spec.legs[legIndex]! : open[0];
    if (leg === undefined) continue;
    out.push(Object.freeze({ kind: 'leg', atMs: 0, untilMs: null, settlement, leg, fail, afterMs: fail === 'late-lock' ? afterMs : 0, times: 0 }));
  }
  return out;
}
