import { describe, expect, it } from 'vitest';
import { TANDEM_BLS_DST, blsVerify, sharePublicKey } from '@tandem/crypto';
import { type Effect, SettlementInstance } from '../src/index.js';
import {
  type Fixture,
  bothLocked,
  forgeObservation,
  forgeProposal,
  forgeVote,
  fromPeer,
  makeFixture,
  msgObs,
  msgProposal,
  msgVote,
  observeInput,
  ofType,
  paymentMissing,
  reportBodyOf,
  signedVotes,
  writeAheadViolations,
} from './harness.js';
import { reportDigest } from '@tandem/protocol';

/**
 * Cast: X is the proposer of round 3, so A, B, C (proposers of rounds 0, 1, 2) propose to it.
 * X holds valid evidence for both values: COMMIT (both legs locked, from X and A) and ABORT
 * (deadline readings with the payment leg missing, from B and C).
 */
interface LockScene {
  readonly fx: Fixture;
  readonly x: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly node: SettlementInstance;
  readonly effects: Effect[];
}

function sceneWithBothValid(): LockScene {
  const fx = makeFixture();
  const [a, b, c, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(2), fx.proposer(3)];
  const node = SettlementInstance.create(fx.ctx(x), fx.terms);
  const effects: Effect[] = [];
  const feed = (out: Effect[]) => effects.push(...out);
  feed(node.step(observeInput(bothLocked(fx))));
  feed(node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx))))));
  feed(node.step(fromPeer(msgObs(forgeObservation(fx, b, paymentMissing(fx), true)))));
  feed(node.step(fromPeer(msgObs(forgeObservation(fx, c, paymentMissing(fx), true)))));
  expect([node.isValid('COMMIT'), node.isValid('ABORT'), node.round]).toEqual([true, true, 0]);
  return { fx, x, a, b, c, node, effects };
}

const commitEvidence = (s: LockScene) => [forgeObservation(s.fx, s.a, bothLocked(s.fx)), forgeObservation(s.fx, s.x, bothLocked(s.fx))];
const abortEvidence = (s: LockScene) => [forgeObservation(s.fx, s.b, paymentMissing(s.fx), true), forgeObservation(s.fx, s.c, paymentMissing(s.fx), true)];

/** Round 0: X prevotes COMMIT, sees q prevotes for COMMIT and locks; round 0 ends in nil precommits of the others. */
function lockOnCommitThenRound1(): LockScene {
  const s = sceneWithBothValid();
  const { fx, node, a, b, c } = s;
  const feed = (out: Effect[]) => {
    s.effects.push(...out);
    return out;
  };
  feed(node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', commitEvidence(s))))));
  expect(signedVotes(s.effects, 'prevote').map((v) => [v.round, v.value])).toEqual([[0, 'COMMIT']]);

  feed(node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', 'COMMIT')))));
  expect(node.lockedRound).toBe(-1); // two prevotes are not a polka
  const out = feed(node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT')))));
  // The polka: lock, remember as valid, and precommit COMMIT with a partial for (COMMIT, round 0).
  expect({ lockedValue: node.lockedValue, lockedRound: node.lockedRound, validValue: node.validValue, validRound: node.validRound }).toEqual({
    lockedValue: 'COMMIT',
    lockedRound: 0,
    validValue: 'COMMIT',
    validRound: 0,
  });
  expect(node.validPolka.map((v) => v.voter).sort()).toEqual([a, b, s.x].sort());
  const precommit = signedVotes(out, 'precommit')[0];
  expect(precommit).toMatchObject({ round: 0, value: 'COMMIT', voter: s.x });
  const partialOk = blsVerify(sharePublicKey(fx.cluster.commitments, s.x), reportDigest(reportBodyOf(fx, 'COMMIT', 0)), precommit!.partial!, TANDEM_BLS_DST);
  expect(partialOk).toBe(true);
  // The lock is persisted together with (before) the precommit that reveals it.
  const persisted = ofType(out, 'persist');
  expect(persisted.at(-1)?.record).toMatchObject({ lockedValue: 'COMMIT', lockedRound: 0 });
  expect(writeAheadViolations(out, s.x)).toEqual([]);

  // The others precommitted nil (they missed the polka): q precommits → precommit timeout → round 1.
  feed(node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'precommit', null)))));
  const third = feed(node.step(fromPeer(msgVote(forgeVote(fx, c, 0, 'precommit', null)))));
  expect(ofType(third, 'schedule').map((e) => [e.step, e.round])).toEqual([['precommit', 0]]);
  expect(node.decided).toBe(false);
  feed(node.step({ type: 'timeout', step: 'precommit', round: 0 }));
  expect([node.round, node.roundStep]).toEqual([1, 'propose']);
  return s;
}

