/**
 * Protocol 2 end to end on real processes: `tandem cluster up --protocol 2` starts four nodes
 * running NodeRuntimeV2 over libp2p (wire version 2) with the leg host anchored to the v2
 * configuration digest, and `tandem settle` commits one settlement and prints the height whose
 * batch decided it, the batch's size and (real legs) its share of the settleBatch gas. Needs the
 * built dist (pnpm test builds first). Every process a cluster starts is stopped in afterAll.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { alive, clusterDown, readState, recordedProtocol, restartNodeAndWait } from '@tandem/devnet';
import { tandem } from './capture.js';

const dirs: string[] = [];


async function upV2(legs: 'memory' | 'real'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `tandem-cluster-v2-${legs}-`));
  dirs.push(dir);
  const up = await tandem('cluster', 'up', '--dir', dir, '--legs', legs, '--protocol', '2');
  expect(up.code, up.err).toBe(0);
  expect(up.out).toContain('4 nodes up and connected (protocol 2: batches)');
  expect(recordedProtocol(dir)).toBe(2);
  expect(readState(dir).protocol).toBe(2);
  return dir;
}

async function settle(dir: string, json: boolean): Promise<{ code: number; out: string; result: Record<string, unknown> | null }> {
  const r = await tandem('settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '20s', ...(json ? ['--json'] : []));
  const last = r.out.trim().split('\n').pop() ?? '';
  return { code: r.code, out: r.out, result: json && last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : null };
}

afterAll(async () => {
  for (const dir of dirs) if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
}, 30_000);

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))('protocol 2 on real processes', () => {
  it('memory legs: a settlement commits in a batch; settle prints its height and batch size, and a restarted node resumes its chain', async () => {
    const dir = await upV2('memory');
    const text = await settle(dir, false);
    expect(text.code, text.out).toBe(0);
    expect(text.out).toMatch(/decided COMMIT at height \d+ in a batch of \d+: threshold report v2 over its root/);
    expect(text.out).toMatch(/batch: height \d+, \d+ settlements?, decided in round \d+; root [0-9a-f]{64}/);
    expect(text.out).toContain('verifies under the group key');
    expect(text.out).toContain('VALID');

    // A node stopped and started again resumes from its v2 write-ahead log and takes part again.
    const n2 = readState(dir).nodes.find((n) => n.id === 'n2')!;
    process.kill(n2.pid, 'SIGKILL');
    await vi.waitFor(() => expect(alive(n2.pid)).toBe(false), { timeout: 5_000 });
    await restartNodeAndWait(dir, 'n2');
    const { code, result } = await settle(dir, true);
    expect(code).toBe(0);
    expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' }, report: { verified: true } });
    expect(result!['height']).toBeGreaterThanOrEqual(2);
    expect(result!['batchSize']).toBeGreaterThanOrEqual(1);
    expect(result!['gasShare']).toBeNull(); // memory legs: no gas
    // Its second start resumed the chain it had decided before the kill (height 1 at least).
    const resumed = readFileSync(join(dir, 'logs', 'n2.log'), 'utf8').split('\n').filter((l) => l.includes('"event":"resumed"'));
    expect(resumed).toHaveLength(2);
    expect((JSON.parse(resumed[1]!) as { tip: number }).tip).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('real legs (anvil with DvpEscrowV2, PGlite bank): the settlement’s share of the settleBatch gas', async () => {
    const dir = await upV2('real');
    const { code, result } = await settle(dir, true);
    expect(code).toBe(0);
    expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' }, report: { verified: true } });
    expect(result!['height']).toBe(1);
    const transactions = result!['transactions'] as { call: string; gasUsed: string; for: string }[];
    const batchTx = transactions.find((t) => t.call === 'settleBatch')!;
    expect(batchTx.for).toBe((result!['report'] as { root: string }).root);
    // One entry in the call: its share is the call's gas.
    expect(result!['batchSize']).toBe(1);
    expect(result!['gasShare']).toBe(Number(batchTx.gasUsed));
    expect(transactions.some((t) => t.call === 'settle')).toBe(false);
  }, 180_000);
});
