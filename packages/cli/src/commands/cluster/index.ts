/**
 * `tandem cluster up | status | restart | down | logs`: a local cluster of real processes on
 * loopback, run by @tandem/devnet. Each subcommand is its own file.
 */
import type { Command } from 'commander';
import type { RegisterCommand } from '../../command.js';
import { registerDown } from './down.js';
import { registerLogs } from './logs.js';
import { registerRestart } from './restart.js';
import { registerStatus } from './status.js';
import { registerUp } from './up.js';

export const registerCluster: RegisterCommand = (program: Command, setExit) => {
  const cluster = program.command('cluster').description('a local cluster of real node processes over libp2p, with a leg host');
  for (const register of [registerUp, registerStatus, registerRestart, registerDown, registerLogs]) register(cluster, setExit);
};
