import { describe, expect, it } from 'vitest';
import { RECORDED_HISTORY_HASHES, hashMoved, loadScenario, runScenario, scenarioFiles, whyNotOk } from './support.js';

/**
 * Every scenario in the library, at three pinned seeds (its own and two more): the run is ok, and
 * its history hash is the recorded one (scenarios/history-hashes.json).
 */
const HEAVY = new Set(['concurrent-100.yaml']); // run in their own file so the two test workers share the load
const PINNED_EXTRA_SEEDS = [1001, 2002];

describe('scenario library at pinned seeds', () => {
  for (const file of scenarioFiles().filter((f) => !HEAVY.has(f))) {
    const scenario = loadScenario(file);
    for (const seed of [scenario.seed, ...PINNED_EXTRA_SEEDS]) {
      it(`${file} seed ${seed}`, async () => {
        const r = await runScenario(scenario, seed);
        expect(r.ok, whyNotOk(r)).toBe(true);
        const key = `${file} seed ${seed}`;
        expect(r.historyHash, hashMoved(key)).toBe(RECORDED_HISTORY_HASHES[key]);
        // Every settlement reached a decision and both legs ended in a final state; one the nodes
        // refused at intake (expect.refused) was never prepared: both legs untouched.
        for (const s of r.settlements) {
          if (scenario.expect.refused?.[s.id] !== undefined) {
            expect([s.decision, s.asset, s.payment], `${file} ${s.id} refused`).toEqual([null, 'none', 'none']);
            continue;
          }
          expect(s.decision, `${file} ${s.id}`).not.toBeNull();
          expect(['locked', 'held'], `${file} ${s.id} asset`).not.toContain(s.asset);
          expect(['locked', 'held'], `${file} ${s.id} payment`).not.toContain(s.payment);
        }
      });
    }
  }
});
