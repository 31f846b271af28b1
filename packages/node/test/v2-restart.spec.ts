import { describe, expect, it } from 'vitest';
import { settlementId, toHex } from '@tandem/protocol';
import { WorldV2 } from './v2-world.js';

describe('NodeRuntimeV2: restart from storage and catch-up', () => {
  it('a restarted node resumes its chain and open settlements from storage and catches up from decided batches', async () => {
    const w = new WorldV2();
    w.startAll();
    await w.runFor(500);
    const first = Array.from({ length: 4 }, (_, k) => w.terms(`before-${k}`, 6_000));
    for (const t of first) w.intent(t);
    await w.runFor(2_000);
    expect(w.runtime(3).tip).toBe(1);
    // Node 3 goes down with an intent taken but not yet decided (mid-height).
    const midway = w.terms('midway', 6_000);
    w.intent(midway);
    await w.runFor(150);
    w.crash(3);
    // The others decide more heights while it is down.
    for (let round = 0; round < 3; round++) {
      for (const t of Array.from({ length: 3 }, (_, k) => w.terms(`down-${round}-${k}`, 6_000))) w.intent(t, [1, 2, 4]);
      await w.runFor(1_500);
    }
    const tipWhileDown = w.runtime(1).tip;
    expect(tipWhileDown).toBeGreaterThanOrEqual(4);
    w.start(3);
    const resumed = w.eventsOf(3, 'resumed').at(-1)!;
    expect(resumed.tip).toBeGreaterThanOrEqual(1);
    expect(resumed.tip).toBeLessThan(tipWhileDown);
    await w.runFor(3_000);
    expect(w.runtime(3).tip).toBe(w.runtime(1).tip);
    const roots = (i: number) => w.eventsOf(i, 'decided-height').map((e) => [e.height, toHex(e.header.root)]);
    expect(roots(3)).toEqual(roots(1));
    // Its own open settlement came back from storage and was decided through catch-up.
    expect(w.decisionAt(3, midway)?.decision).toBe('COMMIT');
    expect(await w.legState('asset', midway)).toBe('committed');
  });

  it('a node that crashed after voting resumes its height from the record and never signs a conflicting vote', async () => {
    const w = new WorldV2({ latencyMs: 40 });
    w.startAll();
    await w.runFor(500);
    const terms = w.terms('voted-then-crashed', 6_000);
    w.intent(terms);
    const votedAtHeight1 = () => w.eventsOf(2, 'signed').some((e) => e.height === 1 && e.message.kind === 'vote2');
    for (let k = 0; k < 200 && !votedAtHeight1(); k++) await w.runFor(5);
    expect(votedAtHeight1()).toBe(true);
    expect(w.eventsOf(2, 'decided-height')).toEqual([]);
    w.crash(2);
    w.start(2);
    expect(w.eventsOf(2, 'resumed').at(-1)!.heightRound).toBe(0);
    await w.runFor(3_000);
    expect(w.decisionAt(2, terms)?.decision).toBe('COMMIT');
    const bySlot = new Map<string, Set<string>>();
    for (const e of w.eventsOf(2, 'signed')) {
      if (e.message.kind !== 'vote2') continue;
      const v = e.message.vote;
      const slot = `${v.height}/${v.round}/${v.step}`;
      bySlot.set(slot, (bySlot.get(slot) ?? new Set()).add(toHex(v.signature)));
    }
    expect(bySlot.size).toBeGreaterThan(0);
    for (const [slot, sigs] of bySlot) expect([slot, sigs.size]).toEqual([slot, 1]);
  });

  it('a node down long enough that its next height is no longer kept catches up by a jump to liveFrom of the newest', async () => {
    const w = new WorldV2({ v2: { commitGuardMs: 1_000, skewMaxMs: 400 } });
    w.startAll();
    await w.runFor(500);
    w.intent(w.terms('first'));
    await w.runFor(1_000);
    expect(w.runtime(4).tip).toBe(1);
    w.crash(4);
    for (let k = 0; k < 15; k++) {
      w.intent(w.terms(`while-down-${k}`), [1, 2, 3]);
      await w.runFor(1_000);
    }
    const newest = w.eventsOf(1, 'decided-height').at(-1)!;
    expect(newest.header.liveFrom).toBeGreaterThan(2); // height 2 is no longer kept by the others
    w.start(4);
    await w.runFor(3_000);
    expect(w.runtime(4).tip).toBe(w.runtime(1).tip);
    const jumps = w.eventsOf(4, 'catch-up');
    expect(jumps.length).toBe(1);
    expect(jumps[0]!.jumped).toBe(true);
    expect(jumps[0]!.fromHeight).toBeGreaterThan(2);
  });

  it('intents refused at intake survive a restart: the restarted nodes still sign their guard entries, and the settlement aborts', async () => {
    const w = new WorldV2({ v2: { openSettlementsMax: 1 } });
    w.startAll();
    await w.runFor(200);
    w.fill([2, 3, 4]);
    const x = w.terms('refused-by-three');
    expect(w.intent(x).slice(1).map((a) => a?.reason)).toEqual(['full', 'full', 'full']);
    await w.runFor(300); // a tick commits the staged refusals
    const idHex = toHex(settlementId(x));
    for (let i = 2; i <= 4; i++) expect(w.peer(i).storage.load().intents.get(idHex)?.refused).toBe(true);
    // All three restart before the guard time: without the refused intents they would sign no guard entry.
    for (let i = 2; i <= 4; i++) {
      w.crash(i);
      w.start(i);
    }
    expect(w.runtime(2).settlementStatus(idHex)).toMatchObject({ refused: true, decided: null });
    const guardSigned = (i: number) => w.eventsOf(i, 'bundle-signed').some((b) => b.kinds.guard > 0);
    for (let k = 0; k < 200 && ![2, 3, 4].every(guardSigned); k++) await w.runFor(100);
    expect([2, 3, 4].map(guardSigned)).toEqual([true, true, true]);
    await w.runFor(2_000);
    expect(w.decisionAt(1, x)?.decision).toBe('ABORT');
    expect(await w.legState('asset', x)).toBe('aborted');
    // Decided: the refused intent leaves storage.
    for (let i = 2; i <= 4; i++) expect(w.peer(i).storage.load().intents.has(idHex)).toBe(false);
  });
});
