import { describe, expect, it, vi } from 'vitest';
import { settlementId, toHex } from '@tandem/protocol';
import { WorldV2 } from './v2-world.js';

describe('NodeRuntimeV2: deciding batches with 4 nodes in memory', () => {
  it('a lone settlement commits, both legs apply it, in few message delays', async () => {
    // Ticks much shorter than a message delay, so the count is in message delays.
    const w = new WorldV2({ latencyMs: 100, v2: { tickMs: 5, heartbeatMs: 1_000 } });
    w.startAll();
    await w.runFor(1_000); // heartbeats: every node has others' bundle times
    const terms = w.terms('lone');
    const t0 = w.nowMs;
    expect(w.intent(terms)).toEqual([null, null, null, null]);
    await w.runFor(3_000);
    for (let i = 1; i <= 4; i++) expect(w.decisionAt(i, terms)).toEqual({ height: 1, decision: 'COMMIT' });
    expect(await w.legState('asset', terms)).toBe('committed');
    expect(await w.legState('payment', terms)).toBe('committed');
    const decidedAt = Math.max(...[1, 2, 3, 4].map((i) => w.eventsOf(i, 'decided-height')[0]!.atMs));
    const delays = (decidedAt - t0) / w.latencyMs;
    console.log(`lone settlement: decided at every node ${decidedAt - t0} ms after the intent = ${delays.toFixed(2)} message delays`);
    expect(delays).toBeLessThanOrEqual(5.5);
    const idHex = toHex(settlementId(terms));
    for (let i = 1; i <= 4; i++) expect(w.eventsOf(i, 'closed').map((e) => e.settlementIdHex)).toContain(idHex);
  });

  it('50 settlements submitted at once decide in few heights of many entries, and every leg applies them', async () => {
    const w = new WorldV2();
    w.startAll();
    await w.runFor(1_000);
    const all = Array.from({ length: 50 }, (_, k) => w.terms(`burst-${k}`));
    // Leg reads are batched: one observeMany per leg and read, never one call per settlement.
    const single = vi.spyOn(w.asset, 'observe');
    const many = vi.spyOn(w.asset, 'observeMany');
    for (const t of all) expect(w.intent(t)).toEqual([null, null, null, null]);
    await w.runFor(5_000);
    const idsPerCall = many.mock.calls.map(([ids]) => ids.length);
    expect(single).not.toHaveBeenCalled();
    expect(Math.max(...idsPerCall)).toBeGreaterThan(10);
    // Each node reads every settlement at least twice (locked, then closed): per-settlement calls would be ≥ 400.
    expect(idsPerCall.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4 * 2 * 50);
    expect(idsPerCall.length).toBeLessThan(4 * 2 * 50 / 4);
    const heights = w.eventsOf(1, 'decided-height');
    const sizes = heights.map((h) => h.entries.length);
    console.log(`burst of 50: ${heights.length} heights, batch sizes ${sizes.join(', ')}`);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(50);
    expect(heights.length).toBeLessThanOrEqual(5);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    for (let i = 2; i <= 4; i++) {
      expect(w.eventsOf(i, 'decided-height').map((h) => toHex(h.header.root))).toEqual(heights.map((h) => toHex(h.header.root)));
    }
    for (const t of all) {
      expect(w.decisionAt(1, t)?.decision).toBe('COMMIT');
      expect(await w.legState('asset', t)).toBe('committed');
      expect(await w.legState('payment', t)).toBe('committed');
    }    // Staggered delivery: the first rank delivers; the others see the legs closed and make no call.
    const deliveries = [1, 2, 3, 4].flatMap((i) => w.eventsOf(i, 'deliver'));
    expect(deliveries.length).toBe(2 * 50);
    expect(deliveries.every((d) => d.outcome === 'applied')).toBe(true);
  });

  it('submitMany takes a batch of intents with one storage commit, answers each in order, and every one decides', async () => {
    const w = new WorldV2({ v2: { openSettlementsMax: 16 } });
    w.startAll();
    await w.runFor(500);
    const batch = Array.from({ length: 20 }, (_, k) => w.terms(`many-${k}`));
    const intents = batch.map((t) => ({ terms: t, auths: w.authorizations(t) }));
    const storage = w.peer(1).storage;
    const [commitsBefore, writesBefore] = [storage.commits, storage.writes];
    const answers = w.runtime(1).submitMany([...intents, intents[3]!]); // the same intent twice: taken again, idempotently
    // 16 taken, the rest refused (full) with a retry time; the repeat is answered as taken.
    expect(answers.slice(0, 16)).toEqual(Array(16).fill(null));
    expect(answers.slice(16, 20).map((a) => a?.reason)).toEqual(['full', 'full', 'full', 'full']);
    expect(answers[20]).toBeNull();
    expect(storage.commits - commitsBefore).toBe(1);
    expect(storage.writes - writesBefore).toBe(16 + 4); // 16 taken, 4 refused (staged); the repeat brought no new authorization
    for (let i = 2; i <= 4; i++) w.runtime(i).submitMany(intents.slice(0, 16));
    await w.runFor(5_000);
    for (const t of batch.slice(0, 16)) expect(w.decisionAt(1, t)?.decision).toBe('COMMIT');
  });

  it('a node clock that jumps back does not hold its bundles back for as long as it jumped', async () => {
    let offsetMs = 0;
    const w = new WorldV2({ deps: (i, d) => (i === 1 ? { ...d, clock: { nowMs: () => d.clock.nowMs() + offsetMs } } : d) });
    w.startAll();
    await w.runFor(1_000);
    const before = w.eventsOf(1, 'bundle-signed').length;
    offsetMs = -60_000; // NTP stepped node 1's clock back a minute
    const t = w.terms('clock-back');
    expect(w.intent(t)).toEqual([null, null, null, null]);
    await w.runFor(500);
    const after = w.eventsOf(1, 'bundle-signed').slice(before);
    // Its view of the new settlement went out at once, not a minute later; times still increase.
    expect(after.some((b) => b.count > 0)).toBe(true);
    const times = w.eventsOf(1, 'bundle-signed').map((b) => b.timeMs);
    expect(times.every((x, k) => k === 0 || x > times[k - 1]!)).toBe(true);
    await w.runFor(3_000);
    expect(w.decisionAt(2, t)?.decision).toBe('COMMIT');
  });

  it('a leg that rejects the prepare makes the settlement ABORT, and the other leg refunds', async () => {
    const rejected = new Set<string>();
    const w = new WorldV2({ rejectPayment: rejected });
    const terms = w.terms('rejected');
    rejected.add(toHex(settlementId(terms)));
    w.startAll();
    await w.runFor(500);
    w.intent(terms);
    await w.runFor(3_000);
    for (let i = 1; i <= 4; i++) expect(w.decisionAt(i, terms)?.decision).toBe('ABORT');
    expect(await w.legState('payment', terms)).toBe('rejected');
    expect(await w.legState('asset', terms)).toBe('aborted');
  });

  it('with one node crashed for good, the other three still decide', async () => {
    const w = new WorldV2();
    w.startAll([4]);
    await w.runFor(500);
    const all = Array.from({ length: 8 }, (_, k) => w.terms(`three-${k}`));
    for (const t of all) w.intent(t, [1, 2, 3]);
    await w.runFor(8_000);
    for (const t of all) {
      for (let i = 1; i <= 3; i++) expect(w.decisionAt(i, t)?.decision).toBe('COMMIT');
      expect(await w.legState('asset', t)).toBe('committed');
      expect(await w.legState('payment', t)).toBe('committed');
    }
  });

  it('admission refuses an intent past openSettlementsMax with `full` and a retry time, and records it', async () => {
    const w = new WorldV2({ v2: { openSettlementsMax: 2 } });
    w.startAll();
    await w.runFor(200);
    const [a, b, c] = [w.terms('full-a'), w.terms('full-b'), w.terms('full-c')];
    expect(w.intent(a, [1])).toEqual([null]);
    expect(w.intent(b, [1])).toEqual([null]);
    const [refusal] = w.intent(c, [1]);
    expect(refusal?.reason).toBe('full');
    expect(refusal?.retryAfterMs).toBeGreaterThan(0);
    const refused = w.eventsOf(1, 'intent-refused');
    expect(refused.map((e) => [e.settlementIdHex, e.reason])).toEqual([[toHex(settlementId(c)), 'full']]);
    expect(w.runtime(1).settlementStatus(toHex(settlementId(c)))?.refused).toBe(true);
  });

  it('an intent refused by three of four nodes still aborts: they sign guard entries for it without reading the legs', async () => {
    const w = new WorldV2({ v2: { openSettlementsMax: 1 } });
    w.startAll();
    await w.runFor(200);
    // Nodes 2–4 are full of an intent nobody authorized (it stays undecided until its deadline).
    w.fill([2, 3, 4]);
    const x = w.terms('admitted-by-one');
    const answers = w.intent(x);
    expect(answers[0]).toBeNull();
    expect(answers.slice(1).map((a) => a?.reason)).toEqual(['full', 'full', 'full']);
    await w.runFor(4_000);
    expect(await w.legState('asset', x)).toBe('locked'); // node 1 prepared both legs
    expect(w.decisionAt(1, x)).toBeNull(); // one node's view is not COMMIT evidence
    // At the guard time, max(deadline, validUntil − commitGuardMs), node 2 signs its guard entry.
    const guardSigned = () => w.eventsOf(2, 'bundle-signed').some((b) => b.kinds.guard > 0);
    for (let k = 0; k < 200 && !guardSigned(); k++) await w.runFor(100);
    expect(guardSigned()).toBe(true);
    // Persisted when signed (before it was sent), showing both legs `none`: nothing was read.
    const guard = w.peer(2).storage.load().ownEntries.find((e) => e.kind === 'guard' && toHex(e.settlementId) === toHex(settlementId(x)));
    expect([guard?.asset.state, guard?.payment.state]).toEqual(['none', 'none']);
    await w.runFor(2_000);
    expect(w.decisionAt(1, x)?.decision).toBe('ABORT');
    expect(await w.legState('asset', x)).toBe('aborted');
    expect(await w.legState('payment', x)).toBe('aborted');
    for (let i = 3; i <= 4; i++) expect(w.eventsOf(i, 'bundle-signed').some((b) => b.kinds.guard > 0)).toBe(true);
  });
});
