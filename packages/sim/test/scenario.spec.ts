import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { formatDurationMs, parseDurationMs } from '../src/duration.js';
import { INVARIANT_NAMES, ScenarioError, parseScenario, type Scenario } from '../src/index.js';

const SCENARIOS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scenarios');
const FILE = 'scenarios/x.yaml';

/** A valid scenario touching every section and every supported fault kind. */
const BASE = `name: base
description: every section once
seed: 3
nodes: 4
network:
  latency: { min: 5ms, max: 40ms }
  drop: 0.1
  duplicate: 0
accounts:
  asset: { alice: { OUSG: 1000 } }
  payment: { bob: { USD: 50000000 } }
settlements:
  - id: s1
    at: 0s
    deadline: 10s
    reportWindow: 20s
    margin: 5s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
  - id: s2
    at: 1.5s
    deadline: 5s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 10 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 1000000 }
faults:
  - { at: 1s, until: 4s, partition: [[n1, n2], [n3, n4]] }
  - { at: 2s, until: 6s, crash: n3 }
  - { at: 0s, until: 2s, isolate: n1 }
  - { settlement: s1, leg: asset, fail: late-lock, after: 2s }
  - { settlement: s2, leg: payment, fail: apply-error, times: 3 }
  - { at: 1s, until: 3s, settlement: s2, leg: asset, fail: unavailable }
expect:
  outcomes: { s1: commit, s2: any }
  decideWithin: 15s
  violations: [all-or-nothing-b]
`;

const MINIMAL = `name: minimal
nodes: 4
settlements:
  - id: s1
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
`;

/** BASE with one exact, unique substring replaced (asserts the substring is there once). */
function edit(from: string, to: string, text = BASE): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`test bug: ${JSON.stringify(from)} must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

function scenarioError(text: string): ScenarioError {
  try {
    parseScenario(text, FILE);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError, the scenario parsed');
}

/** Structural facts every parsed scenario must satisfy, whatever the input was. */
function checkWellFormed(s: Scenario): void {
  const ids = new Set(s.settlements.map((x) => x.id));
  expect(ids.size).toBe(s.settlements.length);
  expect(s.nodes >= 1 && s.nodes <= 100).toBe(true);
  expect(s.network.latencyMinMs).toBeLessThanOrEqual(s.network.latencyMaxMs);
  for (const x of s.settlements) {
    expect(x.asset.amount > 0n && x.payment.amount > 0n).toBe(true);
    expect(x.deadlineAfterMs).toBeGreaterThan(0);
  }
  const inRange = (node: number): boolean => Number.isInteger(node) && node >= 1 && node <= s.nodes;
  for (const f of s.faults) {
    if (f.untilMs !== null) expect(f.untilMs).toBeGreaterThan(f.atMs);
    if (f.kind === 'crash' || f.kind === 'isolate') expect(inRange(f.node)).toBe(true);
    if (f.kind === 'partition') expect(f.groups.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: s.nodes }, (_, i) => i + 1));
    if (f.kind === 'leg') expect(ids.has(f.settlement)).toBe(true);
  }
  for (const id of Object.keys(s.expect.outcomes)) expect(ids.has(id)).toBe(true);
  for (const v of s.expect.violations) expect(INVARIANT_NAMES).toContain(v);
}

describe('parseDurationMs', () => {
  it.each([
    ['250ms', 250],
    ['0ms', 0],
    ['0s', 0],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['0.001s', 1],
    ['007s', 7_000],
    ['2m', 120_000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
  ])('reads %s as %i ms', (s, ms) => {
    expect(parseDurationMs(s)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['2', 'no unit'],
    [2, 'a plain number'],
    [2n, 'a bigint'],
    [null, 'null'],
    ['-2s', 'negative'],
    ['+2s', 'signed'],
    ['2 s', 'a space'],
    [' 2s', 'leading space'],
    ['1.0005s', 'a fraction of a ms'],
    ['0.5ms', 'a fraction of a ms'],
    ['.5s', 'no leading digit'],
    ['5.s', 'no fraction digits'],
    ['2S', 'unit case'],
    ['1e3ms', 'an exponent'],
    ['2d', 'an unknown unit'],
    ['ms', 'no digits'],
    ['9007199254740992ms', 'beyond 2^53 - 1'],
    ['1'.repeat(40) + 'ms', 'absurdly long'],
  ] as const)('refuses %s (%s)', (s, _why) => {
    expect(parseDurationMs(s)).toBeNull();
  });

  it('reads back every value formatDurationMs writes, and `${ms}ms`', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 10_000_000 }), fc.maxSafeNat()), (ms) => {
        expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
        expect(parseDurationMs(`${ms}ms`)).toBe(ms);
      }),
    );
  });

  it('never throws, and returns null or a safe non-negative integer', () => {
    const durationLike = fc
      .tuple(fc.stringMatching(/^[0-9]{0,18}(\.[0-9]{0,6})?$/), fc.constantFrom('ms', 's', 'm', 'h', 'x', ''))
      .map(([n, u]) => n + u);
    fc.assert(
      fc.property(fc.oneof(durationLike, fc.string(), fc.anything()), (s) => {
        const ms = parseDurationMs(s);
        if (ms !== null) expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
      }),
    );
  });
});

describe('scenario library', () => {
  const files = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yaml')).sort();

  it('has at least 10 scenarios, each listed in scenarios/README.md', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
    const readme = readFileSync(join(SCENARIOS_DIR, 'README.md'), 'utf8');
    for (const f of files) expect(readme).toContain(`\`${f}\``);
  });

  it.each(files)('%s parses, is named after its file, describes itself and states outcomes', (f) => {
    const s = parseScenario(readFileSync(join(SCENARIOS_DIR, f), 'utf8'), `scenarios/${f}`);
    checkWellFormed(s);
    expect(s.name).toBe(basename(f, '.yaml'));
    expect(s.description.length).toBeGreaterThan(40);
    for (const x of s.settlements) expect(s.expect.outcomes[x.id] ?? s.expect.refused?.[x.id]).toBeDefined();
    // Library policy: deadlines of at least 5 s (except the explore scenarios, kept short so CI can
    // run hundreds of seeds), liveness bounds wherever no invariant is broken on purpose.
    if (!f.startsWith('explore-')) for (const x of s.settlements) expect(x.deadlineAfterMs).toBeGreaterThanOrEqual(5_000);
    if (s.expect.violations.length === 0) expect(s.expect.decideWithinMs).not.toBeNull();
  });
});

