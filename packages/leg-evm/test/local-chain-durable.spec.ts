/**
 * The embedded chain (LocalChain): reachable only through its 0600 unix socket, its state durable
 * across any crash once `sync()` returned, and nothing beyond the durable height visible to the
 * adapter; killed, it is restarted from its state file by its owner; stopped and started again on
 * the same directory, it resumes.
 */
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Address, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEYS, isolationProblem } from '../src/anvil.js';
import { tandemTokenAbi } from '../src/artifacts.js';
import { type ChainClients, chainClients, deployToken, sendAndWait } from '../src/chain.js';
import { CHAIN_SOCKET_FILE, LocalChain } from '../src/local-chain.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-local-chain-'));
const chainDir = join(dir, 'chain');
const owner = privateKeyToAccount(generatePrivateKey());
const started: LocalChain[] = [];

async function start(): Promise<LocalChain> {
  const chain = await LocalChain.start({ dir: chainDir });
  started.push(chain);
  return chain;
}

function clientsOf(chain: LocalChain): ChainClients {
  return chainClients({ transport: chain.client.transport(), chainId: chain.chainId, account: owner });
}

async function balance(c: ChainClients, token: Address): Promise<bigint> {
  return c.publicClient.readContract({ address: token, abi: tandemTokenAbi, functionName: 'balanceOf', args: [owner.address] });
}

async function mint(c: ChainClients, token: Address, amount: bigint): Promise<void> {
  await sendAndWait(c, await c.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'mint', args: [owner.address, amount] }), 'mint');
}

/** TCP ports a process listens on, in its own network namespace (/proc/PID/net/tcp*). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]!] : [];
      } catch {
        return [];
      }
    }),
  );
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Does anything answer a TCP connection on 127.0.0.1:port from here? */
function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

afterAll(async () => {
  for (const c of started) await c.stop();
});

describe.skipIf(isolationProblem() !== null)('LocalChain: the embedded, isolated, durable chain', () => {
  let token: Address;

  it('is reachable only through its 0600 socket: its HTTP port is in a network namespace of its own, and it has no dev accounts', async () => {
    const chain = await start();
    expect(statSync(join(chainDir, CHAIN_SOCKET_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(chainDir).mode & 0o777).toBe(0o700);
    const ports = listeningPorts(chain.pid);
    expect(ports.length).toBeGreaterThan(0); // anvil always opens one…
    for (const port of ports) expect(await reachable(port)).toBe(false); // …that no process out here reaches
    expect(await chain.client.request('eth_accounts')).toEqual([]);
    // Funded by the owner of the socket only; a fresh key, none of anvil's public ones.
    expect(ANVIL_DEV_PRIVATE_KEYS.map((k) => privateKeyToAccount(k).address)).not.toContain(owner.address);
    await chain.client.request('anvil_setBalance', [owner.address, `0x${parseEther('10').toString(16)}`]);
    const c = clientsOf(chain);
    token = await deployToken(c, { name: 'T', symbol: 'T' });
    await mint(c, token, 100n);
    await chain.sync();
    expect(chain.durableHeight()).toBe(await c.publicClient.getBlockNumber({ cacheTime: 0 }));
  });

  it('killed, it is restarted from its state: what sync() made durable is there, a block mined after the last sync is not', async () => {
    const chain = started[0]!;
    const c = clientsOf(chain);
    const durable = chain.durableHeight();
    await mint(c, token, 5n); // mined, never synced
    expect(await balance(c, token)).toBe(105n);
    const pid = chain.pid;
    process.kill(pid, 'SIGKILL');
    const back = await waitUntil(async () => (chain.pid !== pid ? await c.publicClient.getBlockNumber({ cacheTime: 0 }) : null));
    expect(back).toBe(durable);
    expect(chain.durableHeight()).toBe(durable);
    expect(await balance(c, token)).toBe(100n);
    // The chain goes on from there: the clock is the wall clock, not the dump's.
    await mint(c, token, 7n);
    await chain.sync();
    const head = await c.publicClient.getBlock();
    expect(Number(head.timestamp)).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 2);
    const logs = await c.publicClient.getContractEvents({ address: token, abi: tandemTokenAbi, eventName: 'Transfer', fromBlock: 0n });
    expect(logs.map((l) => l.args.amount)).toEqual([100n, 7n]);
  }, 30_000);

  it('stopped and started again on its directory, it resumes where it was', async () => {
    const first = started[0]!;
    const height = first.durableHeight();
    await first.stop();
    const again = await start();
    expect(again.durableHeight()).toBe(height);
    expect(await balance(clientsOf(again), token)).toBe(107n);
  });

  it('refuses a second chain on a directory whose socket still answers', async () => {
    await expect(LocalChain.start({ dir: chainDir })).rejects.toThrow(/another chain still serves this socket/);
  }, 15_000);
});

async function waitUntil<T>(probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
