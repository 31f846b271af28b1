/**
 * Operating a running local cluster: status, restart of one node, logs, and `down`, which stops
 * exactly the processes DIR/state.json records (restarted ones included) and leaves nothing running.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '@tandem/daemon';
import { getJson } from './http.js';
import { legHostReady, spawnLegHost } from './leg-host-process.js';
import { type ClusterState, clusterPaths, readState, writeState } from './paths.js';
import { NODE_MAIN, alive, nodeEnvironment, spawnLogged, stopProcesses } from './processes.js';
import { clusterCredentials } from './secrets.js';
import { checkNodeProtocol } from './protocol.js';
import { waitConnected } from './up.js';

/** Stops every process of the cluster in `dirArg` and removes its state; returns how many it stopped. */
export async function clusterDown(dirArg: string): Promise<number> {
  const dir = resolve(dirArg);
  const st = readState(dir);
  const pids = [...st.nodes.map((x) => x.pid), st.legHost.pid];
  await stopProcesses(pids);
  rmSync(clusterPaths(dir).state);
  return pids.length;
}

/**
 * Starts a node of a running cluster again (after it crashed or was killed), with its config and
 * write-ahead storage, appending to its log, and records the new pid in DIR/state.json so `down`
 * stops it. Returns the new pid at once; `restartNodeAndWait` also waits until it is connected.
 */
export function restartNode(dirArg: string, id: string): number {
  const dir = resolve(dirArg);
  const st = readState(dir);
  const node = st.nodes.find((x) => x.id === id);
  if (node === undefined) throw new UsageError(`${id}: no such node in ${dir} (it has ${st.nodes.map((x) => x.id).join(', ')})`);
  if (alive(node.pid)) throw new UsageError(`${id} is still running (pid ${node.pid}); stop it first`);
  checkNodeProtocol(dir, node.config);
  const child = spawnLogged(NODE_MAIN, ['--config', node.config], node.log, nodeEnvironment());
  const nodes = st.nodes.map((x) => (x.id === id ? { ...x, pid: child.pid! } : x));
  writeState(dir, { ...st, nodes });
  return child.pid!;
}

/** `tandem cluster restart NODE`: restarts it and waits until it is connected to its peers again. */
export async function restartNodeAndWait(dirArg: string, id: string): Promise<number> {
  const pid = restartNode(dirArg, id);
  const dir = resolve(dirArg);
  const st = readState(dir);
  await waitConnected(st.nodes.find((x) => x.id === id)!, st.n, clusterCredentials(dir).control);
  return pid;
}

/**
 * Starts the leg host of a running cluster again (after it crashed or was killed) with the
 * arguments it was first started with, on the same port, appending to its log; records the new
 * pid in DIR/state.json and resolves with it once the host is ready (the real legs resume their
 * chain and bank: nothing is redeployed).
 */
export async function restartLegHost(dirArg: string): Promise<number> {
  const dir = resolve(dirArg);
  const st = readState(dir);
  if (alive(st.legHost.pid)) throw new UsageError(`the leg host is still running (pid ${st.legHost.pid}); stop it first`);
  const { child, logOffset } = spawnLegHost(dir, st.legs, st.legHost.args ?? []);
  writeState(dir, { ...st, legHost: { ...st.legHost, pid: child.pid! } });
  await legHostReady(dir, child, logOffset);
  return child.pid!;
}

export interface NodeStatusRow {
  readonly id: string;
  readonly peerId: string | null;
  readonly multiaddrs: readonly string[];
  readonly pid: number;
  readonly up: boolean;
  readonly connected: readonly number[];
  /** Settlements the node reports open past their reclaim time plus its grace period, and split ones (null: no answer). */
  readonly stuck: number | null;
  readonly split: number | null;
}

/** A listener of the cluster that answers only to a token (every one of them does). */
export interface ClusterEndpoint {
  /** The node id (its control API), or `leghost` (the leg host: /legs and /admin routes). */
  readonly name: string;
  readonly url: string;
}

export interface ClusterStatus {
  readonly nodes: NodeStatusRow[];
  readonly legHost: { readonly url: string; readonly pid: number; readonly up: boolean };
  /** Every listener that needs a credential (DIR/secrets/*.token). */
  readonly endpoints: readonly ClusterEndpoint[];
}

/** Every listener of cluster `st` that needs a credential: each node's control API and the leg host. */
export function clusterEndpoints(st: ClusterState): ClusterEndpoint[] {
  return [...st.nodes.map((x) => ({ name: x.id, url: x.control })), { name: 'leghost', url: st.legHost.url }];
}

export async function clusterStatus(dirArg: string): Promise<ClusterStatus> {
  const dir = resolve(dirArg);
  const st = readState(dir);
  const control = clusterCredentials(dir).control;
  const nodes = await Promise.all(
    st.nodes.map(async (x): Promise<NodeStatusRow> => {
      const s = (await getJson(`${x.control}/status`, control).catch(() => null)) as { peerId: string; multiaddrs: string[]; connected: number[]; stuck: number; split: number } | null;
      return { id: x.id, peerId: s?.peerId ?? null, multiaddrs: s?.multiaddrs ?? [], pid: x.pid, up: s !== null && alive(x.pid), connected: s?.connected ?? [], stuck: s?.stuck ?? null, split: s?.split ?? null };
    }),
  );
  return { nodes, legHost: { url: st.legHost.url, pid: st.legHost.pid, up: alive(st.legHost.pid) }, endpoints: clusterEndpoints(st) };
}

/** The log files of the cluster in `dirArg` (the leg host's first), or only `name`'s. */
export function clusterLogs(dirArg: string, name?: string): { name: string; text: string }[] {
  const dir = resolve(dirArg);
  const st: ClusterState = readState(dir);
  const names = name !== undefined ? [name] : ['leghost', ...st.nodes.map((x) => x.id)];
  return names.map((n) => {
    const file = join(clusterPaths(dir).logs, `${n}.log`);
    if (!existsSync(file)) throw new UsageError(`--node ${n}: no log ${file}`);
    return { name: n, text: readFileSync(file, 'utf8') };
  });
}