describe('parseScenario: values and defaults', () => {
  it('reads every section of a full scenario', () => {
    const s = parseScenario(BASE, FILE);
    checkWellFormed(s);
    expect(s).toMatchObject({ name: 'base', description: 'every section once', seed: 3, nodes: 4 });
    expect(s.network).toEqual({ latencyMinMs: 5, latencyMaxMs: 40, drop: 0.1, duplicate: 0 });
    expect(s.accounts.asset.get('alice')?.get('OUSG')).toBe(1000n);
    expect(s.accounts.payment.get('bob')?.get('USD')).toBe(50_000_000n);
    expect(s.settlements[0]).toEqual({
      id: 's1',
      atMs: 0,
      deadlineAfterMs: 10_000,
      reportWindowMs: 20_000,
      marginMs: 5_000,
      asset: { seller: 'alice', buyer: 'bob', token: 'OUSG', amount: 100n },
      payment: { payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
    });
    expect(s.settlements[1]?.atMs).toBe(1_500);
    expect(s.faults).toEqual([
      { kind: 'partition', atMs: 1_000, untilMs: 4_000, groups: [[1, 2], [3, 4]] },
      { kind: 'crash', atMs: 2_000, untilMs: 6_000, node: 3 },
      { kind: 'isolate', atMs: 0, untilMs: 2_000, node: 1 },
      { kind: 'leg', atMs: 0, untilMs: null, settlement: 's1', leg: 'asset', fail: 'late-lock', afterMs: 2_000, times: 0 },
      { kind: 'leg', atMs: 0, untilMs: null, settlement: 's2', leg: 'payment', fail: 'apply-error', afterMs: 0, times: 3 },
      { kind: 'leg', atMs: 1_000, untilMs: 3_000, settlement: 's2', leg: 'asset', fail: 'unavailable', afterMs: 0, times: 0 },
    ]);
    expect({ ...s.expect.outcomes }).toEqual({ s1: 'commit', s2: 'any' });
    expect(s.expect.decideWithinMs).toBe(15_000);
    expect(s.expect.violations).toEqual(['all-or-nothing-b']);
    expect(Object.isFrozen(s) && Object.isFrozen(s.settlements) && Object.isFrozen(s.faults[0])).toBe(true);
  });

  it('applies the defaults of format v1', () => {
    const s = parseScenario(MINIMAL, FILE);
    expect(s.description).toBe('');
    expect(s.seed).toBe(1);
    expect(s.network).toEqual({ latencyMinMs: 1, latencyMaxMs: 10, drop: 0, duplicate: 0 });
    expect(s.accounts.asset.size + s.accounts.payment.size).toBe(0);
    expect(s.settlements[0]).toMatchObject({ atMs: 0, deadlineAfterMs: 10_000, reportWindowMs: 30_000, marginMs: 10_000 });
    expect(s.faults).toEqual([]);
    expect(Object.keys(s.expect.outcomes)).toEqual([]);
    expect(s.expect.decideWithinMs).toBeNull();
    expect(s.expect.violations).toEqual([]);
  });

  it('defaults each latency bound separately and a fault`s `at` to 0', () => {
    const s = parseScenario(`${MINIMAL}network: { latency: { max: 50ms } }\nfaults: [{ crash: n2 }]\n`, FILE);
    expect(s.network.latencyMinMs).toBe(1);
    expect(s.network.latencyMaxMs).toBe(50);
    expect(s.faults).toEqual([{ kind: 'crash', atMs: 0, untilMs: null, node: 2 }]);
  });

  it('keeps integers beyond 2^53 exact', () => {
    const big = 2n ** 200n + 7n;
    const text = edit('amount: 100 }', `amount: ${big} }`, edit('OUSG: 1000', `OUSG: ${big * 3n}`));
    const s = parseScenario(text, FILE);
    expect(s.settlements[0]?.asset.amount).toBe(big);
    expect(s.accounts.asset.get('alice')?.get('OUSG')).toBe(big * 3n);
  });

  it('puts nodes listed in no partition group into one extra group', () => {
    const s = parseScenario(edit('[[n1, n2], [n3, n4]]', '[[n4]]'), FILE);
    expect(s.faults[0]).toMatchObject({ kind: 'partition', groups: [[4], [1, 2, 3]] });
    const t = parseScenario(edit('[[n1, n2], [n3, n4]]', '[[n2], [n4]]'), FILE);
    expect(t.faults[0]).toMatchObject({ kind: 'partition', groups: [[2], [4], [1, 3]] });
  });

  it('defaults apply-error `times` to 1 and accepts windows that touch', () => {
    const text = edit('fail: apply-error, times: 3', 'fail: apply-error', edit('{ at: 0s, until: 2s, isolate: n1 }', '{ at: 6s, crash: n3 }'));
    const s = parseScenario(text, FILE);
    expect(s.faults.find((f) => f.kind === 'leg' && f.fail === 'apply-error')).toMatchObject({ times: 1 });
    expect(s.faults.filter((f) => f.kind === 'crash')).toHaveLength(2);
  });

  it('reads the admission block (only the keys given) and expect.refused', () => {
    const s = parseScenario(`${MINIMAL}admission: { openSettlementsMax: 2, commitGuard: 5s }\nexpect: { refused: { s1: full } }\n`, FILE);
    expect(s.admission).toEqual({ openSettlementsMax: 2, commitGuardMs: 5_000 });
    expect({ ...s.expect.refused }).toEqual({ s1: 'full' });
    expect(parseScenario(`${MINIMAL}admission: { horizonMax: 2h }\n`, FILE).admission).toEqual({ horizonMaxMs: 7_200_000 });
    expect(parseScenario(MINIMAL, FILE).admission).toBeUndefined();
  });

  it('accepts a settlement id of exactly 64 bytes, and `constructor` as an id', () => {
    const id64 = 'é'.repeat(32); // 2 bytes each in UTF-8
    const s = parseScenario(edit('id: s1', `id: ${id64}`, MINIMAL), FILE);
    expect(s.settlements[0]?.id).toBe(id64);
    const c = parseScenario(`${edit('id: s1', 'id: constructor', MINIMAL)}expect: { outcomes: { constructor: abort } }\n`, FILE);
    expect(c.expect.outcomes['constructor']).toBe('abort');
    expect(parseScenario(MINIMAL, FILE).expect.outcomes['constructor']).toBeUndefined();
  });
});

describe('parseScenario: errors name the file, the key path and what was expected', () => {
  it('gives the exact message for a misspelt key', () => {
    const e = scenarioError(edit('deadline: 10s', 'deadlin: 10s'));
    expect(e.message).toBe(
      'scenarios/x.yaml: settlements[0].deadlin: unknown key; expected one of id, at, deadline, reportWindow, margin, asset, payment',
    );
    expect(e).toMatchObject({ file: FILE, keyPath: 'settlements[0].deadlin', name: 'ScenarioError' });
  });

  const cases: readonly (readonly [string, string, string, string])[] = [
    // [what, text, key path, a word the message must contain]
    ['misspelt top-level key', edit('seed: 3', 'sede: 3'), 'sede', 'one of name, description, seed'],
    ['misspelt nested key', edit('latency: {', 'latncy: {'), 'network.latncy', 'one of latency, drop, duplicate'],
    ['misspelt key in a fault', edit('leg: asset, fail: late-lock', 'legg: asset, fail: late-lock'), 'faults[3].legg', 'unknown key'],
    ['key of another fault kind', edit('crash: n3 }', 'crash: n3, times: 2 }'), 'faults[1].times', 'one of at, until, crash'],
    ['missing name', edit('name: base\n', ''), 'name', 'missing required key'],
    ['missing nodes', edit('nodes: 4\n', ''), 'nodes', 'missing required key'],
    ['missing settlements', MINIMAL.slice(0, MINIMAL.indexOf('settlements:')), 'settlements', 'missing required key'],
    ['missing deadline', edit('    deadline: 5s\n', ''), 'settlements[1].deadline', 'missing required key'],
    ['missing amount', edit('currency: USD, amount: 1000000 }', 'currency: USD }'), 'settlements[1].payment.amount', 'missing required key'],
    ['missing leg', edit('leg: payment, fail: apply-error', 'fail: apply-error'), 'faults[4].leg', 'missing required key'],
    ['duration without unit', edit('deadline: 10s', 'deadline: 10'), 'settlements[0].deadline', 'unit'],
    ['duration with a space', edit('deadline: 10s', 'deadline: 10 s'), 'settlements[0].deadline', 'not a duration'],
    ['negative duration', edit('at: 1.5s', 'at: -1.5s'), 'settlements[1].at', 'not a duration'],
    ['zero deadline', edit('deadline: 10s', 'deadline: 0s'), 'settlements[0].deadline', 'at least 1ms'],
    ['sub-ms duration', edit('decideWithin: 15s', 'decideWithin: 0.5ms'), 'expect.decideWithin', 'not a duration'],
    ['time beyond the bound', edit('deadline: 10s', 'deadline: 25h'), 'settlements[0]', 'at most 24h'],
    ['unknown node', edit('crash: n3', 'crash: n5'), 'faults[1].crash', 'n1..n4'],
    ['not a node name', edit('isolate: n1', 'isolate: node1'), 'faults[2].isolate', 'n1..n4'],
    ['node n0', edit('isolate: n1', 'isolate: n0'), 'faults[2].isolate', 'n1..n4'],
    ['unknown node in a partition', edit('[n3, n4]]', '[n3, n9]]'), 'faults[0].partition[1][1]', 'n1..n4'],
    ['node in two partition groups', edit('[n3, n4]]', '[n3, n1]]'), 'faults[0].partition[1][1]', 'at most one group'],
    ['empty partition group', edit('[n3, n4]]', '[]]'), 'faults[0].partition[1]', 'non-empty'],
    ['partition of one group', edit('[[n1, n2], [n3, n4]]', '[[n1, n2, n3, n4]]'), 'faults[0].partition', 'at least two groups'],
    ['unknown settlement in outcomes', edit('s2: any }', 's2: any, s9: commit }'), 'expect.outcomes.s9', 's1, s2'],
    ['bad outcome', edit('s1: commit,', 's1: commited,'), 'expect.outcomes.s1', 'commit, abort, any'],
    ['misspelt admission key', `${MINIMAL}admission: { commitGaurd: 1s }\n`, 'admission.commitGaurd', 'one of openSettlementsMax, horizonMax, commitGuard'],
    ['admission bound of zero', `${MINIMAL}admission: { openSettlementsMax: 0 }\n`, 'admission.openSettlementsMax', '1 to 1000000'],
    ['admission duration without unit', `${MINIMAL}admission: { horizonMax: 400 }\n`, 'admission.horizonMax', 'unit'],
    ['unknown refusal reason', `${MINIMAL}expect: { refused: { s1: busy } }\n`, 'expect.refused.s1', 'full, late, window-too-short, horizon'],
    ['refusal of an unknown settlement', `${MINIMAL}expect: { refused: { s9: full } }\n`, 'expect.refused.s9', 's1'],
    ['refused and with an outcome', `${MINIMAL}expect: { outcomes: { s1: commit }, refused: { s1: full } }\n`, 'expect.refused.s1', 'not both'],
    ['unknown settlement in a leg fault', edit('settlement: s1,', 'settlement: s7,'), 'faults[3].settlement', 's1, s2'],
    ['duplicate id', edit('id: s2', 'id: s1'), 'settlements[1].id', 'unique'],
    ['empty id', edit('id: s2', 'id: ""'), 'settlements[1].id', 'non-empty'],
    ['id over 64 bytes', edit('id: s1', `id: ${'x'.repeat(65)}`, MINIMAL), 'settlements[0].id', '64 bytes'],
    ['numeric id', edit('id: s1', 'id: 1', MINIMAL), 'settlements[0].id', 'is not a string'],
    ['id with a control character', edit('id: s1', 'id: "s\\u0007"', MINIMAL), 'settlements[0].id', 'control'],
    ['id with a lone surrogate', edit('id: s1', 'id: "s\\uD800"', MINIMAL), 'settlements[0].id', 'surrogate'],
    ['float amount', edit('amount: 100 }', 'amount: 100.5 }'), 'settlements[0].asset.amount', 'integer'],
    ['integral float amount', edit('amount: 100 }', 'amount: 100.0 }'), 'settlements[0].asset.amount', 'integer'],
    ['exponent amount', edit('amount: 100 }', 'amount: 1e3 }'), 'settlements[0].asset.amount', 'integer'],
    ['zero amount', edit('amount: 100 }', 'amount: 0 }'), 'settlements[0].asset.amount', 'out of range'],
    ['string amount', edit('amount: 100 }', 'amount: "100" }'), 'settlements[0].asset.amount', 'integer'],
    ['amount of 2^256', edit('amount: 100 }', `amount: ${2n ** 256n} }`), 'settlements[0].asset.amount', '2^256'],
    ['negative balance', edit('OUSG: 1000', 'OUSG: -1'), 'accounts.asset.alice.OUSG', 'out of range'],
    ['float balance', edit('USD: 50000000', 'USD: 500000.5'), 'accounts.payment.bob.USD', 'integer'],
    ['balances not a mapping', edit('{ alice: { OUSG: 1000 } }', '{ alice: 1000 }'), 'accounts.asset.alice', 'mapping'],
    ['numeric party key', edit('{ alice: { OUSG: 1000 } }', '{ 7: { OUSG: 1000 } }'), 'accounts.asset.7', 'string keys'],
    ['nodes zero', edit('nodes: 4', 'nodes: 0'), 'nodes', '1 to 100'],
    ['nodes 101', edit('nodes: 4', 'nodes: 101'), 'nodes', '1 to 100'],
    ['nodes as a float', edit('nodes: 4', 'nodes: 4.0'), 'nodes', 'integer'],
    ['negative seed', edit('seed: 3', 'seed: -1'), 'seed', 'out of range'],
    ['seed above 2^53', edit('seed: 3', 'seed: 9007199254740992'), 'seed', 'out of range'],
    ['drop of 1', edit('drop: 0.1', 'drop: 1'), 'network.drop', '0 ≤ p < 1'],
    ['negative duplicate', edit('duplicate: 0', 'duplicate: -0.2'), 'network.duplicate', '0 ≤ p < 1'],
    ['latency min above max', edit('min: 5ms', 'min: 50ms'), 'network.latency', 'min ≤ max'],
    ['empty settlements', 'name: m\nnodes: 4\nsettlements: []\n', 'settlements', 'at least one'],
    ['settlement not a mapping', edit('  - id: s1\n', '  - s1\n  - id: s1\n', MINIMAL), 'settlements[0]', 'mapping'],
    ['until before at', edit('at: 2s, until: 6s', 'at: 6s, until: 2s'), 'faults[1].until', 'after at'],
    ['until equal to at', edit('at: 2s, until: 6s', 'at: 2s, until: 2s'), 'faults[1].until', 'after at'],
    ['unavailable without until', edit('{ at: 1s, until: 3s, settlement: s2', '{ at: 1s, settlement: s2'), 'faults[5].until', 'missing required key'],
    ['until on reject', edit('fail: late-lock, after: 2s', 'fail: reject, until: 2s'), 'faults[3].until', 'only fail: unavailable'],
    ['after on reject', edit('fail: late-lock, after: 2s', 'fail: reject, after: 2s'), 'faults[3].after', 'only fail: late-lock'],
    ['late-lock without after', edit('fail: late-lock, after: 2s', 'fail: late-lock'), 'faults[3].after', 'missing required key'],
    ['times on never-lock', edit('fail: apply-error, times: 3', 'fail: never-lock, times: 3'), 'faults[4].times', 'only fail: apply-error'],
    ['times zero', edit('times: 3', 'times: 0'), 'faults[4].times', '1 to 1000'],
    ['unknown leg', edit('leg: asset, fail: late-lock', 'leg: cash, fail: late-lock'), 'faults[3].leg', 'asset, payment'],
    ['unknown leg failure', edit('fail: late-lock', 'fail: explode'), 'faults[3].fail', 'reject, never-lock'],
    ['two prepare faults on one leg', `${BASE.slice(0, BASE.indexOf('expect:'))}  - { settlement: s1, leg: asset, fail: reject }\n`, 'faults[6]', 'at most one of reject'],
    ['overlapping crash windows', edit('{ at: 0s, until: 2s, isolate: n1 }', '{ at: 5s, crash: n3 }'), 'faults[2]', 'do not overlap'],
    ['two fault kinds', edit('crash: n3 }', 'crash: n3, isolate: n2 }'), 'faults[1]', 'more than one fault kind (crash, isolate)'],
    ['no fault kind', edit('{ at: 2s, until: 6s, crash: n3 }', '{ at: 2s, until: 6s }'), 'faults[1]', 'exactly one of crash'],
    ['misspelt fault kind', edit('crash: n3', 'crahs: n3'), 'faults[1].crahs', 'unknown key'],
    ['fault not a mapping', edit('{ at: 2s, until: 6s, crash: n3 }', 'crash n3'), 'faults[1]', 'mapping'],
    ['unknown invariant', edit('[all-or-nothing-b]', '[all-or-nothing-c]'), 'expect.violations[0]', 'agreement'],
    ['invariant twice', edit('[all-or-nothing-b]', '[agreement, agreement]'), 'expect.violations[1]', 'at most once'],
    ['empty name', edit('name: base', 'name: ""'), 'name', 'non-empty'],
    ['description not a string', edit('description: every section once', 'description: [a, b]'), 'description', 'a string'],
  ];

  it.each(cases)('%s', (_what, text, keyPath, word) => {
    const e = scenarioError(text);
    expect(e.file).toBe(FILE);
    expect(e.keyPath).toBe(keyPath);
    expect(e.message.startsWith(`${FILE}: ${keyPath}: `)).toBe(true);
    expect(e.message).toContain('; expected ');
    expect(e.message).toContain(word);
  });

  it('reads the network, clock, reorg and Byzantine fault kinds', () => {
    const kinds = [
      ['{ at: 1s, until: 2s, delay: n2, extra: 300ms }', { kind: 'delay', atMs: 1000, untilMs: 2000, node: 2, extraMs: 300 }],
      ['{ at: 0s, until: 2s, drop: 0.5, from: n1, to: [n2, n3] }', { kind: 'drop', atMs: 0, untilMs: 2000, rate: 0.5, from: [1], to: [2, 3] }],
      ['{ at: 0s, until: 2s, duplicate: 0.25 }', { kind: 'duplicate', atMs: 0, untilMs: 2000, rate: 0.25, from: [1, 2, 3, 4], to: [1, 2, 3, 4] }],
      ['{ at: 0s, clock-skew: n3, behind: 2s }', { kind: 'clock-skew', atMs: 0, untilMs: null, target: 3, skewMs: -2000 }],
      ['{ at: 0s, clock-skew: asset, ahead: 1s }', { kind: 'clock-skew', atMs: 0, untilMs: null, target: 'asset', skewMs: 1000 }],
      ['{ at: 200ms, reorg: asset, settlement: s1 }', { kind: 'reorg', atMs: 200, untilMs: null, settlement: 's1' }],
      ['{ byzantine: n4, behaviour: equivocate }', { kind: 'byzantine', atMs: 0, untilMs: null, node: 4, behaviour: 'equivocate' }],
    ] as const;
    for (const [yaml, fault] of kinds) {
      const s = parseScenario(edit('{ at: 0s, until: 2s, isolate: n1 }', yaml), FILE);
      expect(s.faults[2]).toEqual(fault);
    }
  });

  it.each([
    ['a delay without extra', '{ delay: n2 }', 'faults[2].extra', 'duration'],
    ['a drop rate of 0', '{ drop: 0, from: n1 }', 'faults[2].drop', 'probability in (0, 1)'],
    ['a drop from an unknown node', '{ drop: 0.5, from: n9 }', 'faults[2].from', 'n1..n4'],
    ['a skew both ahead and behind', '{ clock-skew: n1, ahead: 1s, behind: 1s }', 'faults[2]', 'exactly one of ahead or behind'],
    ['a skew of neither', '{ clock-skew: n1 }', 'faults[2]', 'exactly one of ahead or behind'],
    ['a reorg of the bank', '{ reorg: payment, settlement: s1 }', 'faults[2].reorg', "'asset'"],
    ['a reorg with until', '{ until: 2s, reorg: asset, settlement: s1 }', 'faults[2].until', 'no until'],
    ['a reorg of an unknown settlement', '{ reorg: asset, settlement: s9 }', 'faults[2].settlement', 'settlement ids'],
    ['an unknown Byzantine behaviour', '{ byzantine: n2, behaviour: sneaky }', 'faults[2].behaviour', 'equivocate'],
  ])('refuses %s, naming the key', (_what, yaml, keyPath, expected) => {
    const e = scenarioError(edit('{ at: 0s, until: 2s, isolate: n1 }', yaml));
    expect(e.keyPath).toBe(keyPath);
    expect(e.message).toContain(expected);
  });

  it('refuses a Byzantine member when n < 4 (f = 0)', () => {
    const e = scenarioError(`${MINIMAL.replace('nodes: 4', 'nodes: 3')}faults:\n  - { byzantine: n1, behaviour: silent }\n`);
    expect(e.keyPath).toBe('faults[0].byzantine');
    expect(e.message).toContain('nodes: 4 or more');
  });

  it.each([
    ['an unclosed flow sequence', edit('[n3, n4]]', '[n3, n4]'), 26],
    ['a duplicate key', edit('  drop: 0.1\n', '  drop: 0.1\n  drop: 0.2\n'), 8],
    ['bad indentation', edit('    at: 0s\n', '   at: 0s\n'), 14],
  ])('turns %s into a ScenarioError with its line', (_what, text, line) => {
    const e = scenarioError(text);
    expect(e.keyPath).toBe(`line ${line}`);
    expect(e.message).toMatch(new RegExp(`^${FILE}: line ${line}: .+; expected valid YAML$`));
  });

  it.each([
    ['an empty file', '', '(top level)'],
    ['a list at the top', '- a\n- b\n', '(top level)'],
    ['an unresolved alias', `${MINIMAL}description: *nowhere\n`, '(document)'],
    ['two documents', `${MINIMAL}---\nname: other\n`, 'line 8'],
    ['an unknown tag', `${MINIMAL}description: !weird text\n`, 'line 8'],
  ])('turns %s into a ScenarioError', (_what, text, keyPath) => {
    expect(scenarioError(text).keyPath).toBe(keyPath);
  });

  it('refuses an alias bomb without expanding it', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const e = scenarioError(`${lines.join('\n')}\n${MINIMAL}`);
    expect(e).toBeInstanceOf(ScenarioError);
  });

  it('reads YAML 1.2 even under a %YAML 1.1 directive (no yes/no booleans, no sexagesimal)', () => {
    const e = scenarioError(`%YAML 1.1\n---\n${edit('nodes: 4', 'nodes: 0:4', MINIMAL)}`);
    expect(e.keyPath).toBe('nodes');
  });
});

