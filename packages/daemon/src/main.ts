/**
 * A node process's entry point: `node packages/daemon/dist/main.js --config FILE [--recover
 * observe-only]`, as `tandem cluster up` starts it (`tandem node --config FILE` runs the same).
 * Exit 2 on bad arguments or config, on a data directory that fails its check, or on a port or
 * path the node cannot use, with a message naming the file and the key.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { runNodeUntilStopped } from './process.js';
import { type RunOptions, parseRecoverMode } from './startup.js';

async function main(): Promise<number> {
  let config: string | undefined;
  let options: RunOptions;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' }, recover: { type: 'string' } }, strict: true, allowPositionals: false });
    config = values.config;
    const recover = parseRecoverMode(values.recover);
    options = recover !== undefined ? { recover } : {};
  } catch (e) {
    process.stderr.write(`tandem node: ${(e as Error).message}\n`);
    return 2;
  }
  if (config === undefined) {
    process.stderr.write('tandem node: missing --config FILE\n');
    return 2;
  }
  try {
    await runNodeUntilStopped(config, options);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tandem node: ${e.message}\n`);
    return 2;
  }
}

process.exitCode = await main();
