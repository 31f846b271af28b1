/**
 * `--recover observe-only` for a protocol-2 node on real processes: a 4-node `cluster up --protocol
 * 2` (memory legs) decides a settlement; n2 is SIGKILLed and a line of its v2 log altered. Started
 * again it refuses (exit 2, naming the flag); with `--recover observe-only` it starts silenced
 * (`observeOnly: true`), signs nothing, and follows the chain the others decide. Needs the built
 * dist. Every process started is stopped in afterAll (the recovered node is recorded in the
 * cluster's state, so `cluster down` stops it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { NODE_MAIN, alive, clusterCredentials, clusterDown, getJson, nodeEnvironment, readState, spawnLogged, waitConnected, writeState } from '@tandem/devnet';
import { tandem } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-recover-v2-'));

afterAll(async () => {
  if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
}, 30_000);

async function settle(): Promise<Record<string, unknown>> {
  const r = await tandem('settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '20s', '--json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')) || !existsSync(NODE_MAIN))('protocol 2: --recover observe-only on real processes', () => {
  it('a damaged v2 log: refused naming the flag; recovered, the node signs nothing and follows the chain', async () => {
    const up = await tandem('cluster', 'up', '--dir', dir, '--legs', 'memory', '--protocol', '2');
    expect(up.code, up.err).toBe(0);
    expect(await settle()).toMatchObject({ decision: 'commit' });

    const st = readState(dir);
    const n2 = st.nodes.find((n) => n.id === 'n2')!;
    process.kill(n2.pid, 'SIGKILL');
    await vi.waitFor(() => expect(alive(n2.pid)).toBe(false), { timeout: 5_000 });
    const log = join(JSON.parse(readFileSync(n2.config, 'utf8')).dataDir as string, 'v2.log');
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"op":"commit"', '"op":"commiT"');
    writeFileSync(log, lines.join('\n'));

    const refused = spawnSync(process.execPath, [NODE_MAIN, '--config', n2.config], { env: nodeEnvironment(), encoding: 'utf8', timeout: 30_000 });
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/v2\.log: line 2: altered[\s\S]*--recover observe-only/);

    const logOffset = readFileSync(n2.log, 'utf8').length;
    const child = spawnLogged(NODE_MAIN, ['--config', n2.config, '--recover', 'observe-only'], n2.log, nodeEnvironment());
    writeState(dir, { ...st, nodes: st.nodes.map((n) => (n.id === 'n2' ? { ...n, pid: child.pid! } : n)) });
    await waitConnected(n2, st.n, clusterCredentials(dir).control);

    const after = await settle();
    expect(after).toMatchObject({ decision: 'commit', report: { verified: true } });
    // It follows the chain: its tip reaches the height that decided the new settlement.
    await vi.waitFor(async () => {
      const status = (await getJson(`${n2.control}/status`, clusterCredentials(dir).control)) as { height: number };
      expect(status.height).toBeGreaterThanOrEqual(after['height'] as number);
    }, { timeout: 20_000, interval: 250 });
    const since = readFileSync(n2.log, 'utf8').slice(logOffset);
    expect(since).toMatch(/"event":"storage-recovered".*"quarantine":"damaged-\d+"/);
    expect(since).toMatch(/"event":"observe-only"/);
    expect(since).toMatch(/"event":"started".*"observeOnly":true/);
    expect(since).toMatch(/"event":"decided-height"/);
    expect(since).not.toMatch(/"event":"(bundle-signed|signed|height-round)"/);
  }, 150_000);
});
