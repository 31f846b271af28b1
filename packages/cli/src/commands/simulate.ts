/**
 * `tandem simulate FILE`: runs a scenario in the deterministic simulator (or, with --mode cluster,
 * on real processes through @tandem/devnet), checks every invariant and prints the result.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ClusterRunError, removeRunDir, runOnCluster } from '@tandem/devnet';
import { type RunRecord, buildResult, historyLine, renderReportHtml, simulate, underProtocol } from '@tandem/sim';
import type { RegisterCommand } from '../command.js';
import { UsageError } from '../errors.js';
import { loadScenarioFile, parseProtocol, parseSeed, prepareOutDir, replayCommand, writeFileAtomic } from '../options.js';
import { renderSummary } from '../render.js';

export const registerSimulate: RegisterCommand = (program: Command, setExit) => {
  program
    .command('simulate')
    .description('run a scenario in the deterministic simulator and check every invariant')
    .argument('<file>', 'scenario file (YAML, format v1)')
    .option('--seed <n>', 'seed (default: the scenario\'s seed)')
    .option('--json', 'print the result as one JSON object')
    .option('--out <dir>', 'write result.json, history.jsonl and report.html to this directory')
    .option('--mode <mode>', 'sim: the deterministic simulator; cluster: real node processes over libp2p with a leg host (faults only the simulator realises are refused)', 'sim')
    .option('--keep', 'with --mode cluster: keep the cluster directory (logs, node histories) and print its path')
    .option('--protocol <v>', "run under protocol 1 or 2 whatever the scenario's protocol key says (either mode)")
    .action(async (file: string, opts: { seed?: string; json?: boolean; out?: string; mode: string; keep?: boolean; protocol?: string }) => {
      if (opts.mode !== 'sim' && opts.mode !== 'cluster') throw new UsageError(`--mode ${opts.mode}: expected sim or cluster`);
      const protocol = parseProtocol(opts.protocol);
      const mode = opts.mode;
      const loaded = protocol === undefined ? loadScenarioFile(file) : underProtocol(loadScenarioFile(file), protocol);
      const seed = parseSeed(opts.seed) ?? loaded.seed;
      const replay = replayCommand(file, seed, mode) + (protocol === undefined ? '' : ` --protocol ${protocol}`);
      if (opts.out !== undefined) prepareOutDir(opts.out);
      // A scenario with a random: block runs the member that seed draws (both modes draw it), as
      // `tandem explore` did.
      let run: RunRecord;
      if (mode === 'cluster') {
        let onCluster;
        try {
          onCluster = await runOnCluster(loaded, { seed, say: (line) => process.stderr.write(line + '\n') });
        } catch (e) {
          if (!(e instanceof ClusterRunError)) throw e;
          process.stderr.write(`tandem simulate --mode cluster: ${e.message}\n`);
          setExit(1);
          return;
        }
        run = onCluster.run;
        if (opts.keep) process.stderr.write(`cluster directory kept: ${onCluster.dir}\n`);
        else removeRunDir(onCluster.dir);
      } else {
        run = await simulate(loaded, { seed });
      }
      const result = buildResult(run);
      if (opts.out !== undefined) {
        writeFileAtomic(join(opts.out, 'history.jsonl'), run.history.map(historyLine).join('\n') + '\n');
        writeFileAtomic(join(opts.out, 'result.json'), JSON.stringify(result, null, 2) + '\n');
        writeFileAtomic(join(opts.out, 'report.html'), renderReportHtml(run, result, replay));
      }
      if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
      else process.stdout.write(renderSummary(result));
      if (!result.ok) process.stderr.write(`${mode === 'cluster' ? 'run again' : 'reproduce'} with: ${replay}\n`);
      setExit(result.ok ? 0 : 1);
    });
};
