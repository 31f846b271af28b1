/**
 * What a protocol-v2 run adds to the history: the v2 node events (with the node's own clock when
 * it logged them, which the commit-guard check judges by), the bundles each node sent (the
 * evidence the checker recomputes validity from), and every call a node made to a leg's v2
 * interface with its answers (the roots, entries and proofs proof-soundness re-verifies). Their
 * history lines are compact summaries; the entries themselves keep the full data for the checker.
 */
import { type Bundle, type LegName, type Message, type MessageV2, batchHeaderDigest, settlementId, toHex } from '@tandem/protocol';
import { type LegCallV2, type NodeEventV2, messageSettlementHex, summarizeMessage } from '@tandem/node';

export type { LegCallV2 } from '@tandem/node';

export type HistoryEntryV2 =
  /** A v2 node event; `clockMs` is what the node's clock read when it logged it. */
  | { readonly t: number; readonly node: number; readonly type: 'node2'; readonly clockMs: number; readonly event: NodeEventV2 }
  /** A bundle `node` broadcast (once per bundle, whatever the number of peers). */
  | { readonly t: number; readonly node: number; readonly type: 'bundle'; readonly bundle: Bundle }
  /** A leg call `node` made, answered. */
  | { readonly t: number; readonly node: number; readonly type: 'leg2'; readonly leg: LegName; readonly call: LegCallV2 };

function short(bytes: Uint8Array): string {
  return toHex(bytes).slice(0, 16);
}

/** A compact, stable rendering of a v2 wire message (no signatures, no entries). */
export function summarizeMessageV2(m: MessageV2): Record<string, unknown> {
  switch (m.kind) {
    case 'bundle': {
      const h = m.bundle.header;
      return { kind: 'bundle', signer: h.signer, time: h.timeMs, count: h.count };
    }
    case 'vote2': {
      const v = m.vote;
      return { kind: v.step, h: v.height, round: v.round, voter: v.voter, header: v.headerDigest === null ? null : short(v.headerDigest) };
    }
    case 'proposal2': {
      const p = m.proposal;
      return { kind: 'proposal', h: p.height, round: p.round, proposer: p.proposer, validRound: p.validRound, header: short(batchHeaderDigest(p.header)), count: p.header.count };
    }
    case 'decided': {
      const r = m.batch.report;
      return { kind: 'decided', h: r.height, round: r.round, count: r.count };
    }
    case 'catch-up':
      return { kind: 'catch-up', from: m.fromHeight, count: m.count };
  }
}

function summarizeEventV2(ev: NodeEventV2): Record<string, unknown> {
  switch (ev.type) {
    case 'signed':
      return { type: 'signed', ...summarizeMessageV2(ev.message) };
    case 'decided-height': {
      const hd = ev.header;
      return { type: 'decided-height', h: ev.height, round: ev.round, time: hd.timeMs, liveFrom: hd.liveFrom, count: hd.count, root: short(hd.root) };
    }
    default:
      return ev as unknown as Record<string, unknown>;
  }
}

function summarizeLegCall(c: LegCallV2): Record<string, unknown> {
  switch (c.op) {
    case 'root':
      return { op: 'root', h: c.report.height, root: short(c.report.root), outcome: c.outcome?.kind ?? null };
    case 'entries':
      return { op: 'entries', root: short(c.root), ids: c.items.map((i) => short(i.entry.settlementId)), outcomes: c.outcomes?.map((o) => o.kind) ?? null };
    case 'batch':
      return { op: 'batch', h: c.report.height, root: short(c.report.root), ids: c.entries.map((e) => short(e.settlementId)), outcomes: c.outcomes?.map((o) => o.kind) ?? null };
  }
}

/** Bytes as short hex, bigints as strings: one stable spelling for every v2 line. */
function replacer(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return short(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** The history line of a v2 entry. */
export function historyLineV2(e: HistoryEntryV2): string {
  switch (e.type) {
    case 'node2':
      return JSON.stringify({ t: e.t, node: e.node, clock: e.clockMs, ...summarizeEventV2(e.event) }, replacer);
    case 'bundle':
      return JSON.stringify({ t: e.t, node: e.node, type: 'bundle', ...summarizeMessageV2({ kind: 'bundle', bundle: e.bundle }), root: short(e.bundle.header.root) });
    case 'leg2':
      return JSON.stringify({ t: e.t, node: e.node, type: 'leg2', leg: e.leg, ...summarizeLegCall(e.call) });
  }
}

const V2_KINDS: ReadonlySet<string> = new Set<MessageV2['kind']>(['bundle', 'vote2', 'proposal2', 'decided', 'catch-up']);

export function isMessageV2(m: Message | MessageV2): m is MessageV2 {
  return V2_KINDS.has(m.kind);
}

/** What a `msg` history entry says of a message of either protocol: its settlement (none for v2) and its summary. */
export function messageSummary(m: Message | MessageV2): { readonly settlementIdHex: string; readonly message: Record<string, unknown> } {
  if (isMessageV2(m)) return { settlementIdHex: '', message: summarizeMessageV2(m) };
  return { settlementIdHex: messageSettlementHex(m, settlementId), message: summarizeMessage(m) };
}
