import { describe, expect, it } from 'vitest';
import { toHex } from '@tandem/protocol';
import { type HistoryEntry, type RunRecord, buildResult, renderReportHtml, simulate, underProtocol } from '../src/index.js';
import { loadScenario } from './support.js';

/**
 * The Byzantine behaviours of protocol 2 act in the simulator (each leaves its mark on the run) and
 * the correct members hold every invariant against them; v1's behaviours keep acting under
 * protocol 2 (sim-byzantine-v2.ts); the run report shows heights and batch sizes.
 */
async function run(file: string, protocol?: 2): Promise<RunRecord> {
  const s = loadScenario(file);
  return simulate(protocol === undefined ? s : underProtocol(s, protocol));
}

function ok(r: RunRecord): void {
  const result = buildResult(r);
  expect(result.invariants.filter((i) => i.ok === false).map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
}

/** The round a height was decided in (first decision). */
function decidedRound(r: RunRecord, height: number): number | undefined {
  const e = r.history.find((x): x is Extract<HistoryEntry, { type: 'node2' }> => x.type === 'node2' && x.event.type === 'decided-height' && x.event.height === height);
  return e?.event.type === 'decided-height' ? e.event.round : undefined;
}

/** The entries of every proposal `node` signed. */
function proposedIds(r: RunRecord, node: number): string[] {
  return r.history.flatMap((e) => (e.type === 'node2' && e.node === node && e.event.type === 'signed' && e.event.message.kind === 'proposal2' ? e.event.message.proposal.entries.map((x) => toHex(x.settlementId)) : []));
}

describe('Byzantine behaviours (packages/node v2/byzantine.ts) in the v2 world', () => {
  it.each([
    ['v2-byzantine-replay-entry.yaml', 2],
    ['v2-byzantine-bad-root.yaml', 3],
  ])('%s: the Byzantine proposer costs height %i a round, nothing more', async (file, height) => {
    const r = await run(file);
    ok(r);
    expect(decidedRound(r, height)).toBeGreaterThanOrEqual(1);
    expect(buildResult(r).settlements.every((s) => s.decision === 'commit')).toBe(true);
  });

  it('censor: its batches never hold a censored settlement, and every settlement still commits', async () => {
    const r = await run('v2-byzantine-censor.yaml');
    ok(r);
    const ids = proposedIds(r, 2);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => Number.parseInt(id.at(-1)!, 16) % 2 === 0)).toEqual([]);
    expect(r.settlements.some((s) => Number.parseInt(s.idHex.at(-1)!, 16) % 2 === 0)).toBe(true);
    expect(buildResult(r).settlements.every((s) => s.decision === 'commit')).toBe(true);
  });

  it('withhold-entries: its bundles never go out, and both settlements commit', async () => {
    const r = await run('v2-byzantine-withhold-entries.yaml');
    ok(r);
    expect(r.history.some((e) => e.type === 'bundle' && e.node === 2)).toBe(false);
    expect(r.history.some((e) => e.type === 'bundle' && e.node === 1)).toBe(true);
    expect(buildResult(r).settlements.every((s) => s.decision === 'commit')).toBe(true);
  });
});

describe("protocol 1's Byzantine behaviours on protocol-2 nodes", () => {
  it('equivocate under protocol 2: correct members record the equivocation and agree', async () => {
    const r = await run('byzantine-equivocate.yaml', 2);
    ok(r);
    const result = buildResult(r);
    expect(result.evidence.some((e) => e.kind === 'equivocation' && e.member === 1 && e.settlement.startsWith('height'))).toBe(true);
  });

  it('silent under protocol 2: the silent member sends no bundle, the other three decide', async () => {
    const r = await run('byzantine-silent.yaml', 2);
    ok(r);
    expect(r.history.some((e) => e.type === 'bundle' && e.node === 2)).toBe(false);
    expect(buildResult(r).settlements.every((s) => s.decision === 'commit')).toBe(true);
  });

  it('the run report of a protocol-2 run shows the heights with their batch sizes', async () => {
    const r = await run('v2-byzantine-bad-root.yaml');
    const html = renderReportHtml(r, buildResult(r), 'tandem simulate scenarios/v2-byzantine-bad-root.yaml');
    expect(html).toContain('<table id="heights">');
    expect(html).toContain('<th>batch size</th>');
    expect((html.match(/<tr><td class="num">\d+<\/td><td class="num">\d+<\/td><td class="num">\d+<\/td><td class="num">1<\/td>/g) ?? []).length).toBe(6);
  });
});
