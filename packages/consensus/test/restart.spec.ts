import { describe, expect, it } from 'vitest';
import { type Effect, type PersistedSettlement, SettlementInstance } from '../src/index.js';
import {
  Net,
  bothLocked,
  broadcastVotes,
  forgeObservation,
  forgeProposal,
  forgeVote,
  fromPeer,
  makeFixture,
  msgObs,
  msgProposal,
  msgReport,
  msgVote,
  observeInput,
  ofType,
  paymentMissing,
  reportBodyOf,
  sameVoteContent,
  signedVotes,
  thresholdReport,
} from './harness.js';

function lastPersisted(effects: readonly Effect[]): PersistedSettlement {
  const rec = ofType(effects, 'persist').at(-1)?.record;
  if (rec === undefined) throw new Error('nothing persisted');
  return rec;
}

/** X (proposer of round 3) prevoted p0's COMMIT proposal in round 0, then crashed. */
function prevotedThenCrashed(nonce: string) {
  const fx = makeFixture({ nonce });
  const [a, b, c, x] = [fx.proposer(0), fx.proposer(1), fx.proposer(2), fx.proposer(3)];
  const node = SettlementInstance.create(fx.ctx(x), fx.terms);
  const effects: Effect[] = [];
  effects.push(...node.step(observeInput(bothLocked(fx))));
  effects.push(...node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx))))));
  effects.push(...node.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'COMMIT', [forgeObservation(fx, a, bothLocked(fx)), forgeObservation(fx, x, bothLocked(fx))])))));
  const prevote = signedVotes(effects, 'prevote')[0]!;
  expect(prevote).toMatchObject({ round: 0, value: 'COMMIT' });
  return { fx, a, b, c, x, effects, prevote, record: lastPersisted(effects) };
}

