/**
 * A local EVM chain for tests, demos and the embedded default: the anvil binary that the npm
 * package @foundry-rs/anvil ships (through its per-platform optional dependency), started on
 * 127.0.0.1 with the Prague hardfork (EIP-2537 BLS precompiles) and stopped cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface AnvilOptions {
  /** Port to listen on; 0 (default) lets the OS pick a free one. */
  readonly port?: number;
  readonly chainId?: number;
  /** How long to wait for anvil to listen. */
  readonly startTimeoutMs?: number;
  /**
   * Freeze the chain clock: every block gets the previous block's timestamp until a test moves it
   * with evm_setNextBlockTimestamp. Without it, block times follow the wall clock.
   */
  readonly frozenTime?: boolean;
  /** Extra command-line arguments. */
  readonly args?: readonly string[];
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** Stops anvil (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The private keys of anvil's ten default accounts (funded with 10,000 ETH each), derived from
 * its public test mnemonic "test test … junk" (m/44'/60'/0'/0/i). Public knowledge: for local
 * chains only, never for value. Listed rather than derived because deriving costs about half a
 * second per key here; test/anvil.spec.ts checks them against the accounts anvil reports.
 */
export const ANVIL_DEV_PRIVATE_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const;

const DEFAULT_CHAIN_ID = 31337;
const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_STOP_GRACE_MS = 2_000;
/** Bound on what we keep of anvil's output while waiting for it to listen. */
const OUTPUT_KEPT_BYTES_MAX = 64 * 1024;

/** Path of the anvil binary shipped for this platform by @foundry-rs/anvil. */
export function anvilBinaryPath(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  // The platform package is a dependency of @foundry-rs/anvil, so resolve it from there.
  const fromHere = createRequire(import.meta.url);
  const fromAnvil = createRequire(fromHere.resolve('@foundry-rs/anvil/package.json'));
  try {
    return fromAnvil.resolve(`${platformPackage}/bin/${binary}`);
  } catch {
    throw new Error(`@foundry-rs/anvil ships no binary for ${process.platform}/${process.arch} (looked for ${platformPackage})`);
  }
}

/** Starts anvil and resolves once it accepts JSON-RPC. */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const args = [
    '--host', '127.0.0.1',
    '--port', String(options.port ?? 0),
    '--hardfork', 'prague',
    '--chain-id', String(chainId),
    ...(options.args ?? []),
  ];
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let port: number;
  try {
    port = await listeningPort(child, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (e) {
    await stopProcess(child, DEFAULT_STOP_GRACE_MS);
    throw e;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('assertion failed: a listening anvil has a pid');
  const anvil: Anvil = {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    pid,
    stop: (graceMs = DEFAULT_STOP_GRACE_MS) => stopProcess(child, graceMs),
  };
  if (options.frozenTime === true) {
    try {
      await rpc(anvil.rpcUrl, 'anvil_setBlockTimestampInterval', [0]);
    } catch (e) {
      await anvil.stop();
      throw e;
    }
  }
  return anvil;
}

/** Waits for anvil's "Listening on 127.0.0.1:PORT" line. */
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const done = (f: () => void): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining so a full pipe never blocks anvil.
      child.stdout?.resume();
      child.stderr?.resume();
      f();
    };
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT_BYTES_MAX);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m !== null) done(() => resolve(Number(m[1])));
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(() => reject(new Error(`anvil exited before listening (code ${code}, signal ${signal}): ${output.trim()}`)));
    const onError = (e: Error): void => done(() => reject(e));
    const timer = setTimeout(() => done(() => reject(new Error(`anvil did not listen within ${timeoutMs} ms: ${output.trim()}`))), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A bare JSON-RPC call (for anvil's own methods, which viem's public actions do not cover). */
export async function rpc(rpcUrl: string, method: string, params: readonly unknown[] = []): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? JSON.stringify(body.error)}`);
  return body.result;
}
