/**
 * `cluster up`: a local cluster of real processes on loopback — one leg host (the real legs: anvil
 * with the DvP escrow and the PGlite bank; or the in-memory legs) and N node processes talking
 * over libp2p. Everything it starts is recorded by pid in DIR/state.json as soon as it exists, so
 * `clusterDown` can stop even a half-started cluster.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, keygen, loadClusterFile, parseNodeCount } from '@tandem/daemon';
import { checkLegsFlags, externalChainFromFlags, probeExternalChain } from './chain-flags.js';
import { getJson, postJson, waitFor } from './http.js';
import { DEMO_FUNDS, DEMO_PARTIES, type Funding, ensureParties } from './parties.js';
import { type ClusterNode, type ClusterState, type ClusterVenues, type LegsKind, clusterPaths, readState, writeState } from './paths.js';
import { MEMORY_LEG_HOST_MAIN, NODE_MAIN, REAL_LEG_HOST_MAIN, alive, freePort, nodeEnvironment, spawnLogged } from './processes.js';

/** The venues the in-memory legs serve (the real legs report their own once deployed). */
export const CLUSTER_VENUES: ClusterVenues = { chainId: '31337', escrow: '0x' + 'e0'.repeat(20), bankId: 'bank', ledger: 'main' };
/** How long a node may take to connect to its peers; the leg host gets twice this (it deploys). */
const READY_TIMEOUT_MS = 30_000;

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
  const n = ensureKeys(p, nodesArg, say);
  ensureParties(dir, parties);

  const legPort = await freePort();
  writeLegHostConfig(p, legPort);
  const legLog = join(p.logs, 'leghost.log');
  if (existsSync(legLog)) rmSync(legLog); // the ready line must be this run's
  // The key travels as a file path or in the environment, never in argv (ps would show it).
  const chainArgs = externalKey === null ? [] : ['--rpc-url', externalKey.rpcUrl, ...(options.privateKeyFile !== undefined ? ['--private-key-file', resolve(options.privateKeyFile)] : [])];
  const legHost = spawnLogged(legs === 'real' ? REAL_LEG_HOST_MAIN : MEMORY_LEG_HOST_MAIN, ['--config', p.legHostConfig, ...chainArgs], legLog);
  const legUrl = `http://127.0.0.1:${legPort}`;
  let venues = CLUSTER_VENUES;
  const nodes: ClusterNode[] = [];
  const startedAt = new Date().toISOString();
  const state = (): ClusterState => ({ version: 1, n, legs, legHost: { pid: legHost.pid!, url: legUrl }, nodes, venues, startedAt });
  writeState(dir, state());
  const ready = await legHostReady(legHost, legLog);
  // Real legs deploy their escrow at startup: the terms must name the chain and escrow it reports.
  if (ready.venues !== undefined) venues = ready.venues;
  writeState(dir, state());
  const chainName = ready.chain === 'external' ? `chain ${venues.chainId}` : 'anvil';
  say(legs === 'real' ? `real legs up at ${legUrl} (pid ${legHost.pid}): ${chainName} at ${ready.rpcUrl}, escrow ${venues.escrow}, bank on ${process.env['DATABASE_URL'] ? 'PostgreSQL' : 'PGlite'}` : `leg host up at ${legUrl} (pid ${legHost.pid})`);
  for (const f of funds) await postJson(`${legUrl}/admin/mint`, f);
  say(funds === DEMO_FUNDS ? 'funded: alice 1,000 OUSG on the chain; bob 1,000,000,000 USD minor units at the bank' : `funded ${funds.length} accounts`);

  const p2pPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const controlPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const nodeEnv = nodeEnvironment();
  for (let i = 1; i <= n; i++) {
    const id = `n${i}`;
    const config = writeNodeConfig(p, i, n, p2pPorts, controlPorts[i - 1]!, legUrl);
    const log = join(p.logs, `${id}.log`);
    const child = spawnLogged(NODE_MAIN, ['--config', config], log, nodeEnv);
    nodes.push({ id, pid: child.pid!, control: `http://127.0.0.1:${controlPorts[i - 1]}`, config, log });
    writeState(dir, state());
  }
  for (const node of nodes) await waitConnected(node, n);
  say(`${n} nodes up and connected: ${nodes.map((x) => `${x.id} (pid ${x.pid})`).join(', ')}`);
  return state();
}

