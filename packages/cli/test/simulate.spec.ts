import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { captureStdio } from './capture.js';

const ROOT = join(import.meta.dirname, '../../..');
const { out, err } = captureStdio();
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-sim-'));
});

const simulate = (...args: string[]) => main(['node', 'tandem', 'simulate', ...args]);

const MINIMAL = `name: minimal
nodes: 4
accounts:
  asset: { alice: { OUSG: 10 } }
  payment: { bob: { USD: 1000 } }
settlements:
  - id: s1
    deadline: 5s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 1 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 100 }
expect:
  outcomes: { s1: commit }
`;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('tandem simulate', () => {
  it('prints the result object with --json and exits 0 when ok', async () => {
    const file = write('ok.yaml', MINIMAL);
    expect(await simulate(file, '--json', '--seed', '3')).toBe(0);
    const r = JSON.parse(out.join(''));
    expect(r).toMatchObject({ scenario: 'minimal', seed: 3, ok: true });
    expect(r.settlements).toEqual([expect.objectContaining({ id: 's1', decision: 'commit', asset: 'released', payment: 'posted' })]);
    expect(r.settlements[0].decidedAtMs).toBeGreaterThan(0);
    expect(r.invariants.map((i: { name: string }) => i.name)).toContain('agreement');
    expect(r.historyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.metrics.messages).toBeGreaterThan(0);
  });

  it('a misspelt key exits 2 with a message naming the file and the key', async () => {
    const file = write('typo.yaml', MINIMAL.replace('deadline: 5s', 'deadlin: 5s'));
    expect(await simulate(file)).toBe(2);
    const msg = err.join('');
    expect(msg).toContain(file);
    expect(msg).toContain('settlements[0].deadlin');
    expect(out.join('')).toBe('');
  });

  it('an unmet expectation exits 1 and prints the command that reproduces the run', async () => {
    const file = write('wrong.yaml', MINIMAL.replace('s1: commit', 's1: abort'));
    expect(await simulate(file, '--seed', '5')).toBe(1);
    expect(out.join('')).toContain('NOT OK');
    expect(err.join('')).toContain(`reproduce with: pnpm tandem simulate ${file} --seed 5`);
  });

  it('bad input: a missing file or a malformed seed exits 2', async () => {
    expect(await simulate(join(dir, 'nope.yaml'))).toBe(2);
    expect(err.join('')).toContain('nope.yaml');
    const file = write('ok.yaml', MINIMAL);
    expect(await simulate(file, '--seed', '-1')).toBe(2);
    expect(err.join('')).toContain('--seed');
  });

  it('--out writes result.json and history.jsonl', async () => {
    const file = write('ok.yaml', MINIMAL);
    const outDir = join(dir, 'out');
    expect(await simulate(file, '--out', outDir)).toBe(0);
    const r = JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8'));
    expect(r.ok).toBe(true);
    const lines = readFileSync(join(outDir, 'history.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => typeof JSON.parse(l).t === 'number')).toBe(true);
    expect(existsSync(join(outDir, 'result.json.tmp-' + process.pid))).toBe(false);
  });

  it('--out on an unusable path fails at once with exit 2 naming it, before the run', async () => {
    const file = write('ok.yaml', MINIMAL);
    const notDir = write('plain.txt', 'x');
    for (const bad of ['/proc/x', '/proc/x/y', notDir, join(notDir, 'sub')]) {
      err.length = 0;
      const t0 = Date.now();
      expect(await simulate(file, '--out', bad), bad).toBe(2);
      expect(Date.now() - t0, bad).toBeLessThan(2_000);
      expect(err.join(''), bad).toMatch(new RegExp(`^tandem: --out ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a directory this process can write to \\((ENOENT|ENOTDIR|EACCES)\\)\n$`));
    }
    expect(out.join('')).toBe('');
  });

  it('runs a library scenario by path', async () => {
    expect(await simulate(join(ROOT, 'scenarios/payment-rejected.yaml'), '--json')).toBe(0);
    expect(JSON.parse(out.join('')).settlements[0]).toMatchObject({ decision: 'abort', asset: 'refunded', payment: 'rejected' });
  });
});

describe('tandem demo', () => {
  it('--protocol 1 tells the story to the end and ends with the checker verdict OK', async () => {
    expect(await main(['node', 'tandem', 'demo', '--sim', '--protocol', '1'])).toBe(0);
    const text = out.join('');
    expect(text).toContain('INTENT dvp-1');
    expect(text).toContain('DECIDES COMMIT');
    expect(text).toContain('VALID');
    expect(text).toContain('DECIDES ABORT');
    expect(text).toMatch(/alice\s+900\s+100,000\.00 USD/);
    expect(text).toContain('scenario demo, seed 42: OK');
  });

  it('by default (protocol 2) tells it per height: each trade decided in a batch, its report v2 verified, its entry proven to each leg', async () => {
    expect(await main(['node', 'tandem', 'demo', '--sim'])).toBe(0);
    const text = out.join('');
    expect(text).toContain('protocol 2: heights');
    expect(text).toMatch(/signs a bundle: its observations of 1 open settlement/);
    expect(text).toMatch(/DECIDES height 1 in round 0: a batch of 1 \(dvp-1 COMMIT\)/);
    expect(text).toMatch(/DECIDES height 2 in round 0: a batch of 1 \(dvp-2 ABORT\)/);
    expect(text).toMatch(/height 1's report v2: .* verifies under the group public key [0-9a-f]{16}…: VALID; the same signature over another root: rejected\./s);
    expect(text).toContain('delivers dvp-1 (height 1) to the asset leg: the escrow checked its entry against the root by its Merkle proof and released the tokens');
    expect(text).toContain('delivers dvp-2 (height 2) to the asset leg: the escrow checked its entry against the root by its Merkle proof and refunded the seller');
    expect(text).toMatch(/commit-guard\s+ok/);
    expect(text).toContain('scenario demo, seed 42: OK');
  });

  it('refuses a --protocol other than 1 or 2 (exit 2, naming the flag)', async () => {
    expect(await main(['node', 'tandem', 'demo', '--sim', '--protocol', '3'])).toBe(2);
    expect(err.join('')).toContain('--protocol 3: expected 1 or 2');
    expect(out.join('')).toBe('');
  });
});
