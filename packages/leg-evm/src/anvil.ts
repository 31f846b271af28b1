/**
 * Local EVM chains: the anvil binary that the npm package @foundry-rs/anvil ships (through its
 * per-platform optional dependency), with the Prague hardfork (EIP-2537 BLS precompiles), stopped
 * cleanly.
 *
 * - `startAnvil`: on 127.0.0.1 over HTTP, with anvil's public dev accounts — for tests, examples,
 *   and as a stand-in for an external chain. Any local process can call its cheat methods.
 * - `startIsolatedAnvil`: in its own network namespace, reachable only through a unix socket
 *   (`--ipc`) in a directory of mode 0700, with no dev accounts — what the leg host embeds
 *   (local-chain.ts). Its HTTP listener exists but lives in a namespace no other process shares.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname } from 'node:path';

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
  // The platform package is a sibling of the real @foundry-rs/anvil directory, not of pnpm's
  // symlink to it. require.resolve has been seen to return the symlink's path (in a leg host
  // started just after another was killed; cause not found), so the OS resolves it here.
  const fromAnvil = createRequire(realpathSync.native(fromHere.resolve('@foundry-rs/anvil/package.json')));
  try {
    return fromAnvil.resolve(`${platformPackage}/bin/${binary}`);
  } catch (e) {
    throw new Error(`@foundry-rs/anvil ships no binary for ${process.platform}/${process.arch} (looked for ${platformPackage}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
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
  const { child, port, pid } = await launch(anvilBinaryPath(), args, { timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, detached: false });
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

export interface IsolatedAnvilOptions {
  /** The unix socket anvil serves JSON-RPC on. Its directory must be private: mode 0700 (checked). */
  readonly ipcPath: string;
  readonly chainId?: number;
  /** A state file (anvil_dumpState's JSON) to start from: accounts, blocks, receipts and logs. */
  readonly loadStatePath?: string;
  readonly startTimeoutMs?: number;
}

export interface IsolatedAnvil {
  readonly ipcPath: string;
  readonly chainId: number;
  readonly pid: number;
  /** Resolves once the process has exited, however it exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Stops anvil (SIGTERM, then SIGKILL after `graceMs`); resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the final NUL). */
export const IPC_PATH_BYTES_MAX = 107;

/**
 * The wrapper that isolates anvil: `setpriv --pdeathsig KILL` makes the kernel kill it when the
 * process that started it dies (a SIGKILLed leg host leaves no chain behind), and
 * `unshare --user --map-root-user --net` gives it a network namespace of its own, whose loopback
 * no other process shares (a user namespace first, so that no privilege is needed).
 */
const ISOLATION = ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--user', '--map-root-user', '--net', '--'] as const;

let isolationVerdict: { problem: string | null } | null = null;

/**
 * Why anvil cannot be isolated on this machine (no `setpriv`/`unshare`, or user namespaces
 * disabled), or null when it can. Probed once per process by running `true` in such a namespace.
 */
export function isolationProblem(): string | null {
  if (isolationVerdict !== null) return isolationVerdict.problem;
  const [command, ...args] = ISOLATION;
  const probe = spawnSync(command, [...args, 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: DEFAULT_START_TIMEOUT_MS, encoding: 'utf8' });
  let problem: string | null = null;
  if (probe.error !== undefined) problem = `cannot run ${command}: ${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}`;
  else if (probe.status !== 0) problem = `${ISOLATION.join(' ')} true failed (${probe.stderr.trim().split('\n')[0] || `exit ${probe.status ?? probe.signal}`})`;
  isolationVerdict = { problem };
  return problem;
}

/**
 * Starts anvil where only this user's processes can reach it: in its own network namespace (see
 * ISOLATION), serving JSON-RPC on `ipcPath` (made mode 0600), with no dev accounts (fund accounts
 * with anvil_setBalance over the socket), in its own process group (a signal to the caller's
 * group does not reach it: the caller stops it, after a last dump). Throws if isolation is
 * unavailable (isolationProblem), the socket path is too long or its directory not private, or
 * another process still serves the socket.
 */
export async function startIsolatedAnvil(o: IsolatedAnvilOptions): Promise<IsolatedAnvil> {
  const problem = isolationProblem();
  if (problem !== null) throw new Error(`anvil cannot be isolated here: ${problem}`);
  if (Buffer.byteLength(o.ipcPath) > IPC_PATH_BYTES_MAX) throw new Error(`${o.ipcPath}: ${Buffer.byteLength(o.ipcPath)} bytes, longer than a unix socket path may be (${IPC_PATH_BYTES_MAX}); use a shorter directory`);
  const dir = dirname(o.ipcPath);
  if ((statSync(dir).mode & 0o077) !== 0) throw new Error(`${dir}: must be private to its owner (mode 0700), it holds the chain's socket`);
  await removeStaleSocket(o.ipcPath);
  const chainId = o.chainId ?? DEFAULT_CHAIN_ID;
  const args = [
    ...ISOLATION.slice(1),
    anvilBinaryPath(),
    '--ipc', o.ipcPath,
    '--host', '127.0.0.1',
    '--port', '0',
    '--accounts', '0',
    '--hardfork', 'prague',
    '--chain-id', String(chainId),
    ...(o.loadStatePath !== undefined ? ['--load-state', o.loadStatePath] : []),
  ];
  const { child, pid } = await launch(ISOLATION[0], args, { timeoutMs: o.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  try {
    chmodSync(o.ipcPath, 0o600);
  } catch (e) {
    await stopProcess(child, DEFAULT_STOP_GRACE_MS);
    throw e;
  }
  return { ipcPath: o.ipcPath, chainId, pid, exited, stop: (graceMs = DEFAULT_STOP_GRACE_MS) => stopProcess(child, graceMs) };
}

/** How long a socket that still answers gets to go away (the chain of a host that was just killed is dying too). */
const STALE_SOCKET_WAIT_MS = 3_000;

/** A socket file left by a chain that died is removed; one that keeps answering is another chain's. */
async function removeStaleSocket(path: string): Promise<void> {
  const until = Date.now() + STALE_SOCKET_WAIT_MS;
  while (existsSync(path)) {
    const answers = await new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (!answers) {
      rmSync(path, { force: true });
      return;
    }
    if (Date.now() > until) throw new Error(`${path}: another chain still serves this socket; stop it first`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Spawns `command args…` and waits for anvil's "Listening on" line; stops it if it never listens. */
async function launch(command: string, args: readonly string[], o: { timeoutMs: number; detached: boolean }): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: o.detached });
  let port: number;
  try {
    port = await listeningPort(child, o.timeoutMs);
  } catch (e) {
    await stopProcess(child, DEFAULT_STOP_GRACE_MS);
    throw e;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('assertion failed: a listening anvil has a pid');
  return { child, port, pid };
}

/** Waits for anvil's "Listening on 127.0.0.1:PORT" line. */
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const done = (f: () => void): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
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
    child.stderr?.on('data', onData); // its reasons for failing to start (a bad state file) go there
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
