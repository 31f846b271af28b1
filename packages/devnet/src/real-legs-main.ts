/**
 * The real legs' process entry point, as `cluster up --legs real` starts it:
 *   node packages/devnet/dist/real-legs-main.js --config FILE [--tokens A,B] [--rpc-url URL] [--private-key-file FILE] [--confirmations N]
 * (`tandem leg-host` takes the same options.) Exit 2 on bad arguments, with a message naming them.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '@tandem/daemon';
import { runRealLegHost } from './real-legs-host.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string' }, tokens: { type: 'string', default: 'OUSG' }, 'rpc-url': { type: 'string' }, 'private-key-file': { type: 'string' }, confirmations: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    process.stderr.write(`tandem leg-host: ${(e as Error).message}\n`);
    return 2;
  }
  if (values.config === undefined) {
    process.stderr.write('tandem leg-host: missing --config FILE\n');
    return 2;
  }
  try {
    return await runRealLegHost({ config: values.config, tokens: values.tokens.split(',').filter((t) => t.length > 0), rpcUrl: values['rpc-url'], privateKeyFile: values['private-key-file'], confirmations: values.confirmations });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tandem leg-host: ${e.message}\n`);
    return 2;
  }
}

process.exitCode = await main();
