/**
 * The simulated network: every node-to-node message goes through `send`, which applies the
 * scenario's partitions, isolations, loss, duplication and extra delay (link-faults.ts: the rules
 * a cluster runner pushes to real nodes too), draws loss and latency from the network's own seeded
 * stream, and queues the delivery. A message across a cut is lost, not buffered; when a cut
 * heals, the nodes on both sides see each other reconnect.
 */
import { messageSummary } from './history-v2.js';
import { linkAt, linkCut } from './link-faults.js';
import type { Rng } from './rng.js';
import type { SimCore, SimMessage, SimNode } from './sim-world.js';

export class SimNetwork {
  sent = 0;

  constructor(
    private readonly core: SimCore,
    private readonly nodes: readonly SimNode[],
    private readonly rng: Rng,
  ) {}

  /** Is the link a–b cut by an active partition or isolation right now? */
  separated(a: number, b: number): boolean {
    return linkCut(this.core.scenario.faults, a, b, this.core.nowMs());
  }

  send(from: number, to: number, message: SimMessage): void {
    this.sent++;
    const now = this.core.nowMs();
    const base = { t: now, node: from, type: 'msg' as const, to, ...messageSummary(message) };
    const link = linkAt(this.core.scenario, from, to, now);
    if (link.cut) {
      this.core.record({ ...base, deliverAtMs: null, lost: 'partition' }); // lost, not buffered
      return;
    }
    if (this.rng.chance(link.drop)) {
      this.core.record({ ...base, deliverAtMs: null, lost: 'loss' });
      return;
    }
    const copies = this.rng.chance(link.duplicate) ? 2 : 1;
    const { latencyMinMs, latencyMaxMs } = this.core.scenario.network;
    for (let c = 0; c < copies; c++) {
      const latency = this.rng.intBetween(latencyMinMs, latencyMaxMs) + link.extraMs;
      this.core.record({ ...base, deliverAtMs: now + latency, lost: null });
      this.core.push(now + latency, { kind: 'deliver', from, to, message });
    }
  }

  /** When a cut between `groups` heals, the nodes up on both sides see each other reconnect. */
  reconnectAcross(groups: readonly (readonly number[])[]): void {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a.index >= b.index || !a.up || !b.up) continue;
        const ga = groups.findIndex((g) => g.includes(a.index));
        const gb = groups.findIndex((g) => g.includes(b.index));
        if (ga === gb || this.separated(a.index, b.index)) continue;
        a.runtime!.peerConnected(b.index);
        b.runtime!.peerConnected(a.index);
      }
    }
  }

  /** A restart counts as a reconnect to every peer it can reach (docs/protocol.md, Delivery). */
  reconnectRestarted(node: SimNode): void {
    for (const peer of this.nodes) {
      if (peer.index === node.index || !peer.up || this.separated(node.index, peer.index)) continue;
      node.runtime!.peerConnected(peer.index);
      peer.runtime!.peerConnected(node.index);
    }
  }
}
