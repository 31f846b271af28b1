/**
 * Admission (admission.ts, intentRefusal): an intent that would open a new settlement is taken or
 * refused with one of four reasons — `late`, `window-too-short`, `horizon`, `full` — and a
 * retryAfterMs; every refusal is returned, logged as `intent-refused` and kept in the bounded
 * refused set. Intents for a settlement the node already holds are always taken.
 */
import { describe, expect, it } from 'vitest';
import { type Terms, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { DEFAULT_RUNTIME_PARAMS, FULL_RETRY_AFTER_MAX_MS, FULL_RETRY_AFTER_MIN_MS, type IntentRefusal, type NodeEvent, type RuntimeParams } from '../src/index.js';
import { fullRetryAfterMs } from '../src/admission.js';
import { World } from './world.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const P = DEFAULT_RUNTIME_PARAMS;

function refusalsLogged(w: World, i: number): Extract<NodeEvent, { type: 'intent-refused' }>[] {
  return w.node(i).events.filter((e): e is Extract<NodeEvent, { type: 'intent-refused' }> => e.type === 'intent-refused');
}

/** A started 4-node world with these parameters. */
function world(params: Partial<RuntimeParams> = {}): World {
  const w = new World(4, 'tandem/node/test', { ...P, ...params });
  w.startAll();
  return w;
}

/** Node 1's answer to the intent (both parties' authorizations unless `legs` says otherwise). */
function submit(w: World, terms: Terms, legs: readonly ('asset' | 'payment')[] = ['asset', 'payment']): IntentRefusal | null {
  return w.intentWith(terms, legs, [1])[0]!;
}

/** The refusal is recorded as it was returned: the event, and the terms in the refused set. */
function expectRecorded(w: World, terms: Terms, refusal: IntentRefusal | null): void {
  const sidHex = toHex(settlementId(terms));
  expect(refusal).not.toBeNull();
  expect(refusalsLogged(w, 1).at(-1)).toEqual({ type: 'intent-refused', settlementIdHex: sidHex, ...refusal });
  expect(w.runtime(1).refusedTerms(sidHex)).toEqual(terms);
  expect(w.runtime(1).decisions().some((d) => d.settlementIdHex === sidHex)).toBe(false);
}

describe('late: the node is at or past the deadline', () => {
  it('refuses an intent at its deadline (it could only abort), takes one a millisecond before', async () => {
    const w = world();
    const atDeadline = w.terms('at-deadline', 1_000);
    const justBefore = w.terms('just-before', 1_001);
    await w.runUntil(1_000);
    const refusal = submit(w, atDeadline);
    expect(refusal).toMatchObject({ reason: 'late', retryAfterMs: null });
    expect(refusal!.detail).toMatch(/deadline passed 0 ms ago/);
    expectRecorded(w, atDeadline, refusal);
    expect(submit(w, justBefore)).toBeNull();
  });

  it('past the reclaim time too (formerly its own case), and still takes a late authorization for a settlement it holds', async () => {
    const w = world();
    const held = w.terms('held', 1_000);
    expect(submit(w, held, ['payment'])).toBeNull();
    await w.runUntil(20_000);
    expect(submit(w, w.terms('stale', -10_000))).toMatchObject({ reason: 'late', retryAfterMs: null });
    expect(submit(w, held, ['asset'])).toBeNull(); // known: no admission, whatever the time
  });
});

describe('window-too-short: reportWindow ≤ commitGuardMs', () => {
  it('refuses a window no longer than the commit guard and takes a longer one', () => {
    const w = world({ commitGuardMs: 1_000 });
    const short = { ...w.terms('short'), reportWindowMs: 1_000 };
    const refusal = submit(w, short);
    expect(refusal).toMatchObject({ reason: 'window-too-short', retryAfterMs: null });
    expect(refusal!.detail).toMatch(/report window of 1000 ms is not longer than this node's commit guard of 1000 ms/);
    expectRecorded(w, short, refusal);
    expect(submit(w, { ...w.terms('long'), reportWindowMs: 1_001 })).toBeNull();
  });

  it('never fires in v1 (commitGuardMs 0 by default): even a zero report window is taken', () => {
    expect(P.commitGuardMs).toBe(0);
    const w = world();
    expect(submit(w, { ...w.terms('zero-window'), reportWindowMs: 0 })).toBeNull();
  });
});

describe('horizon: validUntil beyond now + horizonMaxMs', () => {
  it('refuses past the horizon, saying when it would fall within it; takes one exactly at it', () => {
    const w = world({ horizonMaxMs: 10_000 });
    const exactly = w.terms('exactly', 9_000); // validUntil = 9 s + 1 s window = the horizon
    const beyond = w.terms('beyond', 9_250);
    expect(validUntilMs(exactly)).toBe(10_000);
    const refusal = submit(w, beyond);
    expect(refusal).toEqual({ reason: 'horizon', detail: "its validUntil is 10250 ms ahead, beyond this node's horizon of 10000 ms", retryAfterMs: 250 });
    expectRecorded(w, beyond, refusal);
    expect(submit(w, exactly)).toBeNull();
  });

  it('by default takes a deadline ten years out (leap days and the report window included), refuses one further', () => {
    const w = world();
    expect(submit(w, { ...w.terms('ten-years', (10 * 365 + 3) * DAY_MS), reportWindowMs: 60_000 })).toBeNull();
    const far = w.terms('far', P.horizonMaxMs);
    expect(submit(w, far)).toEqual({ reason: 'horizon', detail: "its validUntil is 3654 days ahead, beyond this node's horizon of 3654 days", retryAfterMs: 1_000 });
  });
});

describe('full: openSettlementsMax undecided settlements', () => {
  it('refuses with a retry estimate once the node holds that many undecided, and takes again once one is decided', async () => {
    const w = world({ openSettlementsMax: 2 });
    const a = w.terms('a', 5_000);
    const b = w.terms('b', 8_000);
    expect(submit(w, a, ['payment'])).toBeNull(); // waits for the seller: undecided until its deadline
    expect(submit(w, b, ['payment'])).toBeNull();
    const c = w.terms('c');
    const refusal = submit(w, c);
    // Estimate: the earliest deadline among the undecided (a's, 5 s away), within 1 s … 60 s.
    expect(refusal).toEqual({ reason: 'full', detail: 'this node holds 2 undecided settlements (at most 2)', retryAfterMs: 5_000 });
    expectRecorded(w, c, refusal);
    expect(submit(w, a, ['asset'])).toBeNull(); // a settlement it holds is always taken
    // The other nodes take a and b too; a is decided (both legs lock now the seller authorized): room for one.
    w.intentWith(a, ['payment'], [2, 3, 4]);
    w.intentWith(b, ['payment'], [2, 3, 4]);
    await w.runUntil(2_000);
    expect(w.runtime(1).settlementStatus(toHex(settlementId(a)))).toMatchObject({ decided: true });
    expect(submit(w, w.terms('d', 5_000))).toBeNull();
    expect(submit(w, w.terms('e', 5_000))).toMatchObject({ reason: 'full' });
  });

  it('a second full case: too many open settlements without any authorization refuse intents without one', async () => {
    const w = world({ unauthorizedOpenMax: 2 });
    const a = w.terms('no-auth-a', 5_000);
    const b = w.terms('no-auth-b', 5_000);
    expect(submit(w, a, [])).toBeNull();
    expect(submit(w, b, [])).toBeNull();
    const refusal = submit(w, w.terms('no-auth-c'), []);
    expect(refusal).toMatchObject({ reason: 'full', retryAfterMs: 5_000 });
    expect(refusal!.detail).toMatch(/2 open settlements have no authorization yet \(at most 2\)/);
    // An authorized intent is taken, and so is one for a settlement the node already holds.
    expect(submit(w, w.terms('authorized'))).toBeNull();
    expect(submit(w, a, [])).toBeNull();
    expect(w.runtime(1).decisions()).toHaveLength(3);
    // Their deadline passes, ABORT closes both (nothing was locked): room again.
    w.intentWith(a, [], [2, 3, 4]);
    w.intentWith(b, [], [2, 3, 4]);
    await w.runUntil(validUntilMs(a));
    expect(submit(w, w.terms('no-auth-d'), [])).toBeNull();
  });

  it('the retry estimate stays within its bounds', () => {
    expect(fullRetryAfterMs(null, 0)).toBe(FULL_RETRY_AFTER_MIN_MS);
    expect(fullRetryAfterMs(100, 200)).toBe(FULL_RETRY_AFTER_MIN_MS); // the earliest deadline already passed
    expect(fullRetryAfterMs(10 * DAY_MS, 0)).toBe(FULL_RETRY_AFTER_MAX_MS);
    expect(fullRetryAfterMs(7_500, 2_500)).toBe(5_000);
  });

  it('a stopping node refuses as full, and records it', () => {
    const w = world();
    const terms = w.terms('stopping');
    w.runtime(1).stop();
    const refusal = submit(w, terms);
    expect(refusal).toMatchObject({ reason: 'full', detail: 'the node is stopping' });
    expectRecorded(w, terms, refusal);
  });
});

describe('the refused set', () => {
  it('keeps the (id, terms) of the most recent openSettlementsMax refusals, dropping the oldest', () => {
    const w = world({ openSettlementsMax: 2, horizonMaxMs: 10_000 });
    const refused = ['r1', 'r2', 'r3'].map((nonce) => w.terms(nonce, 20_000));
    for (const t of refused) expect(submit(w, t)).toMatchObject({ reason: 'horizon' });
    const rt = w.runtime(1);
    expect(rt.refusedTerms(toHex(settlementId(refused[0]!)))).toBeUndefined();
    expect(rt.refusedTerms(toHex(settlementId(refused[1]!)))).toEqual(refused[1]);
    expect(rt.refusedTerms(toHex(settlementId(refused[2]!)))).toEqual(refused[2]);
    expect(refusalsLogged(w, 1)).toHaveLength(3); // every refusal logged, whatever the set keeps
  });
});
