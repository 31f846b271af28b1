import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildResult, drawScenario, parseScenario, simulate } from '@tandem/sim';
import { main } from '../src/main.js';
import { captureStdio } from './capture.js';
import { ProgressBar } from '../src/commands/explore.js';

const { out, err } = captureStdio();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-explore-'));
});

const explore = (...args: string[]) => main(['node', 'tandem', 'explore', ...args]);

/** One settlement; each seed draws the network and, with weight 1 in 2, a payment rejection. */
const RANDOM = `name: small
nodes: 4
accounts:
  asset: { alice: { OUSG: 10 } }
  payment: { bob: { USD: 1000 } }
settlements:
  - id: s1
    deadline: 2s
    reportWindow: 2s
    margin: 1s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 1 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 100 }
random:
  network:
    latency: { min: [1ms, 5ms], max: [5ms, 30ms] }
  legs:
    leg: [payment]
    weights: { none: 1, reject: 1 }
expect:
  outcomes: { s1: any }
  decideWithin: 10s
`;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('tandem explore', () => {
  it('--json prints the issue-4 object and exits 0 when every seed is ok', async () => {
    const file = write('ok.yaml', RANDOM);
    expect(await explore(file, '--seeds', '4', '--from', '10', '--json', '--jobs', '1')).toBe(0);
    const r = JSON.parse(out.join(''));
    expect(r).toMatchObject({ runs: 4, failures: [], from: 10, failuresOmitted: 0 });
    expect(Number.isInteger(r.bothValid) && r.bothValid >= 0 && r.bothValid <= 4).toBe(true);
    expect(Number.isInteger(r.elapsedMs) && r.elapsedMs >= 0).toBe(true);
    expect(r.decisions.commit + r.decisions.abort).toBe(4);
    expect(r.decisions.none).toBe(0);
    expect(r.rounds).toEqual({ p50: expect.any(Number), p99: expect.any(Number) });
    expect(err.join('')).toBe(''); // stderr is not a terminal here: no progress bar
  }, 60_000);

  it('a failing seed exits 1 and lists it with what broke and a replay command that reproduces it', async () => {
    const file = write('wrong.yaml', RANDOM.replace('s1: any', 's1: commit'));
    expect(await explore(file, '--seeds', '6', '--json', '--jobs', '1')).toBe(1);
    const r = JSON.parse(out.join(''));
    expect(r.runs).toBe(6);
    expect(r.failures.length).toBe(r.decisions.abort);
    expect(r.failures.length).toBeGreaterThan(0); // seeds 1..6 draw at least one rejection
    const failure = r.failures[0];
    expect(failure.violations).toEqual(['outcome of s1']);
    expect(failure.replay).toBe(`tandem simulate ${file} --seed ${failure.seed}`);

    // The replay command runs the same drawn scenario: the same seed fails the same way.
    out.length = 0;
    const args = failure.replay.split(' ').slice(1);
    expect(await main(['node', 'tandem', ...args, '--json'])).toBe(1);
    const replayed = JSON.parse(out.join(''));
    expect(replayed.seed).toBe(failure.seed);
    expect(replayed.settlements[0]).toMatchObject({ decision: 'abort', payment: 'rejected' });
  }, 60_000);

  it('--protocol 2 sweeps the scenario under protocol 2, and its replay commands say so (and reproduce)', async () => {
    const file = write('wrong-v2.yaml', RANDOM.replace('s1: any', 's1: commit'));
    expect(await explore(file, '--seeds', '6', '--json', '--jobs', '2', '--protocol', '2')).toBe(1);
    const r = JSON.parse(out.join(''));
    expect(r.failures.length).toBeGreaterThan(0);
    const failure = r.failures[0];
    expect(failure.replay).toBe(`tandem simulate ${file} --seed ${failure.seed} --protocol 2`);
    out.length = 0;
    expect(await main(['node', 'tandem', ...failure.replay.split(' ').slice(1), '--json'])).toBe(1);
    const replayed = JSON.parse(out.join(''));
    expect(replayed.seed).toBe(failure.seed);
    expect(replayed.settlements[0]).toMatchObject({ decision: 'abort', payment: 'rejected', height: expect.any(Number) });
    out.length = 0;
    expect(await explore(file, '--seeds', '1', '--protocol', '3')).toBe(2);
    expect(err.join('')).toContain('--protocol 3: expected 1 or 2');
  }, 60_000);

  it('--jobs 2 prints what --jobs 1 prints; --shard 0/2 and 1/2 merged by `explore merge` print the same', async () => {
    const file = write('wrong.yaml', RANDOM.replace('s1: any', 's1: commit'));
    const run = async (...args: string[]) => {
      out.length = 0;
      const code = await explore(...args);
      return { code, json: { ...JSON.parse(out.join('')), elapsedMs: 0 } };
    };
    const one = await run(file, '--seeds', '6', '--from', '3', '--jobs', '1', '--json');
    expect(one.json.failures.length).toBeGreaterThan(0); // failures whose order can differ
    expect(await run(file, '--seeds', '6', '--from', '3', '--jobs', '2', '--json')).toEqual(one);
    const shards = [];
    for (const i of [0, 1]) {
      const shard = await run(file, '--seeds', '6', '--from', '3', '--jobs', '1', '--shard', `${i}/2`, '--json');
      expect(shard.json).toMatchObject({ runs: 3, shard: { index: i, count: 2 } });
      shards.push(write(`shard-${i}.json`, JSON.stringify(shard.json)));
    }
    expect(await run('merge', shards[1]!, shards[0]!, '--json')).toEqual(one);
    out.length = 0;
    expect(await explore('merge', shards[0]!)).toBe(2);
    expect(err.join('')).toContain('merge: shard 1/2 missing');
    expect(await explore('merge', join(dir, 'nope.json'), shards[0]!)).toBe(2);
    expect(err.join('')).toContain('nope.json');
    expect(out.join('')).toBe('');
  }, 60_000);

  it('simulate FILE --seed S runs exactly the scenario that seed draws', async () => {
    const file = write('ok.yaml', RANDOM);
    expect(await main(['node', 'tandem', 'simulate', file, '--seed', '21', '--json'])).toBe(0);
    const viaCli = JSON.parse(out.join(''));
    const direct = buildResult(await simulate(drawScenario(parseScenario(RANDOM, file), 21), { seed: 21 }));
    expect(viaCli.historyHash).toBe(direct.historyHash);
    // The simulator draws by itself: the undrawn family and its drawn member run the same.
    const family = buildResult(await simulate(parseScenario(RANDOM, file), { seed: 21 }));
    expect(family.historyHash).toBe(direct.historyHash);
    const withoutRandom = buildResult(await simulate({ ...parseScenario(RANDOM, file), random: null }, { seed: 21 }));
    expect(viaCli.historyHash).not.toBe(withoutRandom.historyHash); // the draw changed the run
  }, 60_000);

  it('prints a readable summary without --json', async () => {
    const file = write('wrong.yaml', RANDOM.replace('s1: any', 's1: commit'));
    expect(await explore(file, '--seeds', '6', '--jobs', '1')).toBe(1);
    const text = out.join('');
    expect(text).toContain(`explore ${file}, seeds 1..6: NOT OK`);
    expect(text).toMatch(/runs\s+failures\s+both values valid\s+commit\s+abort\s+no decision/);
    expect(text).toMatch(new RegExp(`outcome of s1\\s+tandem simulate ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --seed \\d+`));
  }, 60_000);

  it('draws a progress bar on stderr when stderr is a terminal, fed by the worker threads', async () => {
    const file = write('ok.yaml', RANDOM);
    const had = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    try {
      expect(await explore(file, '--seeds', '2', '--json', '--jobs', '2')).toBe(0);
    } finally {
      if (had) Object.defineProperty(process.stderr, 'isTTY', had);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const bar = err.join('');
    expect(bar).toContain('] 2/2 seeds, 0 failing');
    expect(bar.endsWith('\r')).toBe(true); // cleared before the summary
    expect(JSON.parse(out.join('')).runs).toBe(2); // stdout holds only the JSON
  }, 60_000);

  it.each([
    ['no --seeds', [], 'seeds'],
    ['--seeds 0', ['--seeds', '0'], '--seeds'],
    ['--seeds abc', ['--seeds', 'abc'], '--seeds'],
    ['--seeds 1e3', ['--seeds', '1e3'], '--seeds'],
    ['--from -1', ['--seeds', '1', '--from', '-1'], '--from'],
    ['--from past the safe integers', ['--seeds', '2', '--from', String(Number.MAX_SAFE_INTEGER)], '--from'],
    ['--jobs 0', ['--seeds', '1', '--jobs', '0'], '--jobs'],
    ['--jobs two', ['--seeds', '1', '--jobs', 'two'], '--jobs'],
    ['--shard 2/2', ['--seeds', '2', '--shard', '2/2'], '--shard'],
    ['--shard 1', ['--seeds', '2', '--shard', '1'], '--shard'],
  ])('bad input (%s) exits 2 and names the option', async (_what, args, word) => {
    const file = write('ok.yaml', RANDOM);
    expect(await explore(file, ...args)).toBe(2);
    expect(err.join('')).toContain(word);
    expect(out.join('')).toBe('');
  });

  it('a missing file or a bad random: block exits 2 naming the file and the key', async () => {
    expect(await explore(join(dir, 'nope.yaml'), '--seeds', '1')).toBe(2);
    expect(err.join('')).toContain('nope.yaml');
    err.length = 0;
    const file = write('bad.yaml', RANDOM.replace('weights: { none: 1, reject: 1 }', 'weights: { none: 1, rejekt: 1 }'));
    expect(await explore(file, '--seeds', '1')).toBe(2);
    expect(err.join('')).toContain(`${file}: random.legs.weights.rejekt: unknown key`);
    expect(readFileSync(file, 'utf8')).toContain('rejekt'); // untouched
  });
});

describe('ProgressBar', () => {
  it('redraws at most every 100 ms, always on the last run, and clears itself', () => {
    const written: string[] = [];
    let now = 0;
    const bar = new ProgressBar((s) => written.push(s), () => now);
    bar.update(1, 4, 0);
    now = 50;
    bar.update(2, 4, 0); // too soon: skipped
    now = 160;
    bar.update(3, 4, 1);
    now = 170;
    bar.update(4, 4, 1); // the last one is always drawn
    expect(written).toEqual([
      `\r[${'#'.repeat(8)}${'.'.repeat(22)}] 1/4 seeds, 0 failing`,
      `\r[${'#'.repeat(23)}${'.'.repeat(7)}] 3/4 seeds, 1 failing`,
      `\r[${'#'.repeat(30)}] 4/4 seeds, 1 failing`,
    ]);
    bar.clear();
    expect(written.at(-1)).toMatch(/^\r +\r$/);
  });
});
