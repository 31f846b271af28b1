import { describe, expect, it } from 'vitest';
import { reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import { DEFAULT_RUNTIME_PARAMS } from '../src/index.js';
import { World } from './world.js';

const RESEND_MS = DEFAULT_RUNTIME_PARAMS.resendMs;

describe('bounded memory and storage: closed settlements are archived after their reclaim time', () => {
  it('keeps a decided, closed settlement until its reclaim time, then drops it and archives its record', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('archived');
    const idHex = toHex(settlementId(terms));
    w.intent(terms);
    await w.runUntil(reclaimAtMs(terms) - 1);
    for (let i = 1; i <= w.n; i++) {
      expect(w.runtime(i).decisions()).toEqual([{ settlementIdHex: idHex, decided: true, closed: true, split: false, stuck: false }]);
      expect(w.node(i).storage.liveRecord(idHex)?.report?.decision).toBe('COMMIT');
    }
    await w.runUntil(reclaimAtMs(terms) + RESEND_MS);
    for (let i = 1; i <= w.n; i++) {
      expect(w.runtime(i).decisions()).toEqual([]);
      expect(w.node(i).storage.all()).toEqual([]);
      expect(w.node(i).storage.archivedRecord(idHex)?.report?.decision).toBe('COMMIT');
    }
    // A restart resumes nothing archived.
    w.crash(1);
    w.start(1);
    expect(w.runtime(1).decisions()).toEqual([]);
  });

  it('never reopens a settlement past its reclaim time: a late proposal, report or intent creates nothing', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('late');
    w.intent(terms);
    await w.runUntil(reclaimAtMs(terms) + RESEND_MS);
    expect(w.runtime(1).decisions()).toEqual([]);
    const sentBefore = w.sent.length;
    const p = w.proposal(terms);
    w.runtime(1).receive(p.proposer === 1 ? 2 : p.proposer, { kind: 'proposal', proposal: p });
    w.runtime(1).receive(2, { kind: 'report', report: w.report(terms), terms });
    w.intent(terms, [1]);
    await w.runUntil(reclaimAtMs(terms) + 3 * RESEND_MS);
    expect(w.runtime(1).decisions()).toEqual([]);
    expect(w.node(1).storage.all()).toEqual([]);
    expect(w.sent.length).toBe(sentBefore); // and nothing was answered
  });

  it('keeps a settlement that is not closed on both legs, even past its reclaim time', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('stuck');
    const idHex = toHex(settlementId(terms));
    // Only two of four nodes run: no quorum, no report; both legs stay locked (no party reclaims here).
    w.crash(3);
    w.crash(4);
    w.intent(terms, [1, 2]);
    await w.runUntil(reclaimAtMs(terms) + 2 * RESEND_MS);
    for (const i of [1, 2]) {
      expect(w.runtime(i).decisions()).toEqual([{ settlementIdHex: idHex, decided: false, closed: false, split: false, stuck: false }]);
      expect(w.node(i).storage.liveRecord(idHex)).toBeDefined();
    }
  });
});
