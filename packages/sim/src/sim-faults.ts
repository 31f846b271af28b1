/**
 * The scenario's faults in the simulator: the legs' fault hooks (reject, apply-error,
 * unavailable), when a skewed leg clock reaches a time, and the scheduling of every fault as
 * events on the virtual clock (crashes and restarts, the history entries of network and clock
 * faults, which act where they are read: the network, the clocks, the wrapped ports).
 */
import type { LegName } from '@tandem/protocol';
import type { MemoryLegFaults } from '@tandem/legs';
import { clockSkewMs, faultActive } from './fault.js';
import type { PlannedFault } from './plan.js';
import type { SimSettlement } from './run-record.js';
import type { Fault } from './scenario.js';
import type { SimNetwork } from './sim-network.js';
import type { SimCore, SimNode, World } from './sim-world.js';

/** The hooks through which `leg` realises the scenario's leg faults on the in-memory leg. */
export function legFaultHooks(core: SimCore, leg: LegName, bySettlementHex: ReadonlyMap<string, SimSettlement>): MemoryLegFaults {
  const applyErrorsLeft = new Map<string, number>(); // idHex → count
  const faultsFor = (idHex: string): Fault[] => {
    const s = bySettlementHex.get(idHex);
    if (s === undefined) return [];
    return core.scenario.faults.filter((f) => f.kind === 'leg' && f.settlement === s.spec.id && f.leg === leg);
  };
  return {
    rejectPrepare: (idHex) => faultsFor(idHex).some((f) => f.kind === 'leg' && f.fail === 'reject' && core.nowMs() >= f.atMs),
    failApply: (idHex) => {
      const f = faultsFor(idHex).find((x) => x.kind === 'leg' && x.fail === 'apply-error' && core.nowMs() >= x.atMs);
      if (f === undefined || f.kind !== 'leg') return false;
      const left = applyErrorsLeft.get(idHex) ?? f.times;
      if (left <= 0) return false;
      applyErrorsLeft.set(idHex, left - 1);
      return true;
    },
    unavailable: () => core.scenario.faults.some((f) => f.kind === 'leg' && f.leg === leg && f.fail === 'unavailable' && faultActive(f, core.nowMs())),
  };
}

/** The first virtual time at which `leg`'s clock reads at least `legTimeMs`. */
export function virtualTimeWhenLegReads(faults: readonly Fault[], leg: 'asset' | 'payment', legTimeMs: number): number {
  // Skews are piecewise constant: try the candidate of each skew value in force.
  const candidates = [legTimeMs, ...faults.filter((f) => f.kind === 'clock-skew' && f.target === leg).map((f) => legTimeMs - (f.kind === 'clock-skew' ? f.skewMs : 0))];
  const ok = candidates.filter((t) => t >= 0 && t + clockSkewMs(faults, leg, t) >= legTimeMs).sort((a, b) => a - b);
  return ok[0] ?? legTimeMs;
}

/** Schedules the scenario's faults and carries out the crashes and restarts among them. */
export class SimFaults {
  constructor(
    private readonly core: SimCore,
    private readonly world: World,
    private readonly network: SimNetwork,
    private readonly start: (node: SimNode) => void,
  ) {}

  crash(node: SimNode, forGood: boolean): void {
    if (!node.up) return;
    node.runtime?.stop();
    node.runtime = null;
    node.up = false;
    node.crashedForGood = forGood;
    this.core.record({ t: this.core.nowMs(), node: node.index, type: 'crash' });
  }

  restart(node: SimNode): void {
    if (node.up) return;
    node.crashedForGood = false;
    this.core.record({ t: this.core.nowMs(), node: node.index, type: 'restart' });
    this.start(node);
    this.network.reconnectRestarted(node);
  }

  /** Schedules one planned fault: what it does at its start and end, and its history entries. */
  schedule(planned: PlannedFault): void {
    const { core } = this;
    const { fault: f, startMs, endMs } = planned;
    const mark = (phase: 'start' | 'end', detail?: string) => core.record({ t: core.nowMs(), node: 0, type: 'fault', fault: f, phase, ...(detail === undefined ? {} : { detail }) });
    switch (f.kind) {
      case 'crash': {
        const node = this.world.nodes[f.node - 1]!;
        core.at(startMs, () => this.crash(node, endMs === null));
        if (endMs !== null) core.at(endMs, () => this.restart(node));
        return;
      }
      case 'partition':
      case 'isolate': {
        core.at(startMs, () => mark('start'));
        if (endMs !== null) {
          const groups = f.kind === 'partition' ? f.groups : [[f.node], this.world.nodes.map((x) => x.index).filter((i) => i !== f.node)];
          core.at(endMs, () => {
            mark('end');
            this.network.reconnectAcross(groups);
          });
        }
        return;
      }
      case 'leg':
        // Leg faults act through the legs' hooks and the party agents.
        return;
      case 'delay':
      case 'drop':
      case 'duplicate':
      case 'clock-skew':
      case 'byzantine':
        // Read where they act (send, clocks, wrapped ports); recorded here for the history.
        core.at(startMs, () => mark('start'));
        if (endMs !== null) core.at(endMs, () => mark('end'));
        return;
      case 'reorg':
        core.at(startMs, () => {
          const undone = this.world.asset.reorg(settlementByNonce(this.world, f.settlement).idHex);
          mark('start', undone ? 'the unfinalized lock was undone' : 'nothing to undo');
        });
        return;
    }
  }
}

function settlementByNonce(world: World, nonce: string): SimSettlement {
  const s = world.settlements.find((x) => x.spec.id === nonce);
  if (s === undefined) throw new Error(`unknown settlement ${nonce}`);
  return s;
}
