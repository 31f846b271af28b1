import { describe, expect, it } from 'vitest';
import { SettlementInstance, timeoutMs } from '../src/index.js';
import {
  Net,
  bothLocked,
  broadcastProposals,
  forgeObservation,
  forgeProposal,
  forgeVote,
  fromPeer,
  makeFixture,
  msgObs,
  msgProposal,
  msgVote,
  noneView,
  observeInput,
  ofType,
  others,
  paymentMissing,
  signedVotes,
  writeAheadViolations,
} from './harness.js';

describe('entering round 0', () => {
  it('needs f+1 distinct members of evidence: one own observation, a none reading and one ABORT reading are not enough', () => {
    const fx = makeFixture();
    const x = fx.proposer(1); // not the round-0 proposer, so entering round 0 does not propose
    const [a, b, c] = others(fx, x);
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);

    const steps = [
      node.step(observeInput(bothLocked(fx))),
      node.step(fromPeer(msgObs(forgeObservation(fx, a!, { asset: noneView(), payment: noneView() })))),
      // One deadline reading with a leg missing is one member of ABORT support: still not f+1.
      node.step(fromPeer(msgObs(forgeObservation(fx, b!, paymentMissing(fx), true)))),
    ];
    for (const out of steps) {
      expect(ofType(out, 'round')).toEqual([]);
      expect(ofType(out, 'valid')).toEqual([]);
    }
    expect(node.round).toBe(-1);
    expect(node.isValid('COMMIT') || node.isValid('ABORT')).toBe(false);

    // A second member showing both legs locked makes COMMIT valid: the node enters round 0.
    const out = node.step(fromPeer(msgObs(forgeObservation(fx, c!, bothLocked(fx)))));
    expect(ofType(out, 'valid').map((e) => e.value)).toEqual(['COMMIT']);
    expect(ofType(out, 'round').map((e) => e.round)).toEqual([0]);
    expect(ofType(out, 'schedule')).toEqual([{ type: 'schedule', step: 'propose', round: 0, delayMs: timeoutMs(fx.params, 'propose', 0) }]);
    expect(node.round).toBe(0);
    expect(node.roundStep).toBe('propose');
    expect(broadcastProposals(out)).toEqual([]); // not its turn
    expect(signedVotes(out)).toEqual([]); // waits for the proposal (or the propose timeout)
  });

  it('enters round 0 on a valid proposal and prevotes it, with no observation of its own', () => {
    const fx = makeFixture();
    const p0 = fx.proposer(0);
    const x = fx.proposer(1);
    const witness = others(fx, p0, x)[0]!;
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    const evidence = [forgeObservation(fx, p0, bothLocked(fx)), forgeObservation(fx, witness, bothLocked(fx))];
    const out = node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', evidence))));
    expect(ofType(out, 'round').map((e) => e.round)).toEqual([0]);
    expect(ofType(out, 'valid').map((e) => e.value)).toEqual(['COMMIT']);
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[0, 'prevote', 'COMMIT']]);
    expect(node.roundStep).toBe('prevote');
    expect(writeAheadViolations(out, x)).toEqual([]);
  });

  /*
   * docs/protocol.md, Consensus: a node enters round 0 on valid evidence, a VALID proposal, or f+1 messages.
   * An authentic proposal whose evidence does not make its value valid must not pull nodes into
   * rounds (they would run empty nil rounds with growing timeouts, forever).
   */
  it('a proposal whose evidence does not make its value valid does not pull nodes into round 0', () => {
    const fx = makeFixture({ nonce: 'evidence-less-proposal' });
    const net = new Net(fx);
    const p0 = fx.proposer(0);
    net.down.add(p0); // Byzantine: sends one proposal by hand, nothing else
    const empty = forgeProposal(fx, 0, 'COMMIT', []);
    for (const m of net.live()) net.input(m, { type: 'message', from: p0, message: msgProposal(empty) });
    net.run(() => false, 300);
    for (const m of net.live()) {
      expect(net.node(m).round, `member ${m}`).toBe(-1);
      expect(signedVotes(net.effectsOf(m)), `member ${m}`).toEqual([]);
    }
  });

  it('round skip: f+1 distinct members sending messages of a higher round move the node there', () => {
    const fx = makeFixture();
    const x = fx.proposer(1);
    const [a, b] = others(fx, x, fx.proposer(0));
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);

    // No evidence at all: one member's round-0 vote is not enough, f+1 members' are.
    let out = node.step(fromPeer(msgVote(forgeVote(fx, a!, 0, 'prevote', null))));
    expect(node.round).toBe(-1);
    expect(ofType(out, 'round')).toEqual([]);
    out = node.step(fromPeer(msgVote(forgeVote(fx, b!, 0, 'prevote', null))));
    expect(node.round).toBe(0);
    expect(ofType(out, 'round').map((e) => e.round)).toEqual([0]);

    // From round 0 straight to round 3; the same member twice is one sender, not two.
    const late = forgeVote(fx, a!, 3, 'precommit', null);
    node.step(fromPeer(msgVote(late)));
    out = node.step(fromPeer(msgVote(late)));
    expect(node.round).toBe(0);
    expect(ofType(out, 'round')).toEqual([]);
    out = node.step(fromPeer(msgVote(forgeVote(fx, b!, 3, 'prevote', null))));
    expect(node.round).toBe(3);
    expect(node.roundStep).toBe('propose');
    expect(ofType(out, 'round').map((e) => e.round)).toEqual([3]); // rounds 1 and 2 are skipped
    expect(ofType(out, 'schedule')).toEqual([{ type: 'schedule', step: 'propose', round: 3, delayMs: timeoutMs(fx.params, 'propose', 3) }]);
    expect(timeoutMs(fx.params, 'propose', 3)).toBe(fx.params.timeoutProposeMs + 3 * fx.params.timeoutDeltaMs);

    // Messages of a lower round never move it back.
    node.step(fromPeer(msgVote(forgeVote(fx, a!, 1, 'prevote', null))));
    node.step(fromPeer(msgVote(forgeVote(fx, b!, 1, 'prevote', null))));
    expect(node.round).toBe(3);
  });
});

