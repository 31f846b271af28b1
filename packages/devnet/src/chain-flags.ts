/**
 * The chain flags of `tandem cluster up` and `tandem leg-host`: `--rpc-url` names an external EVM
 * chain (instead of a local anvil) and `--private-key-file` (or TANDEM_EVM_PRIVATE_KEY) its
 * deployer's key. Everything that needs no network is checked here, before anything starts, and
 * every problem is a UsageError (exit 2) naming the option or the variable — never quoting the key.
 */
import { readFileSync } from 'node:fs';
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { UsageError } from '@tandem/daemon';
import { readChainId } from '@tandem/leg-evm';

/** The environment variable that may hold the deployer key instead of --private-key-file. */
export const PRIVATE_KEY_ENV = 'TANDEM_EVM_PRIVATE_KEY';
/** How long `--rpc-url` has to answer eth_chainId before it counts as unreachable. */
export const RPC_PROBE_TIMEOUT_MS = 5_000;

/** The chain flags as the user gave them (`tandem cluster up` and `tandem leg-host`). */
export interface ChainFlags {
  readonly rpcUrl?: string | undefined;
  readonly privateKeyFile?: string | undefined;
}

/** An external chain: its endpoint and the deployer's key (0x + 64 hex). */
export interface ExternalChainKey {
  readonly rpcUrl: string;
  readonly privateKey: Hex;
}

/** An external chain that answered: the chain id is what its RPC reports. */
export interface ExternalChain extends ExternalChainKey {
  readonly chainId: number;
}

/** `--rpc-url` goes with the real legs only: the memory legs have no chain to point at. */
export function checkLegsFlags(legs: 'memory' | 'real', flags: ChainFlags): void {
  if (legs !== 'memory') return;
  if (flags.rpcUrl !== undefined) throw new UsageError('--rpc-url goes with --legs real: the memory legs have no chain');
  if (flags.privateKeyFile !== undefined) throw new UsageError('--private-key-file goes with --legs real and --rpc-url: the memory legs have no chain');
}

/**
 * The external chain the flags name, or null for the local anvil. Checks everything that needs no
 * network (URL syntax, where the key comes from, its format) and throws UsageError naming the
 * option or the environment variable; no message ever quotes the key.
 */
export function externalChainFromFlags(flags: ChainFlags, env: NodeJS.ProcessEnv = process.env, readText: (path: string) => string = (p) => readFileSync(p, 'utf8')): ExternalChainKey | null {
  if (flags.rpcUrl === undefined) {
    if (flags.privateKeyFile !== undefined) throw new UsageError("--private-key-file needs --rpc-url: on the embedded chain the cluster's own generated deployer deploys and relays");
    return null;
  }
  const rpcUrl = parseRpcUrl(flags.rpcUrl);
  if (flags.privateKeyFile !== undefined) {
    let text: string;
    try {
      text = readText(flags.privateKeyFile);
    } catch (e) {
      throw new UsageError(`--private-key-file ${flags.privateKeyFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return { rpcUrl, privateKey: parsePrivateKey(text, `--private-key-file ${flags.privateKeyFile}`) };
  }
  const fromEnv = env[PRIVATE_KEY_ENV];
  if (fromEnv === undefined || fromEnv === '') throw new UsageError(`--rpc-url needs the deployer's key: give --private-key-file FILE, or set ${PRIVATE_KEY_ENV}`);
  return { rpcUrl, privateKey: parsePrivateKey(fromEnv, `the environment variable ${PRIVATE_KEY_ENV}`) };
}

/** Most confirmations `--confirmations` accepts: a bound, far above any chain's finality depth. */
export const CONFIRMATIONS_MAX = 10_000;

/**
 * `--confirmations N` as typed (undefined: the default), checked: a whole number of blocks, with
 * `--rpc-url` only — the embedded chain counts a change once it is durable, not by depth.
 */
export function parseConfirmations(text: string | undefined, external: boolean): number | undefined {
  if (text === undefined) return undefined;
  if (!external) throw new UsageError('--confirmations goes with --rpc-url: the embedded chain counts a change once it is durable on disk');
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) > CONFIRMATIONS_MAX) throw new UsageError(`--confirmations ${text}: expected a whole number of blocks, 0 to ${CONFIRMATIONS_MAX}`);
  return Number(text);
}

/** An http(s) URL; anything else is a UsageError naming --rpc-url. */
export function parseRpcUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--rpc-url: not a URL (expected e.g. http://127.0.0.1:8545)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--rpc-url ${redactUrl(text)}: expected an http:// or https:// URL`);
  return text;
}

/**
 * A secp256k1 private key as 0x and 64 hex digits (surrounding white space, such as a file's
 * final newline, is ignored). `source` names where it came from; the key itself is never quoted.
 */
export function parsePrivateKey(text: string, source: string): Hex {
  const key = text.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError(`${source}: expected a private key as 0x followed by 64 hex digits`);
  try {
    privateKeyToAccount(key as Hex); // throws on 0 or a value not below the curve order
  } catch {
    throw new UsageError(`${source}: not a valid secp256k1 private key (zero, or not below the curve order)`);
  }
  return key.toLowerCase() as Hex;
}

/** Asks the RPC for its chain id; an unreachable or non-answering endpoint is a UsageError naming --rpc-url. */
export async function probeExternalChain(key: ExternalChainKey, timeoutMs = RPC_PROBE_TIMEOUT_MS): Promise<ExternalChain> {
  try {
    return { ...key, chainId: await readChainId(key.rpcUrl, timeoutMs) };
  } catch (e) {
    const code = (e as { cause?: { code?: unknown } }).cause?.code;
    const cause = e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${errorText(e)}${typeof code === 'string' ? `: ${code}` : ''}`;
    throw new UsageError(`--rpc-url ${redactUrl(key.rpcUrl)}: no Ethereum JSON-RPC answers there (${cause})`);
  }
}

/**
 * A URL for logs and messages: user info dropped, and a path (where hosted RPC providers put API
 * keys) shown as `/…`.
 */
export function redactUrl(text: string): string {
  try {
    const u = new URL(text);
    return `${u.protocol}//${u.host}${u.pathname !== '/' || u.search !== '' ? '/…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
