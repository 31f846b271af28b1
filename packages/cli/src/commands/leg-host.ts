import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadLegHostConfig } from '@tandem/leg-host';
import { UsageError } from '../errors.js';
import { startRealLegs } from '../real-legs.js';
import type { RegisterCommand } from './index.js';

/**
 * `tandem leg-host --config FILE --legs real`: the real legs (anvil + escrow, PGlite or
 * DATABASE_URL bank) behind the leg host's HTTP API, as a process `tandem cluster up` starts.
 * (The in-memory legs run from packages/leg-host/dist/main.js with the same config file.) Prints
 * one ready line `{"ready":true,"url":…,"venues":{…}}` and JSON log lines on stdout.
 */
export const registerLegHost: RegisterCommand = (program: Command, setExit) => {
  program
    .command('leg-host')
    .description('serve the real legs (a local EVM chain with the DvP escrow, and the PostgreSQL bank) over HTTP')
    .requiredOption('--config <file>', 'leg host configuration (the same file the in-memory leg host reads)')
    .option('--tokens <list>', 'token symbols to deploy', 'OUSG')
    .action(async (opts: { config: string; tokens: string }) => {
      let config;
      try {
        config = loadLegHostConfig(opts.config);
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(e.message);
        throw e;
      }
      const log = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...line }) + '\n');
      const legs = await startRealLegs({
        anchor: config.anchor,
        parties: config.parties,
        tokens: opts.tokens.split(',').filter((t) => t.length > 0),
        bank: config.bankVenue,
        port: config.port,
        dataDir: join(dirname(resolve(opts.config)), 'legs-data'),
        ...(process.env['DATABASE_URL'] ? { databaseUrl: process.env['DATABASE_URL'] } : {}),
        log,
      });
      process.stdout.write(JSON.stringify({ ready: true, url: legs.url, venues: legs.venues, rpcUrl: legs.rpcUrl }) + '\n');
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
