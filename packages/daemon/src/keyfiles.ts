/**
 * Cluster and key files written by `tandem keygen` and read by every command that runs a node.
 *
 * cluster.json (public):
 *   { version: 1, network, networkId, n, t, members: [{ index, id, identityKey }],
 *     commitments: [hex], groupPublicKey, configDigest }
 * nK.key.json (private, mode 0600):
 *   { version: 1, id, index, identitySecretKey, blsShareSecretKey }
 *
 * Loading checks everything a node relies on and throws UsageError naming the file and the key.
 * Share public keys are never stored: they are derived from the commitments.
 */
import { readFileSync } from 'node:fs';
import {
  type ClusterConfig,
  type Member,
  STRING_BYTES_MAX,
  configDigest,
  configShapeProblem,
  equalBytes,
  fromHex,
  networkIdFromName,
  quorum,
  toHex,
  utf8,
} from '@tandem/protocol';
import { MAX_NODES, PointDecodeError, decodeG2PublicKey, identityPublicKey, verifyShare } from '@tandem/crypto';
import { UsageError } from './errors.js';

export const KEYFILE_VERSION = 1;
export const CLUSTER_FILE_NAME = 'cluster.json';
export const DEFAULT_NETWORK_NAME = 'tandem-local';

export function keyFileName(id: string): string {
  return `${id}.key.json`;
}

export interface LoadedCluster {
  readonly config: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly networkName: string;
}

export interface LoadedKey {
  readonly id: string;
  readonly index: number;
  readonly identitySecretKey: Uint8Array;
  readonly identityPublicKey: Uint8Array;
  readonly blsShareSecretKey: Uint8Array;
}

export interface ClusterFileJson {
  version: number;
  network: string;
  networkId: string;
  n: number;
  t: number;
  members: { index: number; id: string; identityKey: string }[];
  commitments: string[];
  groupPublicKey: string;
  configDigest: string;
}

export interface KeyFileJson {
  version: number;
  id: string;
  index: number;
  identitySecretKey: string;
  blsShareSecretKey: string;
}

/** The public cluster file for a configuration. */
export function clusterFileJson(networkName: string, config: ClusterConfig): ClusterFileJson {
  return {
    version: KEYFILE_VERSION,
    network: networkName,
    networkId: toHex(config.networkId),
    n: config.n,
    t: config.t,
    members: config.members.map((m) => ({ index: m.index, id: m.id, identityKey: toHex(m.identityKey) })),
    commitments: config.commitments.map(toHex),
    groupPublicKey: toHex(config.commitments[0]!),
    configDigest: toHex(configDigest(config)),
  };
}

/** Names the file (and key) in every complaint. */
class Fields {
  constructor(
    readonly path: string,
    readonly prefix = '',
  ) {}

  fail(key: string, problem: string): never {
    throw new UsageError(`${this.path}: key "${this.prefix}${key}": ${problem}`);
  }

  object(v: unknown, key: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'expected an object');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(key === '' ? k : `${key}.${k}`, `unknown key (expected only ${allowed.join(', ')})`);
    }
    return o;
  }

  int(o: Record<string, unknown>, key: string, min: number, max: number): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  string(o: Record<string, unknown>, key: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }

  hex(o: Record<string, unknown>, key: string, bytes: number): Uint8Array {
    const s = this.string(o, key);
    try {
      return fromHex(s, bytes);
    } catch (e) {
      return this.fail(key, (e as Error).message);
    }
  }

  array(o: Record<string, unknown>, key: string, length: number): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(key, 'expected an array');
    if (v.length !== length) this.fail(key, `expected ${length} entries, got ${v.length}`);
    return v;
  }

  at(prefix: string): Fields {
    return new Fields(this.path, `${this.prefix}${prefix}`);
  }
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function checkVersion(f: Fields, o: Record<string, unknown>): void {
  if (o.version !== KEYFILE_VERSION) f.fail('version', `expected ${KEYFILE_VERSION}, got ${JSON.stringify(o.version)}`);
}

export function checkNetworkName(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (utf8(name).length > STRING_BYTES_MAX) return `must be at most ${STRING_BYTES_MAX} bytes`;
  return null;
}

const CLUSTER_KEYS = ['version', 'network', 'networkId', 'n', 't', 'members', 'commitments', 'groupPublicKey', 'configDigest'];
const MEMBER_KEYS = ['index', 'id', 'identityKey'];

