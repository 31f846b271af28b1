/**
 * Nodes of a protocol-2 run: a real NodeRuntimeV2 over the simulated ports (the same network,
 * virtual clock and timers, clock skew and crashes as v1), with in-memory v2 storage kept across
 * crashes, and the shared in-memory legs (anchored to protocol 2 and the v2 configuration digest)
 * seen through a recorder: every root, entry and batch a node hands a leg goes into the history
 * with the leg's answer, for proof-soundness. Bundles a node broadcasts are recorded once each,
 * for the checker's validity and V5 recomputation.
 */
import { toHex } from '@tandem/protocol';
import { type LegsV2, MemoV2Checks, type NodeEventV2, NodeRuntimeV2, type RuntimeV2Deps, type TransportV2, byzantineV2, recordingLegsV2 } from '@tandem/node';
import { faultActive } from './fault.js';
import { isByzantineBehaviourV1 } from './scenario.js';
import type { Rng } from './rng.js';
import { type PortsV2, byzantineV1OnV2 } from './sim-byzantine-v2.js';
import { type NodeWiring, type SimCore, type SimNode, type World, byzantineEnv, byzantineFaults, nodeClock, nodeTimers } from './sim-world.js';

/**
 * Bundle-tree and multiproof checks memoized across every simulated node (and run): each node checks
 * the same broadcast bytes, and the checks are pure, so sharing them changes no outcome, only wall time.
 */
const SHARED_CHECKS = new MemoV2Checks();

/** Starts (or restarts, with its storage) a v2 node. */
export function startNodeV2(core: SimCore, world: World, rng: Rng, node: SimNode, wiring: NodeWiring): void {
  const v2 = world.v2;
  if (v2 === null) throw new Error('startNodeV2 on a protocol-1 world');
  node.incarnation++;
  node.up = true;
  const incarnation = node.incarnation;
  const clock = nodeClock(core, node);
  const clockMs = () => clock.nowMs();
  const transport: TransportV2 = {
    broadcast: (m) => {
      if (m.kind === 'bundle') core.record({ t: core.nowMs(), node: node.index, type: 'bundle', bundle: m.bundle });
      for (const peer of world.nodes) if (peer.index !== node.index) wiring.send(node.index, peer.index, m);
    },
    send: (to, m) => wiring.send(node.index, to, m),
  };
  // Protocol 1's behaviours wrap the ports (sim-byzantine-v2.ts); protocol 2's go through the
  // runtime's proposer hook and transport (packages/node, v2/byzantine.ts).
  let ports: PortsV2 = { transport, legs: recordedLegs(core, world, node.index), storage: node.storageV2, clock };
  const faults = byzantineFaults(core.scenario, node.index);
  for (const f of faults) {
    if (isByzantineBehaviourV1(f.behaviour)) ports = byzantineV1OnV2(f.behaviour, ports, { ...byzantineEnv(core, world, rng, node.index, f), signer: node.ctx.signer });
  }
  let deps: RuntimeV2Deps = {
    ctx: node.ctx,
    v2,
    checks: SHARED_CHECKS,
    params: wiring.runtimeParams,
    clock: ports.clock,
    timers: nodeTimers(core, node, incarnation),
    transport: ports.transport,
    storage: ports.storage,
    legs: ports.legs,
    log: {
      event: (event: NodeEventV2) => {
        noteSettled(node, event);
        core.record({ t: core.nowMs(), node: node.index, type: 'node2', clockMs: clockMs(), event });
      },
    },
  };
  for (const f of faults) {
    if (!isByzantineBehaviourV1(f.behaviour)) deps = byzantineV2(f.behaviour, deps, { active: () => faultActive(f, core.nowMs()) });
  }
  const runtime = new NodeRuntimeV2(deps);
  node.runtime = runtime;
  runtime.start();
}

/** What the end of a run waits for under v2: each settlement decided, or expired undecided, at every node up. */
function noteSettled(node: SimNode, event: NodeEventV2): void {
  if (event.type === 'decided-height') for (const e of event.entries) node.decided.add(toHex(e.settlementId));
  if (event.type === 'expired-undecided' || event.type === 'settlement-decided') node.decided.add(event.settlementIdHex);
}

/** The world's legs as one node sees them: every v2 call recorded with its answer. */
function recordedLegs(core: SimCore, world: World, node: number): LegsV2 {
  return recordingLegsV2({ asset: world.asset, payment: world.payment }, (leg, call) => core.record({ t: core.nowMs(), node, type: 'leg2', leg, call }));
}