/** Deals keys into DIR/keys unless they exist; returns the node count. */
function ensureKeys(p: ReturnType<typeof clusterPaths>, nodesArg: string | undefined, say: (s: string) => void): number {
  if (!existsSync(p.cluster)) {
    const outcome = keygen({ nodes: nodesArg ?? '4', out: p.keys, network: 'tandem-local' });
    if (outcome.kind === 'exists') throw new UsageError(`${p.keys}: ${outcome.path} exists without ${p.cluster} (delete the keys or use another --dir)`);
    say(outcome.summary.trimEnd());
  }
  const n = loadClusterFile(p.cluster).config.n;
  if (nodesArg !== undefined && n !== parseNodeCount(nodesArg)) throw new UsageError(`--nodes ${nodesArg}: ${p.cluster} already holds keys for ${n} nodes (use another --dir, or delete the keys)`);
  return n;
}

/** The leg host's configuration: anchored to this cluster's keys, serving its parties. */
function writeLegHostConfig(p: ReturnType<typeof clusterPaths>, port: number): void {
  const config = {
    cluster: p.cluster,
    parties: p.parties,
    asset: { chainId: CLUSTER_VENUES.chainId, escrow: CLUSTER_VENUES.escrow },
    bank: { bankId: CLUSTER_VENUES.bankId, ledger: CLUSTER_VENUES.ledger },
    host: '127.0.0.1',
    port,
  };
  writeFileSync(p.legHostConfig, JSON.stringify(config, null, 2) + '\n');
}

/** Node `i`'s configuration file: its keys, its listen address, every peer, the legs, its storage. */
function writeNodeConfig(p: ReturnType<typeof clusterPaths>, i: number, n: number, p2pPorts: readonly number[], controlPort: number, legUrl: string): string {
  const id = `n${i}`;
  const file = join(p.nodes, `${id}.json`);
  const config = {
    cluster: p.cluster,
    key: join(p.keys, `${id}.key.json`),
    listen: [`/ip4/127.0.0.1/tcp/${p2pPorts[i - 1]}`],
    peers: Array.from({ length: n }, (_, k) => k + 1)
      .filter((k) => k !== i)
      .map((k) => ({ id: `n${k}`, multiaddrs: [`/ip4/127.0.0.1/tcp/${p2pPorts[k - 1]}`] })),
    legs: { asset: legUrl, payment: legUrl },
    dataDir: join(p.data, id),
    control: { host: '127.0.0.1', port: controlPort },
    // Every event, full fidelity: what cluster-mode scenarios hand to the checker.
    history: join(p.data, `${id}.history.jsonl`),
  };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}

interface LegHostReady {
  readonly venues?: ClusterVenues;
  readonly rpcUrl?: string;
  readonly chain?: string;
}

/** Waits for the leg host's ready line; a leg host that died says why (its last words) at once. */
async function legHostReady(legHost: ChildProcess, legLog: string): Promise<LegHostReady> {
  const ready = await waitFor('the leg host', READY_TIMEOUT_MS * 2, async (): Promise<LegHostReady | { exited: string } | null> => {
    const lines = readFileSync(legLog, 'utf8').split('\n');
    const line = lines.find((l) => l.includes('"ready":true'));
    if (line !== undefined) return JSON.parse(line) as LegHostReady;
    if (legHost.exitCode !== null || legHost.signalCode !== null) return { exited: lines.find((l) => l.startsWith('tandem leg-host: ')) ?? lines.filter((l) => l.trim() !== '').pop() ?? `exit ${legHost.exitCode ?? legHost.signalCode}` };
    return null;
  });
  if ('exited' in ready) throw new Error(`the leg host stopped before it was ready: ${ready.exited}`);
  return ready;
}

/** Waits until a node's control API answers and it is connected to all its peers. */
export async function waitConnected(node: Pick<ClusterNode, 'id' | 'control'>, n: number): Promise<void> {
  await waitFor(`${node.id} to connect to its ${n - 1} peers`, READY_TIMEOUT_MS, async () => {
    const st = (await getJson(`${node.control}/status`)) as { connected: number[] };
    return st.connected.length >= n - 1 ? true : null;
  });
}
