import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, clusterDown } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';

export const registerDown: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('down')
    .description('stop every process the cluster started (by pid)')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .action(async (opts: { dir: string }) => {
      const k = await clusterDown(opts.dir);
      process.stdout.write(`stopped ${k} processes\n`);
      setExit(0);
    });
};
