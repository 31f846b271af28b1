/**
 * What the protocol-2 checker reads from a run's history, indexed once: every node's decided
 * heights (header and entries), the proposals and votes it signed with its clock at the time, the
 * bundles members sent, the leg calls with their answers, catch-up jumps and down intervals; and
 * the v2 metrics of docs/results.md (heights, batch sizes, height latency). Pure.
 */
import { type BatchHeader, type Bundle, type Entry, type MessageV2, batchHeaderDigest, toHex } from '@tandem/protocol';
import { type DecisionAt, type DownIntervals, downIntervalsOf, percentile, pushTo } from './check-common.js';
import type { LegCallV2 } from './history-v2.js';
import type { RunRecord } from './run-record.js';

/** A node's decided height. */
export interface DecidedHeightAt {
  readonly node: number;
  readonly t: number;
  readonly height: number;
  readonly round: number;
  readonly header: BatchHeader;
  readonly digestHex: string;
  readonly entries: readonly Entry[];
}

/** A proposal or vote a node signed, with its clock then. */
export interface SignedAt {
  readonly node: number;
  readonly t: number;
  readonly clockMs: number;
  readonly height: number;
  readonly message: Extract<MessageV2, { kind: 'vote2' | 'proposal2' }>;
}

export interface FactsV2 {
  /** Every decided-height event, in history order. */
  readonly decidedHeights: readonly DecidedHeightAt[];
  /** Per settlement (hex): each decision of it, in time order. */
  readonly decided: Map<string, DecisionAt[]>;
  /** Per settlement (hex): nodes that dropped it as expired undecided, and when. */
  readonly expired: Map<string, { node: number; t: number }[]>;
  readonly signed: readonly SignedAt[];
  readonly bundles: readonly { readonly t: number; readonly node: number; readonly bundle: Bundle }[];
  readonly legCalls: readonly { readonly t: number; readonly node: number; readonly leg: 'asset' | 'payment'; readonly call: LegCallV2 }[];
  /** Per node: its catch-up jumps, in order. */
  readonly jumps: Map<number, { t: number; fromHeight: number; toHeight: number }[]>;
  readonly downIntervals: DownIntervals;
}

export function gatherV2(run: RunRecord): FactsV2 {
  const decidedHeights: DecidedHeightAt[] = [];
  const decided = new Map<string, DecisionAt[]>();
  const expired = new Map<string, { node: number; t: number }[]>();
  const signed: SignedAt[] = [];
  const bundles: { t: number; node: number; bundle: Bundle }[] = [];
  const legCalls: { t: number; node: number; leg: 'asset' | 'payment'; call: LegCallV2 }[] = [];
  const jumps = new Map<number, { t: number; fromHeight: number; toHeight: number }[]>();
  for (const e of run.history) {
    if (e.type === 'bundle') bundles.push({ t: e.t, node: e.node, bundle: e.bundle });
    if (e.type === 'leg2') legCalls.push({ t: e.t, node: e.node, leg: e.leg, call: e.call });
    if (e.type !== 'node2') continue;
    const ev = e.event;
    switch (ev.type) {
      case 'decided-height': {
        const d = { node: e.node, t: e.t, height: ev.height, round: ev.round, header: ev.header, digestHex: toHex(batchHeaderDigest(ev.header)), entries: ev.entries };
        decidedHeights.push(d);
        for (const x of ev.entries) pushTo(decided, toHex(x.settlementId), { node: e.node, t: e.t, decision: x.decision, round: ev.round, height: ev.height });
        break;
      }
      case 'expired-undecided':
        pushTo(expired, ev.settlementIdHex, { node: e.node, t: e.t });
        break;
      case 'signed':
        if (ev.message.kind === 'vote2' || ev.message.kind === 'proposal2') signed.push({ node: e.node, t: e.t, clockMs: e.clockMs, height: ev.height, message: ev.message });
        break;
      case 'catch-up':
        if (ev.jumped) pushTo(jumps, e.node, { t: e.t, fromHeight: ev.fromHeight, toHeight: ev.toHeight });
        break;
      default:
        break;
    }
  }
  return { decidedHeights, decided, expired, signed, bundles, legCalls, jumps, downIntervals: downIntervalsOf(run.history) };
}

/**
 * The chain as correct nodes decided it: per height, the first correct node's batch (height
 * agreement says they are all the same). Heights no correct node decided are absent.
 */
export function decidedChain(facts: FactsV2, correct: (node: number) => boolean): Map<number, DecidedHeightAt> {
  const chain = new Map<number, DecidedHeightAt>();
  for (const d of facts.decidedHeights) if (correct(d.node) && !chain.has(d.height)) chain.set(d.height, d);
  return chain;
}

/** The v2 metrics of a run: heights decided, entries per batch, height latency; and the settlements that expired undecided. */
export interface HeightMetrics {
  readonly heights: number;
  readonly batchEntries: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly heightLatencyMs: { readonly p50: number; readonly p99: number };
  readonly expired: ReadonlySet<string>;
}

/**
 * Height latency: from the first moment any node entered round 0 of the height (or signed for it)
 * to the first decision of it.
 */
export function heightMetrics(run: RunRecord): HeightMetrics {
  const facts = gatherV2(run);
  const chain = decidedChain(facts, (node) => !run.byzantine.has(node));
  const started = new Map<number, number>();
  for (const e of run.history) {
    if (e.type !== 'node2') continue;
    const h = e.event.type === 'height-round' || e.event.type === 'signed' ? e.event.height : null;
    if (h !== null && !started.has(h)) started.set(h, e.t);
  }
  const sizes = [...chain.values()].map((d) => d.header.count).sort((a, b) => a - b);
  const latencies = [...chain.values()].flatMap((d) => {
    const from = started.get(d.height);
    return from === undefined ? [] : [d.t - from];
  });
  latencies.sort((a, b) => a - b);
  const expired = new Set([...facts.expired.keys()].filter((idHex) => !facts.decided.has(idHex)));
  return {
    heights: chain.size,
    batchEntries: { p50: percentile(sizes, 50), p99: percentile(sizes, 99), max: sizes.at(-1) ?? 0 },
    heightLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    expired,
  };
}
