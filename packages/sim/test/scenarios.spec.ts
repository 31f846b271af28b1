import { describe } from 'vitest';
import { RECORDED_HISTORY_HASHES, loadScenario, pinnedRuns, scenarioFiles } from './support.js';

/**
 * Every scenario in the library, at three pinned seeds (its own and two more): the run is ok, and
 * its history hash is the recorded one (scenarios/history-hashes.json).
 */
const HEAVY = new Set(['concurrent-100.yaml']); // run in their own file so the two test workers share the load

describe('scenario library at pinned seeds', () => {
  pinnedRuns(scenarioFiles().filter((f) => !HEAVY.has(f)), loadScenario, RECORDED_HISTORY_HASHES);
});
