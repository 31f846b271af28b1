import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { reclaimAtMs, validUntilMs } from '@tandem/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildResult, parseScenario, simulate, type RunResult, type SimRun } from '../src/index.js';
import { niceStep } from '../src/report-data.js';
import { escapeHtml } from '../src/report-draw.js';
import { renderReportHtml } from '../src/report-html.js';
import { legScale } from '../src/report-timelines.js';
import { SCENARIO_DIR, loadScenario } from './support.js';

const REPLAY = 'pnpm tandem simulate scenarios/x.yaml --seed 1';

interface Rendered {
  run: SimRun;
  result: RunResult;
  html: string;
}

async function render(file: string, seed?: number): Promise<Rendered> {
  const scenario = loadScenario(file);
  const run = await simulate(scenario, { seed: seed ?? scenario.seed });
  const result = buildResult(run);
  return { run, result, html: renderReportHtml(run, result, REPLAY) };
}

function count(html: string, re: RegExp): number {
  return [...html.matchAll(re)].length;
}

/** The inside of the element with this id (up to its closing tag of the same name). */
function section(html: string, tag: string, id: string): string {
  const start = html.indexOf(`<${tag} id="${id}"`);
  expect(start, `#${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf(`</${tag}>`, start));
}

describe('renderReportHtml', () => {
  // n3 crashes 2–6 s inside a 1–4 s partition: losses of both kinds, a down interval, decisions.
  let partition: Rendered;
  beforeAll(async () => {
    partition = await render('no-quorum-partition-heal.yaml');
  });

  it('draws one lane per node in the diagram svg', () => {
    const diagram = section(partition.html, 'svg', 'diagram');
    const lanes = [...diagram.matchAll(/<line class="lane" data-node="(\d+)"/g)].map((m) => Number(m[1]));
    expect(lanes).toEqual([1, 2, 3, 4]);
    expect(count(diagram, /<text class="lane-label"[^>]*>n\d<\/text>/g)).toBe(4);
  });

  it('draws a line per delivered message, from send time to delivery time, and every loss as a stub', () => {
    const msgs = partition.run.history.flatMap((e) => (e.type === 'msg' ? [e] : []));
    const downAtArrival = msgs.filter((m) => m.lost === 'receiver down');
    expect(downAtArrival.length).toBeGreaterThan(0); // the scenario exercises that case
    const delivered = msgs.filter((m) => m.deliverAtMs !== null).map((m) => `${m.t}>${m.deliverAtMs}`);
    // Sends whose arrival found the receiver down are drawn as losses, not deliveries.
    for (const d of downAtArrival) {
      const at = delivered.indexOf(findSend(msgs, d));
      expect(at).toBeGreaterThanOrEqual(0);
      delivered.splice(at, 1);
    }
    const lines = [...partition.html.matchAll(/<line class="m k-[a-z-]+"(?: data-s="\d+")? data-t="(\d+)" data-u="(\d+)"/g)].map((m) => `${m[1]}>${m[2]}`);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.sort()).toEqual(delivered.sort());
    const lost = msgs.filter((m) => m.deliverAtMs === null).length;
    expect(count(partition.html, /<g class="m lost k-/g)).toBe(lost);
  });

  it('shades the partition window and the crash interval, and marks decisions and deliveries', () => {
    const d = section(partition.html, 'svg', 'diagram');
    expect(d).toMatch(/<rect class="fault partition" data-t="1000" data-u="4000"/);
    expect(d).toMatch(/<rect class="down" data-t="2000" data-u="6000"/);
    expect(count(d, /<g class="crash" data-t="2000"/g)).toBe(1);
    expect(count(d, /<g class="restart" data-t="6000"/g)).toBe(1);
    const decided = partition.run.history.filter((e) => e.type === 'node' && e.event.type === 'decided').length;
    expect(decided).toBe(4);
    expect(count(d, /<g class="decided commit"/g)).toBe(decided);
    const delivers = partition.run.history.filter((e) => e.type === 'node' && e.event.type === 'deliver').length;
    expect(count(d, /<g class="deliver (?:asset|payment)"/g)).toBe(delivers);
  });

  it('reads faults from the history as data: an isolation shades its node\'s lane, a late authorization is an instant', async () => {
    const isolated = section((await render('isolate-proposer.yaml')).html, 'svg', 'diagram');
    expect(count(isolated, /<rect class="fault isolate" data-t="0" data-u="2000"/g)).toBe(1);
    expect(isolated).toContain('<title>isolate n1: 0–2000 ms</title>');
    const late = section((await render('late-lock-commit.yaml')).html, 'svg', 'diagram');
    expect(count(late, /<rect class="fault /g)).toBe(0);
    expect(late).toContain('<g class="finstant" data-t="2000"');
    expect(late).toContain('<title>2000 ms: s1 asset late-lock (after 2s): the asset authorization goes out</title>');
  });

  it('names each leg state as the run result does, and an ABORT where nothing was locked as closed', async () => {
    const blocks = (html: string) => {
      const legs = section(html, 'section', 'legs');
      return legs.slice(legs.indexOf('<div class="legblock"')); // past the legend
    };
    const rejected = blocks((await render('payment-rejected.yaml')).html);
    for (const st of ['none', 'locked', 'refunded', 'rejected']) expect(rejected).toContain(`class="seg st-${st}"`);
    const neverLocked = blocks((await render('asset-never-locked.yaml')).html);
    expect(neverLocked).toContain('class="seg st-closed"');
    for (const html of [rejected, neverLocked]) expect(html).not.toMatch(/class="seg st-(?:aborted|committed)"/);
  });

  it('draws the leg timelines with the deadline, validUntil and reclaim of each settlement', () => {
    const legs = section(partition.html, 'section', 'legs');
    const s = partition.run.settlements[0]!;
    expect(count(legs, /<svg class="legs-svg"/g)).toBe(1);
    // s1 commits: none → locked → released on the asset leg, none → held → posted on the payment leg.
    for (const st of ['none', 'locked', 'released', 'held', 'posted']) expect(legs).toContain(`class="seg st-${st}"`);
    expect(legs).toContain(`<title>deadline at ${s.terms.deadlineMs} ms</title>`);
    expect(legs).toContain(`<title>validUntil at ${validUntilMs(s.terms)} ms</title>`);
    expect(legs).toContain(`<title>reclaim at ${reclaimAtMs(s.terms)} ms</title>`);
  });

  it('counts every decided settlement once in the histogram', async () => {
    const r = await render('happy-path.yaml');
    const hist = section(r.html, 'svg', 'latency');
    const counts = [...hist.matchAll(/ms: (\d+) settlements?<\/title>/g)].map((m) => Number(m[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(r.result.settlements.filter((x) => x.decidedAtMs !== null).length);
    expect(count(r.html, /<svg class="legs-svg"/g)).toBe(r.run.settlements.length);
    expect(count(r.html, /<option value="\d+"/g)).toBe(r.run.settlements.length);
  });

  it('lists every invariant with its verdict, and BROKEN ones stand out', () => {
    const { run, result } = partition;
    const broken: RunResult = { ...result, ok: false, invariants: result.invariants.map((i, k) => (k === 0 ? { ...i, ok: false, detail: 'n1 and n2 decided differently' } : i)) };
    const html = renderReportHtml(run, broken, REPLAY);
    const table = section(html, 'table', 'invariants');
    expect(count(table, /<tr class="(?:ok|broken|unknown)">/g)).toBe(result.invariants.length);
    expect(table).toContain(`<tr class="broken"><td>${result.invariants[0]!.name}</td><td class="verdict">BROKEN</td><td>n1 and n2 decided differently</td></tr>`);
    expect(count(table, /<tr class="unknown">/g)).toBe(result.invariants.filter((i) => i.ok === null).length);
    expect(html).toContain('NOT OK');
    expect(section(html, 'table', 'expectations')).toContain('outcome of s1');
    expect(section(html, 'table', 'settlements')).toContain('<td>s1</td>');
  });

  it('shows the replay command, the seed and the history hash', () => {
    expect(partition.html).toContain(`<code id="replay">${REPLAY}</code>`);
    expect(partition.html).toContain(`<dd id="seed">${partition.run.seed}</dd>`);
    expect(partition.html).toContain(partition.run.historyHash);
  });

  it('escapes a scenario name and description that carry markup', async () => {
    const text = readFileSync(join(SCENARIO_DIR, 'happy-path.yaml'), 'utf8')
      .replace(/^name: .*$/m, 'name: "<script>alert(1)</script>"')
      .replace(/^description: >-$/m, 'description: >-\n  <img src=x onerror="alert(2)"> & more');
    const scenario = parseScenario(text, 'evil.yaml');
    const run = await simulate(scenario, { seed: 1 });
    const html = renderReportHtml(run, buildResult(run), 'pnpm tandem simulate "<b>".yaml --seed 1');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; more');
    expect(html).toContain('pnpm tandem simulate &quot;&lt;b&gt;&quot;.yaml --seed 1');
    expect(count(html, /<script/g)).toBe(1); // only the report's own script
  });

  it('is self-contained: no external resource, no timestamp', () => {
    expect(partition.html).not.toMatch(/(?:src|href)="(?!data:)[^"#]/);
    expect(partition.html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(partition.html).not.toMatch(/@import|url\((?!#)/);
  });

  it('is deterministic: the same scenario and seed give the same bytes', async () => {
    const again = await render('no-quorum-partition-heal.yaml');
    expect(again.html).toBe(partition.html);
    expect(renderReportHtml(partition.run, partition.result, REPLAY)).toBe(partition.html);
    const other = await render('no-quorum-partition-heal.yaml', 8);
    expect(other.html).not.toBe(partition.html);
  });
});

/** The send entry ("t>deliverAt") that a "receiver down" entry ends. */
function findSend(msgs: readonly Extract<SimRun['history'][number], { type: 'msg' }>[], down: Extract<SimRun['history'][number], { type: 'msg' }>): string {
  const send = msgs.find((m) => m.deliverAtMs === down.t && m.node === down.node && m.to === down.to && JSON.stringify(m.message) === JSON.stringify(down.message));
  expect(send).toBeDefined();
  return `${send!.t}>${send!.deliverAtMs}`;
}

describe('report helpers', () => {
  it('escapeHtml leaves no markup character behind and round-trips through the entities', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const e = escapeHtml(s);
        expect(e).not.toMatch(/[<>"']/);
        expect(e.replace(/&(?!amp;|lt;|gt;|quot;|#39;)/g, '')).toBe(e); // every & starts an entity
        const back = e.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
        expect(back).toBe(s);
      }),
    );
  });

  it('niceStep is the smallest 1, 2 or 5 × 10^k at or above its input', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (x) => {
        const s = niceStep(x);
        expect(s).toBeGreaterThanOrEqual(x * (1 - 1e-12));
        expect(s).toBeLessThanOrEqual(x * 5);
        const mantissa = s / 10 ** Math.floor(Math.log10(s) + 1e-9);
        expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
      }),
    );
  });

  it('legScale maps the whole span onto the width, in order, compressing only a quiet tail', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 10 }), (t0, activeMs, tailMs, fractions) => {
        const tActive = t0 + activeMs;
        const t1 = tActive + tailMs;
        const sc = legScale(t0, tActive, t1, 90, 1000);
        expect(sc.x(t0)).toBeCloseTo(90, 6);
        expect(sc.x(t1)).toBeCloseTo(1090, 6);
        const ts = fractions.map((f) => t0 + f * (t1 - t0)).sort((a, b) => a - b);
        for (let i = 1; i < ts.length; i++) expect(sc.x(ts[i]!)).toBeGreaterThanOrEqual(sc.x(ts[i - 1]!) - 1e-9);
        // Compressed only when the active part is short; then it gets most of the width.
        expect(sc.breakX !== null).toBe(activeMs < 0.4 * (t1 - t0));
        if (sc.breakX !== null) expect(sc.x(tActive)).toBeCloseTo(sc.breakX, 6);
        for (const k of sc.ticks) expect(sc.x(k.t)).toBeGreaterThanOrEqual(90 - 1e-9);
      }),
    );
  });
});
