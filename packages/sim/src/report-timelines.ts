/**
 * The report's leg timelines (each settlement's asset and payment states over time, with its
 * deadline, validUntil, reclaim and first-decision marks) and its decision-latency histogram.
 */
import type { RunResult } from './result.js';
import type { RunRecord } from './run-record.js';
import { type LegSegment, type LegTimeline, type LegOutage, kindClass, latencyBins, legTimelines } from './report-data.js';
import { STATE_COLOURS, axisTicks, esc, r1 } from './report-draw.js';
import type { LegEvent } from '@tandem/legs';

const LEGS = { widthPx: 1200, labelPx: 90, rightPx: 20, rowPx: 20, gapPx: 4, markLevels: 3, markLevelPx: 11, markTopPx: 38, axisPx: 22 };

/** A leg's row: its state segments (labelled where they fit) under a tick per event. */
function legRow(segments: readonly LegSegment[], events: readonly LegEvent[], t1: number, y: number, x: (t: number) => number, leg: string): string {
  const parts: string[] = [];
  for (const { from, to, state: st, why } of segments) {
    const w = x(to) - x(from);
    const title = esc(`${leg} ${st} from ${from} ms${to < t1 ? ` to ${to} ms` : ''}${why ? ` (${why})` : ''}`);
    parts.push(`<rect class="seg st-${esc(kindClass(st))}" x="${r1(x(from))}" y="${y}" width="${r1(Math.max(0, w))}" height="${LEGS.rowPx}"><title>${title}</title></rect>`);
    // A label only where it fits; the tooltip has it anyway.
    if (w >= st.length * 7 + 8) parts.push(`<text class="seglabel" x="${r1(x(from) + 4)}" y="${y + 14}">${esc(st)}</text>`);
  }
  for (const e of events) {
    const tick = r1(x(e.atMs));
    parts.push(`<line class="evt" x1="${tick}" y1="${y - 2}" x2="${tick}" y2="${y + LEGS.rowPx + 2}"><title>${esc(`${leg} #${e.seq} ${e.kind} at ${e.atMs} ms${e.detail ? `: ${e.detail}` : ''}`)}</title></line>`);
  }
  return parts.join('');
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

/** Windows in which a whole leg was unavailable, hatched over its row. */
function legOutages(outages: readonly LegOutage[], y: number, x: (t: number) => number): string {
  return outages.map((o) => `<rect class="legdown" x="${r1(x(o.from))}" y="${y + 14}" width="${r1(x(o.to) - x(o.from))}" height="${LEGS.rowPx - 14}"><title>${esc(o.title)}</title></rect>`).join('');
}

function renderLegBlock(result: RunResult, tl: LegTimeline): string {
  const { s, index: i, t0, tActive, t1 } = tl;
  const r = result.settlements[i];
  const plotW = LEGS.widthPx - LEGS.labelPx - LEGS.rightPx;
  const scale = legScale(t0, tActive, t1, LEGS.labelPx, plotW);
  const x = scale.x;
  const yA = LEGS.markTopPx;
  const yP = yA + LEGS.rowPx + LEGS.gapPx;
  const axisY = yP + LEGS.rowPx + 6;
  const height = axisY + LEGS.axisPx;

  const markSvg = placeMarkLabels(tl.marks.map((m) => ({ ...m, x: x(m.t) })), LEGS.widthPx)
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
${legRow(tl.segments.asset, tl.events.asset, t1, yA, x, 'asset')}
${legRow(tl.segments.payment, tl.events.payment, t1, yP, x, 'payment')}
${legOutages(tl.outages.asset, yA, x)}${legOutages(tl.outages.payment, yP, x)}
<g class="legaxis"><line x1="${LEGS.labelPx}" y1="${axisY}" x2="${LEGS.labelPx + plotW}" y2="${axisY}"/>${ticks}</g>
${scale.breakX === null ? '' : `<g class="break"><title>the scale changes here: the quiet tail up to the reclaim time is compressed</title><path d="M${r1(scale.breakX - 6)},${axisY + 5}l5,-10M${r1(scale.breakX)},${axisY + 5}l5,-10"/></g>`}
${markSvg}
</svg>
</div>`;
}

/** The leg timelines section: a legend and one block per settlement. */
export function renderLegTimelines(run: RunRecord, result: RunResult, settlementIndex: ReadonlyMap<string, number>): string {
  const blocks = legTimelines(run, settlementIndex).map((tl) => renderLegBlock(result, tl));
  const legend = STATE_COLOURS.filter(([k]) => k !== 'held' && k !== 'posted' && k !== 'voided')
    .map(([k]) => `<span class="sw"><svg width="16" height="12" aria-hidden="true"><rect class="seg st-${k}" width="16" height="12"/></svg>${k === 'locked' ? 'locked / held' : k === 'released' ? 'released / posted' : k === 'refunded' ? 'refunded / voided' : k}</span>`)
    .join('');
  return `<section id="legs">
<h2>Leg timelines</h2>
<div class="legend">${legend}<span class="sw"><svg width="22" height="12" aria-hidden="true"><rect width="22" height="12" class="legdown"/></svg>leg unavailable</span><span class="sw mk deadline">deadline</span><span class="sw mk validuntil">validUntil</span><span class="sw mk reclaim">reclaim</span><span class="sw mk decision">first decision</span></div>
${blocks.join('\n')}
</section>`;
}

const HIST = { widthPx: 720, heightPx: 240, leftPx: 44, rightPx: 16, topPx: 20, bottomPx: 40, binsTarget: 12 };

/** The decision-latency section: a histogram of intent-to-first-decision times. */
export function renderHistogram(run: RunRecord, result: RunResult): string {
  const bins = latencyBins(run, result, HIST.binsTarget);
  const head = `<section id="histogram"><h2>Decision latency</h2>`;
  const svgOpen = `<svg id="latency" viewBox="0 0 ${HIST.widthPx} ${HIST.heightPx}" width="${HIST.widthPx}" role="img" aria-label="histogram of decision latency over settlements">`;
  if (bins === null) {
    return `${head}${svgOpen}<text x="${HIST.widthPx / 2}" y="${HIST.heightPx / 2}" text-anchor="middle">no settlement was decided</text></svg></section>`;
  }
  const { latencies, widthMs: width, counts } = bins;
  const binCount = counts.length;
  const max = latencies[latencies.length - 1]!;
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
    const lo = b * width;
    const title = `${lo}–${lo + width} ms: ${c} settlement${c === 1 ? '' : 's'}`;
    parts.push(`<rect class="bar" x="${r1(x + 1)}" y="${r1(baseY - h)}" width="${r1(Math.max(1, barW - 2))}" height="${r1(h)}"><title>${esc(title)}</title></rect>`);
    if (c > 0) parts.push(`<text class="count" x="${r1(x + barW / 2)}" y="${r1(baseY - h - 4)}">${c}</text>`);
  });
  for (let b = 0; b <= binCount; b += labelEvery) parts.push(`<text class="edge" x="${r1(HIST.leftPx + b * barW)}" y="${baseY + 16}">${b * width}</text>`);
  parts.push(`<line class="base" x1="${HIST.leftPx}" y1="${baseY}" x2="${HIST.leftPx + plotW}" y2="${baseY}"/>`);
  parts.push(`<text class="ytop" x="${HIST.leftPx - 6}" y="${HIST.topPx + 4}">${top}</text><text class="ytop" x="${HIST.leftPx - 6}" y="${baseY}">0</text>`);
  parts.push(`<text class="xlabel" x="${HIST.leftPx + plotW / 2}" y="${HIST.heightPx - 4}">ms from intent to the first decision (bins of ${width} ms)</text>`);
  const p50 = result.metrics.decisionLatencyMs.p50;
  const p99 = result.metrics.decisionLatencyMs.p99;
  return `${head}${svgOpen}${parts.join('')}</svg>
<p class="note">${latencies.length} of ${run.settlements.length} settlements decided; p50 ${p50} ms, p99 ${p99} ms, max ${max} ms.</p></section>`;
}
