import type { Command } from 'commander';
import { parseRecoverMode, runNodeUntilStopped } from '@tandem/daemon';
import type { RegisterCommand } from '../command.js';

/** `tandem node --config FILE [--recover observe-only]`: one node as a real process, until SIGTERM or SIGINT (@tandem/daemon). */
export const registerNode: RegisterCommand = (program: Command, setExit) => {
  program
    .command('node')
    .description('run one Tandem node (libp2p, write-ahead storage, leg adapters, JSON logs on stdout)')
    .requiredOption('--config <file>', 'node configuration file (JSON)')
    .option('--recover <mode>', 'only if its write-ahead storage fails its check: "observe-only" starts it anyway, signing nothing for any settlement it may have signed for (protocol 2: signing nothing at all, for good; a new identity signs again)')
    .action(async (opts: { config: string; recover?: string }) => {
      const recover = parseRecoverMode(opts.recover);
      await runNodeUntilStopped(opts.config, recover !== undefined ? { recover } : {});
      setExit(0);
    });
};
