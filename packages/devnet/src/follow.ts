/**
 * Following settlements on a cluster through the nodes' control APIs, for a runner's end condition
 * (cluster mode, the kill test): which settlements are closed on both legs (or split: final too,
 * nothing left to wait for), and which node has decided which.
 *
 * Protocol 1: each node's GET /settlements lists { id, decided, closed, split } until it archives a
 * settlement past its reclaim time, so reading it every poll from the start sees each state.
 *
 * Protocol 2: the list is { id, decided, height, decision, expired, refused, split, stuck } of the
 * settlements a node holds, and a node drops a settlement from it the moment it is closed on both
 * legs. So: a settlement decided at height h is decided at a node once the node's chain reached h
 * (GET /status `height`; a node that jumped past h by catch-up has it decided on the legs, as the
 * checker excuses); a settlement followed but absent from a node's list is asked of that node
 * alone (GET /settlements/:id), which remembers what it closed.
 */
import type { Credential } from '@tandem/http';
import { getJson } from './http.js';
import type { ClusterNode } from './paths.js';

export interface SettlementFollower {
  /** Reads every node not in `down` once; `ids` are the settlements followed so far (hex). */
  poll(nodes: readonly ClusterNode[], down: ReadonlySet<number>, ids: readonly string[]): Promise<void>;
  /** Closed on both legs (or split), as some node saw it. */
  closed(idHex: string): boolean;
  /** Decided at node `index` (1-based), as seen so far. */
  decidedAt(idHex: string, index: number): boolean;
}

export function settlementFollower(protocol: 1 | 2, credential: Credential): SettlementFollower {
  return protocol === 2 ? new FollowerV2(credential) : new FollowerV1(credential);
}

interface ListedV1 {
  readonly id: string;
  readonly decided: boolean;
  readonly closed: boolean;
  readonly split?: boolean;
}

interface ListedV2 {
  readonly id: string;
  readonly height: number | null;
  readonly split?: boolean;
}

/** A node's GET /settlements list, or null when it did not answer. */
async function list<T>(node: ClusterNode, credential: Credential): Promise<readonly T[] | null> {
  const body = (await getJson(`${node.control}/settlements`, credential).catch(() => null)) as { settlements: T[] } | null;
  return body?.settlements ?? null;
}

class FollowerV1 implements SettlementFollower {
  private readonly closedIds = new Set<string>();
  private readonly decided = new Set<string>(); // `index:id`

  constructor(private readonly credential: Credential) {}

  async poll(nodes: readonly ClusterNode[], down: ReadonlySet<number>): Promise<void> {
    const lists = await Promise.all(nodes.map((node, i) => (down.has(i + 1) ? null : list<ListedV1>(node, this.credential))));
    lists.forEach((l, i) => {
      for (const v of l ?? []) {
        if (v.closed || v.split === true) this.closedIds.add(v.id);
        if (v.decided) this.decided.add(`${i + 1}:${v.id}`);
      }
    });
  }

  closed(idHex: string): boolean {
    return this.closedIds.has(idHex);
  }

  decidedAt(idHex: string, index: number): boolean {
    return this.decided.has(`${index}:${idHex}`);
  }
}

class FollowerV2 implements SettlementFollower {
  private readonly closedIds = new Set<string>();
  /** The height whose batch decided each settlement, as any node showed it. */
  private readonly heights = new Map<string, number>();
  /** Each node's newest decided height seen (a chain only grows). */
  private readonly tips = new Map<number, number>();

  constructor(private readonly credential: Credential) {}

  async poll(nodes: readonly ClusterNode[], down: ReadonlySet<number>, ids: readonly string[]): Promise<void> {
    await Promise.all(nodes.map((node, i) => (down.has(i + 1) ? null : this.pollNode(node, i + 1, ids))));
  }

  private async pollNode(node: ClusterNode, index: number, ids: readonly string[]): Promise<void> {
    const [l, status] = await Promise.all([list<ListedV2>(node, this.credential), getJson(`${node.control}/status`, this.credential).catch(() => null) as Promise<{ height: number | null } | null>]);
    if (l === null) return;
    const held = new Set<string>();
    for (const v of l) {
      held.add(v.id);
      if (v.height !== null) this.heights.set(v.id, v.height);
      if (v.split === true) this.closedIds.add(v.id);
    }
    if (status?.height !== undefined && status.height !== null) this.tips.set(index, Math.max(this.tips.get(index) ?? 0, status.height));
    const gone = ids.filter((id) => !held.has(id) && !this.closedIds.has(id));
    await Promise.all(gone.map((id) => this.askGone(node, id)));
  }

  /** A followed settlement the node does not list: closed there, or never held (then it knows nothing of it). */
  private async askGone(node: ClusterNode, idHex: string): Promise<void> {
    const v = (await getJson(`${node.control}/settlements/${idHex}`, this.credential).catch(() => null)) as { height: number | null; closed: boolean } | null;
    if (v === null) return;
    if (v.height !== null) this.heights.set(idHex, v.height);
    if (v.closed) this.closedIds.add(idHex);
  }

  closed(idHex: string): boolean {
    return this.closedIds.has(idHex);
  }

  decidedAt(idHex: string, index: number): boolean {
    const h = this.heights.get(idHex);
    return h !== undefined && (this.tips.get(index) ?? 0) >= h;
  }
}
