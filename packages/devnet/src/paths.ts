/**
 * The directory `tandem cluster up` creates and every other cluster command reads:
 *
 *   DIR/keys/cluster.json, DIR/keys/nK.key.json   keygen output (key files mode 0600)
 *   DIR/parties.json                              demo parties' public keys (alice, bob)
 *   DIR/parties.secret.json                       their secret keys (0600): `settle` signs with them
 *   DIR/secrets/{control,legs,admin}.token        the listeners' bearer tokens (0600; secrets.ts)
 *   DIR/leghost.json                              the leg host's configuration
 *   DIR/legs-data/                                the real legs' data (PGlite bank, chain accounts)
 *   DIR/nodes/nK.json                             each node's configuration
 *   DIR/data/nK/                                  each node's write-ahead storage
 *   DIR/data/nK.history.jsonl                     each node's full-fidelity history
 *   DIR/logs/leghost.log, DIR/logs/nK.log         process output (JSON lines)
 *   DIR/state.json                                pids, control URLs, leg URL, venues
 *   DIR/protocol.json                             the protocol version the directory was made with (protocol.ts)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '@tandem/daemon';

export const DEFAULT_CLUSTER_DIR = '.tandem/cluster';

export type LegsKind = 'memory' | 'real';

/** What the terms of a settlement on this cluster must name: its chain and escrow, its bank and ledger. */
export interface ClusterVenues {
  readonly chainId: string;
  readonly escrow: string;
  readonly bankId: string;
  readonly ledger: string;
}

export interface ClusterNode {
  readonly id: string;
  readonly pid: number;
  readonly control: string;
  readonly config: string;
  readonly log: string;
}

/** DIR/state.json: every process the cluster started, by pid, and where to reach it. */
export interface ClusterState {
  readonly version: 1;
  readonly n: number;
  readonly legs: LegsKind;
  /** `args`: what the leg host was started with after `--config FILE` (chain flags), so that it can be restarted alike. */
  readonly legHost: { readonly pid: number; readonly url: string; readonly args?: readonly string[] };
  readonly nodes: readonly ClusterNode[];
  readonly venues: ClusterVenues;
  readonly startedAt: string;
  /** The protocol version the cluster runs (absent in states written before v2: 1). */
  readonly protocol?: 1 | 2;
}

export function clusterPaths(dir: string) {
  return {
    keys: join(dir, 'keys'),
    cluster: join(dir, 'keys', 'cluster.json'),
    parties: join(dir, 'parties.json'),
    partiesSecret: join(dir, 'parties.secret.json'),
    legHostConfig: join(dir, 'leghost.json'),
    nodes: join(dir, 'nodes'),
    data: join(dir, 'data'),
    logs: join(dir, 'logs'),
    state: join(dir, 'state.json'),
    protocol: join(dir, 'protocol.json'),
  };
}

/** The running cluster's state; a UsageError (exit 2) naming the directory when there is none. */
export function readState(dir: string): ClusterState {
  const p = clusterPaths(dir).state;
  if (!existsSync(p)) throw new UsageError(`${dir}: no running cluster here (no state.json); start one with: pnpm tandem cluster up --dir ${dir}`);
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ClusterState;
  } catch (e) {
    throw new UsageError(`${p}: not valid JSON (${(e as Error).message})`);
  }
}

/** The state, or null when the directory holds no readable one (a cluster that never started). */
export function readStateOrNull(dir: string): ClusterState | null {
  try {
    return readState(dir);
  } catch {
    return null;
  }
}

/** Writes state.json atomically (a temp file renamed into place): a reader never sees half of it. */
export function writeState(dir: string, state: ClusterState): void {
  const p = clusterPaths(dir).state;
  const tmp = `${p}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, p);
}
