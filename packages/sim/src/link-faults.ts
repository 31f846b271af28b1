/**
 * What the network does to a message between two nodes at a given time, as pure functions of the
 * scenario: cut by a partition or an isolation, lost or duplicated at a rate, delayed by extra
 * latency. The simulator's network applies `linkAt` to every message it sends; a cluster runner
 * pushes `linkFaultsAt` to each node's link-fault shim at every `linkChangeTimes` instant.
 */
import { faultActive } from './fault.js';
import type { Fault, NodeIndex, Scenario } from './scenario.js';

/** Is the link a–b cut at `tMs` by a partition (a and b in different groups) or an isolation of either? */
export function linkCut(faults: readonly Fault[], a: NodeIndex, b: NodeIndex, tMs: number): boolean {
  for (const f of faults) {
    if ((f.kind !== 'partition' && f.kind !== 'isolate') || !faultActive(f, tMs)) continue;
    if (f.kind === 'isolate') {
      if (a === f.node || b === f.node) return true;
    } else {
      const ga = f.groups.findIndex((g) => g.includes(a));
      const gb = f.groups.findIndex((g) => g.includes(b));
      if (ga !== gb) return true;
    }
  }
  return false;
}

/** A link's state for one message: cut, or lost / duplicated with these probabilities and delayed by `extraMs`. */
export interface LinkState {
  readonly cut: boolean;
  readonly drop: number;
  readonly duplicate: number;
  /** Added to the network's latency. */
  readonly extraMs: number;
}

/**
 * The link from `from` to `to` at `tMs`: the network's own rates, combined with every drop and
 * duplicate fault in force on that direction, plus the extra latency of the delay faults on
 * either end.
 */
export function linkAt(scenario: Scenario, from: NodeIndex, to: NodeIndex, tMs: number): LinkState {
  let drop = scenario.network.drop;
  let duplicate = scenario.network.duplicate;
  let extraMs = 0;
  for (const f of scenario.faults) {
    if ((f.kind !== 'drop' && f.kind !== 'duplicate' && f.kind !== 'delay') || !faultActive(f, tMs)) continue;
    if (f.kind === 'delay') {
      if (f.node === from || f.node === to) extraMs += f.extraMs;
    } else if (f.from.includes(from) && f.to.includes(to)) {
      // Independent causes of loss (or duplication) combine: 1 - (1-a)(1-b).
      if (f.kind === 'drop') drop = 1 - (1 - drop) * (1 - f.rate);
      else duplicate = 1 - (1 - duplicate) * (1 - f.rate);
    }
  }
  return { cut: linkCut(scenario.faults, from, to, tMs), drop, duplicate, extraMs };
}

/**
 * One node's link faults as a receiver, per author (the body of its POST /faults/links): the
 * authors it hears nothing from, the loss rate and the latency range of each other author.
 */
export interface NodeLinkFaults {
  readonly block: number[];
  readonly drop: Record<string, number>;
  readonly delay: Record<string, [number, number]>;
}

/** Every node's link faults at scenario time `tMs`; the network's latency range is included on every link. */
export function linkFaultsAt(scenario: Scenario, tMs: number): Map<number, NodeLinkFaults> {
  const out = new Map<number, NodeLinkFaults>();
  const { latencyMinMs, latencyMaxMs } = scenario.network;
  for (let r = 1; r <= scenario.nodes; r++) {
    const block: number[] = [];
    const drop: Record<string, number> = {};
    const delay: Record<string, [number, number]> = {};
    for (let a = 1; a <= scenario.nodes; a++) {
      if (a === r) continue;
      const link = linkAt(scenario, a, r, tMs);
      if (link.cut) {
        block.push(a);
        continue; // a cut link carries no loss or latency rule
      }
      if (link.drop > 0) drop[String(a)] = link.drop;
      if (latencyMaxMs + link.extraMs > 0) delay[String(a)] = [latencyMinMs + link.extraMs, latencyMaxMs + link.extraMs];
    }
    out.set(r, { block, drop, delay });
  }
  return out;
}

/** The scenario times at which some node's link faults change (time 0 included), ascending. */
export function linkChangeTimes(scenario: Scenario): number[] {
  const times = new Set<number>([0]);
  for (const f of scenario.faults) {
    if (f.kind !== 'isolate' && f.kind !== 'partition' && f.kind !== 'drop' && f.kind !== 'delay') continue;
    times.add(f.atMs);
    if (f.untilMs !== null) times.add(f.untilMs);
  }
  return [...times].sort((a, b) => a - b);
}
