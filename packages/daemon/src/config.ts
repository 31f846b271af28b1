import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** A node's configuration file (`tandem node --config FILE`). Relative paths are relative to the file. */
export interface NodeConfig {
  /** The public cluster file written by `tandem keygen`. */
  readonly cluster: string;
  /** This node's private key file (identity key and BLS share). */
  readonly key: string;
  /** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/7001. */
  readonly listen: readonly string[];
  /** Where the other members listen. */
  readonly peers: readonly { readonly id: string; readonly multiaddrs: readonly string[] }[];
  /** Base URLs of the leg adapters' HTTP endpoints (the leg host). */
  readonly legs: { readonly asset: string; readonly payment: string };
  /** The node's write-ahead storage. */
  readonly dataDir: string;
  /** The local control API (intents and status), loopback only. */
  readonly control: { readonly host: string; readonly port: number };
  /** Optional: append every event, full fidelity, to this file (history.ts; cluster-mode scenarios read it). */
  readonly history?: string;
}

const KEYS = ['cluster', 'key', 'listen', 'peers', 'legs', 'dataDir', 'control', 'history'];

function fail(file: string, key: string, expected: string): never {
  throw new UsageError(`${file}: key "${key}": expected ${expected}`);
}

function str(file: string, v: unknown, key: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(file, key, 'a non-empty string');
  return v;
}

function strList(file: string, v: unknown, key: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(file, key, 'a non-empty list of strings');
  return v.map((x, i) => str(file, x, `${key}[${i}]`));
}

function url(file: string, v: unknown, key: string): string {
  const s = str(file, v, key);
  if (!/^https?:\/\/[^\s]+$/.test(s)) fail(file, key, 'an http:// or https:// URL');
  return s.replace(/\/+$/, '');
}

/** Reads and checks a node config; every problem is a UsageError naming the file and the key. */
export function loadNodeConfig(file: string): NodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(e as Error).message})`}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${file}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) fail(file, k, `no such key (allowed: ${KEYS.join(', ')})`);
  const base = dirname(resolve(file));
  const peersRaw = o['peers'];
  if (!Array.isArray(peersRaw)) fail(file, 'peers', 'a list of { id, multiaddrs }');
  const peers = peersRaw.map((p: unknown, i) => {
    if (p === null || typeof p !== 'object') fail(file, `peers[${i}]`, 'an object { id, multiaddrs }');
    const po = p as Record<string, unknown>;
    const id = str(file, po['id'], `peers[${i}].id`);
    if (!/^n[1-9]\d*$/.test(id)) fail(file, `peers[${i}].id`, 'a member id like n2');
    return { id, multiaddrs: strList(file, po['multiaddrs'], `peers[${i}].multiaddrs`) };
  });
  const legs = o['legs'] as Record<string, unknown> | undefined;
  if (legs === undefined || legs === null || typeof legs !== 'object') fail(file, 'legs', 'an object { asset: URL, payment: URL }');
  const control = o['control'] as Record<string, unknown> | undefined;
  if (control === undefined || control === null || typeof control !== 'object') fail(file, 'control', 'an object { host, port }');
  const host = str(file, control['host'], 'control.host');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') fail(file, 'control.host', 'a loopback address (127.0.0.1): the control API has no authentication');
  const port = control['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) fail(file, 'control.port', 'an integer port 0..65535');
  return {
    cluster: resolve(base, str(file, o['cluster'], 'cluster')),
    key: resolve(base, str(file, o['key'], 'key')),
    listen: strList(file, o['listen'], 'listen'),
    peers,
    legs: { asset: url(file, legs['asset'], 'legs.asset'), payment: url(file, legs['payment'], 'legs.payment') },
    dataDir: resolve(base, str(file, o['dataDir'], 'dataDir')),
    control: { host, port },
    ...(o['history'] !== undefined ? { history: resolve(base, str(file, o['history'], 'history')) } : {}),
  };
}
