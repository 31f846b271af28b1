/**
 * The leg host's config file (for `node packages/leg-host/dist/main.js --config FILE`):
 *
 *   {
 *     "cluster": "cluster.json",            // the cluster file written by `tandem keygen`, or instead:
 *     "anchor": { "networkId": hex32, "configDigest": hex32, "groupPublicKey": hex96 },
 *     "parties": "parties.json",            // { "alice": "<Ed25519 public key hex>", … }
 *     "asset": { "chainId": "31337", "escrow": "<20-byte hex>" },
 *     "bank": { "bankId": "bank-a", "ledger": "deposits" },
 *     "tokens": { "legs": "secrets/legs.token", "admin": "secrets/admin.token" },
 *     "host": "127.0.0.1",                  // optional (default 127.0.0.1); not loopback: needs "tls"
 *     "tls": { "certFile": "…", "keyFile": "…" },   // optional: serve HTTPS
 *     "port": 0,                            // optional, 0 = a free port (default)
 *     "protocol": 1                         // optional (default 1): 2 for protocol v2 (batches)
 *   }
 *
 * `tokens` names the two token files (mode 0600, 64 hex digits; made by `tandem cluster up`, or
 * @tandem/http's Credential.createFile): `legs` is what nodes present on the /legs routes, `admin`
 * what operators present on the /admin routes. They are read here, never taken from argv or the
 * environment.
 * Relative paths are read from the config file's directory. From the cluster file only the anchor
 * is read (networkId, configDigest, groupPublicKey; the group key must be a G2 point and equal
 * commitments[0]): the full check belongs to the nodes, which hold the shares. Every problem is a
 * ConfigError naming the file and the key.
 *
 * `protocol` is the one version of reports the legs accept (LegAnchor.protocol): a v1 leg refuses
 * roots, a v2 leg refuses v1 reports. Under protocol 2 the anchor's configDigest must be the v2
 * configuration digest. A cluster file that names its own `protocol` must name this one: a leg
 * host never serves a cluster under another version than the one it was made for.
 */
import { readFileSync } from 'node:fs';
import { Credential, type TlsFiles, TokenFileError, isLoopback } from '@tandem/http';
import { dirname, resolve } from 'node:path';
import { G2_POINT_BYTES, STRING_BYTES_MAX, U64_MAX, toHex } from '@tandem/protocol';
import { PointDecodeError, decodeG2PublicKey } from '@tandem/crypto';
import type { AssetVenue, BankVenue, LegAnchor } from '@tandem/legs';
import { WireError, decimalField, hexField, intField, fieldPath, objectField, stringField } from '@tandem/legs/json';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LegHostConfig {
  readonly anchor: LegAnchor;
  readonly parties: ReadonlyMap<string, Uint8Array>;
  readonly assetVenue: AssetVenue;
  readonly bankVenue: BankVenue;
  readonly credentials: { readonly legs: Credential; readonly admin: Credential };
  readonly host: string;
  readonly tls: TlsFiles | null;
  readonly port: number;
}

/** Bound on the parties file: a demo cluster has a handful. */
export const PARTIES_MAX = 10_000;
const CLUSTER_FILE_VERSION = 1;
/** Bound on any file read here: a cluster file for 1000 nodes is about 300 KB. */
const FILE_BYTES_MAX = 16 * 1024 * 1024;

