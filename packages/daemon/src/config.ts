import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Credential, type TlsFiles, TokenFileError, isLoopback } from '@tandem/http';
import { UsageError } from './errors.js';
import { type ProtocolChoice, protocolChoice } from './protocol-config.js';

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
  /**
   * Base URLs of the leg adapters' HTTP endpoints (the leg host), and the token the node presents
   * there (`"tokenFile"`: the leg host's `legs` token, read from its file when the config is loaded).
   */
  readonly legs: { readonly asset: string; readonly payment: string; readonly credential: Credential };
  /** The node's write-ahead storage. */
  readonly dataDir: string;
  /**
   * The control API (intents, status): `"tokenFile"` names the token its callers present; a host
   * other than loopback needs `"tls": { "certFile", "keyFile" }`.
   */
  readonly control: { readonly host: string; readonly port: number; readonly credential: Credential; readonly tls: TlsFiles | null };
  /**
   * Offer the link-fault injector (`POST /faults/links`) on the control API: only for cluster-mode
   * scenarios and tests, which set `"linkFaults": true`. Absent or false: the route does not exist.
   */
  readonly linkFaults: boolean;
  /** Optional: append every event, full fidelity, to this file (history.ts; cluster-mode scenarios read it). */
  readonly history?: string;
  /**
   * Optional bounds on what intents may cost, in the file as `"intents": { "horizonMaxDays",
   * "unauthorizedOpenMax" }`; each absent one keeps the runtime's default (3654 days; 1000).
   */
  readonly intents?: IntentLimitsConfig;
  /**
   * The protocol version this node runs (`"protocol": 1 | 2`, default 1) and, for 2, its v2
   * parameters (`"v2": { tickMs, … }`, each absent one the default for the cluster's size; the
   * whole set must pass the v2 bounds, checked once the cluster file is read: protocol-config.ts).
   */
  readonly protocol: ProtocolChoice;
}

export interface IntentLimitsConfig {
  readonly horizonMaxMs?: number;
  readonly unauthorizedOpenMax?: number;
}

const KEYS = ['cluster', 'key', 'listen', 'peers', 'legs', 'dataDir', 'control', 'history', 'intents', 'linkFaults', 'protocol', 'v2'];
const LEGS_KEYS = ['asset', 'payment', 'tokenFile'];
const CONTROL_KEYS = ['host', 'port', 'tokenFile', 'tls'];
const INTENT_KEYS = ['horizonMaxDays', 'unauthorizedOpenMax'];
const DAY_MS = 24 * 60 * 60 * 1000;
/** A horizon longer than this would put validUntil past what a u64 ms time holds safely in JavaScript. */
const HORIZON_DAYS_MAX = 100_000;

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

function count(file: string, v: unknown, key: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) fail(file, key, `an integer 1..${max}`);
  return v;
}

/** The `intents` object of config `file`: only the keys given, so the runtime's defaults fill in the rest. */
export function intentLimits(file: string, v: unknown): IntentLimitsConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(file, 'intents', `an object with ${INTENT_KEYS.join(', ')}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!INTENT_KEYS.includes(k)) fail(file, `intents.${k}`, `no such key (allowed: ${INTENT_KEYS.join(', ')})`);
  return {
    ...(o['horizonMaxDays'] !== undefined ? { horizonMaxMs: count(file, o['horizonMaxDays'], 'intents.horizonMaxDays', HORIZON_DAYS_MAX) * DAY_MS } : {}),
    ...(o['unauthorizedOpenMax'] !== undefined ? { unauthorizedOpenMax: count(file, o['unauthorizedOpenMax'], 'intents.unauthorizedOpenMax', 1_000_000) } : {}),
  };
}

function object(file: string, v: unknown, key: string, keys: readonly string[], expected: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(file, key, `an object ${expected}`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) fail(file, `${key}.${k}`, `no such key (allowed: ${keys.join(', ')})`);
  return v as Record<string, unknown>;
}

/** The token in the file a key names (relative to the config file), read now. */
function token(file: string, base: string, v: unknown, key: string): Credential {
  const path = resolve(base, str(file, v, key));
  try {
    return Credential.fromFile(path);
  } catch (e) {
    if (e instanceof TokenFileError) throw new UsageError(`${file}: key "${key}": ${e.message}`);
    throw e;
  }
}

function controlConfig(file: string, base: string, v: unknown): NodeConfig['control'] {
  const control = object(file, v, 'control', CONTROL_KEYS, '{ host, port, tokenFile, tls? }');
  const tlsRaw = control['tls'];
  const tls = tlsRaw === undefined ? null : tlsFiles(file, base, object(file, tlsRaw, 'control.tls', ['certFile', 'keyFile'], '{ certFile, keyFile }'));
  const host = str(file, control['host'], 'control.host');
  if (!isLoopback(host) && tls === null) fail(file, 'control.host', 'a loopback address (127.0.0.1), or "control.tls": { certFile, keyFile } to serve beyond this machine');
  const port = control['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) fail(file, 'control.port', 'an integer port 0..65535');
  return { host, port, credential: token(file, base, control['tokenFile'], 'control.tokenFile'), tls };
}

function tlsFiles(file: string, base: string, o: Record<string, unknown>): TlsFiles {
  return { certFile: resolve(base, str(file, o['certFile'], 'control.tls.certFile')), keyFile: resolve(base, str(file, o['keyFile'], 'control.tls.keyFile')) };
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
  const legs = object(file, o['legs'], 'legs', LEGS_KEYS, '{ asset: URL, payment: URL, tokenFile }');
  const linkFaults = o['linkFaults'] ?? false;
  if (typeof linkFaults !== 'boolean') fail(file, 'linkFaults', 'true or false');
  return {
    cluster: resolve(base, str(file, o['cluster'], 'cluster')),
    key: resolve(base, str(file, o['key'], 'key')),
    listen: strList(file, o['listen'], 'listen'),
    peers,
    legs: { asset: url(file, legs['asset'], 'legs.asset'), payment: url(file, legs['payment'], 'legs.payment'), credential: token(file, base, legs['tokenFile'], 'legs.tokenFile') },
    dataDir: resolve(base, str(file, o['dataDir'], 'dataDir')),
    control: controlConfig(file, base, o['control']),
    linkFaults,
    protocol: protocolChoice(file, o['protocol'], o['v2']),
    ...(o['history'] !== undefined ? { history: resolve(base, str(file, o['history'], 'history')) } : {}),
    ...(o['intents'] !== undefined ? { intents: intentLimits(file, o['intents']) } : {}),
  };
}
