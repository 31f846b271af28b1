/**
 * The kill test, short: a few settlements on the real legs while a node, the leg host (with its
 * bank and chain) and the chain alone are each SIGKILLed at a seed-drawn instant and restarted;
 * the simulator's checker then finds every settlement all-or-nothing, nothing applied twice, and
 * every invariant holding. The long run is simulations/src/kill-test.ts (`pnpm kill-test`).
 * Runs under protocol 1 and under protocol 2. Needs the built dist (pnpm build) and user
 * namespaces (the embedded chain); about a minute each.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolationProblem } from '@tandem/leg-evm';
import { NODE_MAIN, planKillTest, runKillTest } from '../src/index.js';

const SEED = 11;

describe('the kill test plan', () => {
  it('is drawn from the seed alone, and its first kills hit a node, the leg host and the chain', () => {
    const a = planKillTest({ seed: SEED, settlements: 8, kills: 5, nodes: 4, tradeIntervalMs: 1_500 });
    expect(planKillTest({ seed: SEED, settlements: 8, kills: 5, nodes: 4, tradeIntervalMs: 1_500 })).toEqual(a);
    expect(planKillTest({ seed: SEED + 1, settlements: 8, kills: 5, nodes: 4, tradeIntervalMs: 1_500 })).not.toEqual(a);
    expect(new Set(a.kills.slice(0, 3).map((k) => k.target.kind))).toEqual(new Set(['node', 'leg-host', 'chain']));
    expect(a.kills.map((k) => k.atMs)).toEqual([...a.kills.map((k) => k.atMs)].sort((x, y) => x - y));
    expect(a.trades.map((t) => t.id)).toEqual(Array.from({ length: 8 }, (_, i) => `kill-${SEED}-${i + 1}`));
  });
});

describe.skipIf(!existsSync(NODE_MAIN) || isolationProblem() !== null)('the kill test on a real cluster', () => {
  // The same assertions under either protocol: protocol 2 runs the same trades and kills on a v2
  // cluster, followed through its control API and judged by the v2 checker.
  it.each([1, 2] as const)('protocol %i: ends every settlement all-or-nothing with nothing applied twice, whatever is killed', async (protocol) => {
    const lines: string[] = [];
    const out = await runKillTest({ seed: SEED, settlements: 6, kills: 3, protocol, dir: mkdtempSync(join(tmpdir(), 'tandem-kill-')), say: (l) => lines.push(l) });
    const context = `seed ${out.seed}, protocol ${protocol}\n${lines.join('\n')}\n${out.problems.join('\n')}\n${out.result.invariants.map((i) => `${i.name} ${i.ok} ${i.detail}`).join('\n')}`;
    expect(lines[0]).toContain(`seed ${SEED}, protocol ${protocol}`);
    expect(out.protocol).toBe(protocol);
    expect(out.kills, context).toHaveLength(3); // a node, the leg host and the chain: the plan's first three
    expect(out.problems, context).toEqual([]);
    for (const i of out.result.invariants) expect(i.ok, `${i.name}: ${i.detail}\n${context}`).not.toBe(false);
    expect(out.counts.undecided, context).toBe(0);
    expect(out.ok, context).toBe(true);
  }, 300_000);
});
