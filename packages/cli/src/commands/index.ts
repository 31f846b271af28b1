import type { RegisterCommand } from '../command.js';
import { registerBls } from './bls.js';
import { registerCluster } from './cluster/index.js';
import { registerDemo } from './demo/index.js';
import { registerExplore } from './explore.js';
import { registerKeygen } from './keygen.js';
import { registerLegHost } from './leg-host.js';
import { registerNode } from './node.js';
import { registerSettle } from './settle.js';
import { registerSimulate } from './simulate.js';

/** Every command of `tandem`, in the order `tandem --help` lists them. */
export const commands: readonly RegisterCommand[] = [registerDemo, registerSimulate, registerNode, registerCluster, registerSettle, registerLegHost, registerExplore, registerKeygen, registerBls];
