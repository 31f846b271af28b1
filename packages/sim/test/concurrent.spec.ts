import { expect, it } from 'vitest';
import { RECORDED_HISTORY_HASHES, hashMoved, loadScenario, runScenario, whyNotOk } from './support.js';

const scenario = loadScenario('concurrent-100.yaml');

for (const seed of [scenario.seed, 1001, 2002]) {
  it(`concurrent-100.yaml seed ${seed}: 100 settlements in flight at once all commit`, async () => {
    const r = await runScenario(scenario, seed);
    expect(r.ok, whyNotOk(r)).toBe(true);
    expect(r.historyHash, hashMoved(`concurrent-100.yaml seed ${seed}`)).toBe(RECORDED_HISTORY_HASHES[`concurrent-100.yaml seed ${seed}`]);
    expect(r.settlements).toHaveLength(100);
    expect(r.settlements.every((s) => s.decision === 'commit' && s.asset === 'released' && s.payment === 'posted')).toBe(true);
  });
}
