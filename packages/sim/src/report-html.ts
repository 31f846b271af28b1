/**
 * The visual run report: one self-contained HTML file (inline CSS, SVG and a few lines of JS; no
 * network, no external fonts) drawn from a run and its result. Pure string building, and a
 * function of its inputs only (no generation timestamp), so the same run gives the same bytes.
 *
 * Parts: a space-time diagram of node-to-node messages (faults shaded, crashes hatched,
 * decisions and report deliveries marked) with a settlement filter and zoom; per-settlement leg
 * timelines; a decision-latency histogram; the invariants, expectations and settlements tables;
 * the replay command.
 *
 * Every string that comes from the run (scenario name, descriptions, details) goes through
 * `esc`. Diagram elements carry their times as `data-t` (start) and `data-u` (end) so the inline
 * script can re-place them when zooming without any data embedded in the script itself.
 */
import { reclaimAtMs, validUntilMs } from '@tandem/protocol';
import type { LegEvent } from '@tandem/legs';
import type { HistoryEntry } from './history.js';
import type { RunResult } from './result.js';
import type { Fault } from './scenario.js';
import type { RunRecord, SimSettlement } from './simulator.js';

// -------------------------------------------------------------------------------------------------
// Helpers

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const esc = escapeHtml;

/** A coordinate with one decimal: short output, and the same string for the same number. */
function r1(x: number): string {
  return String(Math.round(x * 10) / 10);
}

/** The smallest 1, 2 or 5 × 10^k that is ≥ x (x > 0): tick and bin widths people can read. */
export function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** A time label: ms for short spans, seconds once the tick step is a whole second or more. */
function timeLabel(tMs: number, stepMs: number): string {
  return stepMs >= 1000 ? `${Math.round(tMs / 100) / 10} s` : `${tMs} ms`;
}

/** JSON that survives bigints (scenario amounts) and is stable for the same value. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
}

/** A message kind as a CSS class suffix: lowercase letters, digits and dashes only. */
function kindClass(kind: unknown): string {
  const k = typeof kind === 'string' ? kind.toLowerCase().replace(/[^a-z0-9-]/g, '') : '';
  return k === '' ? 'other' : k;
}

/** Bounds on what the diagram draws: a report stays a file a browser opens in a second. */
const MESSAGES_DRAWN_MAX = 50_000;

// -------------------------------------------------------------------------------------------------
// Colours (shared by CSS and legends)

const KIND_COLOURS: readonly (readonly [string, string])[] = [
  ['obs', '#4e79a7'],
  ['proposal', '#b07aa1'],
  ['prevote', '#f28e2b'],
  ['precommit', '#59a14f'],
  ['report', '#222222'],
  ['terms', '#9c755f'],
  ['other', '#999999'],
];

const STATE_COLOURS: readonly (readonly [string, string])[] = [
  ['none', '#eeeeee'],
  ['locked', '#f2c14e'],
  ['held', '#f2c14e'],
  ['released', '#59a14f'],
  ['posted', '#59a14f'],
  ['refunded', '#76b7b2'],
  ['voided', '#76b7b2'],
  ['reclaimed', '#9c755f'],
  ['rejected', '#e15759'],
  ['closed', '#bab0ac'],
];

/**
 * The leg state after an event of each kind (null: the state does not change). Kinds not listed
 * here (a leg that learns a new event) become a state of their own name rather than vanish.
 */
const STATE_AFTER: ReadonlyMap<string, string | null> = new Map([
  ['mint', null],
  ['lock', 'locked'],
  ['hold', 'held'],
  ['release', 'released'],
  ['post', 'posted'],
  ['refund', 'refunded'],
  ['void', 'voided'],
  ['reclaim', 'reclaimed'],
  ['reject', 'rejected'],
  ['abort-closed', 'closed'], // ABORT applied to an id that never locked
  ['abort-recorded', null], // ABORT applied to a rejected id: stays rejected
]);

// -------------------------------------------------------------------------------------------------
// The space-time diagram

const DIAGRAM = {
  widthPx: 1200,
  leftPx: 64, // lane labels
  rightPx: 20,
  topPx: 34, // intent markers and fault labels
  bottomPx: 34, // time axis
  stubPx: 16, // horizontal length of a lost message's stub
  stubFraction: 0.35, // how far towards the receiver a stub goes
};

interface Diagram {
  readonly t0: number;
  readonly t1: number;
  readonly plotLeft: number;
  readonly plotWidth: number;
  readonly laneY: (node: number) => number;
  readonly laneGap: number;
  readonly heightPx: number;
  readonly nodes: number;
}

function diagramGeometry(run: RunRecord, t1: number): Diagram {
  const n = run.scenario.nodes;
  // Lanes close enough that 31 nodes fit on a screen, far enough that 4 nodes do not look empty.
  const laneGap = Math.max(18, Math.min(64, Math.floor(440 / Math.max(1, n - 1))));
  const plotWidth = DIAGRAM.widthPx - DIAGRAM.leftPx - DIAGRAM.rightPx;
  return {
    t0: 0,
    t1,
    plotLeft: DIAGRAM.leftPx,
    plotWidth,
    laneGap,
    laneY: (node) => DIAGRAM.topPx + laneGap / 2 + (node - 1) * laneGap,
    heightPx: DIAGRAM.topPx + n * laneGap + DIAGRAM.bottomPx,
    nodes: n,
  };
}

function xAt(d: Diagram, tMs: number): number {
  return d.plotLeft + ((tMs - d.t0) / (d.t1 - d.t0)) * d.plotWidth;
}

/** The ticks of a time axis over [t0, t1], about `target` of them. Mirrors `ticks` in the script. */
function axisTicks(t0: number, t1: number, target = 10): { t: number; label: string }[] {
  const step = niceStep((t1 - t0) / target);
  const out: { t: number; label: string }[] = [];
  for (let t = Math.ceil(t0 / step) * step, i = 0; t <= t1 && i < 100; t += step, i++) out.push({ t, label: timeLabel(t, step) });
  return out;
}