describe('nil is not ABORT', () => {
  it('a round that times out ends in nil votes, never an ABORT decision, and a later round still commits', () => {
    const fx = makeFixture({ nonce: 'nil-round' });
    const net = new Net(fx);
    const p0 = fx.proposer(0);
    net.down.add(p0); // the round-0 proposer is crashed: round 0 must time out
    const live = net.live();
    for (const m of live) net.observe(m, bothLocked(fx));

    net.run(() => live.every((m) => net.node(m).round >= 1));
    for (const m of live) {
      const round0 = signedVotes(net.effectsOf(m)).filter((v) => v.round === 0);
      // Propose timeout → nil prevote; q nil prevotes → nil precommit (no partial, nothing to combine).
      expect(round0.map((v) => [v.step, v.value, v.partial])).toEqual([
        ['prevote', null, null],
        ['precommit', null, null],
      ]);
      expect(ofType(net.effectsOf(m), 'decided')).toEqual([]);
      expect(net.node(m).lockedRound).toBe(-1);
      expect(net.node(m).round).toBe(1);
    }

    net.run();
    for (const m of live) expect(net.node(m).report).toMatchObject({ decision: 'COMMIT', round: 1 });
    // No node ever signed an ABORT vote: nil stayed nil.
    for (const m of live) expect(signedVotes(net.effectsOf(m)).some((v) => v.value === 'ABORT')).toBe(false);
  });

  it('a node alone times out to nil and keeps no ABORT, even holding valid ABORT evidence', () => {
    const fx = makeFixture();
    const x = fx.proposer(2);
    const [a, b] = others(fx, x, fx.proposer(0));
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    node.step(fromPeer(msgObs(forgeObservation(fx, a!, paymentMissing(fx), true))));
    node.step(fromPeer(msgObs(forgeObservation(fx, b!, paymentMissing(fx), true))));
    expect(node.isValid('ABORT')).toBe(true);
    expect(node.round).toBe(0);

    const effects = [...node.step({ type: 'timeout', step: 'propose', round: 0 })];
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, a!, 0, 'prevote', null)))));
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, b!, 0, 'prevote', null)))));
    effects.push(...node.step({ type: 'timeout', step: 'prevote', round: 0 }));
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, a!, 0, 'precommit', null)))));
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, b!, 0, 'precommit', null)))));
    expect(ofType(effects, 'schedule')).toContainEqual({ type: 'schedule', step: 'precommit', round: 0, delayMs: timeoutMs(fx.params, 'precommit', 0) });
    effects.push(...node.step({ type: 'timeout', step: 'precommit', round: 0 }));

    expect(signedVotes(effects).map((v) => [v.round, v.step, v.value])).toEqual([
      [0, 'prevote', null],
      [0, 'precommit', null],
    ]);
    expect(node.round).toBe(1);
    expect(node.decided).toBe(false);
    expect(ofType(effects, 'decided')).toEqual([]);
    expect([node.lockedValue, node.validValue]).toEqual([null, null]);
  });
});

