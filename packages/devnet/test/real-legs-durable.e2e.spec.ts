/**
 * The real legs of a `cluster up` (embedded chain, PGlite bank), end to end on real processes:
 *
 * - no listener of the cluster answers a chain cheat method (`evm_increaseTime`): every TCP port
 *   any of its processes listens on — the nodes, the leg host, and the anvil the leg host runs —
 *   is probed without credentials;
 * - the chain keys are the cluster's own (mode 0600 files), none of anvil's public dev keys;
 * - a clean `down` / `up` on the same directory resumes the same escrow on the same chain state
 *   and the same bank, and both legs' histories and the leg host's log keep every earlier entry.
 *
 * Needs the built dist (pnpm build); every process is stopped in afterAll.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEYS, isolationProblem } from '@tandem/leg-evm';
import { LegHostAdminClient } from '@tandem/leg-host';
import {
  LOCAL_DEPLOYER_KEY_FILE,
  NODE_MAIN,
  PARTY_ACCOUNTS_FILE,
  childPids,
  clusterCredentials,
  clusterDown,
  clusterUp,
  legHostLog,
  readLegEvents,
  readState,
  runSettlement,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-durable-'));

/** The TCP ports `pid` listens on, and whether it shares this process's network namespace. */
function listeners(pid: number): { ports: number[]; sameNetwork: boolean } {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return { ports, sameNetwork: readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net') };
}

/** What 127.0.0.1:port answers to a JSON-RPC evm_increaseTime without credentials: the JSON-RPC result if any. */
async function cheat(port: number): Promise<unknown> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_increaseTime', params: [3600] }),
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json().catch(() => null)) as { result?: unknown } | null;
    return body?.result;
  } catch {
    return undefined; // nothing there, or not HTTP (libp2p)
  }
}

async function settleOnce(): Promise<string> {
  const { code, result } = await runSettlement({ dir, seller: 'alice', buyer: 'bob', asset: '10:OUSG', price: '1000:USD', deadline: '20s' }, () => {});
  expect(code).toBe(0);
  expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
  return result!.id;
}

async function legHistories(): Promise<{ asset: string[]; payment: string[] }> {
  const st = readState(dir);
  const admin = new LegHostAdminClient({ url: st.legHost.url, credential: clusterCredentials(dir).admin, timeoutMs: 5_000 });
  const line = (e: { kind: string; settlementIdHex?: string }) => `${e.kind} ${e.settlementIdHex ?? ''}`.trim();
  return { asset: (await readLegEvents(admin, 'asset')).map(line), payment: (await readLegEvents(admin, 'payment')).map(line) };
}

const ready = existsSync(NODE_MAIN) && isolationProblem() === null;

describe.skipIf(!ready)('the real legs of a local cluster: no back door, nothing lost across down/up', () => {
  afterAll(async () => {
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
  }, 30_000);

  it('answers no chain cheat method on any port its processes listen on, and uses its own chain keys', async () => {
    await clusterUp(dir, { nodes: '4', legs: 'real' });
    const st = readState(dir);
    const chain = childPids(st.legHost.pid, 'anvil');
    expect(chain).toHaveLength(1);
    let probed = 0;
    for (const pid of [st.legHost.pid, ...chain, ...st.nodes.map((n) => n.pid)]) {
      const { ports, sameNetwork } = listeners(pid);
      expect(ports.length, `pid ${pid} listens`).toBeGreaterThan(0);
      // anvil's HTTP listener exists, in a network namespace of its own.
      expect(sameNetwork).toBe(!chain.includes(pid));
      for (const port of ports) {
        expect(await cheat(port), `port ${port} of pid ${pid}`).toBeUndefined();
        probed++;
      }
    }
    expect(probed).toBeGreaterThanOrEqual(2 * st.nodes.length + 2);

    const data = join(dir, 'legs-data');
    const deployerKey = readFileSync(join(data, LOCAL_DEPLOYER_KEY_FILE), 'utf8').trim();
    const parties = JSON.parse(readFileSync(join(data, PARTY_ACCOUNTS_FILE), 'utf8')) as { accounts: Record<string, { privateKey: string }> };
    const keys = [deployerKey, ...Object.values(parties.accounts).map((a) => a.privateKey)];
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(ANVIL_DEV_PRIVATE_KEYS).not.toContain(key);
    for (const file of [LOCAL_DEPLOYER_KEY_FILE, PARTY_ACCOUNTS_FILE]) expect(statSync(join(data, file)).mode & 0o777).toBe(0o600);
    // The deployer the leg host logged is that key's account; no key is in its log.
    const log = readFileSync(legHostLog(dir), 'utf8');
    expect(log).toContain(`"deployer":"${privateKeyToAccount(deployerKey as `0x${string}`).address}"`);
    for (const key of keys) expect(log).not.toContain(key.slice(2));
  }, 120_000);

  it('resumes its escrow, chain state and bank after down / up, keeping both legs\' histories and the leg host log', async () => {
    const first = await settleOnce();
    const before = readState(dir);
    const histories = await legHistories();
    expect(histories.asset).toEqual(expect.arrayContaining([`lock ${first}`, `release ${first}`]));
    expect(histories.payment).toEqual(expect.arrayContaining([`hold ${first}`, `post ${first}`]));
    const logBefore = readFileSync(legHostLog(dir), 'utf8');

    await clusterDown(dir);
    await clusterUp(dir, { legs: 'real' });
    const after = readState(dir);
    expect(after.venues).toEqual(before.venues); // the same escrow: nothing redeployed
    expect(readFileSync(legHostLog(dir), 'utf8').startsWith(logBefore)).toBe(true); // appended to, never truncated
    expect(readFileSync(legHostLog(dir), 'utf8')).toMatch(/"event":"evm-deployment","resumed":true/);

    const second = await settleOnce();
    const again = await legHistories();
    // Every earlier entry is still there, in order, with the new ones after it (and the second up's mints).
    expect(again.asset.slice(0, histories.asset.length)).toEqual(histories.asset);
    expect(again.payment.slice(0, histories.payment.length)).toEqual(histories.payment);
    expect(again.asset).toEqual(expect.arrayContaining([`lock ${second}`, `release ${second}`]));
    expect(again.payment).toEqual(expect.arrayContaining([`hold ${second}`, `post ${second}`]));
  }, 180_000);
});