interface MsgDraw {
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

/** The messages of the history, with each "receiver down" loss folded into the send it ends. */
function collectMessages(history: readonly HistoryEntry[], settlementIndex: ReadonlyMap<string, number>, labelOf: (i: number) => string): MsgDraw[] {
  const out: MsgDraw[] = [];
  const inFlight = new Map<string, MsgDraw[]>(); // from>to@arrival|message → sends arriving then
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
    const draw: MsgDraw = {
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

const CROSS = 'M-3.5,-3.5L3.5,3.5M3.5,-3.5L-3.5,3.5';

function renderMessage(d: Diagram, m: MsgDraw): string {
  const y1 = d.laneY(m.from);
  const y2 = d.laneY(m.to);
  const sAttr = m.s === '' ? '' : ` data-s="${m.s}"`;
  const x1 = xAt(d, m.t);
  if (m.deliverAtMs !== null && !m.receiverDown) {
    const title = `${m.text} · sent ${m.t} ms, delivered ${m.deliverAtMs} ms`;
    return `<line class="m k-${m.kind}"${sAttr} data-t="${m.t}" data-u="${m.deliverAtMs}" x1="${r1(x1)}" y1="${y1}" x2="${r1(xAt(d, m.deliverAtMs))}" y2="${y2}"><title>${esc(title)}</title></line>`;
  }
  if (m.deliverAtMs !== null) {
    // Reached a node that was down: the whole flight, dashed, and the × where it was dropped.
    const title = `${m.text} · sent ${m.t} ms, arrived ${m.deliverAtMs} ms at a node that was down: lost`;
    return (
      `<g class="m lost k-${m.kind}"${sAttr}><title>${esc(title)}</title>` +
      `<line data-t="${m.t}" data-u="${m.deliverAtMs}" x1="${r1(x1)}" y1="${y1}" x2="${r1(xAt(d, m.deliverAtMs))}" y2="${y2}"/>` +
      `<path class="x" data-t="${m.deliverAtMs}" data-y="${y2}" transform="translate(${r1(xAt(d, m.deliverAtMs))},${y2})" d="${CROSS}"/></g>`
    );
  }
  // Lost in the network: a short stub towards the receiver, ending in ×.
  const dx = DIAGRAM.stubPx;
  const dy = Math.round((y2 - y1) * DIAGRAM.stubFraction);
  const title = `${m.text} · sent ${m.t} ms, lost (${m.lost ?? 'lost'})`;
  return (
    `<g class="m lost k-${m.kind}"${sAttr} data-t="${m.t}" data-y="${y1}" transform="translate(${r1(x1)},${y1})"><title>${esc(title)}</title>` +
    `<line x1="0" y1="0" x2="${dx}" y2="${dy}"/><path class="x" transform="translate(${dx},${dy})" d="${CROSS}"/></g>`
  );
}

interface FaultWindow {
  readonly from: number;
  readonly to: number;
  readonly what: string;
}

/** Fault windows from the history's fault start/end entries (an end closes the open start of the same fault). */
function faultWindows(history: readonly HistoryEntry[], endMs: number): { windows: FaultWindow[]; instants: { t: number; what: string }[] } {
  const open = new Map<string, number[]>();
  const windows: FaultWindow[] = [];
  const instants: { t: number; what: string }[] = [];
  for (const e of history) {
    if (e.type !== 'fault') continue;
    if (e.phase === 'start') {
      const list = open.get(e.what);
      if (list) list.push(e.t);
      else open.set(e.what, [e.t]);
    } else {
      const from = open.get(e.what)?.shift();
      if (from !== undefined) windows.push({ from, to: e.t, what: e.what });
      else instants.push({ t: e.t, what: `end of ${e.what}` });
    }
  }
  // A start with no end: a window to the end of the run if it is a windowed fault (it names an
  // until), else a one-off event (a late authorization).
  for (const [what, starts] of open) {
    for (const from of starts) {
      const f = parseFault(what);
      if (f !== null && 'untilMs' in f) windows.push({ from, to: endMs, what });
      else instants.push({ t: from, what });
    }
  }
  windows.sort((a, b) => a.from - b.from || a.to - b.to || (a.what < b.what ? -1 : a.what > b.what ? 1 : 0));
  instants.sort((a, b) => a.t - b.t);
  return { windows, instants };
}

function parseFault(what: string): Record<string, unknown> | null {
  if (!what.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(what);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function describeFault(f: Record<string, unknown> | null, what: string): string {
  if (f === null) return what;
  if (f['kind'] === 'partition' && Array.isArray(f['groups'])) {
    return 'partition ' + (f['groups'] as unknown[]).map((g) => (Array.isArray(g) ? g.map((x) => `n${String(x)}`).join(',') : String(g))).join(' | ');
  }
  if (f['kind'] === 'isolate') return `isolate n${String(f['node'])}`;
  const rest = Object.entries(f)
    .filter(([k]) => k !== 'kind' && k !== 'atMs' && k !== 'untilMs')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? stableJson(v) : String(v)}`);
  return [String(f['kind'] ?? 'fault'), ...rest].join(' ');
}

function renderFaults(d: Diagram, history: readonly HistoryEntry[], endMs: number): string {
  const { windows, instants } = faultWindows(history, endMs);
  const top = DIAGRAM.topPx - 4;
  const bottom = d.heightPx - DIAGRAM.bottomPx;
  const parts: string[] = [];
  windows.forEach((w, i) => {
    const f = parseFault(w.what);
    const label = describeFault(f, w.what);
    const title = esc(`${label}: ${w.from}–${w.to} ms`);
    const x = r1(xAt(d, w.from));
    const width = r1(Math.max(0, xAt(d, w.to) - xAt(d, w.from)));
    const node = typeof f?.['node'] === 'number' ? f['node'] : null;
    if (f?.['kind'] === 'isolate' && node !== null && node >= 1 && node <= d.nodes) {
      const y = d.laneY(node) - d.laneGap / 2 + 2;
      parts.push(`<rect class="fault isolate" data-t="${w.from}" data-u="${w.to}" x="${x}" y="${r1(y)}" width="${width}" height="${r1(d.laneGap - 4)}"><title>${title}</title></rect>`);
    } else {
      const cls = f?.['kind'] === 'partition' ? 'partition' : 'other';
      parts.push(`<rect class="fault ${cls}" data-t="${w.from}" data-u="${w.to}" x="${x}" y="${top}" width="${width}" height="${bottom - top}"><title>${title}</title></rect>`);
    }
    // Labels alternate between two heights so that back-to-back windows stay legible.
    parts.push(`<text class="flabel" data-t="${w.from}" data-end="${w.to}" data-dx="3" x="${r1(xAt(d, w.from) + 3)}" y="${i % 2 === 0 ? 12 : 24}">${esc(label)}</text>`);
  });
  for (const m of instants) {
    parts.push(
      `<g class="finstant" data-t="${m.t}" data-y="${top}" transform="translate(${r1(xAt(d, m.t))},${top})"><title>${esc(`${m.t} ms: ${m.what}`)}</title><line x1="0" y1="0" x2="0" y2="${bottom - top}"/></g>`,
    );
  }
  return parts.join('');
}

function renderCrashes(d: Diagram, history: readonly HistoryEntry[], endMs: number): string {
  const parts: string[] = [];
  const down = new Map<number, number>(); // node → crash time of the open interval
  const band = (node: number, from: number, to: number, restarted: boolean) => {
    const y = d.laneY(node) - 9;
    const title = esc(restarted ? `n${node} down ${from}–${to} ms (crashed, restarted with its storage)` : `n${node} down from ${from} ms to the end (crashed for good)`);
    parts.push(`<rect class="down" data-t="${from}" data-u="${to}" x="${r1(xAt(d, from))}" y="${y}" width="${r1(Math.max(0, xAt(d, to) - xAt(d, from)))}" height="18"><title>${title}</title></rect>`);
  };
  for (const e of history) {
    if (e.type === 'crash') {
      down.set(e.node, e.t);
      const y = d.laneY(e.node);
      parts.push(`<g class="crash" data-t="${e.t}" data-y="${y}" transform="translate(${r1(xAt(d, e.t))},${y})"><title>${esc(`n${e.node} crashed at ${e.t} ms`)}</title><path d="M-6,-6L6,6M6,-6L-6,6"/></g>`);
    } else if (e.type === 'restart') {
      const from = down.get(e.node);
      if (from !== undefined) band(e.node, from, e.t, true);
      down.delete(e.node);
      const y = d.laneY(e.node);
      parts.push(`<g class="restart" data-t="${e.t}" data-y="${y}" transform="translate(${r1(xAt(d, e.t))},${y})"><title>${esc(`n${e.node} restarted at ${e.t} ms`)}</title><path d="M0,-6L8,0L0,6Z"/></g>`);
    }
  }
  for (const [node, from] of [...down].sort((a, b) => a[0] - b[0])) band(node, from, endMs, false);
  // Bands first (under the markers).
  return parts.filter((p) => p.startsWith('<rect')).join('') + parts.filter((p) => !p.startsWith('<rect')).join('');
}

function renderNodeMarks(d: Diagram, history: readonly HistoryEntry[], settlementIndex: ReadonlyMap<string, number>, labelOf: (i: number) => string): string {
  const parts: string[] = [];
  for (const e of history) {
    if (e.type !== 'node') continue;
    const ev = e.event;
    const idx = settlementIndex.get(ev.settlementIdHex);
    const sAttr = idx === undefined ? '' : ` data-s="${idx}"`;
    const label = idx === undefined ? ev.settlementIdHex.slice(0, 16) : labelOf(idx);
    const x = r1(xAt(d, e.t));
    if (ev.type === 'decided') {
      const y = d.laneY(e.node);
      const cls = ev.report.decision === 'COMMIT' ? 'commit' : 'abort';
      const title = `n${e.node} decided ${ev.report.decision} (round ${ev.report.round}) for ${label} at ${e.t} ms`;
      parts.push(`<g class="decided ${cls}"${sAttr} data-t="${e.t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><path d="M0,-7L7,0L0,7L-7,0Z"/></g>`);
    } else if (ev.type === 'deliver') {
      // Asset deliveries above the lane, payment below, so both legs of one node stay apart.
      const up = ev.leg === 'asset';
      const y = d.laneY(e.node) + (up ? -11 : 11);
      const shape = up ? 'M-4,3L4,3L0,-4Z' : 'M-4,-3L4,-3L0,4Z';
      const title = `n${e.node} delivered the report for ${label} to the ${ev.leg} leg at ${e.t} ms: ${ev.outcome}`;
      parts.push(`<g class="deliver ${esc(kindClass(ev.leg))}"${sAttr} data-t="${e.t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><path d="${shape}"/></g>`);
    } else if (ev.type === 'evidence') {
      const y = d.laneY(e.node) - 14;
      const title = `n${e.node} recorded evidence against n${ev.misbehaviour.member} for ${label} at ${e.t} ms: ${ev.misbehaviour.kind}`;
      parts.push(`<g class="evidence"${sAttr} data-t="${e.t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><circle r="4"/></g>`);
    }
  }
  return parts.join('');
}

function renderIntents(d: Diagram, run: RunRecord, settlementIndex: ReadonlyMap<string, number>): string {
  const y = DIAGRAM.topPx - 6;
  // Intents at the same instant share one label ("s1, s2, s3"), or it would be drawn over itself.
  const byTime = new Map<number, { id: string; idx: number | undefined }[]>();
  for (const e of run.history) {
    if (e.type !== 'intent') continue;
    const list = byTime.get(e.t);
    const item = { id: e.settlement, idx: settlementIndex.get(e.settlementIdHex) };
    if (list) list.push(item);
    else byTime.set(e.t, [item]);
  }
  const parts: string[] = [];
  for (const [t, items] of byTime) {
    const x = r1(xAt(d, t));
    for (const it of items) {
      const sAttr = it.idx === undefined ? '' : ` data-s="${it.idx}"`;
      const own = items.length === 1 ? `<text x="6" y="-1">${esc(it.id)}</text>` : '';
      parts.push(`<g class="intent"${sAttr} data-t="${t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(`intent ${it.id} at ${t} ms`)}</title><path d="M-4,-6L4,-6L0,0Z"/>${own}</g>`);
    }
    if (items.length > 1) {
      const label = items.length <= 4 ? items.map((i) => i.id).join(', ') : `${items[0]!.id} … ${items[items.length - 1]!.id} (${items.length} intents)`;
      parts.push(`<text class="intent-label" data-t="${t}" data-dx="6" x="${r1(xAt(d, t) + 6)}" y="${y - 1}">${esc(label)}</text>`);
    }
  }
  return parts.join('');
}

function renderAxis(d: Diagram): string {
  const y = d.heightPx - DIAGRAM.bottomPx;
  return axisTicks(d.t0, d.t1)
    .map((k) => {
      const x = r1(xAt(d, k.t));
      return `<line x1="${x}" y1="${DIAGRAM.topPx - 4}" x2="${x}" y2="${y + 4}"/><text x="${x}" y="${y + 18}">${esc(k.label)}</text>`;
    })
    .join('');
}

/** Per settlement, the span of its activity, so picking it in the filter zooms to it. */
function settlementExtents(run: RunRecord, messages: readonly MsgDraw[], settlementIndex: ReadonlyMap<string, number>): { from: number; to: number }[] {
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

function renderDiagram(run: RunRecord, result: RunResult, settlementIndex: ReadonlyMap<string, number>): string {
  const labelOf = (i: number) => run.settlements[i]!.spec.id;
  const messages = collectMessages(run.history, settlementIndex, labelOf);
  let tLast = Math.max(1, run.endMs);
  for (const m of messages) tLast = Math.max(tLast, m.deliverAtMs ?? m.t);
  const t1 = tLast + Math.max(1, Math.round(tLast * 0.015)); // room for the markers of the last instant
  const d = diagramGeometry(run, t1);
  const n = run.scenario.nodes;
  const lanes: string[] = [];
  for (let i = 1; i <= n; i++) {
    const y = d.laneY(i);
    lanes.push(`<line class="lane" data-node="${i}" x1="${d.plotLeft}" y1="${y}" x2="${d.plotLeft + d.plotWidth}" y2="${y}"/>`);
    lanes.push(`<text class="lane-label" x="${d.plotLeft - 10}" y="${y + 4}">n${i}</text>`);
  }
  const drawn = messages.length;
  const total = run.history.reduce((k, e) => k + (e.type === 'msg' && e.lost !== 'receiver down' ? 1 : 0), 0);
  const extents = settlementExtents(run, messages, settlementIndex);
  const options = run.settlements
    .map((s, i) => {
      const r = result.settlements[i];
      const what = r ? `${r.decision ?? 'undecided'}${r.decidedAtMs !== null ? ` at ${r.decidedAtMs} ms` : ''}` : '';
      return `<option value="${i}" data-from="${extents[i]!.from}" data-to="${extents[i]!.to}">${esc(s.spec.id)}${what ? ` — ${esc(what)}` : ''}</option>`;
    })
    .join('');
  const legend = KIND_COLOURS.filter(([k]) => k !== 'other')
    .map(([k]) => `<span class="sw k-${k}"><svg width="22" height="10" aria-hidden="true"><line x1="0" y1="5" x2="22" y2="5"/></svg>${k}</span>`)
    .join('');
  const plotTop = DIAGRAM.topPx - 4;
  const plotHeight = d.heightPx - DIAGRAM.bottomPx - plotTop + 4;
  return `<section id="spacetime">
<h2>Messages between nodes</h2>
<div class="controls">
<label>settlement <select id="filter"><option value="" data-from="${d.t0}" data-to="${d.t1}">all settlements (${run.settlements.length})</option>${options}</select></label>
<label>from <input id="from" type="number" step="1" value="${d.t0}"> ms</label>
<label>to <input id="to" type="number" step="1" value="${d.t1}"> ms</label>
<button id="reset" type="button">reset zoom</button>
<span class="hint">wheel over the diagram to zoom, drag to pan; hover for details</span>
</div>
<div class="legend">${legend}<span class="sw lostsw"><svg width="22" height="10" aria-hidden="true"><line x1="0" y1="5" x2="14" y2="5"/><path transform="translate(16,5)" d="${CROSS}"/></svg>lost</span><span class="sw"><svg width="14" height="14" aria-hidden="true"><path class="dcommit" transform="translate(7,7)" d="M0,-6L6,0L0,6L-6,0Z"/></svg>decided COMMIT</span><span class="sw"><svg width="14" height="14" aria-hidden="true"><path class="dabort" transform="translate(7,7)" d="M0,-6L6,0L0,6L-6,0Z"/></svg>decided ABORT</span><span class="sw"><svg width="12" height="12" aria-hidden="true"><path class="dlv" transform="translate(6,7)" d="M-4,3L4,3L0,-4Z"/></svg>report to asset leg (above) / payment leg (below)</span><span class="sw"><svg width="22" height="12" aria-hidden="true"><rect width="22" height="12" class="down"/></svg>node down</span><span class="sw"><svg width="22" height="12" aria-hidden="true"><rect width="22" height="12" class="fault partition"/></svg>partition</span><span class="sw"><svg width="22" height="12" aria-hidden="true"><rect width="22" height="12" class="fault isolate"/></svg>isolated</span></div>
<svg id="diagram" class="diagram" viewBox="0 0 ${DIAGRAM.widthPx} ${d.heightPx}" width="100%" role="img" aria-label="space-time diagram of messages between ${n} nodes" data-t0="${d.t0}" data-t1="${d.t1}" data-left="${d.plotLeft}" data-width="${d.plotWidth}" data-axis-y="${d.heightPx - DIAGRAM.bottomPx}" data-axis-top="${plotTop}">
<defs><clipPath id="clip"><rect x="${d.plotLeft}" y="0" width="${d.plotWidth}" height="${d.heightPx}"/></clipPath>
<clipPath id="clip-axis"><rect x="${d.plotLeft - 24}" y="0" width="${d.plotWidth + 48}" height="${d.heightPx}"/></clipPath>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e4e4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" stroke-width="2"/></pattern></defs>
<rect class="plotbg" x="${d.plotLeft}" y="${plotTop}" width="${d.plotWidth}" height="${plotHeight}"/>
<g id="axis" class="axis" clip-path="url(#clip-axis)">${renderAxis(d)}</g>
${lanes.join('')}
<g clip-path="url(#clip)">
<g class="faults">${renderFaults(d, run.history, d.t1)}</g>
<g class="crashes">${renderCrashes(d, run.history, d.t1)}</g>
<g class="intents">${renderIntents(d, run, settlementIndex)}</g>
<g class="messages">${messages.map((m) => renderMessage(d, m)).join('')}</g>
<g class="marks">${renderNodeMarks(d, run.history, settlementIndex, labelOf)}</g>
</g>
</svg>
<p class="note">${total} messages sent${drawn < total ? `, the first ${drawn} drawn` : ''}; time is virtual (ms since the start of the run).</p>
</section>`;
}

// -------------------------------------------------------------------------------------------------
// Leg timelines

const LEGS = { widthPx: 1200, labelPx: 90, rightPx: 20, rowPx: 20, gapPx: 4, markLevels: 3, markLevelPx: 11, markTopPx: 38, axisPx: 22 };

interface Mark {
  readonly t: number;
  readonly cls: string;
  readonly label: string;
}

function legRow(events: readonly LegEvent[], noneLabel: string, t0: number, t1: number, y: number, x: (t: number) => number, leg: string): string {
  const parts: string[] = [];
  let state = noneLabel;
  let since = t0;
  const seg = (from: number, to: number, st: string, why: string) => {
    const w = x(to) - x(from);
    const title = esc(`${leg} ${st} from ${from} ms${to < t1 ? ` to ${to} ms` : ''}${why ? ` (${why})` : ''}`);
    parts.push(`<rect class="seg st-${esc(kindClass(st))}" x="${r1(x(from))}" y="${y}" width="${r1(Math.max(0, w))}" height="${LEGS.rowPx}"><title>${title}</title></rect>`);
    // A label only where it fits; the tooltip has it anyway.
    if (w >= st.length * 7 + 8) parts.push(`<text class="seglabel" x="${r1(x(from) + 4)}" y="${y + 14}">${esc(st)}</text>`);
  };
  let why = '';
  for (const e of events) {
    const next = STATE_AFTER.has(e.kind) ? STATE_AFTER.get(e.kind)! : e.kind;
    const tick = r1(x(e.atMs));
    parts.push(`<line class="evt" x1="${tick}" y1="${y - 2}" x2="${tick}" y2="${y + LEGS.rowPx + 2}"><title>${esc(`${leg} #${e.seq} ${e.kind} at ${e.atMs} ms${e.detail ? `: ${e.detail}` : ''}`)}</title></line>`);
    if (next === null || next === state) continue;
    seg(since, e.atMs, state, why);
    state = next;
    since = e.atMs;
    why = `${e.kind}${e.detail ? `: ${e.detail}` : ''}`;
  }
  seg(since, t1, state, why);
  // Segments under the event ticks.
  return parts.filter((p) => !p.startsWith('<line')).join('') + parts.filter((p) => p.startsWith('<line')).join('');
}

/**
 * The time → x map of a leg timeline. When all the state changes happen early and only the
 * deadline, validUntil and reclaim marks lie far out (the usual case: reclaim is tens of seconds
 * after a decision that took tens of ms), the quiet tail is compressed into the last part of the
 * width, with a break drawn on the axis, so the state changes stay readable.
 */
interface LegScale {
  readonly x: (tMs: number) => number;
  readonly ticks: readonly { t: number; label: string }[];
  /** The x where the scale changes, or null when it is linear. */
  readonly breakX: number | null;
}

const LEG_ACTIVE_SHARE = 0.72; // of the width, for the active part when the tail is compressed

export function legScale(t0: number, tActive: number, t1: number, left: number, width: number): LegScale {
  const linear = (a: number, b: number, xa: number, w: number) => (t: number) => xa + ((t - a) / (b - a)) * w;
  if (tActive - t0 >= 0.4 * (t1 - t0) || tActive >= t1) {
    const x = linear(t0, t1, left, width);
    return { x, ticks: axisTicks(t0, t1), breakX: null };
  }
  const wA = width * LEG_ACTIVE_SHARE;
  const head = linear(t0, tActive, left, wA);
  const tail = linear(tActive, t1, left + wA, width - wA);
  const x = (t: number) => (t <= tActive ? head(t) : tail(t));
  // Tail ticks too close to the break would collide with the head's last labels.
  const ticks = [...axisTicks(t0, tActive, 8), ...axisTicks(tActive, t1, 3).filter((k) => tail(k.t) - (left + wA) > 40)];
  return { x, ticks, breakX: left + wA };
}

/** "800 ms", "11.5 s": short enough for marks that sit close together. */
function shortTime(tMs: number): string {
  return tMs < 10_000 ? `${tMs} ms` : `${Math.round(tMs / 100) / 10} s`;
}

/**
 * Puts each mark's label on the first of a few heights where it overlaps no label placed before
 * it (right of its line, or left of it near the right edge); the last height when none is free.
 */
function placeMarkLabels<M extends { readonly x: number; readonly label: string }>(marks: readonly M[], widthPx: number): { m: M; level: number; anchorEnd: boolean }[] {
  const taken: [number, number][][] = Array.from({ length: LEGS.markLevels }, () => []);
  return marks.map((m) => {
    const w = m.label.length * 6 + 6; // ~6 px per character at 10.5 px
    const anchorEnd = m.x + w > widthPx - 4;
    const span: [number, number] = anchorEnd ? [m.x - w, m.x] : [m.x, m.x + w];
    let level = taken.findIndex((spans) => spans.every(([a, b]) => span[1] <= a || span[0] >= b));
    if (level < 0) level = LEGS.markLevels - 1;
    taken[level]!.push(span);
    return { m, level, anchorEnd };
  });
}

/** Windows in which a whole leg was unavailable (a scenario leg fault), hatched over its row. */
function legOutages(faults: readonly Fault[], leg: 'asset' | 'payment', t0: number, t1: number, y: number, x: (t: number) => number): string {
  return faults
    .flatMap((f) => {
      if (f.kind !== 'leg' || f.fail !== 'unavailable' || f.leg !== leg) return [];
      const from = Math.max(t0, f.atMs);
      const to = Math.min(t1, f.untilMs ?? t1);
      if (to <= from) return [];
      const title = `the ${leg} leg is unavailable ${f.atMs}–${f.untilMs === null ? 'the end' : `${f.untilMs} ms`}`;
      return [`<rect class="legdown" x="${r1(x(from))}" y="${y + 14}" width="${r1(x(to) - x(from))}" height="${LEGS.rowPx - 14}"><title>${esc(title)}</title></rect>`];
    })
    .join('');
}

function renderLegBlock(result: RunResult, faults: readonly Fault[], s: SimSettlement, i: number, assetEvents: readonly LegEvent[], paymentEvents: readonly LegEvent[], firstDecision: { t: number; decision: string } | undefined): string {
  const r = result.settlements[i];
  const deadline = s.terms.deadlineMs;
  const validUntil = validUntilMs(s.terms);
  const reclaim = reclaimAtMs(s.terms);
  const t0 = s.spec.atMs;
  let tLast = Math.max(t0 + 1, firstDecision?.t ?? 0);
  for (const e of [...assetEvents, ...paymentEvents]) tLast = Math.max(tLast, e.atMs);
  const tActive = tLast + Math.max(1, Math.round((tLast - t0) * 0.05));
  const tEnd = Math.max(reclaim, tActive);
  const t1 = tEnd + Math.max(1, Math.round((tEnd - t0) * 0.03));
  const plotW = LEGS.widthPx - LEGS.labelPx - LEGS.rightPx;
  const scale = legScale(t0, tActive, t1, LEGS.labelPx, plotW);
  const x = scale.x;
  const yA = LEGS.markTopPx;
  const yP = yA + LEGS.rowPx + LEGS.gapPx;
  const axisY = yP + LEGS.rowPx + 6;
  const height = axisY + LEGS.axisPx;

  const marks: Mark[] = [
    { t: deadline, cls: 'deadline', label: `deadline ${shortTime(deadline)}` },
    { t: validUntil, cls: 'validuntil', label: `validUntil ${shortTime(validUntil)}` },
    { t: reclaim, cls: 'reclaim', label: `reclaim ${shortTime(reclaim)}` },
  ];
  if (firstDecision) marks.push({ t: firstDecision.t, cls: `decision ${firstDecision.decision === 'COMMIT' ? 'commit' : 'abort'}`, label: `${firstDecision.decision} ${shortTime(firstDecision.t)}` });
  marks.sort((a, b) => a.t - b.t);
  const markSvg = placeMarkLabels(marks.map((m) => ({ ...m, x: x(m.t) })), LEGS.widthPx)
    .map(({ m, level, anchorEnd }) => {
      const ly = 10 + level * LEGS.markLevelPx;
      const tx = anchorEnd ? m.x - 3 : m.x + 3;
      return `<g class="mark ${esc(m.cls)}"><title>${esc(`${m.label.split(' ')[0]} at ${m.t} ms`)}</title><line x1="${r1(m.x)}" y1="${ly + 3}" x2="${r1(m.x)}" y2="${axisY}"/><text x="${r1(tx)}" y="${ly}"${anchorEnd ? ' text-anchor="end"' : ''}>${esc(m.label)}</text></g>`;
    })
    .join('');
  const ticks = scale.ticks
    .map((k) => `<text x="${r1(x(k.t))}" y="${axisY + 14}">${esc(k.label)}</text><line x1="${r1(x(k.t))}" y1="${axisY}" x2="${r1(x(k.t))}" y2="${axisY + 4}"/>`)
    .join('');
  const summary = r
    ? `${r.decision ?? 'no decision'}${r.decidedAtMs !== null ? ` at ${r.decidedAtMs} ms` : ''}${r.round !== undefined ? `, round ${r.round}` : ''} · asset ${r.asset}, payment ${r.payment}${r.expired ? ' · expired (reclaimed on both legs)' : ''}`
    : '';
  return `<div class="legblock" data-s="${i}">
<h3>${esc(s.spec.id)} <small>${esc(summary)} · id ${esc(s.idHex.slice(0, 16))}…</small></h3>
<svg class="legs-svg" viewBox="0 0 ${LEGS.widthPx} ${height}" width="100%" role="img" aria-label="${esc(`leg states of ${s.spec.id} over time`)}">
<text class="rowlabel" x="${LEGS.labelPx - 8}" y="${yA + 14}">asset</text><text class="rowlabel" x="${LEGS.labelPx - 8}" y="${yP + 14}">payment</text>
${legRow(assetEvents, 'none', t0, t1, yA, x, 'asset')}
${legRow(paymentEvents, 'none', t0, t1, yP, x, 'payment')}
${legOutages(faults, 'asset', t0, t1, yA, x)}${legOutages(faults, 'payment', t0, t1, yP, x)}
<g class="legaxis"><line x1="${LEGS.labelPx}" y1="${axisY}" x2="${LEGS.labelPx + plotW}" y2="${axisY}"/>${ticks}</g>
${scale.breakX === null ? '' : `<g class="break"><title>the scale changes here: the quiet tail up to the reclaim time is compressed</title><path d="M${r1(scale.breakX - 6)},${axisY + 5}l5,-10M${r1(scale.breakX)},${axisY + 5}l5,-10"/></g>`}
${markSvg}
</svg>
</div>`;
}

function renderLegTimelines(run: RunRecord, result: RunResult, settlementIndex: ReadonlyMap<string, number>): string {
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
  const blocks = run.settlements.map((s, i) => renderLegBlock(result, run.scenario.faults, s, i, asset.get(i) ?? [], payment.get(i) ?? [], first.get(i)));
  const legend = STATE_COLOURS.filter(([k]) => k !== 'held' && k !== 'posted' && k !== 'voided')
    .map(([k]) => `<span class="sw"><svg width="16" height="12" aria-hidden="true"><rect class="seg st-${k}" width="16" height="12"/></svg>${k === 'locked' ? 'locked / held' : k === 'released' ? 'released / posted' : k === 'refunded' ? 'refunded / voided' : k}</span>`)
    .join('');
  return `<section id="legs">
<h2>Leg timelines</h2>
<div class="legend">${legend}<span class="sw"><svg width="22" height="12" aria-hidden="true"><rect width="22" height="12" class="legdown"/></svg>leg unavailable</span><span class="sw mk deadline">deadline</span><span class="sw mk validuntil">validUntil</span><span class="sw mk reclaim">reclaim</span><span class="sw mk decision">first decision</span></div>
${blocks.join('\n')}
</section>`;
}

// -------------------------------------------------------------------------------------------------
// Decision-latency histogram

const HIST = { widthPx: 720, heightPx: 240, leftPx: 44, rightPx: 16, topPx: 20, bottomPx: 40, binsTarget: 12 };

function renderHistogram(run: RunRecord, result: RunResult): string {
  const latencies: number[] = [];
  run.settlements.forEach((s, i) => {
    const r = result.settlements[i];
    if (r && r.decidedAtMs !== null) latencies.push(r.decidedAtMs - s.spec.atMs);
  });
  const head = `<section id="histogram"><h2>Decision latency</h2>`;
  const svgOpen = `<svg id="latency" viewBox="0 0 ${HIST.widthPx} ${HIST.heightPx}" width="${HIST.widthPx}" role="img" aria-label="histogram of decision latency over settlements">`;
  if (latencies.length === 0) {
    return `${head}${svgOpen}<text x="${HIST.widthPx / 2}" y="${HIST.heightPx / 2}" text-anchor="middle">no settlement was decided</text></svg></section>`;
  }
  latencies.sort((a, b) => a - b);
  const max = latencies[latencies.length - 1]!;
  // Bins from 0: a latency reads against zero, and a lone value does not fill the whole plot.
  const width = niceStep(Math.max(1, max / HIST.binsTarget));
  const start = 0;
  const binCount = Math.floor((max - start) / width) + 1;
  const counts = new Array<number>(binCount).fill(0);
  for (const l of latencies) {
    const b = Math.min(binCount - 1, Math.floor((l - start) / width));
    counts[b] = counts[b]! + 1;
  }
  const top = Math.max(...counts);
  const plotW = HIST.widthPx - HIST.leftPx - HIST.rightPx;
  const plotH = HIST.heightPx - HIST.topPx - HIST.bottomPx;
  const barW = plotW / binCount;
  const baseY = HIST.topPx + plotH;
  const labelEvery = Math.ceil(binCount / 8); // at most ~9 edge labels
  const parts: string[] = [];
  counts.forEach((c, b) => {
    const h = (c / top) * plotH;
    const x = HIST.leftPx + b * barW;
    const lo = start + b * width;
    const title = `${lo}–${lo + width} ms: ${c} settlement${c === 1 ? '' : 's'}`;
    parts.push(`<rect class="bar" x="${r1(x + 1)}" y="${r1(baseY - h)}" width="${r1(Math.max(1, barW - 2))}" height="${r1(h)}"><title>${esc(title)}</title></rect>`);
    if (c > 0) parts.push(`<text class="count" x="${r1(x + barW / 2)}" y="${r1(baseY - h - 4)}">${c}</text>`);
  });
  for (let b = 0; b <= binCount; b += labelEvery) parts.push(`<text class="edge" x="${r1(HIST.leftPx + b * barW)}" y="${baseY + 16}">${start + b * width}</text>`);
  parts.push(`<line class="base" x1="${HIST.leftPx}" y1="${baseY}" x2="${HIST.leftPx + plotW}" y2="${baseY}"/>`);
  parts.push(`<text class="ytop" x="${HIST.leftPx - 6}" y="${HIST.topPx + 4}">${top}</text><text class="ytop" x="${HIST.leftPx - 6}" y="${baseY}">0</text>`);
  parts.push(`<text class="xlabel" x="${HIST.leftPx + plotW / 2}" y="${HIST.heightPx - 4}">ms from intent to the first decision (bins of ${width} ms)</text>`);
  const p50 = result.metrics.decisionLatencyMs.p50;
  const p99 = result.metrics.decisionLatencyMs.p99;
  return `${head}${svgOpen}${parts.join('')}</svg>
<p class="note">${latencies.length} of ${run.settlements.length} settlements decided; p50 ${p50} ms, p99 ${p99} ms, max ${max} ms.</p></section>`;
}

// -------------------------------------------------------------------------------------------------
// Tables and header

function verdict(ok: boolean | null): { cls: string; text: string } {
  return ok === true ? { cls: 'ok', text: 'ok' } : ok === false ? { cls: 'broken', text: 'BROKEN' } : { cls: 'unknown', text: 'unknown' };
}

function renderTables(run: RunRecord, result: RunResult): string {
  const expectedBroken = new Set(run.scenario.expect.violations);
  const inv = result.invariants
    .map((i) => {
      const v = verdict(i.ok);
      const note = expectedBroken.has(i.name) ? ' (expected by the scenario)' : '';
      return `<tr class="${v.cls}"><td>${esc(i.name)}</td><td class="verdict">${v.text}${esc(note)}</td><td>${esc(i.detail)}</td></tr>`;
    })
    .join('');
  const exp = result.expectations.length
    ? result.expectations.map((e) => `<tr class="${e.ok ? 'ok' : 'broken'}"><td>${esc(e.what)}</td><td class="verdict">${e.ok ? 'met' : 'NOT MET'}</td><td>${esc(e.detail)}</td></tr>`).join('')
    : `<tr><td colspan="3">the scenario expects nothing</td></tr>`;
  const anyExpired = result.settlements.some((r) => r.expired);
  const st = result.settlements
    .map((r, i) => {
      const s = run.settlements[i];
      const latency = s && r.decidedAtMs !== null ? String(r.decidedAtMs - s.spec.atMs) : '';
      return `<tr><td>${esc(r.id)}</td><td class="mono">${esc(s ? s.idHex.slice(0, 16) : '')}</td><td class="num">${s ? s.spec.atMs : ''}</td><td class="${r.decision ?? 'none'}">${esc(r.decision ?? '—')}</td><td class="num">${r.decidedAtMs ?? ''}</td><td class="num">${latency}</td><td class="num">${r.round ?? ''}</td><td>${esc(r.asset)}</td><td>${esc(r.payment)}</td>${anyExpired ? `<td>${r.expired ? 'expired (reclaimed on both legs)' : ''}</td>` : ''}</tr>`;
    })
    .join('');
  const ev = result.evidence.length
    ? `<h2>Evidence</h2><table id="evidence"><thead><tr><th>seen by</th><th>kind</th><th>member</th><th>settlement</th></tr></thead><tbody>${result.evidence
        .map((e) => `<tr><td>n${e.node}</td><td>${esc(e.kind)}</td><td>n${e.member}</td><td>${esc(e.settlement)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const faults = run.scenario.faults.length
    ? `<h2>Faults</h2><table id="faults"><thead><tr><th>kind</th><th>from</th><th>until</th><th>what</th></tr></thead><tbody>${run.scenario.faults
        .map((f) => {
          const rec = JSON.parse(stableJson(f)) as Record<string, unknown>;
          return `<tr><td>${esc(f.kind)}</td><td class="num">${f.atMs}</td><td class="num">${f.untilMs ?? '—'}</td><td>${esc(describeFault(rec, stableJson(f)))}</td></tr>`;
        })
        .join('')}</tbody></table>`
    : '';
  return `<section id="tables">
<h2>Invariants</h2>
<table id="invariants"><thead><tr><th>invariant</th><th>verdict</th><th>detail</th></tr></thead><tbody>${inv}</tbody></table>
<h2>Expectations</h2>
<table id="expectations"><thead><tr><th>expectation</th><th>verdict</th><th>detail</th></tr></thead><tbody>${exp}</tbody></table>
<h2>Settlements</h2>
<table id="settlements"><thead><tr><th>settlement</th><th>id</th><th>at (ms)</th><th>decision</th><th>decided at (ms)</th><th>latency (ms)</th><th>round</th><th>asset</th><th>payment</th>${anyExpired ? '<th>note</th>' : ''}</tr></thead><tbody>${st}</tbody></table>
${ev}${faults}
</section>`;
}

function renderHeader(run: RunRecord, result: RunResult, replay: string): string {
  const m = result.metrics;
  const net = run.scenario.network;
  return `<header>
<h1>Tandem run report: <span id="scenario-name">${esc(result.scenario)}</span> <span class="badge ${result.ok ? 'ok' : 'broken'}">${result.ok ? 'OK' : 'NOT OK'}</span></h1>
${run.scenario.description ? `<p class="desc">${esc(run.scenario.description)}</p>` : ''}
<dl class="facts">
<dt>seed</dt><dd id="seed">${result.seed}</dd>
<dt>nodes</dt><dd>${run.scenario.nodes} (quorum ${run.cluster.t})</dd>
<dt>network</dt><dd>latency ${net.latencyMinMs}–${net.latencyMaxMs} ms, drop ${net.drop}, duplicate ${net.duplicate}</dd>
<dt>messages</dt><dd>${m.messages}</dd>
<dt>virtual time</dt><dd>${m.virtualMs} ms</dd>
<dt>decision latency</dt><dd>p50 ${m.decisionLatencyMs.p50} ms, p99 ${m.decisionLatencyMs.p99} ms</dd>
<dt>rounds</dt><dd>p50 ${m.rounds.p50}, p99 ${m.rounds.p99}, max ${m.rounds.max}</dd>
<dt>history hash</dt><dd class="mono" id="history-hash">${esc(result.historyHash)}</dd>
</dl>
<p>Replay this run: <code id="replay">${esc(replay)}</code></p>
</header>`;
}

// -------------------------------------------------------------------------------------------------
// Page

function css(): string {
  const kinds = KIND_COLOURS.map(([k, c]) => `.k-${k}{stroke:${c};color:${c}}`).join('');
  const states = STATE_COLOURS.map(([k, c]) => `.st-${k}{fill:${c}}`).join('');
  return `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0 auto;padding:16px 24px;max-width:1280px;color:#222;background:#fff}
h1{font-size:22px;margin:4px 0 8px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}h3{font-size:14px;margin:12px 0 2px}
h3 small{font-weight:normal;color:#555}
.desc{color:#444;max-width:960px}
.badge{font-size:14px;padding:2px 8px;border-radius:4px;vertical-align:middle;color:#fff}.badge.ok{background:#2e7d32}.badge.broken{background:#c62828}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}dl.facts dt{color:#666}dl.facts dd{margin:0}
.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
code#replay{background:#f4f4f4;border:1px solid #ddd;padding:3px 6px;border-radius:3px;user-select:all}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:6px 0}.controls input{width:90px}.hint{color:#777;font-size:12px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;color:#444;margin:4px 0 6px}.sw{display:inline-flex;align-items:center;gap:4px}
.sw svg line{stroke-width:2.5}.sw.lostsw line,.sw.lostsw path{stroke:#777;stroke-dasharray:3 2}.sw.lostsw path{stroke-dasharray:none}
.mk::before{content:"";display:inline-block;width:0;height:12px;border-left:2px dashed currentColor;margin-right:4px}
svg{display:block}svg text{font-size:11px;fill:#333}
.diagram{border:1px solid #ddd;background:#fff;cursor:grab;user-select:none;touch-action:none}.diagram.dragging{cursor:grabbing}
.plotbg{fill:#fcfcfc}
.axis line{stroke:#eee}.axis text{text-anchor:middle;fill:#666}
.lane{stroke:#bbb;stroke-width:1.2}.lane-label{text-anchor:end;font-weight:600;font-size:13px}
.m{stroke-width:1;fill:none;opacity:.75}.m.k-report{stroke-width:2.2;opacity:.95}.m:hover,.m.lost:hover line{stroke-width:3;opacity:1}
.m.lost line{stroke-dasharray:3 2;stroke:inherit}.m.lost{opacity:.8}.m .x{stroke-width:1.6;stroke-dasharray:none}
${kinds}
.fault.partition{fill:#f9d9b8;opacity:.55}.fault.isolate{fill:#f4b6b6;opacity:.6}.fault.other{fill:#f7ecb0;opacity:.5}
.flabel{font-size:11px;fill:#8a4b0f}.finstant line{stroke:#c58b00;stroke-dasharray:2 3}
.down{fill:url(#hatch);opacity:.9}.crash path{stroke:#c62828;stroke-width:2.6}.restart path{fill:#2e7d32}
.decided path{stroke:#fff;stroke-width:1}.decided.commit path,.dcommit{fill:#2e7d32}.decided.abort path,.dabort{fill:#c62828}
.deliver path,.dlv{fill:#1565c0}.evidence circle{fill:#ff9800;stroke:#fff}
.intent path{fill:#555}.intent text,.intent-label{font-size:10px;fill:#555}
.note{color:#666;font-size:12px;margin:4px 0}
.legblock{margin:0 0 6px}.rowlabel{text-anchor:end;font-size:12px}
.seg{stroke:#fff;stroke-width:1}${states}.seglabel{font-size:11px;fill:#222;pointer-events:none}
.evt{stroke:#333;stroke-width:1}.legdown{fill:url(#hatch);opacity:.85}
.break path{stroke:#555;stroke-width:1.5}
.legaxis line{stroke:#999}.legaxis text{text-anchor:middle;fill:#666;font-size:10px}
.mark line{stroke-width:1.5;stroke-dasharray:4 3}.mark text{font-size:10.5px}
.mark.deadline line,.mk.deadline{stroke:#e67e00;color:#e67e00}.mark.deadline text{fill:#b35f00}
.mark.validuntil line,.mk.validuntil{stroke:#7b3fa0;color:#7b3fa0}.mark.validuntil text{fill:#7b3fa0}
.mark.reclaim line,.mk.reclaim{stroke:#c62828;color:#c62828}.mark.reclaim text{fill:#c62828}
.mark.decision line,.mk.decision{stroke:#2e7d32;color:#2e7d32}.mark.decision text{fill:#2e7d32}.mark.decision.abort line{stroke:#c62828}.mark.decision.abort text{fill:#c62828}
#latency .bar{fill:#4e79a7}#latency .bar:hover{fill:#2b5a8a}#latency .count{text-anchor:middle;font-size:10px}#latency .edge{text-anchor:middle;fill:#666;font-size:10px}
#latency .base{stroke:#999}#latency .ytop{text-anchor:end;fill:#666;font-size:10px}#latency .xlabel{text-anchor:middle;fill:#555}
table{border-collapse:collapse;margin:4px 0 8px;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f6f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.ok td.verdict{color:#2e7d32;font-weight:600}tr.broken td.verdict{color:#c62828;font-weight:700}tr.broken{background:#fdecea}tr.unknown td.verdict{color:#8a6d00}
td.commit{color:#2e7d32;font-weight:600}td.abort{color:#c62828;font-weight:600}
`;
}

/**
 * The zoom, pan and filter script. It reads everything from the DOM (data-* attributes) so no
 * run data is interpolated into script text. `ticks` mirrors `axisTicks` above.
 */
const SCRIPT = `(function () {
  var svg = document.getElementById('diagram');
  if (!svg) return;
  var ds = svg.dataset, T0 = +ds.t0, T1 = +ds.t1, L = +ds.left, W = +ds.width, AY = +ds.axisY, AT = +ds.axisTop;
  var NS = 'http://www.w3.org/2000/svg';
  var view = [T0, T1], els = svg.querySelectorAll('[data-t]'), axis = document.getElementById('axis');
  var from = document.getElementById('from'), to = document.getElementById('to');
  var filter = document.getElementById('filter'), filterCss = document.getElementById('filter-css');
  function r1(x) { return String(Math.round(x * 10) / 10); }
  function X(t) { return L + (t - view[0]) / (view[1] - view[0]) * W; }
  function step(x) { if (!(x > 0)) return 1; var p = Math.pow(10, Math.floor(Math.log10(x))), ms = [1, 2, 5, 10]; for (var i = 0; i < ms.length; i++) if (ms[i] * p >= x) return ms[i] * p; return 10 * p; }
  function label(t, s) { return s >= 1000 ? Math.round(t / 100) / 10 + ' s' : t + ' ms'; }
  function ticks() {
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    var s = step((view[1] - view[0]) / 10);
    for (var t = Math.ceil(view[0] / s) * s, i = 0; t <= view[1] && i < 100; t += s, i++) {
      var tv = Math.round(t * 1000) / 1000, x = r1(X(tv));
      var ln = document.createElementNS(NS, 'line');
      ln.setAttribute('x1', x); ln.setAttribute('x2', x); ln.setAttribute('y1', AT); ln.setAttribute('y2', AY + 4);
      var tx = document.createElementNS(NS, 'text');
      tx.setAttribute('x', x); tx.setAttribute('y', AY + 18); tx.textContent = label(tv, s);
      axis.appendChild(ln); axis.appendChild(tx);
    }
  }
  function layout() {
    for (var i = 0; i < els.length; i++) {
      var e = els[i], d = e.dataset, x = X(+d.t), tag = e.tagName.toLowerCase();
      if (d.u !== undefined) {
        var x2 = X(+d.u);
        if (tag === 'rect') { e.setAttribute('x', r1(x)); e.setAttribute('width', r1(Math.max(0, x2 - x))); }
        else { e.setAttribute('x1', r1(x)); e.setAttribute('x2', r1(x2)); }
      } else if (tag === 'text') {
        // A window's label stays in view while any of its window is.
        if (d.end !== undefined && x < L && X(+d.end) > L) x = L;
        e.setAttribute('x', r1(x + (+(d.dx || 0))));
      }
      else e.setAttribute('transform', 'translate(' + r1(x) + ',' + d.y + ')');
    }
    ticks();
    from.value = String(Math.round(view[0])); to.value = String(Math.round(view[1]));
  }
  var pending = false;
  function setView(a, b) {
    var minSpan = Math.min(5, T1 - T0);
    if (!(b - a >= minSpan)) { var c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    if (b - a > T1 - T0) { a = T0; b = T1; }
    if (a < T0) { b += T0 - a; a = T0; }
    if (b > T1) { a -= b - T1; b = T1; }
    view = [Math.max(T0, a), Math.min(T1, b)];
    if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; layout(); }); }
  }
  function timeAt(clientX) { var r = svg.getBoundingClientRect(); var px = (clientX - r.left) * (svg.viewBox.baseVal.width / r.width); return view[0] + (px - L) / W * (view[1] - view[0]); }
  svg.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var tc = Math.min(view[1], Math.max(view[0], timeAt(ev.clientX))), k = ev.deltaY > 0 ? 1.25 : 0.8;
    setView(tc - (tc - view[0]) * k, tc + (view[1] - tc) * k);
  }, { passive: false });
  var drag = null;
  svg.addEventListener('pointerdown', function (ev) { drag = { x: ev.clientX, view: view.slice() }; svg.classList.add('dragging'); });
  window.addEventListener('pointerup', function () { drag = null; svg.classList.remove('dragging'); });
  window.addEventListener('pointermove', function (ev) {
    if (!drag) return;
    var r = svg.getBoundingClientRect(), dt = (ev.clientX - drag.x) * (svg.viewBox.baseVal.width / r.width) / W * (drag.view[1] - drag.view[0]);
    setView(drag.view[0] - dt, drag.view[1] - dt);
  });
  function fromInputs() { var a = +from.value, b = +to.value; if (isFinite(a) && isFinite(b) && b > a) setView(a, b); }
  from.addEventListener('change', fromInputs); to.addEventListener('change', fromInputs);
  document.getElementById('reset').addEventListener('click', function () { setView(T0, T1); });
  filter.addEventListener('change', function () {
    var v = filter.value, o = filter.options[filter.selectedIndex];
    filterCss.textContent = v === '' ? '' : '#spacetime [data-s]:not([data-s="' + v + '"]),#legs [data-s]:not([data-s="' + v + '"]){display:none}';
    setView(+o.dataset.from, +o.dataset.to);
  });
})();`;

/** The report page for a run: self-contained HTML, the same bytes for the same run. */
export function renderReportHtml(run: RunRecord, result: RunResult, replay: string): string {
  const settlementIndex = new Map<string, number>();
  run.settlements.forEach((s, i) => settlementIndex.set(s.idHex, i));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(`Tandem run report: ${result.scenario}, seed ${result.seed}`)}</title>
<style>${css()}</style>
<style id="filter-css"></style>
</head>
<body>
${renderHeader(run, result, replay)}
${renderDiagram(run, result, settlementIndex)}
${renderLegTimelines(run, result, settlementIndex)}
${renderHistogram(run, result)}
${renderTables(run, result)}
<script>${SCRIPT}</script>
</body>
</html>
`;
}
