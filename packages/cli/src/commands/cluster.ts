/**
 * `tandem cluster up | status | down | logs`: a local cluster of real processes on loopback — one
 * leg host (in-memory asset chain and bank ledger behind HTTP) and N node processes talking over
 * libp2p. Everything it starts is recorded by pid in DIR/state.json, and `down` stops exactly that.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { identityKeygen } from '@tandem/crypto';
import { loadClusterFile } from '@tandem/daemon';
import { toHex } from '@tandem/protocol';
import { UsageError } from '../errors.js';
import { type ClusterState, DEFAULT_CLUSTER_DIR, alive, clusterPaths, readState } from '../cluster-dir.js';
import { table } from '../render.js';
import { PRIVATE_KEY_ENV, checkLegsFlags, externalChainFromFlags, probeExternalChain } from '../real-legs.js';
import type { RegisterCommand } from './index.js';
import { keygen, parseNodeCount } from './keygen.js';

// Both src/commands (tests) and dist/commands (the built CLI) sit two levels below the package.
const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const LEG_HOST_MAIN = fileURLToPath(new URL('../../../leg-host/dist/main.js', import.meta.url));
/** Demo parties and their opening balances (DESIGN: alice holds OUSG, bob holds USD minor units). */
export const DEMO_PARTIES = ['alice', 'bob'] as const;
/** One opening balance the cluster mints at start-up through the leg host's admin API. */
export interface Funding {
  readonly leg: 'asset' | 'payment';
  readonly account: string;
  readonly unit: string;
  readonly amount: string;
}
const DEMO_FUNDS: readonly Funding[] = [
  { leg: 'asset', account: 'alice', unit: 'OUSG', amount: '1000' },
  { leg: 'payment', account: 'bob', unit: 'USD', amount: '1000000000' },
];
export const CLUSTER_VENUES = { chainId: '31337', escrow: '0x' + 'e0'.repeat(20), bankId: 'bank', ledger: 'main' } as const;
const READY_TIMEOUT_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function spawnLogged(args: string[], log: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${text}`);
  return text.length > 0 ? JSON.parse(text) : null;
}

/** Creates the parties' keys once: the public half for the leg host, the secret half for `settle`. */
function ensureParties(dir: string, parties: readonly string[]): void {
  const p = clusterPaths(dir);
  if (existsSync(p.parties) && existsSync(p.partiesSecret)) {
    const known = Object.keys(JSON.parse(readFileSync(p.parties, 'utf8')) as Record<string, string>);
    const missing = parties.filter((x) => !known.includes(x));
    if (missing.length > 0) throw new UsageError(`${p.parties} has no key for ${missing.join(', ')} (use another --dir)`);
    return;
  }
  const pub: Record<string, string> = {};
  const sec: Record<string, string> = {};
  for (const name of parties) {
    const k = identityKeygen(randomBytes);
    pub[name] = toHex(k.publicKey);
    sec[name] = toHex(k.secretKey);
    k.secretKey.fill(0);
  }
  writeFileSync(p.parties, JSON.stringify(pub, null, 2) + '\n', { mode: 0o644 });
  writeFileSync(p.partiesSecret, JSON.stringify(sec, null, 2) + '\n', { mode: 0o600 });
}

export type LegsKind = 'memory' | 'real';

export interface ClusterUpOptions {
  /** Node count as the user typed it (default 4, or what DIR/keys holds). */
  readonly nodes?: string;
  readonly legs?: LegsKind;
  /** Progress lines for a terminal. */
  readonly say?: (s: string) => void;
  /** Parties whose keys the cluster creates (default alice and bob). */
  readonly parties?: readonly string[];
  /** Opening balances (default: alice 1,000 OUSG, bob 1,000,000,000 USD minor units). */
  readonly funds?: readonly Funding[];
  /** Real legs on the external EVM chain at this JSON-RPC URL instead of a local anvil. */
  readonly rpcUrl?: string;
  /** With rpcUrl: the deployer's key file (0x + 64 hex); without it, TANDEM_EVM_PRIVATE_KEY holds the key. */
  readonly privateKeyFile?: string;
}

/** Only the leg host needs the deployer key: nodes get an environment without it. */
function nodeEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[PRIVATE_KEY_ENV];
  return env;
}

export async function clusterUp(dirArg: string, options: ClusterUpOptions = {}): Promise<ClusterState> {
  const { nodes: nodesArg, legs = 'memory', say = () => {}, parties = DEMO_PARTIES, funds = DEMO_FUNDS } = options;
  // The chain flags are checked (and the RPC asked for its chain id) before anything starts.
  const chainFlags = { rpcUrl: options.rpcUrl, privateKeyFile: options.privateKeyFile };
  checkLegsFlags(legs, chainFlags);
  const externalKey = legs === 'real' ? externalChainFromFlags(chainFlags) : null;
  if (externalKey !== null) await probeExternalChain(externalKey);
  const dir = resolve(dirArg);
  const p = clusterPaths(dir);
  if (existsSync(p.state)) {
    const st = readState(dir);
    if (alive(st.legHost.pid) || st.nodes.some((x) => alive(x.pid))) throw new UsageError(`${dir}: a cluster is already running here (pnpm tandem cluster down --dir ${dirArg})`);
    rmSync(p.state);
  }
  for (const d of [dir, p.nodes, p.data, p.logs]) mkdirSync(d, { recursive: true, mode: 0o700 });
  if (!existsSync(p.cluster)) {
    const code = keygen({ nodes: nodesArg ?? '4', out: p.keys, network: 'tandem-local', say: (text) => say(text.trimEnd()) });
    if (code !== 0) throw new Error('keygen failed');
  } else if (nodesArg !== undefined && loadClusterFile(p.cluster).config.n !== parseNodeCount(nodesArg)) {
    throw new UsageError(`--nodes ${nodesArg}: ${p.cluster} already holds keys for ${loadClusterFile(p.cluster).config.n} nodes (use another --dir, or delete the keys)`);
  }
  const cluster = loadClusterFile(p.cluster);
  const n = cluster.config.n;
  ensureParties(dir, parties);

  // The leg host: in-memory chain and bank behind HTTP, anchored to this cluster's keys.
  const legPort = await freePort();
  writeFileSync(
    p.legHostConfig,
    JSON.stringify(
      {
        cluster: p.cluster,
        parties: p.parties,
        asset: { chainId: CLUSTER_VENUES.chainId, escrow: CLUSTER_VENUES.escrow },
        bank: { bankId: CLUSTER_VENUES.bankId, ledger: CLUSTER_VENUES.ledger },
        host: '127.0.0.1',
        port: legPort,
      },
      null,
      2,
    ) + '\n',
  );
  if (!existsSync(LEG_HOST_MAIN)) throw new Error(`${LEG_HOST_MAIN} is missing: run pnpm build`);
  const legLog = join(p.logs, 'leghost.log');
  if (existsSync(legLog)) rmSync(legLog); // the ready line must be this run's
  // The key travels as a file path or in the environment, never in argv (ps would show it).
  const chainArgs = externalKey === null ? [] : ['--rpc-url', externalKey.rpcUrl, ...(options.privateKeyFile !== undefined ? ['--private-key-file', resolve(options.privateKeyFile)] : [])];
  const legArgs = legs === 'real' ? [BIN, 'leg-host', '--config', p.legHostConfig, ...chainArgs] : [LEG_HOST_MAIN, '--config', p.legHostConfig];
  const legHost = spawnLogged(legArgs, legLog);
  const nodeEnv = nodeEnvironment();
  const legUrl = `http://127.0.0.1:${legPort}`;
  let venues: ClusterState['venues'] = CLUSTER_VENUES;
  const nodes: { id: string; pid: number; control: string; config: string; log: string }[] = [];
  const state = (): ClusterState => ({ version: 1, n, legs, legHost: { pid: legHost.pid!, url: legUrl }, nodes, venues, startedAt: new Date().toISOString() });
  // Record pids as soon as they exist, so `down` can stop a half-started cluster.
  const save = () => writeFileSync(p.state, JSON.stringify(state(), null, 2) + '\n');
  save();
  const ready = await waitFor('the leg host', READY_TIMEOUT_MS * 2, async () => {
    const lines = readFileSync(legLog, 'utf8').split('\n');
    const line = lines.find((l) => l.includes('"ready":true'));
    if (line !== undefined) return JSON.parse(line) as { venues?: ClusterState['venues']; rpcUrl?: string; chain?: string };
    // A leg host that died will never be ready: say why (its last words) instead of waiting out the timeout.
    if (legHost.exitCode !== null || legHost.signalCode !== null) return { exited: lines.find((l) => l.startsWith('tandem leg-host: ')) ?? lines.filter((l) => l.trim() !== '').pop() ?? `exit ${legHost.exitCode ?? legHost.signalCode}` };
    return null;
  });
  if ('exited' in ready) throw new Error(`the leg host stopped before it was ready: ${ready.exited}`);
  // Real legs deploy their escrow at startup: the terms must name the chain and escrow it reports.
  if (ready.venues !== undefined) venues = ready.venues;
  save();
  const chainName = ready.chain === 'external' ? `chain ${venues.chainId}` : 'anvil';
  say(legs === 'real' ? `real legs up at ${legUrl} (pid ${legHost.pid}): ${chainName} at ${ready.rpcUrl}, escrow ${venues.escrow}, bank on ${process.env['DATABASE_URL'] ? 'PostgreSQL' : 'PGlite'}` : `leg host up at ${legUrl} (pid ${legHost.pid})`);
  for (const f of funds) await postJson(`${legUrl}/admin/mint`, f);
  say(funds === DEMO_FUNDS ? 'funded: alice 1,000 OUSG on the chain; bob 1,000,000,000 USD minor units at the bank' : `funded ${funds.length} accounts`);

  const p2pPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const controlPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  for (let i = 1; i <= n; i++) {
    const id = `n${i}`;
    const config = join(p.nodes, `${id}.json`);
    writeFileSync(
      config,
      JSON.stringify(
        {
          cluster: p.cluster,
          key: join(p.keys, `${id}.key.json`),
          listen: [`/ip4/127.0.0.1/tcp/${p2pPorts[i - 1]}`],
          peers: Array.from({ length: n }, (_, k) => k + 1)
            .filter((k) => k !== i)
            .map((k) => ({ id: `n${k}`, multiaddrs: [`/ip4/127.0.0.1/tcp/${p2pPorts[k - 1]}`] })),
          legs: { asset: legUrl, payment: legUrl },
          dataDir: join(p.data, id),
          control: { host: '127.0.0.1', port: controlPorts[i - 1] },
          // Every event, full fidelity: what cluster-mode scenarios hand to the checker.
          history: join(p.data, `${id}.history.jsonl`),
        },
        null,
        2,
      ) + '\n',
    );
    const log = join(p.logs, `${id}.log`);
    const child = spawnLogged([BIN, 'node', '--config', config], log, nodeEnv);
    nodes.push({ id, pid: child.pid!, control: `http://127.0.0.1:${controlPorts[i - 1]}`, config, log });
    save();
  }
  for (const node of nodes) {
    await waitFor(`${node.id} to connect to its ${n - 1} peers`, READY_TIMEOUT_MS, async () => {
      const st = (await getJson(`${node.control}/status`)) as { connected: number[] };
      return st.connected.length >= n - 1 ? true : null;
    });
  }
  say(`${n} nodes up and connected: ${nodes.map((x) => `${x.id} (pid ${x.pid})`).join(', ')}`);
  return state();
}

