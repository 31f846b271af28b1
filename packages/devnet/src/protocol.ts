/**
 * The protocol version of a cluster directory. `cluster up` records it in DIR/protocol.json when
 * the directory is made (`--protocol`, default 2) and every later start must run the same: the
 * legs are anchored to one configuration (a v2 digest covers the v2 parameters) and deployed for
 * one version (DvpEscrow or DvpEscrowV2), and v1 instances and v2 heights share no quorum, so a
 * directory never changes version. Starting or restarting it under another exits 2.
 *
 *   DIR/protocol.json   { "protocol": 2 }
 *
 * A directory made before the record existed (keys but no protocol.json) ran protocol 1.
 */


import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '@tandem/daemon';
import { clusterPaths } from './paths.js';

export type ProtocolVersion = 1 | 2;

/** The version a new cluster directory (and the demo) runs when `--protocol` is not given. */
export const DEFAULT_PROTOCOL: ProtocolVersion = 2;

/** The `--protocol` flag as typed (absent: undefined). */
export function parseProtocolFlag(v: string | undefined): ProtocolVersion | undefined {
  if (v === undefined) return undefined;
  if (v !== '1' && v !== '2') throw new UsageError(`--protocol ${v}: expected 1 or 2`);
  return v === '1' ? 1 : 2;
}

/** The version DIR records, or null when it records none (a new directory, or one made before the record). */
export function recordedProtocol(dir: string): ProtocolVersion | null {
  const file = clusterPaths(dir).protocol;
  if (!existsSync(file)) return null;
  let v: unknown;
  try {
    v = (JSON.parse(readFileSync(file, 'utf8')) as { protocol?: unknown }).protocol;
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message}); restore it ({ "protocol": 1 } or 2)`);
  }
  if (v !== 1 && v !== 2) throw new UsageError(`${file}: key "protocol": expected 1 or 2, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * The version `cluster up` runs in `dir`: the recorded one, which `flag` (when given) must match,
 * or for a new directory `flag` (default DEFAULT_PROTOCOL), recorded now. Call before anything starts.
 */
export function ensureProtocol(dir: string, flag: ProtocolVersion | undefined): ProtocolVersion {
  const p = clusterPaths(dir);
  const recorded = recordedProtocol(dir) ?? (existsSync(p.cluster) ? 1 : null);
  if (recorded !== null && flag !== undefined && flag !== recorded) {
    throw new UsageError(`--protocol ${flag}: ${dir} was created with protocol ${recorded} (${p.protocol}), and a cluster directory keeps its protocol (its legs are anchored and deployed for it); use --protocol ${recorded}, or another --dir`);
  }
  const version = recorded ?? flag ?? DEFAULT_PROTOCOL;
  writeFileSync(p.protocol, JSON.stringify({ protocol: version }) + '\n');
  return version;
}

/** A node's config must run the directory's version (a restart never changes it). */
export function checkNodeProtocol(dir: string, configFile: string): void {
  const recorded = recordedProtocol(dir) ?? 1;
  let v: unknown;
  try {
    v = (JSON.parse(readFileSync(configFile, 'utf8')) as { protocol?: unknown }).protocol ?? 1;
  } catch (e) {
    throw new UsageError(`${configFile}: not valid JSON (${(e as Error).message})`);
  }
  if (v !== recorded) throw new UsageError(`${configFile}: key "protocol": ${JSON.stringify(v)}, but ${dir} was created with protocol ${recorded}; a cluster directory keeps its protocol`);
}
