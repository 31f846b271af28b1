/**
 * The visual run report: one self-contained HTML file (inline CSS, SVG and a few lines of JS; no
 * network, no external fonts) drawn from a run and its result. Pure string building, and a
 * function of its inputs only (no generation timestamp), so the same run gives the same bytes.
 *
 * Parts: a space-time diagram of node-to-node messages (report-diagram.ts: faults shaded, crashes
 * hatched, decisions and report deliveries marked) with a settlement filter and zoom;
 * per-settlement leg timelines and a decision-latency histogram (report-timelines.ts); the
 * invariants, expectations and settlements tables and the replay command (here); under protocol 2
 * the heights with their batch sizes (report-heights.ts). What the page
 * shows is computed from the run in report-data.ts; the other report files only draw it.
 *
 * Every string that comes from the run (scenario name, descriptions, details) goes through
 * `esc`. Diagram elements carry their times as `data-t` (start) and `data-u` (end) so the inline
 * script can re-place them when zooming without any data embedded in the script itself.
 */
import type { RunResult } from './result.js';
import type { RunRecord } from './run-record.js';
import { describeFault } from './fault.js';
import { settlementIndexOf } from './report-data.js';
import { renderDiagram } from './report-diagram.js';
import { KIND_COLOURS, STATE_COLOURS, esc } from './report-draw.js';
import { renderHistogram, renderLegTimelines } from './report-timelines.js';
import { renderHeights } from './report-heights.js';

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
  const v2 = run.protocol === 2;
  const st = result.settlements
    .map((r, i) => {
      const s = run.settlements[i];
      const latency = s && r.decidedAtMs !== null ? String(r.decidedAtMs - s.spec.atMs) : '';
      return `<tr><td>${esc(r.id)}</td><td class="mono">${esc(s ? s.idHex.slice(0, 16) : '')}</td><td class="num">${s ? s.spec.atMs : ''}</td><td class="${r.decision ?? 'none'}">${esc(r.decision ?? '—')}</td><td class="num">${r.decidedAtMs ?? ''}</td><td class="num">${latency}</td><td class="num">${r.round ?? ''}</td>${v2 ? `<td class="num">${r.height ?? ''}</td>` : ''}<td>${esc(r.asset)}</td><td>${esc(r.payment)}</td>${anyExpired ? `<td>${r.expired ? 'expired (reclaimed on both legs)' : ''}</td>` : ''}</tr>`;
    })
    .join('');
  const ev = result.evidence.length
    ? `<h2>Evidence</h2><table id="evidence"><thead><tr><th>seen by</th><th>kind</th><th>member</th><th>settlement</th></tr></thead><tbody>${result.evidence
        .map((e) => `<tr><td>n${e.node}</td><td>${esc(e.kind)}</td><td>n${e.member}</td><td>${esc(e.settlement)}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const faults = run.scenario.faults.length
    ? `<h2>Faults</h2><table id="faults"><thead><tr><th>kind</th><th>from</th><th>until</th><th>what</th></tr></thead><tbody>${run.scenario.faults
        .map((f) => `<tr><td>${esc(f.kind)}</td><td class="num">${f.atMs}</td><td class="num">${f.untilMs ?? '—'}</td><td>${esc(describeFault(f))}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return `<section id="tables">
<h2>Invariants</h2>
<table id="invariants"><thead><tr><th>invariant</th><th>verdict</th><th>detail</th></tr></thead><tbody>${inv}</tbody></table>
<h2>Expectations</h2>
<table id="expectations"><thead><tr><th>expectation</th><th>verdict</th><th>detail</th></tr></thead><tbody>${exp}</tbody></table>
<h2>Settlements</h2>
<table id="settlements"><thead><tr><th>settlement</th><th>id</th><th>at (ms)</th><th>decision</th><th>decided at (ms)</th><th>latency (ms)</th><th>round</th>${v2 ? '<th>height</th>' : ''}<th>asset</th><th>payment</th>${anyExpired ? '<th>note</th>' : ''}</tr></thead><tbody>${st}</tbody></table>
${renderHeights(run)}${ev}${faults}
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
 * run data is interpolated into script text. `ticks` mirrors `axisTicks` in report-draw.ts.
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
  const settlementIndex = settlementIndexOf(run);
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
