import type { Command } from 'commander';
import { runNodeUntilStopped } from '@tandem/daemon';
import type { RegisterCommand } from '../command.js';

/** `tandem node --config FILE`: one node as a real process, until SIGTERM or SIGINT (@tandem/daemon). */
export const registerNode: RegisterCommand = (program: Command, setExit) => {
  program
    .command('node')
    .description('run one Tandem node (libp2p, write-ahead storage, leg adapters, JSON logs on stdout)')
    .requiredOption('--config <file>', 'node configuration file (JSON)')
    .action(async (opts: { config: string }) => {
      await runNodeUntilStopped(opts.config);
      setExit(0);
    });
};
