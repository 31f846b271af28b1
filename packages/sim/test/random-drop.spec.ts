import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fault, type Range, type Scenario, ScenarioError, drawScenario, parseScenario } from '../src/index.js';

/** The `random.drop` section: directional loss windows drawn per seed (scenarios/README.md). */
const FILE = 'scenarios/d.yaml';

/** n = 4 (f = 1) with the one tolerated Byzantine member and a fixed loss fault of n1 already. */
const BASE = `name: d
nodes: 4
accounts:
  asset: { alice: { OUSG: 1000 } }
  payment: { bob: { USD: 50000000 } }
settlements:
  - id: s1
    deadline: 2s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
faults:
  - { byzantine: n4, behaviour: equivocate }
  - { drop: 0.5, from: n1, to: n2, at: 1s, until: 3s }
`;

function parse(text: string): Scenario {
  return parseScenario(text, FILE);
}

function withRandom(...lines: string[]): string {
  return `${BASE}random:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
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

/** Loss faults share one shape with duplication faults (`kind: 'drop' | 'duplicate'`). */
type LossFault = Extract<Fault, { kind: 'drop' | 'duplicate' }>;
const drops = (s: Scenario) => s.faults.filter((f): f is LossFault => f.kind === 'drop');
const within = (x: number, r: Range) => x >= r[0] && x <= r[1];

describe('random.drop, loading', () => {
  it('reads candidates, count, rate, at and length; every node is a candidate by default', () => {
    const r = parse(withRandom('drop: { nodes: [n3, n1], count: [0, 2], rate: [0.5, 0.99], at: [1.8s, 2s], length: [1s, 2s] }')).random!;
    expect(r.drop).toEqual({ nodes: [3, 1], count: [0, 2], rate: [0.5, 0.99], atMs: [1800, 2000], lengthMs: [1000, 2000] });
    expect(parse(withRandom('drop: { count: [1, 1], rate: [0.9, 0.9], at: [0s, 0s], length: [1ms, 1ms] }')).random?.drop?.nodes).toEqual([1, 2, 3, 4]);
    expect(parse(withRandom('crash: { count: [0, 0], at: [0s, 1s], downFor: [1s, 2s] }')).random?.drop).toBeNull();
  });

  it('counts no node as faulty: f = 1 is used up by n4 and the section still loads', () => {
    // Lost messages make no member faulty (the checker counts crashed, Byzantine, skewed ones).
    expect(parse(withRandom('drop: { count: [3, 4], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s] }')).random?.drop?.count).toEqual([3, 4]);
    // …whereas one drawn isolation on top of n4 exceeds f.
    expect(scenarioError(withRandom('isolate: { count: [0, 1], at: [0s, 1s], length: [1s, 2s] }')).message).toContain('can exceed f = 1');
  });

  it.each([
    ['an unknown key', 'drop: { count: [0, 1], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s], to: [n2] }', 'random.drop.to', 'one of nodes, count, rate, at, length'],
    ['no rate', 'drop: { count: [0, 1], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.rate', 'a range [lo, hi] with lo ≤ hi of probabilities'],
    ['a rate that can be 0', 'drop: { count: [0, 1], rate: [0, 0.5], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.rate[0]', 'a probability in (0, 1)'],
    ['a rate of 1', 'drop: { count: [0, 1], rate: [0.5, 1], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.rate[1]', '0 ≤ p < 1'],
    ['a reversed rate', 'drop: { count: [0, 1], rate: [0.6, 0.5], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.rate', 'lo ≤ hi'],
    ['a scalar rate', 'drop: { count: [0, 1], rate: 0.5, at: [0s, 1s], length: [1s, 2s] }', 'random.drop.rate', 'a range [lo, hi]'],
    ['more senders than candidates', 'drop: { nodes: [n1], count: [0, 2], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.count[1]', 'from 0 to 1'],
    ['a sender listed twice', 'drop: { nodes: [n2, n2], count: [0, 1], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.nodes[1]', 'each node at most once'],
    ['an unknown sender', 'drop: { nodes: [n5], count: [0, 1], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s] }', 'random.drop.nodes[0]', 'n1..n4'],
    ['a zero length', 'drop: { count: [0, 1], rate: [0.1, 0.2], at: [0s, 1s], length: [0s, 2s] }', 'random.drop.length[0]', 'at least 1ms'],
    ['a window ending after 24 h', 'drop: { count: [0, 1], rate: [0.1, 0.2], at: [0s, 23h], length: [1s, 2h] }', 'random.drop', 'at most 24h'],
  ])('refuses %s, naming the key path', (_what, section, keyPath, expected) => {
    const e = scenarioError(withRandom(section));
    expect(e.keyPath).toBe(keyPath);
    expect(e.message).toContain(expected);
    expect(e.message.startsWith(`${FILE}: ${keyPath}: `)).toBe(true);
  });

  it('allows n1 as a candidate although a fixed drop fault names it (loss rates combine)', () => {
    expect(parse(withRandom('drop: { nodes: [n1], count: [1, 1], rate: [0.1, 0.2], at: [0s, 1s], length: [1s, 2s] }')).random?.drop?.nodes).toEqual([1]);
  });
});

const rangeArb = (min: number, max: number): fc.Arbitrary<Range> => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => (a <= b ? [a, b] : [b, a]) as Range);

const sectionArb = fc.record({
  nodes: fc.subarray([1, 2, 3, 4], { minLength: 1 }),
  countHi: fc.integer({ min: 0, max: 4 }),
  rate: rangeArb(1, 999),
  at: rangeArb(0, 5000),
  length: rangeArb(1, 3000),
});

describe('random.drop, drawing', () => {
  it('draws distinct senders within the ranges, each a loss fault the loader accepts as written (property)', () => {
    fc.assert(
      fc.property(sectionArb, fc.nat(), (s, seed) => {
        const countHi = Math.min(s.countHi, s.nodes.length);
        const section = `drop: { nodes: [${s.nodes.map((n) => `n${n}`).join(', ')}], count: [0, ${countHi}], rate: [${s.rate[0] / 1000}, ${s.rate[1] / 1000}], at: [${s.at[0]}ms, ${s.at[1]}ms], length: [${s.length[0]}ms, ${s.length[1]}ms] }`;
        const base = parse(withRandom(section));
        const drawn = drawScenario(base, seed);
        expect(drawScenario(base, seed)).toEqual(drawn);
        expect(drawn.faults.slice(0, base.faults.length)).toEqual(base.faults);
        const got = drops(drawn).slice(1); // the fixed one first
        expect(got.length).toBe(drawn.faults.length - base.faults.length);
        expect(within(got.length, [0, countHi])).toBe(true);
        expect(new Set(got.map((f) => f.from[0])).size).toBe(got.length);
        for (const f of got) {
          expect(f.from).toHaveLength(1);
          expect(s.nodes).toContain(f.from[0]);
          expect(f.to).toEqual([1, 2, 3, 4]);
          expect(f.rate >= s.rate[0] / 1000 && f.rate <= s.rate[1] / 1000 && f.rate > 0 && f.rate < 1).toBe(true);
          expect(within(f.atMs, s.at)).toBe(true);
          expect(within(f.untilMs! - f.atMs, s.length)).toBe(true);
          // The same fault written in `faults` parses to exactly this.
          const fixed = parse(`${BASE}  - { drop: ${f.rate}, from: n${f.from[0]}, at: ${f.atMs}ms, until: ${f.untilMs}ms }\n`);
          expect(fixed.faults.at(-1)).toEqual(f);
        }
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('reaches every candidate and both ends of the count, and draws rates spread over the range', () => {
    const base = parse(withRandom('drop: { nodes: [n1, n2, n3], count: [0, 2], rate: [0.5, 0.99], at: [1s, 2s], length: [1s, 2s] }'));
    const draws = Array.from({ length: 200 }, (_, seed) => drops(drawScenario(base, seed)).slice(1));
    expect(new Set(draws.map((d) => d.length))).toEqual(new Set([0, 1, 2]));
    expect(new Set(draws.flat().map((f) => f.from[0]))).toEqual(new Set([1, 2, 3]));
    const rates = draws.flat().map((f) => f.rate);
    expect(Math.min(...rates)).toBeLessThan(0.6);
    expect(Math.max(...rates)).toBeGreaterThan(0.9);
  });

  it('does not shift the other sections: adding a drop section keeps the drawn isolations', () => {
    const plain = BASE.replace('  - { byzantine: n4, behaviour: equivocate }\n', '');
    const isolate = '  isolate: { count: [0, 1], at: [0s, 3s], length: [1ms, 2s] }\n';
    const without = parse(`${plain}random:\n${isolate}`);
    const withDrop = parse(`${plain}random:\n${isolate}  drop: { count: [1, 2], rate: [0.1, 0.9], at: [0s, 1s], length: [1s, 2s] }\n`);
    const isolations = (s: Scenario) => s.faults.filter((f) => f.kind === 'isolate');
    let drawn = 0;
    for (let seed = 0; seed < 50; seed++) {
      const a = isolations(drawScenario(without, seed));
      expect(isolations(drawScenario(withDrop, seed))).toEqual(a);
      expect(drops(drawScenario(withDrop, seed)).length).toBeGreaterThanOrEqual(2); // the fixed one and ≥ 1 drawn
      drawn += a.length;
    }
    expect(drawn).toBeGreaterThan(0);
  });
});
