import { readFileSync, readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { join } from 'node:path';
import { buildResult, parseScenario, simulate, type RunResult, type Scenario } from '../src/index.js';

export const SCENARIO_DIR = join(import.meta.dirname, '../../../scenarios');

/**
 * The history hash each library scenario gave at each pinned seed when last recorded
 * (scenarios/history-hashes.json, written by `pnpm history-hashes --write`).
 */
export const RECORDED_HISTORY_HASHES = JSON.parse(readFileSync(join(SCENARIO_DIR, 'history-hashes.json'), 'utf8')) as Record<string, string>;

/** The same under protocol 2 (scenarios/history-hashes-v2.json): every library scenario run by underProtocol(…, 2). */
export const RECORDED_HISTORY_HASHES_V2 = JSON.parse(readFileSync(join(SCENARIO_DIR, 'history-hashes-v2.json'), 'utf8')) as Record<string, string>;

/** Why a history hash that moved fails the test, and what to do about it. */
export function hashMoved(key: string): string {
  return `${key}: the history hash moved, so the simulator now does something else on this run. If that is intended, record it with \`pnpm history-hashes --write\` and say why in the commit.`;
}

export function scenarioFiles(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(join(SCENARIO_DIR, file), 'utf8'), `scenarios/${file}`);
}

export async function runScenario(scenario: Scenario, seed: number): Promise<RunResult> {
  return buildResult(await simulate(scenario, { seed }));
}

/** A one-paragraph explanation of why a run is not ok, for assertion messages. */
export function whyNotOk(r: RunResult): string {
  const broken = r.invariants.filter((i) => i.ok === false).map((i) => `${i.name}: ${i.detail}`);
  const unmet = r.expectations.filter((e) => !e.ok).map((e) => `${e.what}: ${e.detail}`);
  return `${r.scenario} seed ${r.seed}: ${[...broken, ...unmet].join(' | ')}`;
}

/**
 * Every settlement reached a decision and both legs ended in a final state; one the nodes refused
 * at intake (expect.refused) was never prepared: both legs untouched, and no decision (protocol 1)
 * or an ABORT from the refusing nodes' guard entries (protocol 2).
 */
export function expectSettled(file: string, scenario: Scenario, r: RunResult): void {
  for (const s of r.settlements) {
    if (scenario.expect.refused?.[s.id] !== undefined) {
      const decision = scenario.protocol === 2 ? (s.decision ?? 'abort') : s.decision;
      expect([decision, s.asset, s.payment], `${file} ${s.id} refused`).toEqual([scenario.protocol === 2 ? 'abort' : null, 'none', 'none']);
      continue;
    }
    expect(s.decision, `${file} ${s.id}`).not.toBeNull();
    if (scenario.protocol === 2) expect(s.height, `${file} ${s.id} decided at a height`).toBeGreaterThanOrEqual(1);
    expect(['locked', 'held'], `${file} ${s.id} asset`).not.toContain(s.asset);
    expect(['locked', 'held'], `${file} ${s.id} payment`).not.toContain(s.payment);
  }
}

/** Seeds every library scenario runs at, besides its own. */
export const PINNED_EXTRA_SEEDS = [1001, 2002];

/**
 * One test per (file, pinned seed): the run is ok, its history hash is the one `recorded`, and
 * every settlement ended as expectSettled says.
 */
export function pinnedRuns(files: readonly string[], scenarioOf: (file: string) => Scenario, recorded: Readonly<Record<string, string>>): void {
  for (const file of files) {
    const scenario = scenarioOf(file);
    for (const seed of [scenario.seed, ...PINNED_EXTRA_SEEDS]) {
      it(`${file} seed ${seed}`, async () => {
        const r = await runScenario(scenario, seed);
        expect(r.ok, whyNotOk(r)).toBe(true);
        const key = `${file} seed ${seed}`;
        expect(r.historyHash, hashMoved(key)).toBe(recorded[key]);
        expectSettled(file, scenario, r);
      });
    }
  }
}