/**
 * Starts a node of a running cluster again (after it crashed or was killed), with its config and
 * write-ahead storage, appending to its log; records the new pid so `down` stops it. Returns the
 * new pid; the caller waits for its control API if it needs it.
 */
export function restartNode(dirArg: string, id: string): number {
  const dir = resolve(dirArg);
  const st = readState(dir);
  const node = st.nodes.find((x) => x.id === id);
  if (node === undefined) throw new UsageError(`${dir}: no node ${id} in this cluster`);
  if (alive(node.pid)) throw new Error(`${id} is still running (pid ${node.pid})`);
  const child = spawnLogged([BIN, 'node', '--config', node.config], node.log, nodeEnvironment());
  const nodes = st.nodes.map((x) => (x.id === id ? { ...x, pid: child.pid! } : x));
  writeFileSync(clusterPaths(dir).state, JSON.stringify({ ...st, nodes }, null, 2) + '\n');
  return child.pid!;
}

export async function clusterDown(dirArg: string): Promise<number> {
  const dir = resolve(dirArg);
  const st = readState(dir);
  const pids = [...st.nodes.map((x) => x.pid), st.legHost.pid];
  // Each process was started detached, as the leader of its own process group: signalling the
  // group also reaches what it started (the real legs' anvil), even if the leader already died.
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      if (alive(pid)) process.kill(pid, sig);
    }
  };
  const groupAlive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return alive(pid);
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const until = Date.now() + 5_000;
  while (pids.some(groupAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (groupAlive(pid)) signal(pid, 'SIGKILL');
  rmSync(clusterPaths(dir).state);
  return pids.length;
}

export interface NodeStatusRow {
  readonly id: string;
  readonly peerId: string | null;
  readonly multiaddrs: readonly string[];
  readonly pid: number;
  readonly up: boolean;
  readonly connected: readonly number[];
}

export async function clusterStatus(dirArg: string): Promise<{ nodes: NodeStatusRow[]; legHost: { url: string; pid: number; up: boolean } }> {
  const st = readState(resolve(dirArg));
  const nodes = await Promise.all(
    st.nodes.map(async (x): Promise<NodeStatusRow> => {
      const s = (await getJson(`${x.control}/status`).catch(() => null)) as { peerId: string; multiaddrs: string[]; connected: number[] } | null;
      return { id: x.id, peerId: s?.peerId ?? null, multiaddrs: s?.multiaddrs ?? [], pid: x.pid, up: s !== null && alive(x.pid), connected: s?.connected ?? [] };
    }),
  );
  return { nodes, legHost: { url: st.legHost.url, pid: st.legHost.pid, up: alive(st.legHost.pid) } };
}

export const registerCluster: RegisterCommand = (program: Command, setExit) => {
  const cluster = program.command('cluster').description('a local cluster of real node processes over libp2p, with a leg host');
  cluster
    .command('up')
    .description('keygen if needed, start the leg host and N nodes in the background, fund the demo accounts, wait until connected')
    .option('--nodes <n>', 'number of nodes (default 4, or what DIR/keys holds)')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--legs <kind>', 'real (anvil + DvP escrow, PGlite bank) or memory (in-memory chain and bank)', 'real')
    .option('--rpc-url <url>', 'with --legs real: deploy on the EVM chain at this http(s) JSON-RPC URL instead of a local anvil')
    .option('--private-key-file <file>', `with --rpc-url: the deployer's key, 0x + 64 hex (or set ${PRIVATE_KEY_ENV})`)
    .action(async (opts: { nodes?: string; dir: string; legs: string; rpcUrl?: string; privateKeyFile?: string }) => {
      if (opts.legs !== 'memory' && opts.legs !== 'real') throw new UsageError(`--legs ${opts.legs}: expected memory or real`);
      try {
        await clusterUp(opts.dir, {
          ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}),
          ...(opts.rpcUrl !== undefined ? { rpcUrl: opts.rpcUrl } : {}),
          ...(opts.privateKeyFile !== undefined ? { privateKeyFile: opts.privateKeyFile } : {}),
          legs: opts.legs,
          say: (s) => process.stdout.write(s + '\n'),
        });
      } catch (e) {
        if (e instanceof UsageError) throw e;
        process.stderr.write(`tandem cluster up: ${(e as Error).message}; see the logs in ${join(opts.dir, 'logs')}\n`);
        if (existsSync(clusterPaths(resolve(opts.dir)).state)) await clusterDown(opts.dir);
        setExit(1);
        return;
      }
      process.stdout.write(`ready. next: pnpm tandem settle --dir ${opts.dir} --seller alice --buyer bob --asset 100:OUSG --price 10000000:USD\n`);
      setExit(0);
    });
  cluster
    .command('status')
    .description('show each node: peer id, addresses, pid, up')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const s = await clusterStatus(opts.dir);
      if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
      else {
        process.stdout.write(table(['node', 'up', 'pid', 'connected to', 'peer id', 'multiaddr'], s.nodes.map((x) => [x.id, x.up ? 'yes' : 'NO', String(x.pid), x.connected.map((c) => `n${c}`).join(','), x.peerId ?? '-', x.multiaddrs[0] ?? '-'])));
        process.stdout.write(`leg host ${s.legHost.url} pid ${s.legHost.pid} ${s.legHost.up ? 'up' : 'DOWN'}\n`);
      }
      setExit(s.nodes.every((x) => x.up) && s.legHost.up ? 0 : 1);
    });
  cluster
    .command('down')
    .description('stop every process the cluster started (by pid)')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .action(async (opts: { dir: string }) => {
      const k = await clusterDown(opts.dir);
      process.stdout.write(`stopped ${k} processes\n`);
      setExit(0);
    });
  cluster
    .command('logs')
    .description('print the logs (JSON lines) of every process, or of one node')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--node <id>', 'only this node (n1, …) or leghost')
    .action((opts: { dir: string; node?: string }) => {
      const logs = clusterPaths(resolve(opts.dir)).logs;
      const st = readState(resolve(opts.dir));
      const names = opts.node !== undefined ? [opts.node] : ['leghost', ...st.nodes.map((x) => x.id)];
      for (const name of names) {
        const file = join(logs, `${name}.log`);
        if (!existsSync(file)) throw new UsageError(`--node ${name}: no log ${file}`);
        if (names.length > 1) process.stdout.write(`==> ${name} <==\n`);
        process.stdout.write(readFileSync(file, 'utf8'));
      }
      setExit(0);
    });
};
