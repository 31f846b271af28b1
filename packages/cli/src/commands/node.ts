import type { Command } from 'commander';
import { loadNodeConfig, runNode } from '@tandem/daemon';
import type { RegisterCommand } from './index.js';

/**
 * `tandem node --config FILE`: one node as a real process. Runs until SIGTERM or SIGINT, then shuts
 * down cleanly (its write-ahead records are already on disk, so a restart resumes every open
 * settlement and never signs a conflicting vote).
 */
export const registerNode: RegisterCommand = (program: Command, setExit) => {
  program
    .command('node')
    .description('run one Tandem node (libp2p, write-ahead storage, leg adapters, JSON logs on stdout)')
    .requiredOption('--config <file>', 'node configuration file (JSON)')
    .action(async (opts: { config: string }) => {
      const config = loadNodeConfig(opts.config);
      const node = await runNode(config);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          void node.stop().then(resolve, resolve);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      setExit(0);
    });
};
