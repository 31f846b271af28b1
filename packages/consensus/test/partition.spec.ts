import { describe, expect, it } from 'vitest';
import { Net, bothLocked, makeFixture, ofType, reportVerifies, signedVotes, writeAheadViolations } from './harness.js';

describe('a lost-message partition heals', () => {
  it('two pairs that only hear each other stall on nil votes; after the heal, resends lead all to one decision', () => {
    const fx = makeFixture({ nonce: 'partition' });
    const net = new Net(fx);
    const p0 = fx.proposer(0);
    const sideA = new Set([p0, fx.proposer(2)]);
    const sameSide = (from: number, to: number) => sideA.has(from) === sideA.has(to);
    net.link = sameSide; // messages across the cut are lost, not delayed

    for (const m of fx.members) net.observe(m, bothLocked(fx));
    const events = net.run();
    expect(events).toBeGreaterThan(0);
    expect(net.inflight).toEqual([]);
    expect(net.timers).toEqual([]); // every scheduled timeout fired; nothing else can happen

    for (const m of fx.members) {
      const node = net.node(m);
      const votes = signedVotes(net.effectsOf(m)).map((v) => [v.round, v.step, v.value]);
      // The proposer's side prevotes its proposal; the other side never sees it and times out to nil.
      expect(votes, `member ${m}`).toEqual([[0, 'prevote', sideA.has(m) ? 'COMMIT' : null]]);
      // Two of four is no quorum: no lock, no precommit, no decision, still round 0.
      expect([node.round, node.lockedRound, node.decided]).toEqual([0, -1, false]);
    }

    // Heal. Nothing sent during the partition is replayed: only the resends carry it across.
    net.link = () => true;
    net.resendAll();
    net.run();

    const reports = net.reports();
    for (const r of reports) {
      expect(r).not.toBeNull();
      expect(r!.decision).toBe(reports[0]!.decision);
      expect(r!.signature).toEqual(reports[0]!.signature);
    }
    // Round 0 mixes COMMIT and nil prevotes (no polka) and ends in nil precommits; round 1 commits.
    expect(reports[0]).toMatchObject({ decision: 'COMMIT', round: 1 });
    expect(reportVerifies(fx, reports[0]!)).toBe(true);
    for (const m of fx.members) {
      expect(ofType(net.effectsOf(m), 'decided')).toHaveLength(1);
      expect(writeAheadViolations(net.effectsOf(m), m)).toEqual([]);
    }
  });

  it('a cut that isolates one node: the other three decide; the isolated one decides from a report after the heal', () => {
    const fx = makeFixture({ nonce: 'isolated' });
    const net = new Net(fx);
    const alone = fx.proposer(1);
    net.link = (from, to) => from !== alone && to !== alone;
    for (const m of fx.members) net.observe(m, bothLocked(fx));
    net.run(() => fx.members.filter((m) => m !== alone).every((m) => net.node(m).decided));
    expect(net.node(alone).decided).toBe(false);
    expect(net.node(alone).isValid('COMMIT')).toBe(false); // it never heard a second member

    net.link = () => true;
    net.input(alone, { type: 'resend' }); // its observation reaches decided nodes, which answer with the report
    net.run();
    expect(net.node(alone).report).toEqual(net.node(fx.proposer(0)).report);
    // It joined by the report alone: it never voted.
    expect(signedVotes(net.effectsOf(alone))).toEqual([]);
  });
});
