import { describe, expect, it } from 'vitest';
import { TANDEM_BLS_DST, blsSign } from '@tandem/crypto';
import { equalBytes, networkIdFromName, reportDigest, settlementId } from '@tandem/protocol';
import { type Effect, SettlementInstance } from '../src/index.js';
import {
  type Fixture,
  bothLocked,
  broadcastVotes,
  forgeObservation,
  forgeProposal,
  forgeVote,
  fromPeer,
  makeFixture,
  makeTerms,
  msgObs,
  msgProposal,
  msgVote,
  noneView,
  observeInput,
  ofType,
  paymentMissing,
  reportBodyOf,
  reportVerifies,
  signedVotes,
  thresholdReport,
} from './harness.js';

const flipFirstByte = (b: Uint8Array): Uint8Array => b.map((x, i) => (i === 0 ? x ^ 0x01 : x));

/** X (proposer of round 3) in round 0 with COMMIT valid, after prevoting p0's COMMIT proposal. */
function prevotedCommit(nonce: string) {
  const fx = makeFixture({ nonce });
  const [a, b, c, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(2), fx.proposer(3)];
  const node = SettlementInstance.create(fx.ctx(x), fx.terms);
  node.step(observeInput(bothLocked(fx)));
  node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx)))));
  const out = node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', [forgeObservation(fx, a, bothLocked(fx)), forgeObservation(fx, b, bothLocked(fx))]))));
  expect(signedVotes(out).map((v) => [v.step, v.value])).toEqual([['prevote', 'COMMIT']]);
  return { fx, a, b, c, x, node };
}

/** ... and then locked on COMMIT and precommitted it (its own partial is in). */
function precommittedCommit(nonce: string) {
  const s = prevotedCommit(nonce);
  s.node.step(fromPeer(msgVote(forgeVote(s.fx, s.a, 0, 'prevote', 'COMMIT'))));
  const out = s.node.step(fromPeer(msgVote(forgeVote(s.fx, s.b, 0, 'prevote', 'COMMIT'))));
  expect(signedVotes(out).map((v) => [v.step, v.value])).toEqual([['precommit', 'COMMIT']]);
  return s;
}

const evidenceOf = (effects: readonly Effect[]) => ofType(effects, 'evidence').map((e) => e.misbehaviour);

describe('conflicting proposals', () => {
  it('the first proposal of a round stands; a conflicting one is recorded as equivocation', () => {
    const fx = makeFixture({ nonce: 'equivocating-proposer' });
    const [p0, b, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(3)];
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    const abortFirst = forgeProposal(fx, 0, 'ABORT', [forgeObservation(fx, p0, paymentMissing(fx), true), forgeObservation(fx, b, paymentMissing(fx), true)]);
    const commitSecond = forgeProposal(fx, 0, 'COMMIT', [forgeObservation(fx, p0, bothLocked(fx)), forgeObservation(fx, b, bothLocked(fx))]);

    const first = node.step(fromPeer(msgProposal(abortFirst)));
    expect(signedVotes(first).map((v) => [v.round, v.step, v.value])).toEqual([[0, 'prevote', 'ABORT']]);
    expect(evidenceOf(first)).toEqual([]);

    const second = node.step(fromPeer(msgProposal(commitSecond)));
    expect(evidenceOf(second)).toEqual([{ kind: 'equivocation', member: p0, round: 0, step: 'proposal', first: 'ABORT', second: 'COMMIT' }]);
    expect(signedVotes(second)).toEqual([]);
    // What it re-sends is still its one prevote for the first proposal.
    expect(broadcastVotes(node.step({ type: 'resend' })).map((v) => [v.step, v.value])).toEqual([['prevote', 'ABORT']]);

    // The first proposal again is a duplicate, not more evidence.
    expect(evidenceOf(node.step(fromPeer(msgProposal(abortFirst))))).toEqual([]);
  });

  it('a proposal from a member who is not the round\'s proposer is ignored', () => {
    const fx = makeFixture({ nonce: 'wrong-proposer' });
    const [p0, b, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(3)];
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    const evidence = [forgeObservation(fx, p0, bothLocked(fx)), forgeObservation(fx, b, bothLocked(fx))];
    const out = node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', evidence, { proposer: b }))));
    expect(signedVotes(out)).toEqual([]);
    expect(node.round).toBe(-1);
  });
});

