import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDurationMs } from '../src/duration.js';
import { type Fault, type Range, type RandomSpec, type Scenario, ScenarioError, drawScenario, parseScenario } from '../src/index.js';

const FILE = 'scenarios/r.yaml';

/** A base scenario with fixed faults of every kind the random block interacts with. */
const BASE = `name: r
nodes: 7
network:
  latency: { min: 5ms, max: 40ms }
accounts:
  asset: { alice: { OUSG: 1000 } }
  payment: { bob: { USD: 50000000 } }
settlements:
  - id: s1
    deadline: 2s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
  - id: s2
    at: 500ms
    deadline: 2s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 10 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 1000000 }
  - id: s3
    at: 1s
    deadline: 2s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 10 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 1000000 }
faults:
  - { at: 1s, until: 2s, crash: n7 }
  - { settlement: s2, leg: asset, fail: reject }
`;

const FULL_RANDOM = `random:
  network:
    latency: { min: [1ms, 10ms], max: [10ms, 50ms] }
    drop: [0, 0.1]
    duplicate: [0.05, 0.05]
  crash:
    nodes: [n1, n2, n3]
    count: [0, 1]
    at: [0s, 2s]
    downFor: [100ms, 1.5s]
    restart: 0.5
  partition:
    count: [1, 2]
    groups: [2, 3]
    at: [0s, 1s]
    length: [50ms, 500ms]
  legs:
    settlements: [s3, s1]
    leg: [asset]
    weights: { none: 1, reject: 1, late-lock: 2 }
    after: [1.9s, 2.1s]
`;

function parse(text: string): Scenario {
  return parseScenario(text, FILE);
}

function scenarioError(text: string): ScenarioError {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError, the scenario parsed');
}

