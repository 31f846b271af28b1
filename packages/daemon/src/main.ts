/**
 * A node process's entry point: `node packages/daemon/dist/main.js --config FILE`, as
 * `tandem cluster up` starts it (`tandem node --config FILE` runs the same). Exit 2 on bad
 * arguments or config, with a message naming the file and the key.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { runNodeUntilStopped } from './process.js';

async function main(): Promise<number> {
  let config: string | undefined;
  try {
    config = parseArgs({ options: { config: { type: 'string' } }, strict: true, allowPositionals: false }).values.config;
  } catch (e) {
    process.stderr.write(`tandem node: ${(e as Error).message}\n`);
    return 2;
  }
  if (config === undefined) {
    process.stderr.write('tandem node: missing --config FILE\n');
    return 2;
  }
  try {
    await runNodeUntilStopped(config);
    return 0;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tandem node: ${e.message}\n`);
    return 2;
  }
}

process.exitCode = await main();
