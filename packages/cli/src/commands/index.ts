import type { Command } from 'commander';
import { registerBls } from './bls.js';
import { registerKeygen } from './keygen.js';
import { registerSimulate } from './simulate.js';
import { registerDemo } from './demo.js';
import { registerNode } from './node.js';
import { registerCluster } from './cluster.js';
import { registerSettle } from './settle.js';
import { registerLegHost } from './leg-host.js';
import { registerExplore } from './explore.js';

/** A command registers itself on the program; `setExit` records the process exit code. */
export type RegisterCommand = (program: Command, setExit: (code: number) => void) => void;

export const commands: RegisterCommand[] = [registerDemo, registerSimulate, registerNode, registerCluster, registerSettle, registerLegHost, registerExplore, registerKeygen, registerBls];
