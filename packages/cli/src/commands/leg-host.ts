import type { Command } from 'commander';
import { DEFAULT_EXTERNAL_CONFIRMATIONS, PRIVATE_KEY_ENV, runRealLegHost } from '@tandem/devnet';
import type { RegisterCommand } from '../command.js';

/**
 * `tandem leg-host --config FILE [--rpc-url URL --private-key-file FILE [--confirmations N]]`: the real legs (an EVM
 * chain with the DvP escrow and the PostgreSQL bank) behind the leg host's HTTP API, until a
 * signal (@tandem/devnet's `runRealLegHost`). The in-memory legs run from
 * packages/leg-host/dist/main.js with the same config file.
 */
export const registerLegHost: RegisterCommand = (program: Command, setExit) => {
  program
    .command('leg-host')
    .description('serve the real legs (an EVM chain with the DvP escrow, and the PostgreSQL bank) over HTTP')
    .requiredOption('--config <file>', 'leg host configuration (the same file the in-memory leg host reads)')
    .option('--tokens <list>', 'token symbols to deploy', 'OUSG')
    .option('--rpc-url <url>', 'an external EVM chain (http/https JSON-RPC) instead of the embedded one')
    .option('--private-key-file <file>', `the deployer's key on --rpc-url's chain, 0x + 64 hex (or set ${PRIVATE_KEY_ENV})`)
    .option('--confirmations <n>', `with --rpc-url: blocks a change must be buried under before it counts (default ${DEFAULT_EXTERNAL_CONFIRMATIONS})`)
    .action(async (opts: { config: string; tokens: string; rpcUrl?: string; privateKeyFile?: string; confirmations?: string }) => {
      setExit(await runRealLegHost({ config: opts.config, tokens: opts.tokens.split(',').filter((t) => t.length > 0), rpcUrl: opts.rpcUrl, privateKeyFile: opts.privateKeyFile, confirmations: opts.confirmations }));
    });
};
