import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, clusterLogs } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';

export const registerLogs: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('logs')
    .description('print the logs (JSON lines) of every process, or of one node')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--node <id>', 'only this node (n1, …) or leghost')
    .action((opts: { dir: string; node?: string }) => {
      const logs = clusterLogs(opts.dir, opts.node);
      for (const { name, text } of logs) {
        if (logs.length > 1) process.stdout.write(`==> ${name} <==\n`);
        process.stdout.write(text);
      }
      setExit(0);
    });
};
