/**
 * A trusted dealer for a cluster (`tandem keygen`, and `tandem cluster up` on a fresh directory):
 * deals BLS threshold shares (t = q) and Ed25519 identities, writes one private key file per node
 * (mode 0600) and the public cluster.json. The group secret lives only inside dealerKeygen and is
 * never written; the dealt secrets are zeroed once the files are on disk.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ClusterConfig, faultsTolerated, networkIdFromName, quorum, toHex } from '@tandem/protocol';
import { MAX_NODES, dealerKeygen, identityKeygen } from '@tandem/crypto';
import { UsageError } from './errors.js';
import { CLUSTER_FILE_NAME, KEYFILE_VERSION, type KeyFileJson, checkNetworkName, clusterFileJson, keyFileName } from './keyfiles.js';

const KEY_FILE_MODE = 0o600;
const CLUSTER_FILE_MODE = 0o644;

export function parseNodeCount(raw: string): number {
  if (!/^[0-9]+$/.test(raw.trim())) throw new UsageError(`--nodes must be an integer in 1..${MAX_NODES}, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < 1 || n > MAX_NODES) throw new UsageError(`--nodes must be an integer in 1..${MAX_NODES}, got ${n}`);
  return n;
}

interface PlannedFile {
  readonly path: string;
  readonly text: string;
  readonly mode: number;
}

/** Writes `text` to a fresh temporary file beside `path` with `mode`, flushed to disk. */
function writeTemp(file: PlannedFile, tag: string): string {
  const temp = `${file.path}.${tag}.tmp`;
  const fd = openSync(temp, 'wx', file.mode);
  try {
    writeSync(fd, file.text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the renames are still atomic.
  }
}

/**
 * Every file is written to a temporary name first and renamed into place only once all of them
 * are on disk, cluster.json last: an interrupted run leaves no half-written file, and no
 * cluster.json unless every key file beside it is complete.
 */
function writeAllAtomically(dir: string, files: readonly PlannedFile[]): void {
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(writeTemp(f, tag));
    files.forEach((f, k) => renameSync(temps[k]!, f.path));
    temps.length = 0;
  } finally {
    for (const t of temps) rmSync(t, { force: true });
  }
  fsyncDir(dir);
}

function errorCode(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}${err.path ? ` on ${err.path}` : ''}` : String(e);
}

interface Dealing {
  /** Key files n1..nN, then cluster.json (written last). */
  readonly files: PlannedFile[];
  readonly cluster: ReturnType<typeof clusterFileJson>;
  /** Zeroes the secret bytes this dealing holds (the file texts are strings and cannot be). */
  readonly wipe: () => void;
}

/** Deals shares and identities and lays out the files; `targets` are the key paths, then cluster.json. */
function deal(networkName: string, n: number, t: number, targets: readonly string[]): Dealing {
  const identities = Array.from({ length: n }, () => identityKeygen(randomBytes));
  const dealt = dealerKeygen(n, t, randomBytes);
  const config: ClusterConfig = {
    networkId: networkIdFromName(networkName),
    n,
    t,
    members: identities.map((id, k) => ({ index: k + 1, id: `n${k + 1}`, identityKey: id.publicKey })),
    commitments: dealt.commitments,
  };
  const files: PlannedFile[] = identities.map((identity, k) => {
    const key: KeyFileJson = {
      version: KEYFILE_VERSION,
      id: `n${k + 1}`,
      index: k + 1,
      identitySecretKey: toHex(identity.secretKey),
      blsShareSecretKey: toHex(dealt.shares[k]!.secret),
    };
    return { path: targets[k]!, text: `${JSON.stringify(key, null, 2)}\n`, mode: KEY_FILE_MODE };
  });
  const cluster = clusterFileJson(networkName, config);
  files.push({ path: targets[n]!, text: `${JSON.stringify(cluster, null, 2)}\n`, mode: CLUSTER_FILE_MODE });
  const wipe = () => {
    for (const s of dealt.shares) s.secret.fill(0);
    for (const i of identities) i.secretKey.fill(0);
  };
  return { files, cluster, wipe };
}

export interface KeygenOptions {
  /** Node count as the user typed it (checked: 1..MAX_NODES). */
  readonly nodes: string;
  readonly out: string;
  readonly network: string;
  readonly force?: boolean;
}

/** Key files written (with a summary for the user), or refused because one exists already. */
export type KeygenOutcome = { readonly kind: 'written'; readonly summary: string } | { readonly kind: 'exists'; readonly path: string };

/**
 * Deals the keys of a new cluster and writes them to `opts.out`. Bad options are a UsageError
 * naming the flag; an existing file is refused (unless `force`), with nothing written.
 */
export function keygen(opts: KeygenOptions): KeygenOutcome {
  const n = parseNodeCount(opts.nodes);
  const networkName = opts.network;
  const nameProblem = checkNetworkName(networkName);
  if (nameProblem !== null) throw new UsageError(`--network ${nameProblem}`);
  const t = quorum(n);
  const dir = resolve(opts.out);
  const ids = Array.from({ length: n }, (_, k) => `n${k + 1}`);
  const targets = [...ids.map((id) => join(dir, keyFileName(id))), join(dir, CLUSTER_FILE_NAME)];
  if (!opts.force) {
    const existing = targets.find((p) => existsSync(p));
    if (existing !== undefined) return { kind: 'exists', path: existing };
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot create the directory (${errorCode(e)})`);
  }

  const dealing = deal(networkName, n, t, targets);
  try {
    writeAllAtomically(dir, dealing.files);
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot write the key files (${errorCode(e)})`);
  } finally {
    dealing.wipe();
  }
  const { cluster } = dealing;

  return {
    kind: 'written',
    summary: [
      `wrote ${n} key files (${keyFileName('n1')}${n > 1 ? ` … ${keyFileName(`n${n}`)}` : ''}, mode 600) and ${CLUSTER_FILE_NAME} to ${dir}`,
      `network:          ${networkName} (id ${cluster.networkId})`,
      `nodes:            n = ${n}, tolerates f = ${faultsTolerated(n)}, threshold t = q = ${t}`,
      `group public key: ${cluster.groupPublicKey}`,
      `config digest:    ${cluster.configDigest}`,
      '',
    ].join('\n'),
  };
}