describe('restart and slashing protection', () => {
  it('a resumed node re-sends the same prevote and never signs a conflicting one', () => {
    const { fx, a, b, c, x, record, prevote } = prevotedThenCrashed('slashing');
    expect(record.votes.some((v) => sameVoteContent(v, prevote))).toBe(true);

    // Control: without the record, a propose timeout in round 0 makes this member prevote nil.
    const amnesiac = SettlementInstance.create(fx.ctx(x), fx.terms);
    amnesiac.step(observeInput(bothLocked(fx)));
    amnesiac.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx)))));
    expect(signedVotes(amnesiac.step({ type: 'timeout', step: 'propose', round: 0 })).map((v) => v.value)).toEqual([null]);

    const { instance, effects: resumed } = SettlementInstance.resume(fx.ctx(x), record);
    expect([instance.round, instance.roundStep]).toEqual([0, 'prevote']);
    expect(ofType(resumed, 'signed')).toEqual([]);
    // It re-sends the very vote it signed, byte for byte.
    const resent = broadcastVotes(resumed);
    expect(resent).toHaveLength(1);
    expect(resent[0]!.signature).toEqual(prevote.signature);

    // Inputs that would make a fresh node prevote otherwise.
    const later: Effect[] = [];
    later.push(...instance.step({ type: 'timeout', step: 'propose', round: 0 }));
    later.push(...instance.step(fromPeer(msgObs(forgeObservation(fx, b, paymentMissing(fx), true)))));
    later.push(...instance.step(fromPeer(msgObs(forgeObservation(fx, c, paymentMissing(fx), true)))));
    // The proposer equivocates towards the restarted node, which forgot the first proposal.
    later.push(...instance.step(fromPeer(msgProposal(forgeProposal(fx, 0, 'ABORT', [forgeObservation(fx, b, paymentMissing(fx), true), forgeObservation(fx, c, paymentMissing(fx), true)])))));
    later.push(...instance.step({ type: 'resend' }));
    expect(signedVotes(later, 'prevote')).toEqual([]);
    for (const v of broadcastVotes(later, 'prevote')) expect(v.signature).toEqual(prevote.signature);
    expect(broadcastVotes(later, 'prevote').length).toBeGreaterThan(0);

    // It keeps making progress from there. Observations are not persisted, so its evidence comes
    // back from its own next reading and the peers' resends; then a polka for COMMIT → lock.
    instance.step(observeInput(bothLocked(fx)));
    instance.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx)))));
    const polka = [...instance.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', 'COMMIT')))), ...instance.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT'))))];
    expect(signedVotes(polka).map((v) => [v.round, v.step, v.value])).toEqual([[0, 'precommit', 'COMMIT']]);
    expect([instance.lockedValue, instance.lockedRound]).toEqual(['COMMIT', 0]);
  });

  it('a lock survives a restart: the resumed node still refuses an ABORT proposal with validRound −1', () => {
    const s = prevotedThenCrashed('lock-survives');
    const { fx, a, b, c, x } = s;
    // Continue the original instance to a lock on COMMIT, then take what it persisted.
    const node = SettlementInstance.resume(fx.ctx(x), s.record).instance;
    const effects: Effect[] = [];
    effects.push(...node.step(observeInput(bothLocked(fx))));
    effects.push(...node.step(fromPeer(msgObs(forgeObservation(fx, a, bothLocked(fx))))));
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', 'COMMIT')))));
    effects.push(...node.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'prevote', 'COMMIT')))));
    const precommit = signedVotes(effects, 'precommit')[0]!;
    const record = lastPersisted(effects);
    expect(record).toMatchObject({ lockedValue: 'COMMIT', lockedRound: 0, validValue: 'COMMIT', validRound: 0 });

    const { instance, effects: resumed } = SettlementInstance.resume(fx.ctx(x), record);
    expect([instance.lockedValue, instance.lockedRound, instance.roundStep]).toEqual(['COMMIT', 0, 'precommit']);
    expect(broadcastVotes(resumed).map((v) => v.signature)).toContainEqual(precommit.signature);
    // A prevote timeout would make a node still in the prevote step precommit nil: not this one.
    expect(signedVotes(instance.step({ type: 'timeout', step: 'prevote', round: 0 }))).toEqual([]);

    // Round 0 ends; in round 1 an ABORT proposal without proof of lock gets nil.
    instance.step(fromPeer(msgVote(forgeVote(fx, b, 0, 'precommit', null))));
    instance.step(fromPeer(msgVote(forgeVote(fx, c, 0, 'precommit', null))));
    instance.step({ type: 'timeout', step: 'precommit', round: 0 });
    expect(instance.round).toBe(1);
    instance.step(fromPeer(msgObs(forgeObservation(fx, b, paymentMissing(fx), true))));
    instance.step(fromPeer(msgObs(forgeObservation(fx, c, paymentMissing(fx), true))));
    expect(instance.isValid('ABORT')).toBe(true);
    const out = instance.step(fromPeer(msgProposal(forgeProposal(fx, 1, 'ABORT', [forgeObservation(fx, b, paymentMissing(fx), true), forgeObservation(fx, c, paymentMissing(fx), true)]))));
    expect(signedVotes(out).map((v) => [v.round, v.step, v.value])).toEqual([[1, 'prevote', null]]);
  });

  it('a restarted proposer never signs a second, different proposal for its round', () => {
    const fx = makeFixture({ nonce: 'proposer-restart' });
    const p = fx.proposer(0);
    const [a, b, c] = fx.members.filter((m) => m !== p);
    const node = SettlementInstance.create(fx.ctx(p), fx.terms);
    node.step(fromPeer(msgObs(forgeObservation(fx, a!, paymentMissing(fx), true))));
    const first = node.step(fromPeer(msgObs(forgeObservation(fx, b!, paymentMissing(fx), true))));
    const proposed = ofType(first, 'signed').filter((e) => e.message.kind === 'proposal');
    expect(proposed).toHaveLength(1);
    expect(proposed[0]!.message).toMatchObject({ proposal: { value: 'ABORT', round: 0 } });

    // Crash right after the proposal was persisted (and maybe sent), before the prevote was signed.
    const atProposal = ofType(first, 'persist').find((e) => e.record.proposals.length === 1 && e.record.votes.length === 0);
    expect(atProposal).toBeDefined();
    const { instance, effects: resumed } = SettlementInstance.resume(fx.ctx(p), atProposal!.record);
    expect(ofType(resumed, 'signed').filter((e) => e.message.kind === 'proposal')).toEqual([]);
    // Now COMMIT becomes valid too (COMMIT would win for a fresh proposer): no new proposal is signed.
    const later = [
      ...instance.step(fromPeer(msgObs(forgeObservation(fx, a!, bothLocked(fx))))),
      ...instance.step(fromPeer(msgObs(forgeObservation(fx, c!, bothLocked(fx))))),
      ...instance.step({ type: 'resend' }),
    ];
    expect(instance.isValid('COMMIT')).toBe(true);
    expect(ofType(later, 'signed').filter((e) => e.message.kind === 'proposal')).toEqual([]);
    const resent = ofType(later, 'broadcast').filter((e) => e.message.kind === 'proposal');
    expect(resent.map((e) => e.message)).toEqual([proposed[0]!.message]);
  });

  it('a node that crashes after precommitting restarts from its record and catches up from a report', () => {
    const fx = makeFixture({ nonce: 'crash-in-cluster' });
    const net = new Net(fx);
    const x = fx.proposer(2);
    for (const m of fx.members) net.observe(m, bothLocked(fx));
    // Everything up to the precommits: every node locks COMMIT and precommits.
    net.deliver((e) => e.message.kind !== 'vote' || e.message.vote.step === 'prevote');
    expect(fx.members.map((m) => net.node(m).lockedValue)).toEqual(fx.members.map(() => 'COMMIT'));

    net.down.add(x); // crash: messages to it are lost from now on
    const record = net.lastPersist(x)!;
    net.run();
    for (const m of net.live()) expect(net.node(m).report).toMatchObject({ decision: 'COMMIT', round: 0 });

    net.down.delete(x);
    const before = net.effectsOf(x).length;
    const resumed = net.restart(x, record);
    expect(broadcastVotes(resumed, 'precommit')).toHaveLength(1); // its precommit, re-sent
    net.run();
    expect(net.node(x).report).toEqual(net.node(fx.proposer(0)).report);
    expect(ofType(net.effectsOf(x).slice(before), 'signed')).toEqual([]); // nothing new signed
  });

  it('a resumed decided node still answers with its report', () => {
    const fx = makeFixture({ nonce: 'decided-restart' });
    const y = fx.proposer(1);
    const report = thresholdReport(fx, reportBodyOf(fx, 'ABORT', 2));
    const node = SettlementInstance.create(fx.ctx(y), fx.terms);
    const record = lastPersisted(node.step(fromPeer(msgReport(fx, report), fx.proposer(0))));
    expect(record.report).toEqual(report);

    const { instance, effects } = SettlementInstance.resume(fx.ctx(y), record);
    expect(instance.decided).toBe(true);
    expect(instance.report).toEqual(report);
    expect(ofType(effects, 'signed')).toEqual([]);
    const a = fx.proposer(2);
    expect(instance.step(fromPeer(msgVote(forgeVote(fx, a, 0, 'prevote', null))))).toEqual([
      { type: 'send', to: a, message: { kind: 'report', report, terms: fx.terms } },
    ]);
  });

  it('a resumed node re-sends its persisted deadline observation instead of signing another', () => {
    const fx = makeFixture({ nonce: 'deadline-restart' });
    const node = SettlementInstance.create(fx.ctx(2), fx.terms);
    const first = node.step(observeInput(paymentMissing(fx), true));
    const record = lastPersisted(first);
    expect(record.deadlineObservation?.signer).toBe(2);
    const { instance } = SettlementInstance.resume(fx.ctx(2), record);
    // After the restart the legs read differently; the deadline observation stays the one signed.
    const again = instance.step(observeInput(bothLocked(fx), true));
    expect(ofType(again, 'signed')).toEqual([]);
    expect(ofType(again, 'broadcast').map((e) => e.message)).toEqual([{ kind: 'observation', observation: record.deadlineObservation }]);
  });
});