describe('late proposal', () => {
  it('the proposer without valid evidence does not propose; when evidence arrives in the propose step it proposes', () => {
    const fx = makeFixture();
    const p = fx.proposer(0);
    const [a, b, c] = others(fx, p);
    const node = SettlementInstance.create(fx.ctx(p), fx.terms);

    // Dragged into round 0 by f+1 members' messages, with nothing valid to propose.
    const early = [
      ...node.step(fromPeer(msgVote(forgeVote(fx, a!, 0, 'prevote', null)))),
      ...node.step(fromPeer(msgVote(forgeVote(fx, b!, 0, 'prevote', null)))),
      ...node.step(observeInput(bothLocked(fx))), // its own reading: one member, not f+1
    ];
    expect(node.round).toBe(0);
    expect(node.roundStep).toBe('propose');
    expect(broadcastProposals(early)).toEqual([]);
    expect(ofType(early, 'signed').filter((e) => e.message.kind === 'proposal')).toEqual([]);

    const out = node.step(fromPeer(msgObs(forgeObservation(fx, c!, bothLocked(fx)))));
    const proposals = broadcastProposals(out);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ round: 0, proposer: p, value: 'COMMIT', validRound: -1 });
    expect(proposals[0]!.evidence.map((o) => o.signer)).toEqual([p, c!].sort((x, y) => x - y));
    // It then prevotes its own proposal, all persisted before anything is sent.
    expect(signedVotes(out).map((v) => [v.step, v.value])).toEqual([['prevote', 'COMMIT']]);
    expect(writeAheadViolations([...early, ...out], p)).toEqual([]);
  });

  it('a proposer whose propose step timed out does not propose in that round any more', () => {
    const fx = makeFixture();
    const p = fx.proposer(0);
    const [a, b, c] = others(fx, p);
    const node = SettlementInstance.create(fx.ctx(p), fx.terms);
    // Precommits (not prevotes) drag it into round 0, so its nil prevote completes no nil polka.
    node.step(fromPeer(msgVote(forgeVote(fx, a!, 0, 'precommit', null))));
    node.step(fromPeer(msgVote(forgeVote(fx, b!, 0, 'precommit', null))));
    expect(node.round).toBe(0);
    const timedOut = node.step({ type: 'timeout', step: 'propose', round: 0 });
    expect(signedVotes(timedOut).map((v) => [v.step, v.value])).toEqual([['prevote', null]]);
    node.step(observeInput(bothLocked(fx)));
    const out = node.step(fromPeer(msgObs(forgeObservation(fx, c!, bothLocked(fx)))));
    expect(broadcastProposals(out)).toEqual([]);
    expect(node.isValid('COMMIT')).toBe(true);
  });
});
