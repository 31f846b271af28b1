import { describe, expect, it } from 'vitest';
import { BLS_SIGNATURE_BYTES, type Message, validUntilMs } from '@tandem/protocol';
import { SettlementInstance, supportsCommit } from '../src/index.js';
import {
  Net,
  bothLocked,
  forgeObservation,
  fromPeer,
  msgObs,
  observeInput,
  broadcastProposals,
  broadcastVotes,
  makeFixture,
  noneView,
  ofType,
  reportVerifies,
  signedVotes,
  writeAheadViolations,
} from './harness.js';

const isKind =
  (kind: Message['kind'], step?: 'prevote' | 'precommit') =>
  (e: { message: Message }): boolean =>
    e.message.kind === kind && (step === undefined || (e.message.kind === 'vote' && e.message.vote.step === step));

describe('happy path, n = 4', () => {
  it('every node decides COMMIT in round 0 with the same report, step by step', () => {
    const fx = makeFixture();
    const net = new Net(fx);
    const p0 = fx.proposer(0);

    // Each node's own reading alone is one member: not f+1, so nobody enters round 0 yet.
    for (const m of fx.members) {
      const out = net.observe(m, bothLocked(fx));
      expect(ofType(out, 'round')).toEqual([]);
      expect(ofType(out, 'valid')).toEqual([]);
      expect(net.node(m).round).toBe(-1);
    }

    // Observations: everyone reaches f+1 COMMIT support and enters round 0; the proposer proposes.
    net.deliver(isKind('observation'));
    for (const m of fx.members) {
      const node = net.node(m);
      expect(node.round).toBe(0);
      expect(node.isValid('COMMIT')).toBe(true);
      expect(node.isValid('ABORT')).toBe(false);
      const effects = net.effectsOf(m);
      expect(ofType(effects, 'valid').map((e) => e.value)).toEqual(['COMMIT']);
      expect(ofType(effects, 'round').map((e) => e.round)).toEqual([0]);
      expect(ofType(effects, 'schedule')).toContainEqual({ type: 'schedule', step: 'propose', round: 0, delayMs: fx.params.timeoutProposeMs });
    }
    const proposals = broadcastProposals(net.effectsOf(p0));
    expect(proposals).toHaveLength(1);
    const proposal = proposals[0]!;
    expect(proposal).toMatchObject({ round: 0, proposer: p0, value: 'COMMIT', validRound: -1, polka: [] });
    // f+1 pieces of evidence from distinct members, each showing both legs locked with the terms.
    expect(proposal.evidence).toHaveLength(fx.f + 1);
    expect(new Set(proposal.evidence.map((o) => o.signer)).size).toBe(fx.f + 1);
    for (const o of proposal.evidence) expect(supportsCommit(o, fx.terms, fx.groupKey)).toBe(true);
    for (const m of fx.members) {
      if (m !== p0) expect(broadcastProposals(net.effectsOf(m))).toEqual([]);
    }
    // The proposer prevotes for its own proposal at once.
    expect(signedVotes(net.effectsOf(p0), 'prevote').map((v) => [v.round, v.value])).toEqual([[0, 'COMMIT']]);

    // Proposal: every other node prevotes COMMIT.
    net.deliver(isKind('proposal'));
    for (const m of fx.members) {
      expect(net.node(m).roundStep).toBe('prevote');
      const prevotes = signedVotes(net.effectsOf(m), 'prevote');
      expect(prevotes.map((v) => [v.round, v.value, v.partial])).toEqual([[0, 'COMMIT', null]]);
    }

    // Prevotes: q for COMMIT → every node locks and precommits COMMIT with a partial.
    net.deliver(isKind('vote', 'prevote'));
    for (const m of fx.members) {
      const node = net.node(m);
      expect({ lockedValue: node.lockedValue, lockedRound: node.lockedRound, validValue: node.validValue, validRound: node.validRound }).toEqual({
        lockedValue: 'COMMIT',
        lockedRound: 0,
        validValue: 'COMMIT',
        validRound: 0,
      });
      expect(node.validPolka.length).toBeGreaterThanOrEqual(fx.q);
      expect(node.roundStep).toBe('precommit');
      const precommits = signedVotes(net.effectsOf(m), 'precommit');
      expect(precommits).toHaveLength(1);
      expect(precommits[0]).toMatchObject({ round: 0, value: 'COMMIT', voter: m });
      expect(precommits[0]!.partial?.length).toBe(BLS_SIGNATURE_BYTES);
      expect(node.decided).toBe(false);
    }

    // Precommits: q partials combine → every node decides, and the report is the same 48 bytes.
    net.deliver(isKind('vote', 'precommit'));
    const reports = net.reports();
    for (const [i, r] of reports.entries()) {
      expect(r, `member ${i + 1} decided`).not.toBeNull();
      expect(r).toMatchObject({ decision: 'COMMIT', round: 0, validUntilMs: validUntilMs(fx.terms) });
      expect(r!.signature).toHaveLength(BLS_SIGNATURE_BYTES);
      expect(r!.signature).toEqual(reports[0]!.signature);
    }
    expect(reportVerifies(fx, reports[0]!)).toBe(true);
    for (const m of fx.members) {
      expect(ofType(net.effectsOf(m), 'decided')).toHaveLength(1);
      expect(net.node(m).decided).toBe(true);
      // Write-ahead: everything this node sent was in the record it persisted before sending.
      expect(writeAheadViolations(net.effectsOf(m), m)).toEqual([]);
      // The persisted decision is the report itself.
      expect(net.lastPersist(m)?.report?.signature).toEqual(reports[0]!.signature);
    }
    // No node ever signed two votes for one (round, step).
    for (const m of fx.members) {
      const keys = signedVotes(net.effectsOf(m)).map((v) => `${v.round}:${v.step}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('after deciding, a node stops proposing and voting and re-broadcasts only the report on resend', () => {
    const fx = makeFixture({ nonce: 'happy-resend' });
    const net = new Net(fx);
    for (const m of fx.members) net.observe(m, bothLocked(fx));
    net.run();
    expect(net.allDecided()).toBe(true);
    const out = net.input(1, { type: 'resend' });
    expect(out.map((e) => e.type)).toEqual(['broadcast']);
    expect(out[0]).toMatchObject({ type: 'broadcast', message: { kind: 'report', report: net.node(1).report, terms: fx.terms } });
    expect(broadcastVotes(out)).toEqual([]);
  });
});

describe('the write-ahead check', () => {
  it('flags a vote sent before any record holding it was persisted', () => {
    const fx = makeFixture({ nonce: 'write-ahead-check' });
    const node = SettlementInstance.create(fx.ctx(fx.proposer(1)), fx.terms);
    node.step(observeInput(bothLocked(fx)));
    node.step(fromPeer(msgObs(forgeObservation(fx, fx.proposer(0), bothLocked(fx)))));
    const out = node.step({ type: 'timeout', step: 'propose', round: 0 });
    expect(writeAheadViolations(out, fx.proposer(1))).toEqual([]);
    // The same effects with the persist moved after the broadcast: a violation.
    const persists = out.filter((e) => e.type === 'persist');
    const reordered = [...out.filter((e) => e.type !== 'persist'), ...persists];
    expect(writeAheadViolations(reordered, fx.proposer(1))).toHaveLength(1);
  });
});

describe('n = 7 (f = 2, q = 5)', () => {
  it('f lying observations never make COMMIT valid; with f+1 the cluster decides COMMIT with q partials', () => {
    const fx = makeFixture({ n: 7, nonce: 'seven' });
    expect([fx.f, fx.q]).toEqual([2, 5]);
    const net = new Net(fx);
    for (const m of fx.members) net.observe(m, { asset: noneView(), payment: noneView() });
    net.run();
    // Two members (f) claim both legs locked: a lie the others cannot check alone.
    const [liarA, liarB, honest] = [fx.proposer(0), fx.proposer(1), fx.proposer(2)];
    net.observe(liarA, bothLocked(fx));
    net.observe(liarB, bothLocked(fx));
    net.run();
    for (const m of fx.members) {
      expect(net.node(m).isValid('COMMIT')).toBe(false);
      expect(net.node(m).round).toBe(-1);
      expect(net.node(m).decided).toBe(false);
    }
    expect(net.timers).toEqual([]); // nothing to wait for either

    // One correct member now sees both legs locked: f+1 distinct members, at least one correct.
    net.observe(honest, bothLocked(fx));
    net.run();
    const reports = net.reports();
    for (const r of reports) {
      expect(r).toMatchObject({ decision: 'COMMIT', round: 0 });
      expect(r!.signature).toEqual(reports[0]!.signature);
    }
    expect(reportVerifies(fx, reports[0]!)).toBe(true);
    for (const m of fx.members) expect(writeAheadViolations(net.effectsOf(m), m)).toEqual([]);
  });
});
