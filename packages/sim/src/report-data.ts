/**
 * What the run report shows, computed from a run and its result: the messages of the space-time
 * diagram, fault windows, down intervals, node marks and intents, each settlement's span and leg
 * timeline (state segments, event ticks, deadline marks, outages), and the latency bins. Pure
 * functions of their inputs; report-svg.ts and report-html.ts draw what these return.
 */
import { type LegState, reclaimAtMs, validUntilMs } from '@tandem/protocol';
import { type LegEvent, LEG_STATE_AFTER } from '@tandem/legs';
import type { NodeEvent } from '@tandem/node';
import type { HistoryEntry } from './history.js';
import { type RunResult, assetName, paymentName } from './result.js';
import type { RunRecord, SimSettlement } from './run-record.js';
import { describeFault } from './fault.js';
import type { Fault } from './scenario.js';

/** Bounds on what the diagram draws: a report stays a file a browser opens in a second. */
const MESSAGES_DRAWN_MAX = 50_000;

/** JSON that survives bigints (scenario amounts) and is stable for the same value. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
}

/** A message kind (or a leg state) as a CSS class suffix: lowercase letters, digits and dashes only. */
export function kindClass(kind: unknown): string {
  const k = typeof kind === 'string' ? kind.toLowerCase().replace(/[^a-z0-9-]/g, '') : '';
  return k === '' ? 'other' : k;
}

/** Settlement id (hex) → its index in the run's settlements: what the page's filter selects by. */
export function settlementIndexOf(run: RunRecord): Map<string, number> {
  const index = new Map<string, number>();
  run.settlements.forEach((s, i) => index.set(s.idHex, i));
  return index;
}

// -------------------------------------------------------------------------------------------------
// The space-time diagram

export interface ReportMessage {
  readonly from: number;
  readonly to: number;
  readonly t: number;
  readonly deliverAtMs: number | null;
  readonly lost: string | null;
  readonly s: string; // settlement index, or '' when the message names no known settlement
  readonly kind: string;
  readonly text: string;
  /** Delivered by the network to a node that was down: drawn whole, dashed, ending in ×. */
  receiverDown: boolean;
}

function messageText(m: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(m)) if (k !== 'kind' && k !== 'signature') parts.push(`${k}=${v === null ? 'nil' : String(v)}`);
  return parts.join(' ');
}

/** The messages of the history (the first MESSAGES_DRAWN_MAX), with each "receiver down" loss folded into the send it ends. */
export function collectMessages(history: readonly HistoryEntry[], settlementIndex: ReadonlyMap<string, number>, labelOf: (i: number) => string): ReportMessage[] {
  const out: ReportMessage[] = [];
  const inFlight = new Map<string, ReportMessage[]>(); // from>to@arrival|message → sends arriving then
  for (const e of history) {
    if (e.type !== 'msg') continue;
    const body = stableJson(e.message) + '|' + e.settlementIdHex;
    if (e.lost === 'receiver down') {
      const key = `${e.node}>${e.to}@${e.t}|${body}`;
      const match = inFlight.get(key)?.find((m) => !m.receiverDown);
      if (match !== undefined) {
        match.receiverDown = true;
        continue;
      }
    }
    if (out.length >= MESSAGES_DRAWN_MAX) continue;
    const idx = settlementIndex.get(e.settlementIdHex);
    const kind = kindClass(e.message['kind']);
    const label = idx === undefined ? e.settlementIdHex.slice(0, 16) : labelOf(idx);
    const draw: ReportMessage = {
      from: e.node,
      to: e.to,
      t: e.t,
      deliverAtMs: e.deliverAtMs,
      lost: e.lost,
      s: idx === undefined ? '' : String(idx),
      kind,
      text: `n${e.node} → n${e.to} ${kind} ${messageText(e.message)} · ${label}`,
      receiverDown: false,
    };
    out.push(draw);
    if (e.deliverAtMs !== null) {
      const key = `${e.node}>${e.to}@${e.deliverAtMs}|${body}`;
      const list = inFlight.get(key);
      if (list) list.push(draw);
      else inFlight.set(key, [draw]);
    }
  }
  return out;
}

/** Messages sent over the run (a "receiver down" entry is the end of a send, not a send). */
export function messagesSent(history: readonly HistoryEntry[]): number {
  return history.reduce((k, e) => k + (e.type === 'msg' && e.lost !== 'receiver down' ? 1 : 0), 0);
}

/** Where the diagram's time axis ends: the last thing drawn, plus room for its markers. */
export function diagramEndMs(run: RunRecord, messages: readonly ReportMessage[]): number {
  let tLast = Math.max(1, run.endMs);
  for (const m of messages) tLast = Math.max(tLast, m.deliverAtMs ?? m.t);
  return tLast + Math.max(1, Math.round(tLast * 0.015));
}

