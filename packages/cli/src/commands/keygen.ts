/**
 * `tandem keygen`: a trusted dealer for a local cluster (the dealing itself is @tandem/daemon's
 * `keygen`): one private key file per node and the public cluster.json.
 */
import type { Command } from 'commander';
import { MAX_NODES } from '@tandem/crypto';
import { DEFAULT_NETWORK_NAME, type KeygenOptions, keygen } from '@tandem/daemon';
import type { RegisterCommand } from '../command.js';

export const registerKeygen: RegisterCommand = (program: Command, setExit) => {
  program
    .command('keygen')
    .description('deal threshold BLS shares (t = quorum) and Ed25519 identities for a local cluster (trusted dealer)')
    .requiredOption('--nodes <n>', `number of nodes, 1..${MAX_NODES}`)
    .requiredOption('--out <dir>', 'directory for n1.key.json … and cluster.json')
    .option('--network <name>', 'network name (the network id is derived from it)', DEFAULT_NETWORK_NAME)
    .option('--force', 'overwrite existing key and cluster files')
    .action((opts: KeygenOptions) => {
      const outcome = keygen(opts);
      if (outcome.kind === 'exists') {
        process.stderr.write(`tandem keygen: refusing to overwrite ${outcome.path} (use --force to replace it)\n`);
        setExit(1);
        return;
      }
      process.stdout.write(outcome.summary);
      setExit(0);
    });
};
