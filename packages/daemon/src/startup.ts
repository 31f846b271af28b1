/**
 * The steps of a node's start that depend on the machine, each turning what goes wrong into a
 * ConfigKeyError naming the config key (and the path or address) instead of a stack trace: the
 * multiaddrs, the data directory (its check, repairs and an explicit recovery), the history file,
 * the p2p listen addresses and the control port.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { toHex } from '@tandem/protocol';
import { SigningFence } from '@tandem/node';
import type { NodeConfig } from './config.js';
import { ConfigKeyError, UsageError } from './errors.js';
import { FileStorage } from './storage.js';
import { FileStorageV2 } from './storage-v2.js';

/** How a node starts when its storage check fails: refuse (the default), or observe-only. */
export type RecoverMode = 'observe-only';

export interface RunOptions {
  /** Only by the operator's explicit choice (`--recover observe-only`): see storage-recovery.ts. */
  readonly recover?: RecoverMode;
}

/** The `--recover` flag's value; anything but observe-only is a usage error. */
export function parseRecoverMode(value: string | undefined): RecoverMode | undefined {
  if (value === undefined) return undefined;
  if (value !== 'observe-only') throw new UsageError(`--recover ${value}: expected observe-only (the only recovery there is: start without signing for any settlement this node may have signed for)`);
  return value;
}

/** What the OS said, in words, for the codes a start meets. */
const OS_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process listens there)',
  EADDRNOTAVAIL: 'address not available on this machine',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent of it is not a directory',
  EISDIR: 'it is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

function osReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && OS_ERRORS[code] !== undefined) return OS_ERRORS[code];
  const text = e instanceof Error ? e.message : String(e);
  const named = /\b(E[A-Z]{3,})\b/.exec(text)?.[1];
  return named !== undefined && OS_ERRORS[named] !== undefined ? OS_ERRORS[named] : text.split('\n')[0]!;
}

/** Every multiaddr of the config parses (else: the key, the address and why). */
export function checkMultiaddrs(config: NodeConfig): void {
  const check = (key: string, s: string) => {
    try {
      multiaddr(s);
    } catch (e) {
      throw new ConfigKeyError(key, `${JSON.stringify(s)} is not a multiaddr (${(e as Error).message}); expected e.g. /ip4/127.0.0.1/tcp/7001`);
    }
  };
  config.listen.forEach((s, i) => check(`listen[${i}]`, s));
  config.peers.forEach((p, i) => p.multiaddrs.forEach((s, j) => check(`peers[${i}].multiaddrs[${j}]`, s)));
}

/**
 * Opens the node's write-ahead storage (storage.ts). Logs what a crash left that was put right,
 * and a recovery; returns the signing fence to hand the runtime (null: none, sign as usual).
 */
export function openNodeStorage(
  dataDir: string,
  nodeId: string,
  networkId: Uint8Array,
  options: RunOptions,
  log: (event: string, fields: Record<string, unknown>) => void,
): { storage: FileStorage; fence: SigningFence | null } {
  // The directory is this node's of this network: another's is refused (storage-check.ts).
  const owner = `${nodeId}@${toHex(networkId)}`;
  let opened: ReturnType<typeof FileStorage.open>;
  try {
    opened = FileStorage.open(dataDir, { owner, ...(options.recover !== undefined ? { recover: options.recover } : {}) });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ConfigKeyError('dataDir', `${dataDir}: cannot use it: ${osReason(e)}`);
  }
  const recovered = opened.recovered === null ? null : { problems: opened.recovered.problems.map((p) => `${p.file}: ${p.what}`), quarantine: opened.recovered.quarantine };
  logOpened(opened.repaired, recovered, options, log);
  if (opened.fence.length === 0) return { storage: opened.storage, fence: null };
  log('observe-only', { fence: opened.fence.map((c) => ({ fromMs: c.fromMs, settlements: c.settlementIdsHex?.length ?? 'all' })) });
  return { storage: opened.storage, fence: new SigningFence(opened.fence) };
}

/** What a start of either protocol's storage put right or recovered, logged alike. */
function logOpened(repaired: readonly string[], recovered: { readonly problems: readonly string[]; readonly quarantine: string } | null, options: RunOptions, log: (event: string, fields: Record<string, unknown>) => void): void {
  for (const what of repaired) log('storage-repaired', { what });
  if (recovered !== null) log('storage-recovered', { level: 'error', problems: recovered.problems, quarantine: recovered.quarantine, mode: 'observe-only' });
  else if (options.recover !== undefined) log('storage-intact', { recover: 'not needed: the storage passed its check' });
}

/** A start step that opens a file or binds an address: its OS error becomes one naming `key`. */
export async function underKey<T>(key: string, what: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (isListenFailure(e)) throw new ConfigKeyError(key, listenFailure(e));
    if (isErrno(e)) throw new ConfigKeyError(key, `${what}: ${osReason(e)}`);
    // createTandemHost names the member whose address does not fit it ("peer 3: …").
    if (key === 'listen' && e instanceof Error && /^peer \d+: /.test(e.message)) throw new ConfigKeyError('peers', e.message);
    throw e;
  }
}

function isErrno(e: unknown): boolean {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!);
}

/** libp2p reports every listen address that failed in one error, one address a line. */
function isListenFailure(e: unknown): e is Error {
  return e instanceof Error && e.name === 'UnsupportedListenAddressesError';
}

function listenFailure(e: Error): string {
  const failed = e.message
    .split('\n')
    .map((line) => /^\s*(\/\S+): (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `cannot listen on ${m[1]}: ${osReason(new Error(m[2]))}`);
  return failed.length > 0 ? failed.join('; ') : `cannot listen: ${e.message.split('\n')[0]}`;
}

/**
 * Opens a protocol-2 node's write-ahead log (storage-v2.ts), owned by `n1@<network id>/v2`; logs
 * what a crash left that was put right, and a recovery. Returns whether the node is silenced: its
 * log went through a recovery (`--recover observe-only`, now or at an earlier start), so it signs
 * nothing (@tandem/node v2/silenced.ts).
 */
export function openNodeStorageV2(dataDir: string, nodeId: string, networkId: Uint8Array, options: RunOptions, log: (event: string, fields: Record<string, unknown>) => void): { storage: FileStorageV2; silenced: boolean } {
  let opened: ReturnType<typeof FileStorageV2.open>;
  try {
    opened = FileStorageV2.open(dataDir, { owner: `${nodeId}@${toHex(networkId)}/v2`, ...(options.recover !== undefined ? { recover: options.recover } : {}) });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ConfigKeyError('dataDir', `${dataDir}: cannot use it: ${osReason(e)}`);
  }
  logOpened(opened.repaired, opened.recovered, options, log);
  if (opened.fence.length === 0) return { storage: opened.storage, silenced: false };
  log('observe-only', { fence: opened.fence.map((r) => ({ fromMs: r.fromMs, settlements: 'all' })), signs: 'nothing (protocol 2: no bundle, proposal or vote, ever)' });
  return { storage: opened.storage, silenced: true };
}
