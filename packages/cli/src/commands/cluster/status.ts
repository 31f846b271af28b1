import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, clusterStatus } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';
import { table } from '../../render.js';

export const registerStatus: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('status')
    .description('show each node: peer id, addresses, pid, up')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const s = await clusterStatus(opts.dir);
      if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
      else {
        process.stdout.write(table(['node', 'up', 'pid', 'connected to', 'peer id', 'multiaddr'], s.nodes.map((x) => [x.id, x.up ? 'yes' : 'NO', String(x.pid), x.connected.map((c) => `n${c}`).join(','), x.peerId ?? '-', x.multiaddrs[0] ?? '-'])));
        process.stdout.write(`leg host ${s.legHost.url} pid ${s.legHost.pid} ${s.legHost.up ? 'up' : 'DOWN'}\n`);
      }
      setExit(s.nodes.every((x) => x.up) && s.legHost.up ? 0 : 1);
    });
};