function readMembers(f: Fields, o: Record<string, unknown>, n: number): Member[] {
  return f.array(o, 'members', n).map((raw, k) => {
    const mf = f.at(`members[${k}].`);
    const m = mf.object(raw, '', MEMBER_KEYS);
    const index = mf.int(m, 'index', 1, MAX_NODES);
    if (index !== k + 1) mf.fail('index', `expected ${k + 1}, got ${index}`);
    const id = mf.string(m, 'id');
    if (id !== `n${k + 1}`) mf.fail('id', `expected "n${k + 1}", got ${JSON.stringify(id)}`);
    return { index, id, identityKey: mf.hex(m, 'identityKey', 32) };
  });
}

function readCommitments(f: Fields, o: Record<string, unknown>, t: number): Uint8Array[] {
  return f.array(o, 'commitments', t).map((raw, j) => {
    const key = `commitments[${j}]`;
    if (typeof raw !== 'string') return f.fail(key, 'expected a hex string');
    let bytes: Uint8Array;
    try {
      bytes = fromHex(raw, 96);
    } catch (e) {
      return f.fail(key, (e as Error).message);
    }
    try {
      decodeG2PublicKey(bytes, key);
    } catch (e) {
      if (e instanceof PointDecodeError) f.fail(key, `not a valid G2 point: ${e.message}`);
      throw e;
    }
    return bytes;
  });
}

/** Reads and fully checks cluster.json. Throws UsageError naming the file and the key. */
export function loadClusterFile(path: string): LoadedCluster {
  const f = new Fields(path);
  const o = f.object(readJson(path), '', CLUSTER_KEYS);
  checkVersion(f, o);
  const networkName = f.string(o, 'network');
  const nameProblem = checkNetworkName(networkName);
  if (nameProblem !== null) f.fail('network', nameProblem);
  const networkId = f.hex(o, 'networkId', 32);
  if (!equalBytes(networkId, networkIdFromName(networkName))) {
    f.fail('networkId', `does not match the network name ${JSON.stringify(networkName)}`);
  }
  const n = f.int(o, 'n', 1, MAX_NODES);
  const t = f.int(o, 't', 1, MAX_NODES);
  if (t !== quorum(n)) f.fail('t', `must equal the quorum n - floor((n-1)/3) = ${quorum(n)} for n = ${n}, got ${t}`);
  const members = readMembers(f, o, n);
  const commitments = readCommitments(f, o, t);
  const groupPublicKey = f.hex(o, 'groupPublicKey', 96);
  if (!equalBytes(groupPublicKey, commitments[0]!)) f.fail('groupPublicKey', 'does not equal commitments[0]');
  const config: ClusterConfig = { networkId, n, t, members, commitments };
  const shape = configShapeProblem(config);
  if (shape !== null) f.fail('', shape);
  const digest = configDigest(config);
  if (!equalBytes(f.hex(o, 'configDigest', 32), digest)) {
    f.fail('configDigest', `does not match the configuration (computed ${toHex(digest)})`);
  }
  return { config, configDigest: digest, networkName };
}

const KEY_KEYS = ['version', 'id', 'index', 'identitySecretKey', 'blsShareSecretKey'];

/**
 * Reads and fully checks a node's key file against its cluster: the identity key must be the
 * member's, and the BLS share must pass the Feldman check against the commitments.
 */
export function loadKeyFile(path: string, cluster: LoadedCluster): LoadedKey {
  const f = new Fields(path);
  const o = f.object(readJson(path), '', KEY_KEYS);
  checkVersion(f, o);
  const { members, commitments, n } = cluster.config;
  const index = f.int(o, 'index', 1, n);
  const member = members[index - 1]!;
  const id = f.string(o, 'id');
  if (id !== member.id) f.fail('id', `expected ${JSON.stringify(member.id)} for index ${index}, got ${JSON.stringify(id)}`);
  const identitySecretKey = f.hex(o, 'identitySecretKey', 32);
  const publicKey = identityPublicKey(identitySecretKey);
  if (!equalBytes(publicKey, member.identityKey)) {
    f.fail('identitySecretKey', `its public key does not match members[${index - 1}].identityKey of the cluster file`);
  }
  const blsShareSecretKey = f.hex(o, 'blsShareSecretKey', 32);
  if (!verifyShare({ index, secret: blsShareSecretKey }, commitments)) {
    f.fail('blsShareSecretKey', `not share ${index} of the cluster's commitments (Feldman check failed)`);
  }
  return { id, index, identitySecretKey, identityPublicKey: publicKey, blsShareSecretKey };
}
