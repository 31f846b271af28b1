import { describe, expect, it } from 'vitest';
import { settlementId, toHex } from '@tandem/protocol';
import { World } from './world.js';

describe('an accepted intent is durable', () => {
  it('is persisted before submit returns: a node that crashes right after resumes the settlement', () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('durable-intent');
    const idHex = toHex(settlementId(terms));
    // Only n1 and n2 take the intent; both crash before anything else runs (no poll, no vote).
    w.intent(terms, [1, 2]);
    for (const i of [1, 2]) expect(w.node(i).storage.liveRecord(idHex)?.terms.nonce).toBe('durable-intent');
    w.crash(1);
    w.crash(2);
    w.start(1);
    w.start(2);
    for (const i of [1, 2]) expect(w.runtime(i).decisions().map((d) => d.settlementIdHex)).toEqual([idHex]);
  });

  it('lets the cluster decide when two of four nodes crash after taking the intent and come back', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('two-crashes', 5_000);
    const idHex = toHex(settlementId(terms));
    w.intent(terms);
    w.crash(3);
    w.crash(4);
    w.start(3);
    w.start(4);
    await w.runUntil(terms.deadlineMs);
    for (let i = 1; i <= w.n; i++) expect(w.runtime(i).settlementStatus(idHex)?.report?.decision).toBe('COMMIT');
  });
});