describe('locks (Algorithm 1, lines 22–43)', () => {
  it('a node locked on COMMIT prevotes nil on an ABORT proposal with validRound −1, though ABORT is valid', () => {
    const s = lockOnCommitThenRound1();
    const out = s.node.step(fromPeer(msgProposal(forgeProposal(s.fx, 1, 'ABORT', abortEvidence(s)))));
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', null]]);
    expect([s.node.lockedValue, s.node.lockedRound]).toEqual(['COMMIT', 0]);

    // Control: the same member unlocked, with the same evidence, prevotes that proposal.
    const fresh = SettlementInstance.create(s.fx.ctx(s.x), s.fx.terms);
    fresh.step(fromPeer(msgVote(forgeVote(s.fx, s.a, 1, 'precommit', null)))); // two round-1 senders:
    fresh.step(fromPeer(msgVote(forgeVote(s.fx, s.c, 1, 'precommit', null)))); // skip to round 1
    const ctl = fresh.step(fromPeer(msgProposal(forgeProposal(s.fx, 1, 'ABORT', abortEvidence(s)))));
    expect(signedVotes(ctl).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', 'ABORT']]);
  });

  it('a locked node prevotes a proposal of its locked value again in a later round', () => {
    const s = lockOnCommitThenRound1();
    const out = s.node.step(fromPeer(msgProposal(forgeProposal(s.fx, 1, 'COMMIT', commitEvidence(s)))));
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', 'COMMIT']]);
  });

  it('unlocks on a newer polka: a proposal with validRound ≥ lockedRound and its q prevotes is prevoted, then relocks', () => {
    const s = lockOnCommitThenRound1();
    const { fx, node, a, b, c, x } = s;
    node.step(fromPeer(msgProposal(forgeProposal(fx, 1, 'ABORT', abortEvidence(s)))));
    expect(signedVotes(node.step({ type: 'resend' }), 'prevote')).toEqual([]); // resend re-signs nothing

    // A, B and C prevoted ABORT in round 1; X missed those prevotes. C proposes ABORT in round 2
    // carrying them as its proof of lock, and A's round-2 prevote arrives first: two round-2
    // senders, so X skips to round 2 and judges the proposal there.
    const polka = [a, b, c].map((m) => forgeVote(fx, m, 1, 'prevote', 'ABORT'));
    node.step(fromPeer(msgVote(forgeVote(fx, a, 2, 'prevote', 'ABORT'))));
    const out = node.step(fromPeer(msgProposal(forgeProposal(fx, 2, 'ABORT', abortEvidence(s), { validRound: 1, polka }))));
    expect(node.round).toBe(2);
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[2, 'prevote', 'ABORT']]);
    // Prevoting does not itself release the lock (line 28 only allows the prevote) ...
    expect([node.lockedValue, node.lockedRound]).toEqual(['COMMIT', 0]);

    // ... a polka for ABORT in round 2 moves it (line 36).
    const relock = node.step(fromPeer(msgVote(forgeVote(fx, b, 2, 'prevote', 'ABORT'))));
    expect([node.lockedValue, node.lockedRound, node.validValue, node.validRound]).toEqual(['ABORT', 2, 'ABORT', 2]);
    expect(signedVotes(relock).map((v) => [v.round, v.step, v.value])).toEqual([[2, 'precommit', 'ABORT']]);
    expect(writeAheadViolations([...s.effects, ...out, ...relock], x)).toEqual([]);
  });

  it('a proposal with validRound below lockedRound for the other value is not prevoted', () => {
    // Lock on COMMIT in round 1 this time, then see an ABORT proposal whose proof is from round 0.
    const fx = makeFixture({ nonce: 'lock-round-1' });
    const [a, b, c, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(2), fx.proposer(3)];
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    node.step(observeInput(bothLocked(fx)));
    node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx)))));
    node.step(fromPeer(msgObs(forgeObservation(fx, b, paymentMissing(fx), true))));
    node.step(fromPeer(msgObs(forgeObservation(fx, c, paymentMissing(fx), true))));
    node.step(fromPeer(msgVote(forgeVote(fx, b, 1, 'precommit', null))));
    node.step(fromPeer(msgVote(forgeVote(fx, c, 1, 'precommit', null))));
    expect(node.round).toBe(1);
    node.step(fromPeer(msgProposal(forgeProposal(fx, 1, 'COMMIT', [forgeObservation(fx, a, bothLocked(fx))]))));
    node.step(fromPeer(msgVote(forgeVote(fx, a, 1, 'prevote', 'COMMIT'))));
    node.step(fromPeer(msgVote(forgeVote(fx, c, 1, 'prevote', 'COMMIT'))));
    expect([node.lockedValue, node.lockedRound]).toEqual(['COMMIT', 1]);
    node.step(fromPeer(msgVote(forgeVote(fx, a, 1, 'precommit', null))));
    node.step({ type: 'timeout', step: 'precommit', round: 1 });
    expect(node.round).toBe(2);

    // An old polka (round 0 < lockedRound 1) for ABORT: X stays with its lock and prevotes nil.
    const oldPolka = [a, b, c].map((m) => forgeVote(fx, m, 0, 'prevote', 'ABORT'));
    const evidence = [forgeObservation(fx, b, paymentMissing(fx), true), forgeObservation(fx, c, paymentMissing(fx), true)];
    const out = node.step(fromPeer(msgProposal(forgeProposal(fx, 2, 'ABORT', evidence, { validRound: 0, polka: oldPolka }))));
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[2, 'prevote', null]]);
  });
});

