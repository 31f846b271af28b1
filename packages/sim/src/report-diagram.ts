/**
 * The report's space-time diagram: one lane per node, every node-to-node message as a line from
 * its sending to its arrival (lost ones as a stub ending in ×), fault windows shaded, down
 * intervals hatched, intents, decisions, report deliveries and evidence marked. Elements carry
 * their times as `data-t` (start) and `data-u` (end) so the page's script can re-place them when
 * zooming.
 */
import type { RunResult } from './result.js';
import type { RunRecord } from './run-record.js';
import {
  type FaultInstant,
  type FaultWindow,
  type NodeMark,
  type ReportMessage,
  collectMessages,
  diagramEndMs,
  downtime,
  faultWindows,
  intentsByTime,
  kindClass,
  messagesSent,
  nodeMarks,
  settlementExtents,
} from './report-data.js';
import { KIND_COLOURS, axisTicks, esc, r1 } from './report-draw.js';

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

const CROSS = 'M-3.5,-3.5L3.5,3.5M3.5,-3.5L-3.5,3.5';

function renderMessage(d: Diagram, m: ReportMessage): string {
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

function renderFaults(d: Diagram, faults: { windows: readonly FaultWindow[]; instants: readonly FaultInstant[] }): string {
  const top = DIAGRAM.topPx - 4;
  const bottom = d.heightPx - DIAGRAM.bottomPx;
  const parts: string[] = [];
  faults.windows.forEach((w, i) => {
    const title = esc(`${w.label}: ${w.from}–${w.to} ms`);
    const x = r1(xAt(d, w.from));
    const width = r1(Math.max(0, xAt(d, w.to) - xAt(d, w.from)));
    const f = w.fault;
    if (f.kind === 'isolate' && f.node >= 1 && f.node <= d.nodes) {
      const y = d.laneY(f.node) - d.laneGap / 2 + 2;
      parts.push(`<rect class="fault isolate" data-t="${w.from}" data-u="${w.to}" x="${x}" y="${r1(y)}" width="${width}" height="${r1(d.laneGap - 4)}"><title>${title}</title></rect>`);
    } else {
      const cls = f.kind === 'partition' ? 'partition' : 'other';
      parts.push(`<rect class="fault ${cls}" data-t="${w.from}" data-u="${w.to}" x="${x}" y="${top}" width="${width}" height="${bottom - top}"><title>${title}</title></rect>`);
    }
    // Labels alternate between two heights so that back-to-back windows stay legible.
    parts.push(`<text class="flabel" data-t="${w.from}" data-end="${w.to}" data-dx="3" x="${r1(xAt(d, w.from) + 3)}" y="${i % 2 === 0 ? 12 : 24}">${esc(w.label)}</text>`);
  });
  for (const m of faults.instants) {
    parts.push(
      `<g class="finstant" data-t="${m.t}" data-y="${top}" transform="translate(${r1(xAt(d, m.t))},${top})"><title>${esc(`${m.t} ms: ${m.what}`)}</title><line x1="0" y1="0" x2="0" y2="${bottom - top}"/></g>`,
    );
  }
  return parts.join('');
}

function renderCrashes(d: Diagram, down: ReturnType<typeof downtime>): string {
  // Bands first (under the markers).
  const bands = down.bands.map(({ node, from, to, restarted }) => {
    const y = d.laneY(node) - 9;
    const title = esc(restarted ? `n${node} down ${from}–${to} ms (crashed, restarted with its storage)` : `n${node} down from ${from} ms to the end (crashed for good)`);
    return `<rect class="down" data-t="${from}" data-u="${to}" x="${r1(xAt(d, from))}" y="${y}" width="${r1(Math.max(0, xAt(d, to) - xAt(d, from)))}" height="18"><title>${title}</title></rect>`;
  });
  const marks = down.marks.map(({ type, node, t }) => {
    const y = d.laneY(node);
    const at = `data-t="${t}" data-y="${y}" transform="translate(${r1(xAt(d, t))},${y})"`;
    return type === 'crash'
      ? `<g class="crash" ${at}><title>${esc(`n${node} crashed at ${t} ms`)}</title><path d="M-6,-6L6,6M6,-6L-6,6"/></g>`
      : `<g class="restart" ${at}><title>${esc(`n${node} restarted at ${t} ms`)}</title><path d="M0,-6L8,0L0,6Z"/></g>`;
  });
  return bands.join('') + marks.join('');
}

function renderNodeMarks(d: Diagram, marks: readonly NodeMark[]): string {
  const parts: string[] = [];
  for (const { t, node, s, label, event: ev } of marks) {
    const sAttr = s === undefined ? '' : ` data-s="${s}"`;
    const x = r1(xAt(d, t));
    if (ev.type === 'decided') {
      const y = d.laneY(node);
      const cls = ev.report.decision === 'COMMIT' ? 'commit' : 'abort';
      const title = `n${node} decided ${ev.report.decision} (round ${ev.report.round}) for ${label} at ${t} ms`;
      parts.push(`<g class="decided ${cls}"${sAttr} data-t="${t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><path d="M0,-7L7,0L0,7L-7,0Z"/></g>`);
    } else if (ev.type === 'deliver') {
      // Asset deliveries above the lane, payment below, so both legs of one node stay apart.
      const up = ev.leg === 'asset';
      const y = d.laneY(node) + (up ? -11 : 11);
      const shape = up ? 'M-4,3L4,3L0,-4Z' : 'M-4,-3L4,-3L0,4Z';
      const title = `n${node} delivered the report for ${label} to the ${ev.leg} leg at ${t} ms: ${ev.outcome}`;
      parts.push(`<g class="deliver ${esc(kindClass(ev.leg))}"${sAttr} data-t="${t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><path d="${shape}"/></g>`);
    } else {
      const y = d.laneY(node) - 14;
      const title = `n${node} recorded evidence against n${ev.misbehaviour.member} for ${label} at ${t} ms: ${ev.misbehaviour.kind}`;
      parts.push(`<g class="evidence"${sAttr} data-t="${t}" data-y="${y}" transform="translate(${x},${y})"><title>${esc(title)}</title><circle r="4"/></g>`);
    }
  }
  return parts.join('');
}

function renderIntents(d: Diagram, byTime: ReadonlyMap<number, readonly { id: string; idx: number | undefined }[]>): string {
  const y = DIAGRAM.topPx - 6;
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


/** The space-time diagram section: filter and zoom controls, legend, the SVG and a note. */
export function renderDiagram(run: RunRecord, result: RunResult, settlementIndex: ReadonlyMap<string, number>): string {
  const labelOf = (i: number) => run.settlements[i]!.spec.id;
  const messages = collectMessages(run.history, settlementIndex, labelOf);
  const d = diagramGeometry(run, diagramEndMs(run, messages));
  const n = run.scenario.nodes;
  const lanes: string[] = [];
  for (let i = 1; i <= n; i++) {
    const y = d.laneY(i);
    lanes.push(`<line class="lane" data-node="${i}" x1="${d.plotLeft}" y1="${y}" x2="${d.plotLeft + d.plotWidth}" y2="${y}"/>`);
    lanes.push(`<text class="lane-label" x="${d.plotLeft - 10}" y="${y + 4}">n${i}</text>`);
  }
  const drawn = messages.length;
  const total = messagesSent(run.history);
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
<g class="faults">${renderFaults(d, faultWindows(run.history, d.t1))}</g>
<g class="crashes">${renderCrashes(d, downtime(run.history, d.t1))}</g>
<g class="intents">${renderIntents(d, intentsByTime(run.history, settlementIndex))}</g>
<g class="messages">${messages.map((m) => renderMessage(d, m)).join('')}</g>
<g class="marks">${renderNodeMarks(d, nodeMarks(run.history, settlementIndex, labelOf))}</g>
</g>
</svg>
<p class="note">${total} messages sent${drawn < total ? `, the first ${drawn} drawn` : ''}; time is virtual (ms since the start of the run).</p>
</section>`;
}
