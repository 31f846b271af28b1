import fc from 'fast-check';
import { expect, it } from 'vitest';
import { type Fault, type Scenario, type ScenarioSettlement, buildResult, simulate, valuesEverValid } from '../src/index.js';

/**
 * Random schedules (docs/results.md's invariants): random latency, drops, duplicates, partitions,
 * up to f crashes with or without restart, random leg rejections, and lock times around the
 * deadline so that both COMMIT and ABORT are valid in many runs. No invariant may ever break.
 */
const N = 4; // f = 1
const DEADLINE_MS = 1_000;

const settlementArb = (i: number) =>
  fc.record({
    atMs: fc.integer({ min: 0, max: 300 }),
    reject: fc.constantFrom(null, null, null, null, 'asset', 'payment'),
    // Where the late leg locks, relative to the deadline (null: both authorize at once). Both
    // values become valid when a leg locks just after the deadline observations (ABORT evidence)
    // but before an ABORT report reaches it (then nodes observe both legs locked: COMMIT evidence).
    lateLeg: fc.constantFrom(null, 'asset', 'payment', 'asset', 'payment'),
    lateOffsetMs: fc.integer({ min: -10, max: 45 }),
  }).map((x) => ({ ...x, id: `s${i + 1}` }));

const scheduleArb = fc.record({
  latencyMinMs: fc.integer({ min: 1, max: 20 }),
  latencySpreadMs: fc.integer({ min: 0, max: 40 }),
  drop: fc.constantFrom(0, 0, 0.05, 0.15),
  duplicate: fc.constantFrom(0, 0.1),
  settlements: fc.integer({ min: 1, max: 3 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => settlementArb(i)))),
  crash: fc.option(fc.record({ node: fc.integer({ min: 1, max: N }), atMs: fc.integer({ min: 0, max: 1_500 }), downMs: fc.option(fc.integer({ min: 50, max: 1_500 })) })),
  partition: fc.option(fc.record({ cut: fc.integer({ min: 1, max: N - 1 }), atMs: fc.integer({ min: 0, max: 1_500 }), lengthMs: fc.integer({ min: 50, max: 1_500 }) })),
});

type Schedule = typeof scheduleArb extends fc.Arbitrary<infer T> ? T : never;

function toScenario(x: Schedule): Scenario {
  const settlements: ScenarioSettlement[] = x.settlements.map((s) => ({
    id: s.id,
    atMs: s.atMs,
    deadlineAfterMs: DEADLINE_MS,
    reportWindowMs: 2_000,
    marginMs: 1_000,
    asset: { seller: 'alice', buyer: 'bob', token: 'OUSG', amount: 10n },
    payment: { payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000n },
  }));
  const faults: Fault[] = [];
  for (const s of x.settlements) {
    if (s.reject !== null) faults.push({ kind: 'leg', atMs: 0, untilMs: null, settlement: s.id, leg: s.reject, fail: 'reject', afterMs: 0, times: 0 });
    else if (s.lateLeg !== null) faults.push({ kind: 'leg', atMs: 0, untilMs: null, settlement: s.id, leg: s.lateLeg, fail: 'late-lock', afterMs: DEADLINE_MS + s.lateOffsetMs, times: 0 });
  }
  if (x.crash !== null) {
    const c = x.crash;
    faults.push({ kind: 'crash', atMs: c.atMs, untilMs: c.downMs === null ? null : c.atMs + c.downMs, node: c.node });
  }
  if (x.partition !== null) {
    const p = x.partition;
    const nodes = Array.from({ length: N }, (_, i) => i + 1);
    faults.push({ kind: 'partition', atMs: p.atMs, untilMs: p.atMs + p.lengthMs, groups: [nodes.slice(0, p.cut), nodes.slice(p.cut)] });
  }
  return {
    name: 'random-schedule',
    description: '',
    seed: 1,
    nodes: N,
    network: { latencyMinMs: x.latencyMinMs, latencyMaxMs: x.latencyMinMs + x.latencySpreadMs, drop: x.drop, duplicate: x.duplicate },
    accounts: { asset: new Map([['alice', new Map([['OUSG', 1_000n]])]]), payment: new Map([['bob', new Map([['USD', 100_000n]])]]) },
    settlements,
    faults,
    expect: { outcomes: {}, decideWithinMs: null, violations: [] },
  };
}

it('no invariant breaks over 200 random schedules, and both values are valid in at least 30% of runs', async () => {
  let runs = 0;
  let bothValid = 0;
  await fc.assert(
    fc.asyncProperty(scheduleArb, fc.integer({ min: 0, max: 1_000_000 }), async (schedule, seed) => {
      const scenario = toScenario(schedule);
      const run = await simulate(scenario, { seed });
      const result = buildResult(run);
      runs++;
      if (run.settlements.some((s) => valuesEverValid(run, s).size === 2)) bothValid++;
      const broken = result.invariants.filter((i) => i.ok === false);
      expect(broken, JSON.stringify({ schedule, seed, broken })).toEqual([]);
    }),
    { numRuns: 200, seed: 20261124, endOnFailure: true },
  );
  console.log(`random schedules: ${runs} runs, both COMMIT and ABORT valid in ${bothValid} (${((100 * bothValid) / runs).toFixed(0)}%)`);
  expect(runs).toBe(200);
  expect(bothValid / runs).toBeGreaterThanOrEqual(0.3);
}, 900_000);