describe('proof of lock', () => {
  /** X in round 1, propose step, COMMIT valid, no vote of its own in round 0. */
  function inRound1() {
    const fx = makeFixture({ nonce: 'proof-of-lock' });
    const [a, b, c, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(2), fx.proposer(3)];
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    node.step(observeInput(bothLocked(fx)));
    node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx)))));
    node.step(fromPeer(msgVote(forgeVote(fx, a, 1, 'precommit', null))));
    node.step(fromPeer(msgVote(forgeVote(fx, c, 1, 'precommit', null))));
    expect([node.round, node.roundStep]).toEqual([1, 'propose']);
    const evidence = [forgeObservation(fx, a, bothLocked(fx)), forgeObservation(fx, b, bothLocked(fx))];
    const propose = (polka: ReturnType<typeof forgeVote>[]) => node.step(fromPeer(msgProposal(forgeProposal(fx, 1, 'COMMIT', evidence, { validRound: 0, polka }))));
    return { fx, a, b, c, x, node, propose };
  }

  it('a re-proposal with validRound ≥ 0 but without q valid prevotes in its polka is ignored', () => {
    const { fx, a, b, c, node, propose } = inRound1();
    const good = (m: number) => forgeVote(fx, m, 0, 'prevote', 'COMMIT');
    const forgedB = { ...good(b), signature: good(b).signature.map((byte, i) => (i === 0 ? byte ^ 1 : byte)) };
    const attempts = [
      { why: 'too few prevotes', polka: [good(a), good(c)] },
      { why: 'one voter twice', polka: [good(a), good(a), good(c)] },
      { why: 'a forged signature', polka: [good(a), forgedB, good(c)] },
      { why: 'a prevote of another round', polka: [good(a), forgeVote(fx, b, 1, 'prevote', 'COMMIT'), good(c)] },
      { why: 'a precommit instead of a prevote', polka: [good(a), forgeVote(fx, b, 0, 'precommit', 'COMMIT'), good(c)] },
    ];
    for (const { why, polka } of attempts) {
      const out = propose(polka);
      expect(signedVotes(out), why).toEqual([]);
      expect(node.roundStep, why).toBe('propose');
    }
    // The forged prevote is recorded as evidence against its claimed voter.
    expect(node.misbehaviour).toContainEqual({ kind: 'bad-signature', member: b, what: 'prevote' });

    // Control: the same proposal with a full proof is taken and prevoted.
    const out = propose([good(a), good(b), good(c)]);
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', 'COMMIT']]);
  });

  it('without a proof the round runs as if nothing was proposed: the propose timeout gives nil', () => {
    const { fx, a, c, node, propose } = inRound1();
    propose([forgeVote(fx, a, 0, 'prevote', 'COMMIT'), forgeVote(fx, c, 0, 'prevote', 'COMMIT')]);
    const out = node.step({ type: 'timeout', step: 'propose', round: 1 });
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', null]]);
  });
});
