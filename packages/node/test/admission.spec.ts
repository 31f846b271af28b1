import { describe, expect, it } from 'vitest';
import { type Message, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { proposerOf, signProposal } from '@tandem/consensus';
import { World } from './world.js';

/** A fresh 4-node world that has heard of no settlement, and terms nobody submitted. */
function fresh(): { w: World; terms: ReturnType<World['terms']> } {
  const w = new World();
  w.startAll();
  return { w, terms: w.terms('unsolicited') };
}

/** The member who is not the designated proposer of round 0 and not node 1 (the receiver). */
function bystander(w: World, terms: ReturnType<World['terms']>): number {
  const proposer = proposerOf(settlementId(terms), 0, w.n);
  return [2, 3, 4].find((i) => i !== proposer)!;
}

describe('no state from strangers or forgeries', () => {
  it('an authentic proposal from a member opens the settlement (the control case)', () => {
    const { w, terms } = fresh();
    const p = w.proposal(terms);
    w.runtime(1).receive(p.proposer, { kind: 'proposal', proposal: p });
    expect(w.runtime(1).decisions()).toEqual([{ settlementIdHex: toHex(settlementId(terms)), decided: false, closed: false, split: false, stuck: false }]);
  });

  it('a valid report for the terms opens the settlement, decided', () => {
    const { w, terms } = fresh();
    w.runtime(1).receive(2, { kind: 'report', report: w.report(terms), terms });
    expect(w.runtime(1).decisions()).toEqual([{ settlementIdHex: toHex(settlementId(terms)), decided: true, closed: false, split: false, stuck: false }]);
  });

  const forgeries: [string, (w: World, terms: ReturnType<World['terms']>) => { from: number; message: Message }][] = [
    ['a proposal in the proposer\'s name signed with another member\'s key', (w, terms) => {
      const p = w.proposal(terms, 0, bystander(w, terms));
      return { from: p.proposer, message: { kind: 'proposal', proposal: p } };
    }],
    ['a proposal signed by a member who is not the round\'s proposer', (w, terms) => {
      const other = bystander(w, terms);
      const { signature: _designated, ...body } = w.proposal(terms, 0);
      return { from: other, message: { kind: 'proposal', proposal: signProposal(w.node(other).ctx, { ...body, proposer: other }) } };
    }],
    ['a proposal whose terms do not hash to its settlement id', (w, terms) => {
      const p = w.proposal(terms);
      return { from: p.proposer, message: { kind: 'proposal', proposal: { ...p, terms: { ...terms, nonce: 'other' } } } };
    }],
    ['an authentic proposal from a non-member sender (index 0)', (w, terms) => ({ from: 0, message: { kind: 'proposal', proposal: w.proposal(terms) } })],
    ['an authentic proposal from a non-member sender (index n + 1)', (w, terms) => ({ from: w.n + 1, message: { kind: 'proposal', proposal: w.proposal(terms) } })],
    ['a report whose signature is over another decision', (w, terms) => ({
      from: 2,
      message: { kind: 'report', report: { ...w.report(terms, 'COMMIT'), signature: w.report(terms, 'ABORT').signature }, terms },
    })],
    ['a valid report sent with other terms', (w, terms) => ({ from: 2, message: { kind: 'report', report: w.report(terms), terms: { ...terms, nonce: 'other' } } })],
    ['a validly signed report with a validity time other than the terms\'', (w, terms) => ({
      from: 2,
      message: { kind: 'report', report: w.report(terms, 'COMMIT', { validUntilMs: validUntilMs(terms) + 1 }), terms },
    })],
    ['a validly signed report for another network', (w, terms) => ({
      from: 2,
      message: { kind: 'report', report: w.report(terms, 'COMMIT', { networkId: new Uint8Array(32).fill(7) }), terms },
    })],
    ['a valid report from a non-member sender', (w, terms) => ({ from: w.n + 1, message: { kind: 'report', report: w.report(terms), terms } })],
    ['a bare terms message', (_w, terms) => ({ from: 2, message: { kind: 'terms', terms } })],
  ];

  it.each(forgeries)('%s creates nothing', async (_what, make) => {
    const { w, terms } = fresh();
    const { from, message } = make(w, terms);
    w.runtime(1).receive(from, message);
    await w.runUntil(1_000);
    expect(w.runtime(1).decisions()).toEqual([]);
    expect(w.node(1).storage.all()).toEqual([]);
    expect(w.sent.filter((x) => x.from === 1)).toEqual([]);
  });

  it('a message from a non-member about a known settlement is dropped too', async () => {
    const { w, terms } = fresh();
    w.intent(terms, [1]);
    const before = w.node(1).events.length;
    w.runtime(1).receive(w.n + 1, { kind: 'report', report: w.report(terms), terms });
    expect(w.runtime(1).settlementStatus(toHex(settlementId(terms)))?.decided).toBe(false);
    expect(w.node(1).events.slice(before).filter((e) => e.type === 'decided')).toEqual([]);
  });
});
