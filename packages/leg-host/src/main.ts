/**
 * The leg host as a process: `node packages/leg-host/dist/main.js --config FILE`.
 *
 * Starts the in-memory asset chain and bank ledger (real clock) behind the HTTP API with the
 * admin routes, prints one ready line `{"ready":true,"url":"http://127.0.0.1:PORT"}` on stdout
 * once listening, logs JSON lines on stderr, and on SIGTERM or SIGINT closes the server and exits 0.
 * Exit 2: bad arguments or config (the message names the file and the key; a token file missing
 * or readable by others, a TLS file that cannot be read); exit 1: could not start (e.g. the port
 * is taken).
 */
import { ServeError } from '@tandem/http';
import { NativeIdentity } from '@tandem/node';
import { memoizeCheck } from '@tandem/crypto';
import { authorizationCheckOf, defaultVerifyReport } from '@tandem/legs';
import { ConfigError, loadLegHostConfig } from './config.js';
import { startMemoryLegHost } from './memory-host.js';

const USAGE = 'usage: node packages/leg-host/dist/main.js --config FILE';
/** A stuck close (should not happen) must not keep a stopped host alive forever. */
const EXIT_DEADLINE_MS = 5_000;

function log(level: 'info' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level, msg, ...extra })}\n`);
}

/** The config path from argv, or a usage problem. */
function configPathFromArgs(args: readonly string[]): { path: string } | { problem: string } | { help: true } {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) return { help: true };
  if (args.length === 2 && args[0] === '--config' && args[1] !== undefined && args[1] !== '') return { path: args[1] };
  if (args.length === 1 && args[0]!.startsWith('--config=') && args[0]!.length > '--config='.length) return { path: args[0]!.slice('--config='.length) };
  return { problem: args.length === 0 ? 'missing --config FILE' : `unexpected arguments: ${args.join(' ')}` };
}

async function main(args: readonly string[]): Promise<number> {
  const parsed = configPathFromArgs(args);
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ('problem' in parsed) {
    process.stderr.write(`leg-host: ${parsed.problem}\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadLegHostConfig(parsed.path);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`leg-host: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let host;
  try {
    // Authorizations through node:crypto, with the reference's acceptance (ZIP-215 fallback).
    // Every node delivers the same report: each distinct one is verified once (a bounded memo).
    host = await startMemoryLegHost({ ...config, verifyAuthorization: authorizationCheckOf(new NativeIdentity()), verifyReport: memoizeCheck(defaultVerifyReport), onError: (e) => log('error', 'unexpected error answering a request', { error: e instanceof Error ? e.stack : String(e) }) });
  } catch (e) {
    // A TLS file that cannot be read is the config's problem (2); a taken port is the machine's (1).
    if (e instanceof ServeError) {
      process.stderr.write(`leg-host: ${parsed.path}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`leg-host: cannot listen on ${config.host}:${config.port}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ ready: true, url: host.url })}\n`);
  log('info', 'leg host listening', { url: host.url, protocol: config.anchor.protocol ?? 1, parties: [...config.parties.keys()] });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  setTimeout(() => {
    log('error', 'close did not finish in time; exiting');
    process.exit(1);
  }, EXIT_DEADLINE_MS).unref();
  await host.close();
  log('info', 'leg host stopped', { signal });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    log('error', 'leg host crashed', { error: e instanceof Error ? e.stack : String(e) });
    process.exitCode = 1;
  },
);
