import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildResult, parseScenario, simulate, type RunResult, type Scenario } from '../src/index.js';

export const SCENARIO_DIR = join(import.meta.dirname, '../../../scenarios');

/**
 * The history hash each library scenario gave at each pinned seed when last recorded
 * (scenarios/history-hashes.json, written by `pnpm history-hashes --write`).
 */
export const RECORDED_HISTORY_HASHES = JSON.parse(readFileSync(join(SCENARIO_DIR, 'history-hashes.json'), 'utf8')) as Record<string, string>;

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
