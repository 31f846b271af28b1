/**
 * The directory `tandem cluster up` creates and every other cluster command reads:
 *
 *   DIR/keys/cluster.json, DIR/keys/nK.key.json   keygen output (key files mode 0600)
 *   DIR/parties.json                              demo parties' public keys (alice, bob)
 *   DIR/parties.secret.json                       their secret keys (0600): `settle` signs with them
 *   DIR/leghost.json                              the leg host's configuration
 *   DIR/nodes/nK.json                             each node's configuration
 *   DIR/data/nK/                                  each node's write-ahead storage
 *   DIR/logs/leghost.log, DIR/logs/nK.log         process output (JSON lines)
 *   DIR/state.json                                pids, control URLs, leg URL, venues
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.js';

export const DEFAULT_CLUSTER_DIR = '.tandem/cluster';

export interface ClusterState {
  readonly version: 1;
  readonly n: number;
  readonly legs: 'memory' | 'real';
  readonly legHost: { readonly pid: number; readonly url: string };
  readonly nodes: readonly { readonly id: string; readonly pid: number; readonly control: string; readonly config: string; readonly log: string }[];
  readonly venues: { readonly chainId: string; readonly escrow: string; readonly bankId: string; readonly ledger: string };
  readonly startedAt: string;
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
  };
}

export function readState(dir: string): ClusterState {
  const p = clusterPaths(dir).state;
  if (!existsSync(p)) throw new UsageError(`${dir}: no running cluster here (no state.json); start one with: pnpm tandem cluster up --dir ${dir}`);
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ClusterState;
  } catch (e) {
    throw new UsageError(`${p}: not valid JSON (${(e as Error).message})`);
  }
}

/** Is a process with this pid alive (and ours to signal)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