/** BASE plus a random block made of the given lines (indented under `random:`). */
function withRandom(...lines: string[]): string {
  return `${BASE}random:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

describe('random: block, loading', () => {
  it('is null without a block, and parsed in full with one', () => {
    expect(parse(BASE).random).toBeNull();
    const r = parse(BASE + FULL_RANDOM).random!;
    expect(r.allowBeyondF).toBe(false);
    expect(r.network).toEqual({ latencyMinMs: [1, 10], latencyMaxMs: [10, 50], drop: [0, 0.1], duplicate: [0.05, 0.05] });
    expect(r.crash).toEqual({ nodes: [1, 2, 3], count: [0, 1], atMs: [0, 2000], downForMs: [100, 1500], restart: 0.5 });
    expect(r.partition).toEqual({ count: [1, 2], groups: [2, 3], atMs: [0, 1000], lengthMs: [50, 500] });
    expect(r.isolate).toBeNull();
    // Settlements in scenario order whatever the list order; absent weights are 0.
    expect(r.legs).toEqual({ settlements: ['s1', 's3'], legs: ['asset'], weights: { none: 1, reject: 1, neverLock: 0, lateLock: 2 }, afterMs: [1900, 2100] });
  });

  it('defaults: every node not fixed-crashed is a candidate, restart 1, two groups, both legs, all settlements', () => {
    const r = parse(
      withRandom('crash: { count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }', 'partition: { count: [0, 1], at: [0s, 1s], length: [1s, 2s] }', 'legs: { weights: { reject: 1 } }'),
    ).random!;
    expect(r.crash?.nodes).toEqual([1, 2, 3, 4, 5, 6]); // n7 crashes in the fixed faults
    expect(r.crash?.restart).toBe(1);
    expect(r.partition?.groups).toEqual([2, 2]);
    expect(r.legs).toMatchObject({ settlements: ['s1', 's2', 's3'], legs: ['asset', 'payment'], afterMs: null });
  });

  it('needs no downFor when crashes never restart', () => {
    expect(parse(withRandom('crash: { count: [1, 1], at: [0s, 1s], restart: 0 }')).random?.crash?.restart).toBe(0);
    expect(scenarioError(withRandom('crash: { count: [1, 1], at: [0s, 1s], restart: 0.5 }')).keyPath).toBe('random.crash.downFor');
  });

  it.each([
    ['an unknown key in the block', withRandom('crahs: {}'), 'random.crahs', 'one of allowBeyondF, network'],
    ['an unknown key in a section', withRandom('crash: { count: [0, 1], at: [0s, 1s], downFor: [1s, 2s], when: 1s }'), 'random.crash.when', 'one of nodes, count'],
    ['an unknown weight', withRandom('legs: { weights: { accept: 1 } }'), 'random.legs.weights.accept', 'one of none, reject, never-lock, late-lock'],
    ['a scalar for a range', withRandom('crash: { count: 1, at: [0s, 1s], downFor: [1s, 2s] }'), 'random.crash.count', 'a range [lo, hi]'],
    ['a range of one item', withRandom('crash: { count: [0, 1], at: [1s], downFor: [1s, 2s] }'), 'random.crash.at', 'a range [lo, hi]'],
    ['a reversed range', withRandom('crash: { count: [0, 1], at: [2s, 1s], downFor: [1s, 2s] }'), 'random.crash.at', 'lo ≤ hi'],
    ['a bare number as a duration', withRandom('crash: { count: [0, 1], at: [0, 1s], downFor: [1s, 2s] }'), 'random.crash.at[0]', 'a duration string'],
    ['a zero crash length', withRandom('crash: { count: [0, 1], at: [0s, 1s], downFor: [0s, 2s] }'), 'random.crash.downFor[0]', 'at least 1ms'],
    ['a float count', withRandom('crash: { count: [0, 1.5], at: [0s, 1s], downFor: [1s, 2s] }'), 'random.crash.count[1]', 'an integer'],
    ['more crashes than candidates', withRandom('crash: { nodes: [n1], count: [0, 2], at: [0s, 1s], downFor: [1s, 2s] }'), 'random.crash.count[1]', 'from 0 to 1'],
    ['an unknown node', withRandom('crash: { nodes: [n8], count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }'), 'random.crash.nodes[0]', 'n1..n7'],
    ['a node listed twice', withRandom('isolate: { nodes: [n1, n1], count: [0, 1], at: [0s, 1s], length: [1s, 2s] }'), 'random.isolate.nodes[1]', 'each node at most once'],
    ['a candidate crashed by the fixed faults', withRandom('crash: { nodes: [n7], count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }'), 'random.crash.nodes[0]', 'windows of one node must not overlap'],
    ['a drop probability of 1', withRandom('network: { drop: [0, 1] }'), 'random.network.drop[1]', '0 ≤ p < 1'],
    ['a restart probability above 1', withRandom('crash: { count: [0, 1], at: [0s, 1s], downFor: [1s, 2s], restart: 2 }'), 'random.crash.restart', '0 ≤ p ≤ 1'],
    ['a non-boolean allowBeyondF', withRandom('allowBeyondF: yes'), 'random.allowBeyondF', 'true or false'],
    ['a min latency above every max', withRandom('network: { latency: { min: [1ms, 60ms] } }'), 'random.network.latency', 'the highest min ≤ the highest max'],
    ['one group', withRandom('partition: { count: [0, 1], groups: [1, 2], at: [0s, 1s], length: [1s, 2s] }'), 'random.partition.groups[0]', 'an integer from 2 to 7'],
    ['all weights zero', withRandom('legs: { weights: { none: 0, reject: 0 } }'), 'random.legs.weights', 'at least one weight above 0'],
    ['late-lock without after', withRandom('legs: { weights: { late-lock: 1 } }'), 'random.legs.after', 'late-lock has a weight'],
    ['after without late-lock', withRandom('legs: { weights: { reject: 1 }, after: [1s, 2s] }'), 'random.legs.after', 'a late-lock weight above 0'],
    ['an unknown settlement', withRandom('legs: { settlements: [s9], weights: { reject: 1 } }'), 'random.legs.settlements[0]', 'one of the settlement ids: s1, s2, s3'],
    ['an unknown leg', withRandom('legs: { leg: [bond], weights: { reject: 1 } }'), 'random.legs.leg[0]', 'one of asset, payment'],
    ['a fault ending after 24 h', withRandom('isolate: { count: [0, 1], at: [0s, 23h], length: [1s, 2h] }'), 'random.isolate', 'at most 24h'],
  ])('refuses %s, naming the key path', (_what, text, keyPath, expected) => {
    const e = scenarioError(text);
    expect(e.keyPath).toBe(keyPath);
    expect(e.message).toContain(expected);
    expect(e.message.startsWith(`${FILE}: ${keyPath}: `)).toBe(true);
  });

  it('refuses more than f drawn crashes and isolations (fixed ones included) unless allowBeyondF', () => {
    // n = 7: f = 2, and n7 already crashes in the fixed faults.
    const two = ['crash: { count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }', 'isolate: { count: [0, 1], at: [0s, 1s], length: [1s, 2s] }'];
    const e = scenarioError(withRandom(...two));
    expect(e.keyPath).toBe('random');
    expect(e.message).toContain('can exceed f = 2 for 7 nodes');
    expect(scenarioError(withRandom('crash: { count: [0, 2], at: [0s, 1s], downFor: [1s, 2s] }')).keyPath).toBe('random.crash.count');
    expect(parse(withRandom('allowBeyondF: true', ...two)).random?.allowBeyondF).toBe(true);
    expect(parse(withRandom('crash: { count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }')).random?.crash?.count).toEqual([0, 1]);
  });

  it('reads a byzantine section: candidates, count and behaviours (default: all seven)', () => {
    const r = parse(withRandom('byzantine: { nodes: [n2, n3], count: [0, 1], behaviours: [equivocate, lie-locked] }')).random!;
    expect(r.byzantine).toEqual({ nodes: [2, 3], count: [0, 1], behaviours: ['equivocate', 'lie-locked'] });
    expect(parse(withRandom('byzantine: { count: [1, 1] }')).random?.byzantine?.behaviours).toHaveLength(7);
    expect(scenarioError(withRandom('byzantine: { count: [0, 1], behaviours: [lying] }')).keyPath).toBe('random.byzantine.behaviours[0]');
    expect(scenarioError(withRandom('byzantine: { count: [0, 1], behaviours: [silent, silent] }')).keyPath).toBe('random.byzantine.behaviours[1]');
    expect(scenarioError(withRandom('byzantine: { count: [0, 2] }')).message).toContain('can exceed f = 2');
    const three = BASE.replace('nodes: 7', 'nodes: 3').replace('  - { at: 1s, until: 2s, crash: n7 }\n', '');
    expect(scenarioError(`${three}random:\n  byzantine: { count: [0, 1] }\n`).message).toContain('f = 0 tolerates none');
  });

  it('counts Byzantine members and nodes with a skewed clock in the fixed faults towards f', () => {
    // n7 crashes and n6 is Byzantine: f = 2 is used up, no crash may be drawn.
    const byz = BASE.replace('  - { at: 1s, until: 2s, crash: n7 }\n', '  - { at: 1s, until: 2s, crash: n7 }\n  - { byzantine: n6, behaviour: silent }\n');
    const crash = 'crash: { nodes: [n1], count: [0, 1], at: [0s, 1s], downFor: [1s, 2s] }';
    expect(scenarioError(`${byz}random:\n  ${crash}\n`).message).toContain('with 2 nodes faulty in faults, can exceed f = 2');
    const skew = BASE.replace('  - { at: 1s, until: 2s, crash: n7 }\n', '  - { at: 1s, until: 2s, crash: n7 }\n  - { clock-skew: n5, ahead: 1s }\n');
    expect(scenarioError(`${skew}random:\n  ${crash}\n`).keyPath).toBe('random.crash.count');
    // A skewed leg clock is no faulty node.
    const legSkew = BASE.replace('  - { at: 1s, until: 2s, crash: n7 }\n', '  - { at: 1s, until: 2s, crash: n7 }\n  - { clock-skew: asset, ahead: 1s }\n');
    expect(parse(`${legSkew}random:\n  ${crash}\n`).random?.crash?.nodes).toEqual([1]);
  });
});

// ---------------------------------------------------------------------------------------------
// Drawing.

const ms = formatDurationMs;

/** Two ordered integers in [min, max] as a range. */
const rangeArb = (min: number, max: number): fc.Arbitrary<Range> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as Range);
const durations = (r: Range) => `[${ms(r[0])}, ${ms(r[1])}]`;

/** A random `random:` block for BASE (n = 7, f = 2, n7 crashes in the fixed faults). */
const blockArb = fc
  .record({
    latencyMin: fc.option(rangeArb(0, 30)),
    latencyMaxHi: fc.integer({ min: 30, max: 80 }),
    latencyMaxLo: fc.integer({ min: 0, max: 30 }),
    drop: fc.option(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))),
    crash: fc.option(fc.record({ nodes: fc.subarray([1, 2, 3, 4, 5, 6], { minLength: 1 }), countHi: fc.integer({ min: 0, max: 2 }), at: rangeArb(0, 3000), downFor: rangeArb(1, 2000), restart: fc.constantFrom(0, 0.5, 1) })),
    partition: fc.option(fc.record({ count: rangeArb(0, 3), groups: rangeArb(2, 7), at: rangeArb(0, 3000), length: rangeArb(1, 2000) })),
    isolate: fc.option(fc.record({ nodes: fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }), at: rangeArb(0, 3000), length: rangeArb(1, 2000) })),
    byzantine: fc.option(fc.record({ nodes: fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }), behaviours: fc.subarray(['equivocate', 'silent', 'lie-locked', 'amnesia', 'flood'], { minLength: 1 }) })),
    legs: fc.option(fc.record({ weights: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)).filter((w) => w.some((x) => x > 0)), after: rangeArb(1, 5000), leg: fc.constantFrom('[asset]', '[payment]', '[asset, payment]') })),
  })
  .map((b) => {
    const lines: string[] = [];
    const net: string[] = [];
    if (b.latencyMin !== null) net.push(`latency: { min: ${durations(b.latencyMin)}, max: [${ms(b.latencyMaxLo)}, ${ms(b.latencyMaxHi)}] }`);
    if (b.drop !== null) net.push(`drop: [${Math.min(...b.drop) / 100}, ${Math.max(...b.drop) / 100}]`);
    if (net.length > 0) lines.push(`network: { ${net.join(', ')} }`);
    // f = 2 with none fixed-isolated but n7 fixed-crashed: one drawn crash or isolation at most.
    const crashHi = b.crash === null ? 0 : Math.min(b.crash.countHi, b.crash.nodes.length, 1);
    if (b.crash !== null) {
      const c = b.crash;
      lines.push(`crash: { nodes: [${c.nodes.map((n) => `n${n}`).join(', ')}], count: [0, ${crashHi}], at: ${durations(c.at)}, downFor: ${durations(c.downFor)}, restart: ${c.restart} }`);
    }
    if (b.partition !== null) {
      const p = b.partition;
      lines.push(`partition: { count: [${p.count[0]}, ${p.count[1]}], groups: [${p.groups[0]}, ${p.groups[1]}], at: ${durations(p.at)}, length: ${durations(p.length)} }`);
    }
    if (b.isolate !== null && crashHi === 0) {
      const i = b.isolate;
      lines.push(`isolate: { nodes: [${i.nodes.map((n) => `n${n}`).join(', ')}], count: [0, 1], at: ${durations(i.at)}, length: ${durations(i.length)} }`);
    } else if (b.byzantine !== null && crashHi === 0) {
      const z = b.byzantine;
      lines.push(`byzantine: { nodes: [${z.nodes.map((n) => `n${n}`).join(', ')}], count: [0, 1], behaviours: [${z.behaviours.join(', ')}] }`);
    }
    if (b.legs !== null) {
      const [none, reject, neverLock, lateLock] = b.legs.weights;
      const after = lateLock > 0 ? `, after: ${durations(b.legs.after)}` : '';
      lines.push(`legs: { leg: ${b.legs.leg}, weights: { none: ${none}, reject: ${reject}, never-lock: ${neverLock}, late-lock: ${lateLock} }${after} }`);
    }
    return lines.length === 0 ? BASE : withRandom(...lines);
  });

const within = (x: number, r: Range) => x >= r[0] && x <= r[1];

/** Every drawn value is within its declared range, and the draw is a scenario the loader accepts. */
function checkDraw(base: Scenario, drawn: Scenario): void {
  const spec = base.random as RandomSpec;
  expect(drawn.random).toBeNull();
  expect(drawn.settlements).toBe(base.settlements);
  expect(drawn.expect).toBe(base.expect);
  expect(drawn.faults.slice(0, base.faults.length)).toEqual(base.faults);
  const net = drawn.network;
  expect(within(net.latencyMinMs, spec.network?.latencyMinMs ?? [base.network.latencyMinMs, base.network.latencyMinMs])).toBe(true);
  expect(within(net.latencyMaxMs, spec.network?.latencyMaxMs ?? [base.network.latencyMaxMs, base.network.latencyMaxMs])).toBe(true);
  expect(net.latencyMinMs).toBeLessThanOrEqual(net.latencyMaxMs);
  const drop = spec.network?.drop ?? [0, 0];
  expect(net.drop >= drop[0] && net.drop <= drop[1] && net.drop < 1).toBe(true);

  const drawnFaults = drawn.faults.slice(base.faults.length);
  const of = <K extends Fault['kind']>(k: K) => drawnFaults.filter((f): f is Extract<Fault, { kind: K }> => f.kind === k);
  const crashes = of('crash');
  expect(within(crashes.length, spec.crash?.count ?? [0, 0])).toBe(true);
  expect(new Set(crashes.map((c) => c.node)).size).toBe(crashes.length);
  for (const c of crashes) {
    expect(spec.crash!.nodes).toContain(c.node);
    expect(within(c.atMs, spec.crash!.atMs)).toBe(true);
    if (c.untilMs !== null) expect(within(c.untilMs - c.atMs, spec.crash!.downForMs)).toBe(true);
    if (spec.crash!.restart === 1) expect(c.untilMs).not.toBeNull();
    if (spec.crash!.restart === 0) expect(c.untilMs).toBeNull();
  }
  const partitions = of('partition');
  expect(within(partitions.length, spec.partition?.count ?? [0, 0])).toBe(true);
  for (const p of partitions) {
    expect(within(p.groups.length, spec.partition!.groups)).toBe(true);
    expect(p.groups.every((g) => g.length > 0)).toBe(true);
    expect(p.groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: base.nodes }, (_, i) => i + 1));
    expect(within(p.atMs, spec.partition!.atMs)).toBe(true);
    expect(within(p.untilMs! - p.atMs, spec.partition!.lengthMs)).toBe(true);
  }
  const isolations = of('isolate');
  expect(within(isolations.length, spec.isolate?.count ?? [0, 0])).toBe(true);
  for (const i of isolations) {
    expect(spec.isolate!.nodes).toContain(i.node);
    expect(within(i.untilMs! - i.atMs, spec.isolate!.lengthMs)).toBe(true);
  }
  const byzantine = of('byzantine');
  expect(within(byzantine.length, spec.byzantine?.count ?? [0, 0])).toBe(true);
  for (const z of byzantine) {
    expect(spec.byzantine!.nodes).toContain(z.node);
    expect(spec.byzantine!.behaviours).toContain(z.behaviour);
    expect([z.atMs, z.untilMs]).toEqual([0, null]);
  }
  // At most f nodes crashed, isolated or Byzantine in all (the loader's bound, allowBeyondF off).
  const faulty = new Set(drawn.faults.flatMap((f) => (f.kind === 'crash' || f.kind === 'isolate' || f.kind === 'byzantine' ? [f.node] : [])));
  expect(faulty.size).toBeLessThanOrEqual(2);
  const legFaults = of('leg');
  expect(legFaults.length).toBeLessThanOrEqual(spec.legs?.settlements.length ?? 0);
  for (const l of legFaults) {
    expect(spec.legs!.legs).toContain(l.leg);
    if (l.fail === 'late-lock') expect(within(l.afterMs, spec.legs!.afterMs!)).toBe(true);
    else expect(l.afterMs).toBe(0);
  }
  // No two prepare faults on one leg of one settlement (the fixed reject of s2's asset leg stays alone).
  const prepareKeys = drawn.faults.flatMap((f) => (f.kind === 'leg' && f.fail !== 'apply-error' && f.fail !== 'unavailable' ? [`${f.settlement}/${f.leg}`] : []));
  expect(new Set(prepareKeys).size).toBe(prepareKeys.length);
}

describe('drawScenario', () => {
  it('returns a scenario without a random block unchanged', () => {
    const base = parse(BASE);
    expect(drawScenario(base, 7)).toBe(base);
  });

  it('is deterministic, and every drawn value is within its range (property)', () => {
    fc.assert(
      fc.property(blockArb, fc.nat(), (text, seed) => {
        const base = parse(text);
        const a = drawScenario(base, seed);
        expect(drawScenario(base, seed)).toEqual(a);
        if (base.random === null) return expect(a).toBe(base);
        checkDraw(base, a);
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it('draws differently across seeds, reaching both ends of the ranges', () => {
    const base = parse(BASE + FULL_RANDOM);
    const draws = Array.from({ length: 300 }, (_, seed) => drawScenario(base, seed));
    const crashCounts = new Set(draws.map((d) => d.faults.filter((f) => f.kind === 'crash').length - 1)); // minus the fixed one
    expect([...crashCounts].sort()).toEqual([0, 1]);
    const crashed = new Set(draws.flatMap((d) => d.faults.slice(2).flatMap((f) => (f.kind === 'crash' ? [f.node] : []))));
    expect([...crashed].sort()).toEqual([1, 2, 3]);
    const restarts = draws.flatMap((d) => d.faults.slice(2).flatMap((f) => (f.kind === 'crash' ? [f.untilMs !== null] : [])));
    expect(restarts).toContain(true);
    expect(restarts).toContain(false);
    const groupCounts = new Set(draws.flatMap((d) => d.faults.flatMap((f) => (f.kind === 'partition' ? [f.groups.length] : []))));
    expect([...groupCounts].sort()).toEqual([2, 3]);
    const fails = new Set(draws.flatMap((d) => d.faults.slice(2).flatMap((f) => (f.kind === 'leg' ? [f.fail] : []))));
    expect([...fails].sort()).toEqual(['late-lock', 'reject']);
    // s2 is not listed in legs.settlements: it keeps only its fixed reject.
    expect(draws.every((d) => d.faults.filter((f) => f.kind === 'leg' && f.settlement === 's2').length === 1)).toBe(true);
    expect(new Set(draws.map((d) => d.network.latencyMinMs)).size).toBeGreaterThan(5);
  });

  it('one section does not shift another: adding a partition section keeps the drawn crashes', () => {
    const plain = BASE.replace('  - { at: 1s, until: 2s, crash: n7 }\n', '');
    const crash = '  crash: { count: [0, 2], at: [0s, 3s], downFor: [1ms, 2s], restart: 0.5 }\n';
    const crashOnly = parse(`${plain}random:\n${crash}`);
    const withPartition = parse(`${plain}random:\n  partition: { count: [1, 2], at: [0s, 1s], length: [1s, 2s] }\n${crash}`);
    const crashes = (s: Scenario) => s.faults.filter((f) => f.kind === 'crash');
    let drawn = 0;
    for (let seed = 0; seed < 50; seed++) {
      const a = crashes(drawScenario(crashOnly, seed));
      expect(crashes(drawScenario(withPartition, seed))).toEqual(a);
      drawn += a.length;
    }
    expect(drawn).toBeGreaterThan(0);
  });
});
