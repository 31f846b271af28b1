/**
 * `cluster up`: a local cluster of real processes on loopback — one leg host (the real legs: anvil
 * with the DvP escrow and the PGlite bank; or the in-memory legs) and N node processes talking
 * over libp2p. Everything it starts is recorded by pid in DIR/state.json as soon as it exists, so
 * `clusterDown` can stop even a half-started cluster. The directory runs the protocol version it
 * was made with (protocol.ts): under protocol 2 the nodes run NodeRuntimeV2 and the legs are
 * anchored to the v2 configuration digest (and the real legs deploy DvpEscrowV2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, keygen, loadClusterFile, parseNodeCount } from '@tandem/daemon';
import { type ClusterConfig, type V2Params, configDigestV2, defaultV2Params, toHex } from '@tandem/protocol';
import { checkLegsFlags, externalChainFromFlags, parseConfirmations, probeExternalChain } from './chain-flags.js';
import { legHostReady, spawnLegHost } from './leg-host-process.js';
import type { Credential } from '@tandem/http';
import { getJson, postJson, waitFor } from './http.js';
import { DEMO_FUNDS, DEMO_PARTIES, type Funding, ensureParties } from './parties.js';
import { type ClusterNode, type ClusterState, type ClusterVenues, type LegsKind, clusterPaths, readState, writeState } from './paths.js';
import { NODE_MAIN, alive, freePort, nodeEnvironment, spawnLogged } from './processes.js';
import { ensureClusterCredentials, tokenFile } from './secrets.js';
import { ensureProtocol, parseProtocolFlag } from './protocol.js';

/**
 * The venues of a local cluster, derived from its network id: the in-memory legs' escrow address
 * and the bank id (the real legs deploy their own escrow and report it). Two local clusters never
 * share a venue, so terms written for one never name the other's legs.
 */
export function localVenues(networkId: Uint8Array): ClusterVenues {
  const digest = createHash('sha256').update('tandem/local-venues').update(networkId).digest();
  return { chainId: '31337', escrow: '0x' + toHex(digest.subarray(0, 20)), bankId: `bank-${toHex(digest.subarray(20, 24))}`, ledger: 'main' };
}
/**
 * How long a node may take to connect to its peers: as long as the leg host may take to start
 * (30 s was exceeded once on a 2-core machine running the whole test suite in parallel).
 */
const READY_TIMEOUT_MS = 60_000;

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
  /** With rpcUrl: blocks a change must be buried under before it counts, as typed (default 12). */
  readonly confirmations?: string;
  /**
   * Offer each node's link-fault injector (`POST /faults/links`): only the cluster-mode scenario
   * runner and tests ask for it; a plain `cluster up` node answers that route 404.
   */
  readonly linkFaults?: boolean;
  /**
   * The protocol version, as typed (`1` or `2`): a new directory records it (default 1), a
   * directory made before must be started under the version it recorded (else exit 2).
   */
  readonly protocol?: string;
  /**
   * Protocol 2: v2 parameters every node runs instead of the defaults for n (the scenario runner's
   * `batching:`): written into each node config's `v2` key, and the leg host is anchored to their
   * digest. Absent: the defaults.
   */
  readonly v2?: Partial<V2Params>;
}

