import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, restartNodeAndWait } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';

export const registerRestart: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('restart')
    .description('start a node that stopped (crashed or was killed) again, with its storage; recorded so `down` stops it')
    .argument('<node>', 'the node to restart: n1, n2, …')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .action(async (node: string, opts: { dir: string }) => {
      const pid = await restartNodeAndWait(opts.dir, node);
      process.stdout.write(`${node} restarted (pid ${pid}) and connected to its peers\n`);
      setExit(0);
    });
};
