/**
 * Starting and stopping the cluster's processes. Each runs detached, as the leader of its own
 * process group, with its output appended to a log file; stopping signals the whole group, so
 * what a process started itself (the real legs' anvil) stops with it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PRIVATE_KEY_ENV } from './chain-flags.js';

// Both src/ (tests) and dist/ (the built package) sit two levels below packages/.
const entry = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** One node process: `node …/daemon/dist/main.js --config FILE`. */
export const NODE_MAIN = entry('../../daemon/dist/main.js');
/** The leg host serving the in-memory legs. */
export const MEMORY_LEG_HOST_MAIN = entry('../../leg-host/dist/main.js');
/** The leg host serving the real legs (EVM escrow and PostgreSQL bank). */
export const REAL_LEG_HOST_MAIN = entry('../dist/real-legs-main.js');

/** How long `stopProcesses` waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5_000;

/**
 * Is a process with this pid alive (and ours to signal)? A zombie — dead, waiting for a parent
 * that does not reap it (a cluster's processes outlive the command that started them) — is not.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) S …"; comm may hold spaces and parentheses, the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): the signal test is all there is
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Starts `node main args…` detached, in its own process group, appending its output to `log`. */
export function spawnLogged(main: string, args: readonly string[], log: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  if (!existsSync(main)) throw new Error(`${main} is missing: run pnpm build`);
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [main, ...args], { detached: true, stdio: ['ignore', fd, fd], env });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Only the leg host needs the deployer key: nodes get an environment without it. */
export function nodeEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[PRIVATE_KEY_ENV];
  return env;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    if (alive(pid)) process.kill(pid, sig);
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return alive(pid);
  }
}

/**
 * Stops every process group led by `pids`: SIGTERM, then SIGKILL for any still alive after a
 * grace period. Signalling the group also reaches what a leader started, even if it already died.
 */
export async function stopProcesses(pids: readonly number[]): Promise<void> {
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  const until = Date.now() + STOP_GRACE_MS;
  while (pids.some(groupAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids) if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
}