describe('vote authentication and deduplication', () => {
  it('votes with a bad Ed25519 signature or for another network, configuration or settlement are not counted', () => {
    const { fx, a, b, c, x, node } = prevotedCommit('bad-votes');
    const otherTerms = makeTerms('another-settlement');
    const forged: { voter: number; vote: ReturnType<typeof forgeVote> }[] = [
      { voter: a, vote: { ...forgeVote(fx, a, 0, 'prevote', 'COMMIT'), signature: flipFirstByte(forgeVote(fx, a, 0, 'prevote', 'COMMIT').signature) } },
      { voter: b, vote: forgeVote(fx, b, 0, 'prevote', 'COMMIT', { header: { networkId: networkIdFromName('other-network') } }) },
      { voter: c, vote: forgeVote(fx, c, 0, 'prevote', 'COMMIT', { header: { configDigest: new Uint8Array(32).fill(7) } }) },
      { voter: a, vote: forgeVote(fx, a, 0, 'prevote', 'COMMIT', { header: { settlementId: settlementId(otherTerms) } }) },
      // A nil prevote claiming to be X's own, signed by A: the signature does not match X's key.
      { voter: x, vote: { ...forgeVote(fx, a, 0, 'prevote', null), voter: x } },
    ];
    const all: Effect[] = [];
    for (const { voter, vote } of forged) {
      const out = node.step(fromPeer(msgVote(vote), voter));
      all.push(...out);
      // A forged signature is evidence against the claimed voter; a vote for another network,
      // configuration or settlement is misrouting, dropped without accusing anyone.
      const misrouted = !equalBytes(vote.networkId, fx.cluster.networkId) || !equalBytes(vote.configDigest, fx.ctx(x).configDigest) || !equalBytes(vote.settlementId, settlementId(fx.terms));
      expect(evidenceOf(out)).toEqual(misrouted ? [] : [{ kind: 'bad-signature', member: voter, what: 'prevote' }]);
      expect(signedVotes(out)).toEqual([]);
    }
    // Five forgeries and the node's own prevote: no polka, and not even q prevotes for the timeout.
    expect([node.lockedRound, node.roundStep]).toEqual([-1, 'prevote']);
    expect(ofType(all, 'schedule')).toEqual([]);

    // The genuine votes of the same members still count (a forgery does not block them).
    node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', 'COMMIT'))));
    const out = node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT'))));
    expect(evidenceOf(out)).toEqual([]);
    expect([node.lockedValue, node.lockedRound]).toEqual(['COMMIT', 0]);
  });

  it('a duplicate vote (same content) is counted once, whatever its signature bytes', () => {
    const { fx, a, b, node } = prevotedCommit('duplicate-votes');
    const va = forgeVote(fx, a, 0, 'prevote', 'COMMIT');
    const effects = [
      ...node.step(fromPeer(msgVote(va))),
      ...node.step(fromPeer(msgVote(va))),
      ...node.step(fromPeer(msgVote({ ...va, signature: flipFirstByte(va.signature) }))),
    ];
    // Own prevote + A's: two of q = 3. No prevote timeout, no lock, and a duplicate is no equivocation.
    expect(ofType(effects, 'schedule')).toEqual([]);
    expect(evidenceOf(effects)).toEqual([]);
    expect(node.lockedRound).toBe(-1);
    expect(node.roundStep).toBe('prevote');

    const out = node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT'))));
    expect(node.lockedRound).toBe(0);
    expect(ofType(out, 'schedule').map((e) => [e.step, e.round])).toEqual([['prevote', 0]]);
  });

  it('a second, different vote of a member for the same round and step is equivocation, and counts for each value it signed', () => {
    const { fx, a, b, node } = prevotedCommit('equivocating-voter');
    node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', null))));
    const out = node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', 'COMMIT'))));
    expect(evidenceOf(out)).toEqual([{ kind: 'equivocation', member: a, round: 0, step: 'prevote', first: 'null', second: 'COMMIT' }]);
    // A signed both nil and COMMIT: a polka is "q members signed v", so own + A + B make the
    // COMMIT polka (safe: two polkas would need a correct member to equivocate). Keeping only
    // A's first vote would let an equivocator hide a valid proof of lock and stall rounds.
    const third = node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT'))));
    expect([node.lockedValue, node.lockedRound]).toEqual(['COMMIT', 0]);
    expect(ofType(third, 'schedule').map((e) => [e.step, e.round])).toEqual([['prevote', 0]]);
    // A third vote of A, identical in content to one it already signed, is a duplicate: no new evidence.
    expect(evidenceOf(node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', null)))))).toEqual([]);
  });
});

describe('bad BLS partials', () => {
  it('a bad partial among q precommits blocks no decision: it is named, left out, and one more good precommit decides', () => {
    const { fx, a, b, c, x, node } = precommittedCommit('bad-partial');
    // A signs its precommit properly with Ed25519, but its partial is over another report (round 1).
    const wrongPartial = blsSign(fx.keysOf(a).shareSecret, reportDigest(reportBodyOf(fx, 'COMMIT', 1)), TANDEM_BLS_DST);
    const bad = node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'precommit', 'COMMIT', { partial: wrongPartial }))));
    expect(evidenceOf(bad)).toEqual([]); // only two partials so far: nothing combined yet

    const third = node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'precommit', 'COMMIT'))));
    expect(evidenceOf(third)).toEqual([{ kind: 'bad-partial', member: a, round: 0, value: 'COMMIT' }]);
    expect(node.decided).toBe(false);
    expect(ofType(third, 'decided')).toEqual([]);
    // The bad precommit still counts toward the precommit timeout (q precommits seen).
    expect(ofType(third, 'schedule').map((e) => [e.step, e.round])).toEqual([['precommit', 0]]);

    const fourth = node.step(fromPeer(msgVote(forgeVote(fx, c, 0, 'precommit', 'COMMIT'))));
    expect(evidenceOf(fourth)).toEqual([]); // A is not blamed twice
    const decided = ofType(fourth, 'decided');
    expect(decided).toHaveLength(1);
    expect(decided[0]!.report).toMatchObject({ decision: 'COMMIT', round: 0 });
    expect(reportVerifies(fx, decided[0]!.report)).toBe(true);
    // Threshold signatures are unique: the report equals one made from any q good partials.
    expect(decided[0]!.report.signature).toEqual(thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 0)).signature);
    expect(node.report).toEqual(decided[0]!.report);
    expect(node.misbehaviour.filter((m) => m.kind === 'bad-partial').map((m) => m.member)).toEqual([a]);
    expect(x).not.toBe(a);
  });

  it('precommits of different rounds are never combined', () => {
    const { fx, a, b, node } = precommittedCommit('rounds-apart');
    // A's and B's precommits for COMMIT in round 1, X's in round 0: three partials, two digests.
    const out = [
      ...node.step(fromPeer(msgVote(forgeVote(fx, a, 1, 'precommit', 'COMMIT')))),
      ...node.step(fromPeer(msgVote(forgeVote(fx, b, 1, 'precommit', 'COMMIT')))),
    ];
    expect(ofType(out, 'decided')).toEqual([]);
    expect(evidenceOf(out)).toEqual([]);
    expect(node.decided).toBe(false);
  });
});

