import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadLegHostConfig } from '@tandem/leg-host';
import { UsageError } from '../errors.js';
import { type ExternalChain, PRIVATE_KEY_ENV, externalChainFromFlags, probeExternalChain, startRealLegs } from '../real-legs.js';
import type { RegisterCommand } from './index.js';

/**
 * `tandem leg-host --config FILE [--rpc-url URL --private-key-file FILE]`: the real legs (an EVM
 * chain with the escrow — a local anvil, or the chain at --rpc-url — and the PGlite or
 * DATABASE_URL bank) behind the leg host's HTTP API, as a process `tandem cluster up` starts.
 * (The in-memory legs run from packages/leg-host/dist/main.js with the same config file.) Prints
 * one ready line `{"ready":true,"url":…,"venues":{…},"chain":…,"rpcUrl":…}` and JSON log lines on
 * stdout; a failure to start is one line `tandem leg-host: …` on stderr and exit 1.
 */
export const registerLegHost: RegisterCommand = (program: Command, setExit) => {
  program
    .command('leg-host')
    .description('serve the real legs (an EVM chain with the DvP escrow, and the PostgreSQL bank) over HTTP')
    .requiredOption('--config <file>', 'leg host configuration (the same file the in-memory leg host reads)')
    .option('--tokens <list>', 'token symbols to deploy', 'OUSG')
    .option('--rpc-url <url>', 'an external EVM chain (http/https JSON-RPC) instead of a local anvil')
    .option('--private-key-file <file>', `the deployer's key on --rpc-url's chain, 0x + 64 hex (or set ${PRIVATE_KEY_ENV})`)
    .action(async (opts: { config: string; tokens: string; rpcUrl?: string; privateKeyFile?: string }) => {
      let config;
      try {
        config = loadLegHostConfig(opts.config);
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(e.message);
        throw e;
      }
      const key = externalChainFromFlags({ rpcUrl: opts.rpcUrl, privateKeyFile: opts.privateKeyFile });
      const external: ExternalChain | null = key === null ? null : await probeExternalChain(key);
      const log = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...line }) + '\n');
      let legs;
      try {
        legs = await startRealLegs({
          anchor: config.anchor,
          parties: config.parties,
          tokens: opts.tokens.split(',').filter((t) => t.length > 0),
          bank: config.bankVenue,
          port: config.port,
          dataDir: join(dirname(resolve(opts.config)), 'legs-data'),
          ...(process.env['DATABASE_URL'] ? { databaseUrl: process.env['DATABASE_URL'] } : {}),
          ...(external !== null ? { external } : {}),
          log,
        });
      } catch (e) {
        // One line `cluster up` can quote; the messages name accounts and files, never the key.
        // viem's messages run over many lines: its short message is the one that says what failed.
        const text = (e as { shortMessage?: unknown }).shortMessage ?? (e instanceof Error ? e.message : String(e));
        process.stderr.write(`tandem leg-host: ${String(text).replace(/\s*\n\s*/g, ' ')}\n`);
        setExit(1);
        return;
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
      setExit(0);
    });
};
