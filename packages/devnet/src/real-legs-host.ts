/**
 * The real legs as a process (what `tandem leg-host` and `cluster up --legs real` run): an EVM
 * chain with the DvP escrow — a local anvil, or the chain at `--rpc-url` — and the PGlite (or
 * DATABASE_URL) bank behind the leg host's HTTP API. Prints one ready line
 * `{"ready":true,"url":…,"venues":{…},"chain":…,"rpcUrl":…}` and JSON log lines on stdout; a
 * failure to start is one line `tandem leg-host: …` on stderr and exit 1; bad flags or config are
 * a UsageError (exit 2). Runs until SIGTERM or SIGINT.
 */
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '@tandem/daemon';
import { ConfigError, loadLegHostConfig } from '@tandem/leg-host';
import { type ExternalChain, externalChainFromFlags, parseConfirmations, probeExternalChain } from './chain-flags.js';
import { startRealLegs } from './real-legs.js';

export interface RealLegHostOptions {
  /** The leg host configuration (the same file the in-memory leg host reads). */
  readonly config: string;
  /** Token symbols to deploy. */
  readonly tokens: readonly string[];
  readonly rpcUrl?: string | undefined;
  readonly privateKeyFile?: string | undefined;
  /** `--confirmations` as typed: blocks an external chain's changes need before they count. */
  readonly confirmations?: string | undefined;
}

/** Runs the real legs until a signal; returns the exit code. */
export async function runRealLegHost(opts: RealLegHostOptions): Promise<number> {
  let config;
  try {
    config = loadLegHostConfig(opts.config);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const key = externalChainFromFlags({ rpcUrl: opts.rpcUrl, privateKeyFile: opts.privateKeyFile });
  const confirmations = parseConfirmations(opts.confirmations, key !== null);
  const external: ExternalChain | null = key === null ? null : await probeExternalChain(key);
  const log = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...line }) + '\n');
  let legs;
  try {
    legs = await startRealLegs({
      anchor: config.anchor,
      parties: config.parties,
      tokens: opts.tokens,
      bank: config.bankVenue,
      credentials: config.credentials,
      host: config.host,
      tls: config.tls,
      port: config.port,
      dataDir: join(dirname(resolve(opts.config)), 'legs-data'),
      ...(process.env['DATABASE_URL'] ? { databaseUrl: process.env['DATABASE_URL'] } : {}),
      ...(external !== null ? { external } : {}),
      ...(confirmations !== undefined ? { confirmations } : {}),
      log,
      onFatal: (e) => {
        // The asset leg cannot be served: stop, so that whoever runs the host sees it and restarts it.
        process.stderr.write(`tandem leg-host: ${e.message}\n`);
        process.exit(1);
      },
    });
  } catch (e) {
    // One line `cluster up` can quote; the messages name accounts and files, never the key.
    // viem's messages run over many lines: its short message is the one that says what failed.
    const text = (e as { shortMessage?: unknown }).shortMessage ?? (e instanceof Error ? e.message : String(e));
    process.stderr.write(`tandem leg-host: ${String(text).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
  process.stdout.write(JSON.stringify({ ready: true, url: legs.url, venues: legs.venues, chain: legs.chain, rpcUrl: legs.rpcUrl }) + '\n');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void legs.close().then(done, done);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}