describe('parseScenario: robustness', () => {
  type Tree = unknown;
  type Path = readonly (string | number)[];

  const KNOWN_KEYS = [
    ...['name', 'description', 'seed', 'nodes', 'network', 'accounts', 'settlements', 'faults', 'expect', 'random'],
    ...['latency', 'min', 'max', 'drop', 'duplicate', 'asset', 'payment', 'id', 'at', 'deadline', 'reportWindow', 'margin'],
    ...['seller', 'buyer', 'token', 'amount', 'payer', 'payee', 'currency', 'until', 'crash', 'partition', 'isolate'],
    ...['settlement', 'leg', 'fail', 'after', 'times', 'outcomes', 'decideWithin', 'violations', 'delay', 'byzantine'],
    ...['s1', 's2', 'n1', 'alice', 'bob', 'OUSG', 'USD', '__proto__', 'constructor'],
  ];

  /** Paths to every node below the root of a tree of Maps and arrays. */
  function allPaths(t: Tree, prefix: Path = []): Path[] {
    const children: [string | number, Tree][] = t instanceof Map ? [...t.entries()] : Array.isArray(t) ? t.map((v, i) => [i, v]) : [];
    return children.flatMap(([k, v]) => [[...prefix, k], ...allPaths(v, [...prefix, k])]);
  }

  function clone(t: Tree): Tree {
    if (t instanceof Map) return new Map([...t.entries()].map(([k, v]) => [k, clone(v)]));
    if (Array.isArray(t)) return t.map(clone);
    return t;
  }

  type Mutation = { readonly pick: number; readonly op: 'delete' | 'rename' | 'replace'; readonly key: string; readonly value: unknown };

  function mutate(root: Tree, m: Mutation): void {
    const paths = allPaths(root);
    const path = paths[m.pick % paths.length];
    if (path === undefined) return;
    let parent: Tree = root;
    for (const k of path.slice(0, -1)) parent = parent instanceof Map ? parent.get(k) : (parent as Tree[])[k as number];
    const last = path[path.length - 1] as string | number;
    if (parent instanceof Map) {
      if (m.op === 'delete') parent.delete(last);
      else if (m.op === 'replace') parent.set(last, m.value);
      else {
        const entries = [...parent.entries()].map(([k, v]): [unknown, unknown] => [k === last ? m.key : k, v]);
        parent.clear();
        for (const [k, v] of entries) parent.set(k, v);
      }
    } else if (Array.isArray(parent)) {
      if (m.op === 'delete') parent.splice(last as number, 1);
      else parent[last as number] = m.value;
    }
  }

  const mutation: fc.Arbitrary<Mutation> = fc.record({
    pick: fc.nat(),
    op: fc.constantFrom('delete' as const, 'rename' as const, 'replace' as const),
    key: fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 })),
    value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }), fc.constantFrom('10s', '0s', 'n1', 'n99', 's1', 'commit', 'reject', 'late-lock', '1.5s')),
  });

  const sources = [BASE, MINIMAL, readFileSync(join(SCENARIOS_DIR, 'no-quorum-partition-heal.yaml'), 'utf8')];

  it('after random key deletions, renames and value replacements either parses well-formed or throws ScenarioError', () => {
    const trees = sources.map((text) => parseYaml(text, { intAsBigInt: true, mapAsMap: true }) as Tree);
    fc.assert(
      fc.property(fc.nat({ max: trees.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const tree = clone(trees[which]);
        for (const m of mutations) mutate(tree, m);
        const text = stringifyYaml(tree);
        try {
          checkWellFormed(parseScenario(text, FILE));
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          expect(e.message.startsWith(`${FILE}: `)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('after random character edits of the text either parses or throws ScenarioError', () => {
    const edits = fc.array(fc.record({ at: fc.nat(), cut: fc.nat({ max: 3 }), insert: fc.string({ maxLength: 3, unit: fc.constantFrom(...' :-[]{},&*!"\'\n#|>%0123456789abn.'.split('')) }) }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(fc.nat({ max: sources.length - 1 }), edits, (which, list) => {
        let text = sources[which] ?? '';
        for (const { at, cut, insert } of list) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + cut);
        }
        try {
          checkWellFormed(parseScenario(text, FILE));
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });
});