export async function clusterUp(dirArg: string, options: ClusterUpOptions = {}): Promise<ClusterState> {
  const { nodes: nodesArg, legs = 'memory', say = () => {}, parties = DEMO_PARTIES, funds = DEMO_FUNDS } = options;
  // The chain flags are checked (and the RPC asked for its chain id) before anything starts.
  const chainFlags = { rpcUrl: options.rpcUrl, privateKeyFile: options.privateKeyFile };
  checkLegsFlags(legs, chainFlags);
  const externalKey = legs === 'real' ? externalChainFromFlags(chainFlags) : null;
  if (externalKey !== null) await probeExternalChain(externalKey);
  const confirmations = parseConfirmations(options.confirmations, externalKey !== null);
  const protocolFlag = parseProtocolFlag(options.protocol);
  const dir = resolve(dirArg);
  const p = clusterPaths(dir);
  if (existsSync(p.state)) {
    const st = readState(dir);
    if (alive(st.legHost.pid) || st.nodes.some((x) => alive(x.pid))) throw new UsageError(`${dir}: a cluster is already running here (pnpm tandem cluster down --dir ${dirArg})`);
    rmSync(p.state);
  }
  for (const d of [dir, p.nodes, p.data, p.logs]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const protocol = ensureProtocol(dir, protocolFlag);
  if (options.v2 !== undefined && protocol !== 2) throw new UsageError(`v2 parameters apply to protocol 2 only (${dir} runs protocol ${protocol})`);
  const v2 = options.v2 ?? {};
  const n = ensureKeys(p, nodesArg, say);
  ensureParties(dir, parties);
  const credentials = ensureClusterCredentials(dir);

  const legPort = await freePort();
  const clusterConfig = loadClusterFile(p.cluster).config;
  const clusterVenues = localVenues(clusterConfig.networkId);
  writeLegHostConfig(dir, legPort, clusterVenues, protocol, clusterConfig, v2);
  // The key travels as a file path or in the environment, never in argv (ps would show it).
  const chainArgs = [
    ...(externalKey === null ? [] : ['--rpc-url', externalKey.rpcUrl, ...(options.privateKeyFile !== undefined ? ['--private-key-file', resolve(options.privateKeyFile)] : [])]),
    ...(confirmations !== undefined ? ['--confirmations', String(confirmations)] : []),
  ];
  // Appended to, never deleted: the leg host's log is part of the audit trail.
  const { child: legHost, logOffset } = spawnLegHost(dir, legs, chainArgs);
  const legUrl = `http://127.0.0.1:${legPort}`;
  let venues = clusterVenues;
  const nodes: ClusterNode[] = [];
  const startedAt = new Date().toISOString();
  const state = (): ClusterState => ({ version: 1, n, legs, legHost: { pid: legHost.pid!, url: legUrl, args: chainArgs }, nodes, venues, startedAt, protocol });
  writeState(dir, state());
  const ready = await legHostReady(dir, legHost, logOffset);
  // Real legs deploy their escrow at startup: the terms must name the chain and escrow it reports.
  if (ready.venues !== undefined) venues = ready.venues;
  writeState(dir, state());
  const chainName = ready.chain === 'external' ? `chain ${venues.chainId}` : 'anvil';
  say(legs === 'real' ? `real legs up at ${legUrl} (pid ${legHost.pid}): ${chainName} at ${ready.rpcUrl}, escrow ${venues.escrow}, bank on ${process.env['DATABASE_URL'] ? 'PostgreSQL' : 'PGlite'}` : `leg host up at ${legUrl} (pid ${legHost.pid})`);
  for (const f of funds) await postJson(`${legUrl}/admin/mint`, f, credentials.admin);
  say(funds === DEMO_FUNDS ? 'funded: alice 1,000 OUSG on the chain; bob 1,000,000,000 USD minor units at the bank' : `funded ${funds.length} accounts`);

  const p2pPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const controlPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
  const nodeEnv = nodeEnvironment();
  for (let i = 1; i <= n; i++) {
    const id = `n${i}`;
    const config = writeNodeConfig(dir, { i, n, p2pPorts, controlPort: controlPorts[i - 1]!, legUrl, linkFaults: options.linkFaults === true, protocol, v2 });
    const log = join(p.logs, `${id}.log`);
    const child = spawnLogged(NODE_MAIN, ['--config', config], log, nodeEnv);
    nodes.push({ id, pid: child.pid!, control: `http://127.0.0.1:${controlPorts[i - 1]}`, config, log });
    writeState(dir, state());
  }
  for (const node of nodes) await waitConnected(node, n, credentials.control);
  say(`${n} nodes up and connected${protocol === 2 ? ' (protocol 2: batches)' : ''}: ${nodes.map((x) => `${x.id} (pid ${x.pid})`).join(', ')}`);
  return state();
}

/** Deals keys into DIR/keys unless they exist; returns the node count. */
function ensureKeys(p: ReturnType<typeof clusterPaths>, nodesArg: string | undefined, say: (s: string) => void): number {
  if (!existsSync(p.cluster)) {
    // A network name of its own (random bytes): each local cluster has its own network id, so a
    // party's authorization for one never verifies on another's legs (docs/wire-format.md §7).
    const outcome = keygen({ nodes: nodesArg ?? '4', out: p.keys, network: `tandem-local-${toHex(randomBytes(8))}` });
    if (outcome.kind === 'exists') throw new UsageError(`${p.keys}: ${outcome.path} exists without ${p.cluster} (delete the keys or use another --dir)`);
    say(outcome.summary.trimEnd());
  }
  const n = loadClusterFile(p.cluster).config.n;
  if (nodesArg !== undefined && n !== parseNodeCount(nodesArg)) throw new UsageError(`--nodes ${nodesArg}: ${p.cluster} already holds keys for ${n} nodes (use another --dir, or delete the keys)`);
  return n;
}

/**
 * The leg host's configuration: anchored to this cluster's keys, serving its parties at its venues.
 * Protocol 2: anchored to the v2 configuration digest of the nodes' parameters (every node runs the
 * defaults for n overridden by `v2`), accepting version 2 only.
 */
function writeLegHostConfig(dir: string, port: number, venues: ClusterVenues, protocol: 1 | 2, cluster: ClusterConfig, v2: Partial<V2Params>): void {
  const p = clusterPaths(dir);
  const anchor =
    protocol === 1
      ? { cluster: p.cluster }
      : {
          anchor: { networkId: toHex(cluster.networkId), configDigest: toHex(configDigestV2(cluster, { ...defaultV2Params(cluster.n), ...v2 })), groupPublicKey: toHex(cluster.commitments[0]!) },
          protocol: 2,
        };
  const config = {
    ...anchor,
    parties: p.parties,
    asset: { chainId: venues.chainId, escrow: venues.escrow },
    bank: { bankId: venues.bankId, ledger: venues.ledger },
    tokens: { legs: tokenFile(dir, 'legs'), admin: tokenFile(dir, 'admin') },
    host: '127.0.0.1',
    port,
  };
  writeFileSync(p.legHostConfig, JSON.stringify(config, null, 2) + '\n');
}

/** Where node `i` of `n` listens and what it reaches. */
interface NodePlace {
  readonly i: number;
  readonly n: number;
  readonly p2pPorts: readonly number[];
  readonly controlPort: number;
  readonly legUrl: string;
  readonly linkFaults: boolean;
  readonly protocol: 1 | 2;
  readonly v2: Partial<V2Params>;
}

/** Node `i`'s configuration file: its keys, its listen address, every peer, the legs, its storage, the token files. */
function writeNodeConfig(dir: string, { i, n, p2pPorts, controlPort, legUrl, linkFaults, protocol, v2 }: NodePlace): string {
  const p = clusterPaths(dir);
  const id = `n${i}`;
  const file = join(p.nodes, `${id}.json`);
  const config = {
    cluster: p.cluster,
    key: join(p.keys, `${id}.key.json`),
    listen: [`/ip4/127.0.0.1/tcp/${p2pPorts[i - 1]}`],
    peers: Array.from({ length: n }, (_, k) => k + 1)
      .filter((k) => k !== i)
      .map((k) => ({ id: `n${k}`, multiaddrs: [`/ip4/127.0.0.1/tcp/${p2pPorts[k - 1]}`] })),
    legs: { asset: legUrl, payment: legUrl, tokenFile: tokenFile(dir, 'legs') },
    dataDir: join(p.data, id),
    control: { host: '127.0.0.1', port: controlPort, tokenFile: tokenFile(dir, 'control') },
    ...(linkFaults ? { linkFaults: true } : {}),
    // Protocol 2 with the default v2 parameters for n, overridden by `v2`: the leg host's anchor is their digest.
    ...(protocol === 2 ? { protocol: 2, ...(Object.keys(v2).length > 0 ? { v2 } : {}) } : {}),
    // Every event, full fidelity: what cluster-mode scenarios hand to the checker.
    history: join(p.data, `${id}.history.jsonl`),
  };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}

/** Waits until a node's control API answers (to the control token) and it is connected to all its peers. */
export async function waitConnected(node: Pick<ClusterNode, 'id' | 'control'>, n: number, control: Credential): Promise<void> {
  await waitFor(`${node.id} to connect to its ${n - 1} peers`, READY_TIMEOUT_MS, async () => {
    const st = (await getJson(`${node.control}/status`, control)) as { connected: number[] };
    return st.connected.length >= n - 1 ? true : null;
  });
}
