/**
 * Operating a running local cluster: status, restart of one node, logs, and `down`, which stops
 * exactly the processes DIR/state.json records (restarted ones included) and leaves nothing running.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '@tandem/daemon';
import { getJson } from './http.js';
import { type ClusterState, clusterPaths, readState, writeState } from './paths.js';
import { NODE_MAIN, alive, nodeEnvironment, spawnLogged, stopProcesses } from './processes.js';
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
  const child = spawnLogged(NODE_MAIN, ['--config', node.config], node.log, nodeEnvironment());
  const nodes = st.nodes.map((x) => (x.id === id ? { ...x, pid: child.pid! } : x));
  writeState(dir, { ...st, nodes });
  return child.pid!;
}

/** `tandem cluster restart NODE`: restarts it and waits until it is connected to its peers again. */
export async function restartNodeAndWait(dirArg: string, id: string): Promise<number> {
  const pid = restartNode(dirArg, id);
  const st = readState(resolve(dirArg));
  await waitConnected(st.nodes.find((x) => x.id === id)!, st.n);
  return pid;
}

export interface NodeStatusRow {
  readonly id: string;
  readonly peerId: string | null;
  readonly multiaddrs: readonly string[];
  readonly pid: number;
  readonly up: boolean;
  readonly connected: readonly number[];
}

export interface ClusterStatus {
  readonly nodes: NodeStatusRow[];
  readonly legHost: { readonly url: string; readonly pid: number; readonly up: boolean };
}

export async function clusterStatus(dirArg: string): Promise<ClusterStatus> {
  const st = readState(resolve(dirArg));
  const nodes = await Promise.all(
    st.nodes.map(async (x): Promise<NodeStatusRow> => {
      const s = (await getJson(`${x.control}/status`).catch(() => null)) as { peerId: string; multiaddrs: string[]; connected: number[] } | null;
      return { id: x.id, peerId: s?.peerId ?? null, multiaddrs: s?.multiaddrs ?? [], pid: x.pid, up: s !== null && alive(x.pid), connected: s?.connected ?? [] };
    }),
  );
  return { nodes, legHost: { url: st.legHost.url, pid: st.legHost.pid, up: alive(st.legHost.pid) } };
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
