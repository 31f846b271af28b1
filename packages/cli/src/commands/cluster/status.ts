import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, clusterStatus } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';
import { table } from '../../render.js';

export const registerStatus: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('status')
    .description('show each node: peer id, addresses, pid, up, stuck and split settlements')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const s = await clusterStatus(opts.dir);
      if (opts.json) process.stdout.write(JSON.stringify(s) + '\n');
      else {
        const rows = s.nodes.map((x) => [x.id, x.up ? 'yes' : 'NO', String(x.pid), x.connected.map((c) => `n${c}`).join(','), String(x.stuck ?? '-'), String(x.split ?? '-'), x.peerId ?? '-', x.multiaddrs[0] ?? '-']);
        process.stdout.write(table(['node', 'up', 'pid', 'connected to', 'stuck', 'split', 'peer id', 'multiaddr'], rows));
        process.stdout.write(`leg host ${s.legHost.url} pid ${s.legHost.pid} ${s.legHost.up ? 'up' : 'DOWN'}\n`);
        const [stuck, split] = [s.nodes.reduce((k, x) => k + (x.stuck ?? 0), 0), s.nodes.reduce((k, x) => k + (x.split ?? 0), 0)];
        if (stuck + split > 0) process.stdout.write(`ATTENTION: ${stuck} stuck and ${split} split settlement reports across the nodes (their logs say which, at level "error")\n`);
      }
      setExit(s.nodes.every((x) => x.up) && s.legHost.up ? 0 : 1);
    });
};
