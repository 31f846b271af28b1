import type { Command } from 'commander';
import { DEFAULT_CLUSTER_DIR, type SettleRequest, runSettlement } from '@tandem/devnet';
import type { RegisterCommand } from '../command.js';

/**
 * `tandem settle`: submits one settlement to a running cluster and follows it to the verified
 * report (@tandem/devnet's `runSettlement`). `--json` prints one object whose leg states are the
 * stable names of the run result format.
 */
export const registerSettle: RegisterCommand = (program: Command, setExit) => {
  program
    .command('settle')
    .description('submit a DvP settlement to a running cluster and follow it until both legs are settled or rolled back')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .requiredOption('--seller <party>', 'who delivers the asset (and is paid)')
    .requiredOption('--buyer <party>', 'who pays (and receives the asset)')
    .requiredOption('--asset <amount:token>', 'e.g. 100:OUSG (integer token units)')
    .requiredOption('--price <amount:currency>', 'e.g. 10000000:USD (integer minor units)')
    .option('--deadline <duration>', 'time for both legs to lock', '30s')
    .option('--json', 'print one JSON object')
    .action(async (opts: SettleRequest & { json?: boolean }) => {
      const { code, result } = await runSettlement(opts, (line) => {
        if (!opts.json) process.stdout.write(line + '\n');
      });
      if (opts.json && result !== null) process.stdout.write(JSON.stringify(result) + '\n');
      setExit(code);
    });
};
