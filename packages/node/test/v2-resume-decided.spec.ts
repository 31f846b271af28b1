/**
 * A node killed between the two commits of a decision: the height record holding the decided batch
 * is durable, the decided batch's own put (staged after it) is not. Found by the kill test under
 * protocol 2 (seed 424242): the restarted node resumed from the record but never stored the batch
 * as decided, so once the next height's record replaced it, storage had a gap and every later
 * start failed its chain assertion (the node could never start again).
 */
import { describe, expect, it } from 'vitest';
import type { DecidedBatch } from '@tandem/protocol';
import type { StorageV2 } from '../src/index.js';
import { WorldV2 } from './v2-world.js';

/** `storage` losing its decided-batch puts while `lose()` says so (as staged puts lost to a SIGKILL). */
function losingDecided(storage: StorageV2, lose: () => boolean): StorageV2 {
  const put = storage.putDecided.bind(storage);
  storage.putDecided = (b: DecidedBatch) => {
    if (!lose()) put(b);
  };
  return storage;
}

describe('NodeRuntimeV2: a decision whose batch put was lost to a crash', () => {
  it('is stored again on resume, so later restarts still find the whole chain', async () => {
    let lose = true;
    const w = new WorldV2({ deps: (i, deps) => (i === 3 ? { ...deps, storage: losingDecided(deps.storage, () => lose) } : deps) });
    w.startAll();
    await w.runFor(500);
    w.intent(w.terms('first', 6_000));
    await w.runFor(2_000);
    expect(w.runtime(3).tip).toBe(1);
    expect(w.peer(3).storage.load().decided).toEqual([]); // only the height record holds height 1
    w.crash(3);
    lose = false;
    w.start(3);
    expect(w.eventsOf(3, 'resumed').at(-1)!.tip).toBe(1);
    for (const k of [1, 2]) {
      w.intent(w.terms(`later-${k}`, 6_000));
      await w.runFor(2_000);
    }
    expect(w.runtime(3).tip).toBe(3);
    expect(w.peer(3).storage.load().decided.map((b) => b.report.height)).toEqual([1, 2, 3]);
    w.crash(3);
    w.start(3); // threw "jump: batches start at 2 …" when height 1 was missing
    expect(w.eventsOf(3, 'resumed').at(-1)!.tip).toBe(3);
    w.intent(w.terms('after', 6_000));
    await w.runFor(2_000);
    expect(w.runtime(3).tip).toBe(w.runtime(1).tip);
  });
});