/** Reads a JSON file; `readText` is injectable for tests. */
function readJson(path: string, readText: (p: string) => string): unknown {
  let text: string;
  try {
    text = readText(path);
  } catch (e) {
    throw new ConfigError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text.length > FILE_BYTES_MAX) throw new ConfigError(`${path}: larger than ${FILE_BYTES_MAX} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Runs `read`, turning a WireError into a ConfigError that names the file and the key. */
function inFile<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof WireError) throw new ConfigError(e.field === '' ? `${path}: ${e.problem}` : `${path}: key "${e.field}": ${e.problem}`);
    throw e;
  }
}

export function loadLegHostConfig(path: string, readText: (p: string) => string = (p) => readFileSync(p, 'utf8')): LegHostConfig {
  const json = readJson(path, readText);
  const base = dirname(path);
  const o = inFile(path, () => objectField(json, '', ['parties', 'asset', 'bank', 'tokens'], ['cluster', 'anchor', 'host', 'tls', 'port', 'protocol']));
  const hasCluster = Object.hasOwn(o, 'cluster');
  if (hasCluster === Object.hasOwn(o, 'anchor')) throw new ConfigError(`${path}: give exactly one of the keys "cluster" (a cluster file) and "anchor"`);
  const protocol = inFile(path, () => protocolFromJson(o.protocol));
  const anchor = hasCluster
    ? loadClusterAnchor(resolve(base, inFile(path, () => stringField(o.cluster, 'cluster', 4096, 1))), readText, protocol)
    : { ...inFile(path, () => anchorFromJson(o.anchor, 'anchor')), protocol };
  const partiesPath = resolve(base, inFile(path, () => stringField(o.parties, 'parties', 4096, 1)));
  const parties = loadParties(partiesPath, readText);
  const credentials = loadTokens(path, base, o.tokens);
  return inFile(path, () => {
    const tls = o.tls === undefined ? null : tlsFromJson(o.tls, base);
    return {
      anchor,
      parties,
      assetVenue: assetVenueFromJson(o.asset, 'asset'),
      bankVenue: bankVenueFromJson(o.bank, 'bank'),
      credentials,
      host: hostFromJson(o.host, tls !== null),
      tls,
      port: o.port === undefined ? 0 : intField(o.port, 'port', 0, 65535),
    };
  });
}

/** The config's `protocol`: 1 when absent. */
function protocolFromJson(v: unknown): 1 | 2 {
  if (v === undefined) return 1;
  if (v !== 1 && v !== 2) throw new WireError('protocol', `expected 1 or 2 (the protocol version the legs accept), got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function hostFromJson(v: unknown, tls: boolean): string {
  if (v === undefined) return '127.0.0.1';
  const host = stringField(v, 'host', 255, 1);
  if (!isLoopback(host) && !tls) throw new WireError('host', `${host} is not a loopback address: serving beyond this machine needs "tls": { "certFile", "keyFile" }`);
  return host;
}

function tlsFromJson(v: unknown, base: string): TlsFiles {
  const o = objectField(v, 'tls', ['certFile', 'keyFile']);
  return { certFile: resolve(base, stringField(o.certFile, 'tls.certFile', 4096, 1)), keyFile: resolve(base, stringField(o.keyFile, 'tls.keyFile', 4096, 1)) };
}

/** The two token files named under `tokens`, read now: a missing or open one is a ConfigError naming the key. */
function loadTokens(path: string, base: string, v: unknown): { legs: Credential; admin: Credential } {
  const o = inFile(path, () => objectField(v, 'tokens', ['legs', 'admin']));
  const read = (role: 'legs' | 'admin'): Credential => {
    const file = resolve(base, inFile(path, () => stringField(o[role], `tokens.${role}`, 4096, 1)));
    try {
      return Credential.fromFile(file);
    } catch (e) {
      if (e instanceof TokenFileError) throw new ConfigError(`${path}: key "tokens.${role}": ${e.message}`);
      throw e;
    }
  };
  const tokens = { legs: read('legs'), admin: read('admin') };
  if (tokens.legs.sameTokenAs(tokens.admin)) throw new ConfigError(`${path}: key "tokens": "legs" and "admin" hold the same token; each needs its own`);
  return tokens;
}

function groupKeyField(v: unknown, field: string): Uint8Array {
  const key = hexField(v, field, G2_POINT_BYTES);
  try {
    decodeG2PublicKey(key, field);
  } catch (e) {
    if (e instanceof PointDecodeError) throw new WireError(field, `not a valid G2 point: ${e.message}`);
    throw e;
  }
  return key;
}

function anchorFromJson(v: unknown, field: string): LegAnchor {
  const o = objectField(v, field, ['networkId', 'configDigest', 'groupPublicKey']);
  return {
    networkId: hexField(o.networkId, fieldPath(field, 'networkId'), 32),
    configDigest: hexField(o.configDigest, fieldPath(field, 'configDigest'), 32),
    groupPublicKey: groupKeyField(o.groupPublicKey, fieldPath(field, 'groupPublicKey')),
  };
}

/**
 * The anchor from a cluster file, for legs of `protocol`; its other keys are the nodes' business
 * and are not checked here, but for `protocol` when the file has one (it must be `protocol`).
 */
export function loadClusterAnchor(path: string, readText: (p: string) => string = (p) => readFileSync(p, 'utf8'), protocol: 1 | 2 = 1): LegAnchor {
  const json = readJson(path, readText);
  return inFile(path, () => {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new WireError('', 'expected an object');
    const o = json as Record<string, unknown>;
    if (o.version !== CLUSTER_FILE_VERSION) throw new WireError('version', `expected ${CLUSTER_FILE_VERSION}, got ${JSON.stringify(o.version)}`);
    const anchor = anchorFromJson({ networkId: o.networkId, configDigest: o.configDigest, groupPublicKey: o.groupPublicKey }, '');
    const first: unknown = Array.isArray(o.commitments) ? o.commitments[0] : undefined;
    if (first === undefined) throw new WireError('commitments', 'expected a non-empty array');
    if (toHex(hexField(first, 'commitments[0]', G2_POINT_BYTES)) !== toHex(anchor.groupPublicKey)) {
      throw new WireError('groupPublicKey', 'differs from commitments[0] (the group key is the constant term commitment)');
    }
    if (o.protocol !== undefined && o.protocol !== protocol) {
      throw new WireError('protocol', `the cluster runs protocol ${JSON.stringify(o.protocol)}, the leg host config says ${protocol} (its key "protocol", default 1)`);
    }
    return { ...anchor, protocol };
  });
}

export function loadParties(path: string, readText: (p: string) => string = (p) => readFileSync(p, 'utf8')): ReadonlyMap<string, Uint8Array> {
  const json = readJson(path, readText);
  return inFile(path, () => {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new WireError('', 'expected an object { "name": "<Ed25519 public key hex>" }');
    const entries = Object.entries(json as Record<string, unknown>);
    if (entries.length === 0) throw new WireError('', 'no parties');
    if (entries.length > PARTIES_MAX) throw new WireError('', `more than ${PARTIES_MAX} parties`);
    const parties = new Map<string, Uint8Array>();
    for (const [name, key] of entries) {
      stringField(name, name, STRING_BYTES_MAX, 1);
      parties.set(name, hexField(key, name, 32));
    }
    return parties;
  });
}

function assetVenueFromJson(v: unknown, field: string): AssetVenue {
  const o = objectField(v, field, ['chainId', 'escrow']);
  const chainField = fieldPath(field, 'chainId');
  // A chain id may be written as a JSON number (when small) or a decimal string (any u64).
  const chainId = typeof o.chainId === 'number' ? BigInt(intField(o.chainId, chainField, 0, Number.MAX_SAFE_INTEGER)) : decimalField(o.chainId, chainField, U64_MAX);
  return { chainId, escrow: hexField(o.escrow, fieldPath(field, 'escrow'), 20) };
}

function bankVenueFromJson(v: unknown, field: string): BankVenue {
  const o = objectField(v, field, ['bankId', 'ledger']);
  return { bankId: stringField(o.bankId, fieldPath(field, 'bankId'), STRING_BYTES_MAX, 1), ledger: stringField(o.ledger, fieldPath(field, 'ledger'), STRING_BYTES_MAX, 1) };
}
