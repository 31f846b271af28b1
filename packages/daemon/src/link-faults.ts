/**
 * The fault shim behind a node's `POST /faults/links` (cluster-mode scenarios and tests): which
 * links to cut, and what loss and extra latency to put on messages arriving from each member. The
 * runner computes each node's set from the scenario (partition, isolate, drop, delay, network
 * latency) and sends it whenever a fault starts or ends; a new set replaces the old one.
 *
 * Body: { "block": [2, 3], "drop": { "4": 0.25 }, "delay": { "4": [5, 40] } }
 *   block  members whose links with this node are cut, both ways (sends to them and arrivals from
 *          them are dropped)
 *   drop   author → probability that a message from it is lost on arrival
 *   delay  author → extra latency on arrival, uniform in [minMs, maxMs]
 * Loss and delay act on arrival only: gossip reaches a node through relays, so only the receiver
 * knows which link (author → itself) a copy stands for, and acting once keeps a direct message
 * from meeting the same fault twice.
 */
import type { LinkFilter } from '@tandem/p2p';

/** Longest extra delay a runner may ask for: the transport holds delayed messages in memory. */
export const LINK_DELAY_MS_MAX = 60_000;

export interface LinkFaults {
  readonly block: readonly number[];
  readonly drop: ReadonlyMap<number, number>;
  readonly delay: ReadonlyMap<number, readonly [minMs: number, maxMs: number]>;
}

export const NO_LINK_FAULTS: LinkFaults = { block: [], drop: new Map(), delay: new Map() };

export class LinkFaultsError extends Error {}

function member(key: string, n: number, where: string): number {
  const i = /^[1-9]\d*$/.test(key) ? Number(key) : NaN;
  if (!Number.isSafeInteger(i) || i > n) throw new LinkFaultsError(`${where}: '${key}' is not a member index 1..${n}`);
  return i;
}

/** Checks a request body against a cluster of `n` members; errors name the key. */
export function parseLinkFaults(body: unknown, n: number): LinkFaults {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new LinkFaultsError('expected { block?, drop?, delay? }');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['block', 'drop', 'delay'].includes(k)) throw new LinkFaultsError(`${k}: no such key (allowed: block, drop, delay)`);
  const blockRaw = o['block'] ?? [];
  if (!Array.isArray(blockRaw)) throw new LinkFaultsError('block: expected a list of member indices');
  const block = blockRaw.map((x, i) => member(String(x), n, `block[${i}]`));
  const table = (key: string): [string, unknown][] => {
    const v = o[key] ?? {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new LinkFaultsError(`${key}: expected an object keyed by member index`);
    return Object.entries(v);
  };
  const drop = new Map<number, number>();
  for (const [k, v] of table('drop')) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new LinkFaultsError(`drop.${k}: expected a probability 0..1`);
    drop.set(member(k, n, `drop.${k}`), v);
  }
  const delay = new Map<number, readonly [number, number]>();
  for (const [k, v] of table('delay')) {
    const ok = Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x >= 0 && x <= LINK_DELAY_MS_MAX) && v[0] <= v[1];
    if (!ok) throw new LinkFaultsError(`delay.${k}: expected [minMs, maxMs], integers 0..${LINK_DELAY_MS_MAX}, min ≤ max`);
    delay.set(member(k, n, `delay.${k}`), [v[0], v[1]]);
  }
  return { block, drop, delay };
}

export function linkFaultsToJson(f: LinkFaults): Record<string, unknown> {
  return { block: f.block, drop: Object.fromEntries(f.drop), delay: Object.fromEntries(f.delay) };
}

/** The transport filter realising `f`; `random` is uniform in [0, 1) (Math.random in a node). */
export function linkFilterOf(f: LinkFaults, random: () => number): LinkFilter | null {
  if (f.block.length === 0 && f.drop.size === 0 && f.delay.size === 0) return null;
  const blocked = new Set(f.block);
  return (from, to, stage) => {
    if (stage === 'send') return blocked.has(to) ? 'drop' : 'pass';
    if (blocked.has(from)) return 'drop';
    const rate = f.drop.get(from) ?? 0;
    if (rate > 0 && random() < rate) return 'drop';
    const d = f.delay.get(from);
    if (d === undefined) return 'pass';
    const ms = d[0] + Math.floor(random() * (d[1] - d[0] + 1));
    return ms > 0 ? { delayMs: ms } : 'pass';
  };
}
