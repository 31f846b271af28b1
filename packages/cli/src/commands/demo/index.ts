/**
 * `tandem demo`: two settlements on a real local cluster (@tandem/devnet's `runClusterDemo`), or
 * with --sim the same story in the simulator (`sim-story.ts`), under protocol v2 (batches) unless
 * `--protocol 1` asks for one consensus instance per settlement.
 */
import type { Command } from 'commander';
import { DEFAULT_PROTOCOL, parseProtocolFlag, runClusterDemo } from '@tandem/devnet';
import type { RegisterCommand } from '../../command.js';
import { UsageError } from '../../errors.js';
import { parseSeed } from '../../options.js';
import { runSimStory } from './sim-story.js';

export const registerDemo: RegisterCommand = (program: Command, setExit) => {
  program
    .command('demo')
    .description('two settlements on a real local cluster (libp2p, anvil escrow, PGlite bank): one commits, one is rolled back; --sim tells the story in the simulator')
    .option('--sim', 'tell the story in the deterministic simulator instead, message by message')
    .option('--seed <n>', 'seed of the simulated run (with --sim)', '42')
    .option('--protocol <version>', '2 (batches: prints each settlement\'s height, batch size and gas share; the default) or 1 (one consensus instance per settlement)')
    .option('--json', 'on the real cluster: print one JSON object { protocol, settlements: [{ id, decision, asset, payment, and under protocol 2 height, batchSize, gasShare }] } and the progress on stderr')
    .action(async (opts: { seed: string; sim?: boolean; json?: boolean; protocol?: string }) => {
      const protocol = parseProtocolFlag(opts.protocol) ?? DEFAULT_PROTOCOL;
      if (opts.json && opts.sim) throw new UsageError('--json goes with the demo on the real cluster, not with --sim');
      if (opts.sim) {
        setExit(await runSimStory(parseSeed(opts.seed)!, (s) => process.stdout.write(s), protocol));
        return;
      }
      const json = opts.json === true;
      const { code, result } = await runClusterDemo((s) => (json ? process.stderr : process.stdout).write(s), protocol);
      if (json) process.stdout.write(JSON.stringify(result) + '\n');
      setExit(code);
    });
};
