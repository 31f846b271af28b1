import { describe, expect, it } from 'vitest';
import { SettlementInstance, supportsAbort, supportsCommit } from '../src/index.js';
import {
  Net,
  bothLocked,
  broadcastProposals,
  forgeObservation,
  forgeVote,
  fromPeer,
  lockedView,
  makeFixture,
  msgObs,
  msgVote,
  noneView,
  observeInput,
  ofType,
  others,
  paymentMissing,
  rejectedView,
  reportVerifies,
  signedVotes,
  stateView,
  wrongLockView,
  writeAheadViolations,
} from './harness.js';

describe('valid(v): which observations support which value', () => {
  const fx = makeFixture({ nonce: 'validity-table' });
  const locked = { asset: lockedView(fx, 'asset'), payment: lockedView(fx, 'payment') };
  const cases = [
    { name: 'both locked', legs: locked, deadline: false, commit: true, abort: false },
    { name: 'both locked, at the deadline', legs: locked, deadline: true, commit: true, abort: false },
    { name: 'payment none', legs: paymentMissing(fx), deadline: false, commit: false, abort: false },
    { name: 'payment none, at the deadline', legs: paymentMissing(fx), deadline: true, commit: false, abort: true },
    { name: 'asset locked with another amount, at the deadline', legs: { asset: wrongLockView(fx, 'asset'), payment: lockedView(fx, 'payment') }, deadline: true, commit: false, abort: true },
    { name: 'asset locked with another amount', legs: { asset: wrongLockView(fx, 'asset'), payment: lockedView(fx, 'payment') }, deadline: false, commit: false, abort: false },
    { name: 'payment rejected', legs: { asset: lockedView(fx, 'asset'), payment: rejectedView() }, deadline: false, commit: false, abort: true },
    { name: 'asset rejected, payment none', legs: { asset: rejectedView(), payment: noneView() }, deadline: false, commit: false, abort: true },
    { name: 'asset committed, payment none, at the deadline', legs: { asset: stateView('committed', fx, 'asset'), payment: noneView() }, deadline: true, commit: false, abort: false },
    { name: 'asset committed, payment rejected', legs: { asset: stateView('committed', fx, 'asset'), payment: rejectedView() }, deadline: true, commit: false, abort: false },
    { name: 'payment committed, asset locked, at the deadline', legs: { asset: lockedView(fx, 'asset'), payment: stateView('committed', fx, 'payment') }, deadline: true, commit: false, abort: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const o = forgeObservation(fx, 1, c.legs, c.deadline);
      expect([supportsCommit(o, fx.terms, fx.groupKey), supportsAbort(o, fx.terms, fx.groupKey)]).toEqual([c.commit, c.abort]);
    });
  }
});

describe('ABORT path', () => {
  it('deadline observations with a leg missing from f+1 members make ABORT valid and the cluster decides ABORT', () => {
    const fx = makeFixture({ nonce: 'abort-path' });
    const net = new Net(fx);
    for (const m of fx.members) net.observe(m, paymentMissing(fx), true);
    net.run();
    const reports = net.reports();
    for (const r of reports) {
      expect(r).toMatchObject({ decision: 'ABORT', round: 0 });
      expect(r!.signature).toEqual(reports[0]!.signature);
    }
    expect(reportVerifies(fx, reports[0]!)).toBe(true);
    for (const m of fx.members) {
      const effects = net.effectsOf(m);
      expect(ofType(effects, 'valid').map((e) => e.value)).toEqual(['ABORT']);
      expect(signedVotes(effects).some((v) => v.value === 'COMMIT')).toBe(false);
      // The deadline observation is persisted before it is broadcast.
      expect(net.lastPersist(m)?.deadlineObservation?.signer).toBe(m);
      expect(writeAheadViolations(effects, m)).toEqual([]);
    }
  });

  it('a node signs one deadline observation per settlement and re-sends that one', () => {
    const fx = makeFixture({ nonce: 'one-deadline-observation' });
    const node = SettlementInstance.create(fx.ctx(1), fx.terms);
    const first = node.step(observeInput(paymentMissing(fx), true));
    const signed = ofType(first, 'signed');
    expect(signed).toHaveLength(1);
    // A later deadline reading (both legs now locked) signs nothing new: the first is re-sent.
    const again = node.step(observeInput(bothLocked(fx), true));
    expect(ofType(again, 'signed')).toEqual([]);
    expect(ofType(again, 'broadcast').map((e) => e.message)).toEqual([signed[0]!.message]);
  });

  it('a rejection of either leg is ABORT evidence, without any deadline', () => {
    const fx = makeFixture({ nonce: 'rejection' });
    const x = fx.proposer(3);
    const [a, b] = others(fx, x, fx.proposer(0));
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    const effects = [
      ...node.step(fromPeer(msgObs(forgeObservation(fx, a!, { asset: lockedView(fx, 'asset'), payment: rejectedView() })))),
      ...node.step(fromPeer(msgObs(forgeObservation(fx, b!, { asset: rejectedView(), payment: noneView() })))),
    ];
    expect(ofType(effects, 'valid').map((e) => e.value)).toEqual(['ABORT']);
    expect(node.round).toBe(0);
  });

  it('observations showing a COMMIT applied on a leg are never ABORT evidence, even from every member', () => {
    const fx = makeFixture({ nonce: 'committed-leg' });
    const x = fx.proposer(3);
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    const legs = { asset: stateView('committed', fx, 'asset'), payment: noneView() };
    const effects = [...node.step(observeInput(legs, true))];
    for (const m of others(fx, x)) {
      effects.push(...node.step(fromPeer(msgObs(forgeObservation(fx, m, legs, true)))));
      effects.push(...node.step(fromPeer(msgObs(forgeObservation(fx, m, { asset: stateView('committed', fx, 'asset'), payment: rejectedView() })))));
    }
    expect(ofType(effects, 'valid')).toEqual([]);
    expect([node.isValid('ABORT'), node.isValid('COMMIT'), node.round]).toEqual([false, false, -1]);
  });

  it('COMMIT wins when both values are valid, whichever became valid first', () => {
    const fx = makeFixture({ nonce: 'commit-wins' });
    const p1 = fx.proposer(1);
    const [a, b, c] = others(fx, p1);
    const node = SettlementInstance.create(fx.ctx(p1), fx.terms);
    // ABORT first (it enters round 0, where it is not the proposer), then COMMIT.
    node.step(fromPeer(msgObs(forgeObservation(fx, a!, paymentMissing(fx), true))));
    node.step(fromPeer(msgObs(forgeObservation(fx, b!, paymentMissing(fx), true))));
    expect([node.round, node.isValid('ABORT')]).toEqual([0, true]);
    node.step(fromPeer(msgObs(forgeObservation(fx, a!, bothLocked(fx)))));
    node.step(fromPeer(msgObs(forgeObservation(fx, c!, bothLocked(fx)))));
    expect(node.isValid('COMMIT')).toBe(true);

    // Round 1 is its turn.
    node.step(fromPeer(msgVote(forgeVote(fx, a!, 1, 'precommit', null))));
    const out = node.step(fromPeer(msgVote(forgeVote(fx, b!, 1, 'precommit', null))));
    const proposals = broadcastProposals(out);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ round: 1, value: 'COMMIT', validRound: -1 });
    expect(proposals[0]!.evidence.every((o) => supportsCommit(o, fx.terms, fx.groupKey))).toBe(true);
  });
});
