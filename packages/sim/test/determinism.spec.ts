import { describe, expect, it } from 'vitest';
import { historyLine, simulate } from '../src/index.js';
import { loadScenario } from './support.js';

describe('determinism', () => {
  for (const file of ['happy-path.yaml', 'no-quorum-partition-heal.yaml', 'drop-and-duplicate.yaml']) {
    it(`${file}: the same seed twice gives the same history, byte for byte`, async () => {
      const scenario = loadScenario(file);
      const a = await simulate(scenario, { seed: 7 });
      const b = await simulate(scenario, { seed: 7 });
      expect(a.history.map(historyLine)).toEqual(b.history.map(historyLine));
      expect(a.historyHash).toBe(b.historyHash);
      expect(a.historyHash).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('a different seed gives a different history', async () => {
    const scenario = loadScenario('drop-and-duplicate.yaml');
    const a = await simulate(scenario, { seed: 7 });
    const b = await simulate(scenario, { seed: 8 });
    expect(a.historyHash).not.toBe(b.historyHash);
  });
});
