/**
 * Starting the cluster's leg host, by `cluster up` and again after it crashed (`restartLegHost`).
 * Its output is appended to DIR/logs/leghost.log, which is never truncated or deleted: with the
 * legs' own histories it is the audit trail (docs: packages/devnet/README.md). A start reads only
 * the part of the log written after it began, so an earlier run's ready line never counts.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './http.js';
import { type ClusterVenues, type LegsKind, clusterPaths } from './paths.js';
import { MEMORY_LEG_HOST_MAIN, REAL_LEG_HOST_MAIN, spawnLogged } from './processes.js';

/** How long the leg host may take to be ready (real legs deploy, or load their chain). */
export const LEG_HOST_READY_TIMEOUT_MS = 60_000;
/** Most of the log one start reads while waiting for its ready line. */
const READY_READ_BYTES_MAX = 1024 * 1024;

/** What the leg host's ready line says. */
export interface LegHostReady {
  readonly venues?: ClusterVenues;
  readonly rpcUrl?: string;
  readonly chain?: string;
}

/** The leg host's log file in cluster directory `dir`. */
export function legHostLog(dir: string): string {
  return join(clusterPaths(dir).logs, 'leghost.log');
}

/**
 * Spawns the leg host of cluster `dir` (`args` after `--config FILE`), appending to its log;
 * `logOffset` is where this start's output begins (for legHostReady).
 */
export function spawnLegHost(dir: string, legs: LegsKind, args: readonly string[]): { child: ChildProcess; logOffset: number } {
  const log = legHostLog(dir);
  const logOffset = existsSync(log) ? statSync(log).size : 0;
  const child = spawnLogged(legs === 'real' ? REAL_LEG_HOST_MAIN : MEMORY_LEG_HOST_MAIN, ['--config', clusterPaths(dir).legHostConfig, ...args], log);
  return { child, logOffset };
}

/** Waits for this start's ready line; a leg host that died says why (its last words) at once. */
export async function legHostReady(dir: string, legHost: ChildProcess, logOffset: number): Promise<LegHostReady> {
  const log = legHostLog(dir);
  const ready = await waitFor('the leg host', LEG_HOST_READY_TIMEOUT_MS, async (): Promise<LegHostReady | { exited: string } | null> => {
    const lines = readFrom(log, logOffset).split('\n');
    const line = lines.find((l) => l.includes('"ready":true'));
    if (line !== undefined) return JSON.parse(line) as LegHostReady;
    if (legHost.exitCode !== null || legHost.signalCode !== null) return { exited: lines.find((l) => l.startsWith('tandem leg-host: ')) ?? lines.filter((l) => l.trim() !== '').pop() ?? `exit ${legHost.exitCode ?? legHost.signalCode}` };
    return null;
  });
  if ('exited' in ready) throw new Error(`the leg host stopped before it was ready: ${ready.exited}`);
  return ready;
}

/** The text of `file` from byte `offset` on (at most READY_READ_BYTES_MAX of it). */
function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(Math.max(statSync(file).size - offset, 0), READY_READ_BYTES_MAX));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