export interface FaultWindow {
  readonly from: number;
  readonly to: number;
  readonly fault: Fault;
  readonly label: string;
}

export interface FaultInstant {
  readonly t: number;
  readonly what: string;
}

/**
 * Does a fault hold over a window (shaded from its start to its end, or to the end of the run)?
 * Reorgs and the leg faults other than an outage are one-off events (a reorg, a late
 * authorization, a refused prepare), marked at their time.
 */
function isWindow(f: Fault): boolean {
  return f.kind !== 'reorg' && (f.kind !== 'leg' || f.fail === 'unavailable');
}

/** Fault windows from the history's fault start/end entries (an end closes the open start of the same fault). */
export function faultWindows(history: readonly HistoryEntry[], endMs: number): { windows: FaultWindow[]; instants: FaultInstant[] } {
  const open = new Map<string, { fault: Fault; starts: number[] }>(); // the fault's JSON → its open starts
  const spans: { from: number; to: number; fault: Fault; key: string }[] = [];
  const instants: FaultInstant[] = [];
  for (const e of history) {
    if (e.type !== 'fault') continue;
    const key = stableJson(e.fault);
    if (e.phase === 'start' && !isWindow(e.fault)) {
      instants.push({ t: e.t, what: describeFault(e.fault) + (e.detail === undefined ? '' : `: ${e.detail}`) });
    } else if (e.phase === 'start') {
      const entry = open.get(key);
      if (entry) entry.starts.push(e.t);
      else open.set(key, { fault: e.fault, starts: [e.t] });
    } else {
      const from = open.get(key)?.starts.shift();
      if (from !== undefined) spans.push({ from, to: e.t, fault: e.fault, key });
      else instants.push({ t: e.t, what: `end of ${describeFault(e.fault)}` });
    }
  }
  // A start with no end: in force to the end of the run.
  for (const [key, { fault, starts }] of open) for (const from of starts) spans.push({ from, to: endMs, fault, key });
  spans.sort((a, b) => a.from - b.from || a.to - b.to || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  instants.sort((a, b) => a.t - b.t);
  return { windows: spans.map(({ from, to, fault }) => ({ from, to, fault, label: describeFault(fault) })), instants };
}

/** The nodes' crashes and restarts, and the intervals they were down (to `endMs` if never restarted). */
export function downtime(history: readonly HistoryEntry[], endMs: number): {
  readonly marks: { readonly type: 'crash' | 'restart'; readonly node: number; readonly t: number }[];
  readonly bands: { readonly node: number; readonly from: number; readonly to: number; readonly restarted: boolean }[];
} {
  const marks: { type: 'crash' | 'restart'; node: number; t: number }[] = [];
  const bands: { node: number; from: number; to: number; restarted: boolean }[] = [];
  const down = new Map<number, number>(); // node → crash time of the open interval
  for (const e of history) {
    if (e.type === 'crash') {
      down.set(e.node, e.t);
      marks.push({ type: 'crash', node: e.node, t: e.t });
    } else if (e.type === 'restart') {
      const from = down.get(e.node);
      if (from !== undefined) bands.push({ node: e.node, from, to: e.t, restarted: true });
      down.delete(e.node);
      marks.push({ type: 'restart', node: e.node, t: e.t });
    }
  }
  for (const [node, from] of [...down].sort((a, b) => a[0] - b[0])) bands.push({ node, from, to: endMs, restarted: false });
  return { marks, bands };
}

/** A node event the diagram marks: a decision, a report delivered to a leg, evidence recorded. */
export interface NodeMark {
  readonly t: number;
  readonly node: number;
  readonly s: number | undefined; // settlement index
  readonly label: string;
  readonly event: Extract<NodeEvent, { type: 'decided' | 'deliver' | 'evidence' }>;
}

export function nodeMarks(history: readonly HistoryEntry[], settlementIndex: ReadonlyMap<string, number>, labelOf: (i: number) => string): NodeMark[] {
  const out: NodeMark[] = [];
  for (const e of history) {
    if (e.type !== 'node') continue;
    const ev = e.event;
    if (ev.type !== 'decided' && ev.type !== 'deliver' && ev.type !== 'evidence') continue;
    const s = settlementIndex.get(ev.settlementIdHex);
    out.push({ t: e.t, node: e.node, s, label: s === undefined ? ev.settlementIdHex.slice(0, 16) : labelOf(s), event: ev });
  }
  return out;
}

/** The intents, grouped by time (intents at one instant share one label). */
export function intentsByTime(history: readonly HistoryEntry[], settlementIndex: ReadonlyMap<string, number>): Map<number, { id: string; idx: number | undefined }[]> {
  const byTime = new Map<number, { id: string; idx: number | undefined }[]>();
  for (const e of history) {
    if (e.type !== 'intent') continue;
    const list = byTime.get(e.t);
    const item = { id: e.settlement, idx: settlementIndex.get(e.settlementIdHex) };
    if (list) list.push(item);
    else byTime.set(e.t, [item]);
  }
  return byTime;
}

/** Per settlement, the span of its activity, so picking it in the filter zooms to it. */
export function settlementExtents(run: RunRecord, messages: readonly ReportMessage[], settlementIndex: ReadonlyMap<string, number>): { from: number; to: number }[] {
  const ext = run.settlements.map((s) => ({ from: s.spec.atMs, to: s.spec.atMs }));
  const widen = (i: number | undefined, t: number) => {
    if (i === undefined) return;
    const x = ext[i]!;
    x.from = Math.min(x.from, t);
    x.to = Math.max(x.to, t);
  };
  for (const m of messages) {
    if (m.s === '') continue;
    widen(Number(m.s), m.t);
    if (m.deliverAtMs !== null) widen(Number(m.s), m.deliverAtMs);
  }
  for (const e of run.history) if (e.type === 'node' && (e.event.type === 'decided' || e.event.type === 'deliver')) widen(settlementIndex.get(e.event.settlementIdHex), e.t);
  return ext.map((x) => {
    const pad = Math.max(5, Math.round((x.to - x.from) * 0.04));
    return { from: Math.max(0, x.from - pad), to: x.to + pad };
  });
}

// -------------------------------------------------------------------------------------------------
// Leg timelines

export interface LegSegment {
  readonly from: number;
  readonly to: number;
  readonly state: string;
  /** The event that began it (empty for the first). */
  readonly why: string;
}

/**
 * What a leg timeline calls a state: the run result's names (held, posted, voided on the payment
 * leg), except that an ABORT applied where nothing was locked shows as `closed` (the result says
 * `none`, which would hide that a report was applied).
 */
function shownState(leg: 'asset' | 'payment', state: LegState, locked: boolean): string {
  if (state === 'aborted' && !locked) return 'closed';
  return leg === 'asset' ? assetName(state, locked) : paymentName(state, locked);
}

/** A leg's states over [t0, t1] for one settlement, from its events (which are ticked on the row). */
export function legSegments(leg: 'asset' | 'payment', events: readonly LegEvent[], t0: number, t1: number): LegSegment[] {
  const out: LegSegment[] = [];
  let state: LegState = 'none';
  let shown = 'none';
  let since = t0;
  let why = '';
  for (const e of events) {
    const next = LEG_STATE_AFTER[e.kind];
    if (next === null) continue;
    const nextShown = shownState(leg, next, state === 'locked');
    state = next;
    if (nextShown === shown) continue;
    out.push({ from: since, to: e.atMs, state: shown, why });
    shown = nextShown;
    since = e.atMs;
    why = `${e.kind}${e.detail ? `: ${e.detail}` : ''}`;
  }
  out.push({ from: since, to: t1, state: shown, why });
  return out;
}

export interface LegMark {
  readonly t: number;
  readonly cls: string;
  readonly label: string;
}

export interface LegTimeline {
  readonly s: SimSettlement;
  readonly index: number;
  /** The settlement's intent; the end of its activity (state changes, first decision); the end of the axis. */
  readonly t0: number;
  readonly tActive: number;
  readonly t1: number;
  readonly events: { readonly asset: readonly LegEvent[]; readonly payment: readonly LegEvent[] };
  readonly segments: { readonly asset: readonly LegSegment[]; readonly payment: readonly LegSegment[] };
  readonly outages: { readonly asset: readonly LegOutage[]; readonly payment: readonly LegOutage[] };
  /** Deadline, validUntil, reclaim and the first decision, in time order. */
  readonly marks: readonly LegMark[];
}

/** A window in which a whole leg was unavailable (a scenario leg fault), clipped to the timeline. */
export interface LegOutage {
  readonly from: number;
  readonly to: number;
  readonly title: string;
}

/** "800 ms", "11.5 s": short enough for marks that sit close together. */
function shortTime(tMs: number): string {
  return tMs < 10_000 ? `${tMs} ms` : `${Math.round(tMs / 100) / 10} s`;
}

function legOutages(faults: readonly Fault[], leg: 'asset' | 'payment', t0: number, t1: number): LegOutage[] {
  return faults.flatMap((f) => {
    if (f.kind !== 'leg' || f.fail !== 'unavailable' || f.leg !== leg) return [];
    const from = Math.max(t0, f.atMs);
    const to = Math.min(t1, f.untilMs ?? t1);
    if (to <= from) return [];
    return [{ from, to, title: `the ${leg} leg is unavailable ${f.atMs}–${f.untilMs === null ? 'the end' : `${f.untilMs} ms`}` }];
  });
}

function legTimeline(faults: readonly Fault[], s: SimSettlement, index: number, asset: readonly LegEvent[], payment: readonly LegEvent[], firstDecision: { t: number; decision: string } | undefined): LegTimeline {
  const deadline = s.terms.deadlineMs;
  const validUntil = validUntilMs(s.terms);
  const reclaim = reclaimAtMs(s.terms);
  const t0 = s.spec.atMs;
  let tLast = Math.max(t0 + 1, firstDecision?.t ?? 0);
  for (const e of [...asset, ...payment]) tLast = Math.max(tLast, e.atMs);
  const tActive = tLast + Math.max(1, Math.round((tLast - t0) * 0.05));
  const tEnd = Math.max(reclaim, tActive);
  const t1 = tEnd + Math.max(1, Math.round((tEnd - t0) * 0.03));
  const marks: LegMark[] = [
    { t: deadline, cls: 'deadline', label: `deadline ${shortTime(deadline)}` },
    { t: validUntil, cls: 'validuntil', label: `validUntil ${shortTime(validUntil)}` },
    { t: reclaim, cls: 'reclaim', label: `reclaim ${shortTime(reclaim)}` },
  ];
  if (firstDecision) marks.push({ t: firstDecision.t, cls: `decision ${firstDecision.decision === 'COMMIT' ? 'commit' : 'abort'}`, label: `${firstDecision.decision} ${shortTime(firstDecision.t)}` });
  marks.sort((a, b) => a.t - b.t);
  return {
    s,
    index,
    t0,
    tActive,
    t1,
    events: { asset, payment },
    segments: { asset: legSegments('asset', asset, t0, t1), payment: legSegments('payment', payment, t0, t1) },
    outages: { asset: legOutages(faults, 'asset', t0, t1), payment: legOutages(faults, 'payment', t0, t1) },
    marks,
  };
}

/** Every settlement's leg timeline, in the run's order. */
export function legTimelines(run: RunRecord, settlementIndex: ReadonlyMap<string, number>): LegTimeline[] {
  const byId = (events: readonly LegEvent[]) => {
    const m = new Map<number, LegEvent[]>();
    for (const e of events) {
      const i = e.settlementIdHex === undefined ? undefined : settlementIndex.get(e.settlementIdHex);
      if (i === undefined) continue;
      const list = m.get(i);
      if (list) list.push(e);
      else m.set(i, [e]);
    }
    return m;
  };
  const asset = byId(run.asset.events());
  const payment = byId(run.payment.events());
  const first = new Map<number, { t: number; decision: string }>();
  for (const e of run.history) {
    if (e.type !== 'node' || e.event.type !== 'decided') continue;
    const i = settlementIndex.get(e.event.settlementIdHex);
    if (i !== undefined && !first.has(i)) first.set(i, { t: e.t, decision: e.event.report.decision });
  }
  return run.settlements.map((s, i) => legTimeline(run.scenario.faults, s, i, asset.get(i) ?? [], payment.get(i) ?? [], first.get(i)));
}

// -------------------------------------------------------------------------------------------------
// Decision latency

/** The smallest 1, 2 or 5 × 10^k that is ≥ x (x > 0): tick and bin widths people can read. */
export function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export interface LatencyBins {
  /** Intent to first decision, per decided settlement, ascending. */
  readonly latencies: readonly number[];
  readonly widthMs: number;
  /** Settlements per bin; bin b covers [b × widthMs, (b + 1) × widthMs). */
  readonly counts: readonly number[];
}

/** The decision latencies in about `binsTarget` bins from 0, or null when nothing was decided. */
export function latencyBins(run: RunRecord, result: RunResult, binsTarget: number): LatencyBins | null {
  const latencies: number[] = [];
  run.settlements.forEach((s, i) => {
    const r = result.settlements[i];
    if (r && r.decidedAtMs !== null) latencies.push(r.decidedAtMs - s.spec.atMs);
  });
  if (latencies.length === 0) return null;
  latencies.sort((a, b) => a - b);
  const max = latencies[latencies.length - 1]!;
  // Bins from 0: a latency reads against zero, and a lone value does not fill the whole plot.
  const widthMs = niceStep(Math.max(1, max / binsTarget));
  const binCount = Math.floor(max / widthMs) + 1;
  const counts = new Array<number>(binCount).fill(0);
  for (const l of latencies) {
    const b = Math.min(binCount - 1, Math.floor(l / widthMs));
    counts[b] = counts[b]! + 1;
  }
  return { latencies, widthMs, counts };
}
