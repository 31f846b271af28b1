import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, DEFAULT_EXTERNAL_CONFIRMATIONS, PRIVATE_KEY_ENV, clusterDown, clusterPaths, clusterUp } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';
import { UsageError } from '../../errors.js';

export const registerUp: RegisterCommand = (cluster: Command, setExit) => {
  cluster
    .command('up')
    .description('keygen if needed, start the leg host and N nodes in the background, fund the demo accounts, wait until connected')
    .option('--nodes <n>', 'number of nodes (default 4, or what DIR/keys holds)')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .option('--legs <kind>', 'real (anvil + DvP escrow, PGlite bank) or memory (in-memory chain and bank)', 'real')
    .option('--rpc-url <url>', 'with --legs real: deploy on the EVM chain at this http(s) JSON-RPC URL instead of a local anvil')
    .option('--private-key-file <file>', `with --rpc-url: the deployer's key, 0x + 64 hex (or set ${PRIVATE_KEY_ENV})`)
    .option('--confirmations <n>', `with --rpc-url: blocks a change must be buried under before it counts (default ${DEFAULT_EXTERNAL_CONFIRMATIONS})`)
    .option('--protocol <version>', '2 (batches, the default) or 1 (one consensus instance per settlement); a new directory records it, an existing one must be started under the one it recorded')
    .action(async (opts: { nodes?: string; dir: string; legs: string; rpcUrl?: string; privateKeyFile?: string; confirmations?: string; protocol?: string }) => {
      if (opts.legs !== 'memory' && opts.legs !== 'real') throw new UsageError(`--legs ${opts.legs}: expected memory or real`);
      try {
        await clusterUp(opts.dir, {
          ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}),
          ...(opts.rpcUrl !== undefined ? { rpcUrl: opts.rpcUrl } : {}),
          ...(opts.privateKeyFile !== undefined ? { privateKeyFile: opts.privateKeyFile } : {}),
          ...(opts.confirmations !== undefined ? { confirmations: opts.confirmations } : {}),
          ...(opts.protocol !== undefined ? { protocol: opts.protocol } : {}),
          legs: opts.legs,
          say: (s) => process.stdout.write(s + '\n'),
        });
      } catch (e) {
        if (e instanceof UsageError) throw e;
        process.stderr.write(`tandem cluster up: ${(e as Error).message}; see the logs in ${join(opts.dir, 'logs')}\n`);
        if (existsSync(clusterPaths(resolve(opts.dir)).state)) await clusterDown(opts.dir);
        setExit(1);
        return;
      }
      process.stdout.write(`ready. next: pnpm tandem settle --dir ${opts.dir} --seller alice --buyer bob --asset 100:OUSG --price 10000000:USD\n`);
      setExit(0);
    });
};
