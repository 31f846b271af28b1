/**
 * What a v2 node reports about a settlement's end beyond "closed": a decided settlement not closed
 * on both legs by its reclaim time plus stuckGraceMs is reported stuck (once, still polled), and a
 * split outcome (one leg committed, the other reclaimed) is reported split and never closed.
 */
import { describe, expect, it } from 'vitest';
import { reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import { DEFAULT_RUNTIME_PARAMS } from '../src/index.js';
import { WorldV2 } from './v2-world.js';

const STUCK_GRACE_MS = 2_000;

describe('NodeRuntimeV2: stuck and split settlements', () => {
  it('a COMMIT the payment leg never takes is reported stuck after reclaim + grace, then split once the payer reclaims', async () => {
    // Every node's delivery to the payment leg fails: the asset leg commits, the payment stays locked.
    const w = new WorldV2({
      deps: (_, d) => ({
        ...d,
        params: { ...DEFAULT_RUNTIME_PARAMS, stuckGraceMs: STUCK_GRACE_MS },
        legs: {
          asset: d.legs.asset,
          payment: new Proxy(d.legs.payment, {
            get: (leg, key) => (key === 'applyBatch' || key === 'applyEntries' ? () => Promise.reject(new Error('payment leg unreachable for delivery')) : Reflect.get(leg, key, leg)),
          }),
        },
      }),
    });
    w.startAll();
    await w.runFor(1_000);
    const t = w.terms('stuck-then-split');
    const idHex = toHex(settlementId(t));
    expect(w.intent(t)).toEqual([null, null, null, null]);
    await w.runFor(3_000);
    expect(w.decisionAt(1, t)?.decision).toBe('COMMIT');
    expect(await w.legState('asset', t)).toBe('committed');
    expect(await w.legState('payment', t)).toBe('locked');

    // Not stuck before reclaim + grace.
    await w.runUntil(reclaimAtMs(t) + STUCK_GRACE_MS - 100);
    for (let i = 1; i <= 4; i++) expect(w.eventsOf(i, 'stuck')).toEqual([]);
    await w.runFor(DEFAULT_RUNTIME_PARAMS.pollMs * 40); // one more read (backed-off polls are at most this far apart)
    for (let i = 1; i <= 4; i++) {
      const stuck = w.eventsOf(i, 'stuck');
      expect(stuck.map((e) => [e.settlementIdHex, e.height, e.asset, e.payment])).toEqual([[idHex, 1, 'committed', 'locked']]);
      expect(stuck[0]!.atMs).toBeGreaterThanOrEqual(reclaimAtMs(t) + STUCK_GRACE_MS);
      expect(w.runtime(i).settlementStatus(idHex)).toMatchObject({ stuck: true, split: false, closed: false });
    }

    // The payer reclaims its locked payment: one leg moved, the other did not.
    expect(await w.payment.reclaim(settlementId(t))).toEqual({ kind: 'reclaimed' });
    await w.runFor(60_000);
    for (let i = 1; i <= 4; i++) {
      expect(w.eventsOf(i, 'split').map((e) => [e.settlementIdHex, e.asset, e.payment])).toEqual([[idHex, 'committed', 'reclaimed']]);
      expect(w.eventsOf(i, 'stuck')).toHaveLength(1); // reported once
      expect(w.eventsOf(i, 'closed').map((e) => e.settlementIdHex)).not.toContain(idHex); // never called closed
      expect(w.runtime(i).settlementStatus(idHex)).toMatchObject({ split: true, closed: false });
      expect(w.runtime(i).decisions().find((d) => d.settlementIdHex === idHex)).toMatchObject({ split: true, stuck: true });
    }
  });

  it('a settlement that closes on both legs is neither stuck nor split, however long the run', async () => {
    const w = new WorldV2({ deps: (_, d) => ({ ...d, params: { ...DEFAULT_RUNTIME_PARAMS, stuckGraceMs: STUCK_GRACE_MS } }) });
    w.startAll();
    await w.runFor(1_000);
    const t = w.terms('closes');
    expect(w.intent(t)).toEqual([null, null, null, null]);
    await w.runUntil(reclaimAtMs(t) + STUCK_GRACE_MS + 30_000);
    for (let i = 1; i <= 4; i++) {
      expect(w.eventsOf(i, 'closed').map((e) => e.settlementIdHex)).toContain(toHex(settlementId(t)));
      expect([...w.eventsOf(i, 'stuck'), ...w.eventsOf(i, 'split')]).toEqual([]);
    }
  });
});