describe('lies alone never justify COMMIT', () => {
  it('f (= 1) member claiming both legs locked, even twice and inside its own proposal, is not enough', () => {
    const fx: Fixture = makeFixture({ nonce: 'lies' });
    const [liar, x] = [fx.proposer(0), fx.proposer(3)];
    const node = SettlementInstance.create(fx.ctx(x), fx.terms);
    node.step(observeInput({ asset: noneView(), payment: noneView() }));
    const lie1 = forgeObservation(fx, liar, bothLocked(fx), false, 12n);
    const lie2 = forgeObservation(fx, liar, bothLocked(fx), true, 13n);
    const effects = [...node.step(fromPeer(msgObs(lie1))), ...node.step(fromPeer(msgObs(lie2)))];
    expect(ofType(effects, 'valid')).toEqual([]);
    expect(node.round).toBe(-1);

    // The liar is also the round-0 proposer and proposes COMMIT with both of its observations.
    effects.push(...node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', [lie1, lie2])))));
    effects.push(...node.step({ type: 'timeout', step: 'propose', round: 0 }));
    expect(node.isValid('COMMIT')).toBe(false);
    expect(ofType(effects, 'valid')).toEqual([]);
    // Whatever the node signs, it is never a vote for COMMIT.
    expect(signedVotes(effects).filter((v) => v.value !== null)).toEqual([]);
  });
});
