import { describe, expect, it } from 'vitest';
import { BLS_SIGNATURE_BYTES, settlementId, validUntilMs } from '@tandem/protocol';
import { SettlementInstance } from '../src/index.js';
import {
  bothLocked,
  forgeObservation,
  forgeVote,
  fromPeer,
  makeFixture,
  makeTerms,
  msgObs,
  msgReport,
  msgVote,
  ofType,
  reportBodyOf,
  thresholdReport,
  writeAheadViolations,
} from './harness.js';

describe('reports', () => {
  const fx = makeFixture({ nonce: 'reports' });
  // One genuine report, threshold-signed by q members: what the cluster produces for (COMMIT, 0).
  const report = thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 0));

  it('a node that missed everything decides from one valid report', () => {
    const y = fx.proposer(2);
    const node = SettlementInstance.create(fx.ctx(y), fx.terms);
    const out = node.step(fromPeer(msgReport(fx, report), fx.proposer(0)));
    expect(ofType(out, 'decided')).toEqual([{ type: 'decided', report }]);
    expect(node.decided).toBe(true);
    expect(node.report).toEqual(report);
    expect(node.report!.signature).toHaveLength(BLS_SIGNATURE_BYTES);
    // Deciding persists the report first, then passes it on.
    expect(out.map((e) => e.type)).toEqual(['persist', 'decided', 'broadcast']);
    expect(writeAheadViolations(out, y)).toEqual([]);
  });

  it('refuses a report with a wrong signature, recording it; refuses one for another validUntil or settlement', () => {
    const node = SettlementInstance.create(fx.ctx(fx.proposer(2)), fx.terms);
    // A genuine group signature, but over the report of another round: not this report's.
    const otherRound = thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 1));
    const wrongSig = { ...report, signature: otherRound.signature };
    let out = node.step(fromPeer(msgReport(fx, wrongSig), 1));
    expect(ofType(out, 'evidence').map((e) => e.misbehaviour)).toEqual([{ kind: 'bad-signature', member: 1, what: 'report' }]); // the relaying sender
    expect(node.decided).toBe(false);
    // Bytes that are not a curve point at all.
    out = node.step(fromPeer(msgReport(fx, { ...report, signature: new Uint8Array(BLS_SIGNATURE_BYTES).fill(0xab) }), 1));
    expect(ofType(out, 'evidence')).toHaveLength(1);
    expect(node.decided).toBe(false);

    // Validly group-signed, but binding another validUntil than the terms give: refused.
    const lateValidUntil = thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 0, validUntilMs(fx.terms) + 1));
    out = node.step(fromPeer(msgReport(fx, lateValidUntil), 1));
    expect(ofType(out, 'decided')).toEqual([]);
    expect(node.decided).toBe(false);

    // Validly group-signed for another settlement: refused.
    const foreign = thresholdReport(fx, { ...reportBodyOf(fx, 'ABORT', 0), settlementId: settlementId(makeTerms('another')) });
    out = node.step(fromPeer(msgReport(fx, foreign), 1));
    expect(ofType(out, 'decided')).toEqual([]);
    expect(node.decided).toBe(false);

    // The genuine one still decides afterwards.
    node.step(fromPeer(msgReport(fx, report), 1));
    expect(node.report).toEqual(report);
  });

  it('a decided node answers any message about the settlement with the report', () => {
    const y = fx.proposer(2);
    const [a, b, c] = fx.members.filter((m) => m !== y);
    const node = SettlementInstance.create(fx.ctx(y), fx.terms);
    node.step(fromPeer(msgReport(fx, report), a));
    const answer = { kind: 'report', report, terms: fx.terms };

    expect(node.step(fromPeer(msgVote(forgeVote(fx, a!, 3, 'prevote', null))))).toEqual([{ type: 'send', to: a, message: answer }]);
    expect(node.step(fromPeer(msgObs(forgeObservation(fx, b!, bothLocked(fx)))))).toEqual([{ type: 'send', to: b, message: answer }]);
    expect(node.step({ type: 'message', from: c!, message: { kind: 'terms', terms: fx.terms } })).toEqual([{ type: 'send', to: c, message: answer }]);
    // A report is not answered with a report (two decided nodes would ping-pong forever) ...
    expect(node.step(fromPeer(msgReport(fx, report), b))).toEqual([]);
    // ... and neither is a message from itself.
    expect(node.step({ type: 'message', from: y, message: { kind: 'terms', terms: fx.terms } })).toEqual([]);
    // Timeouts after the decision do nothing; a resend re-broadcasts the report.
    expect(node.step({ type: 'timeout', step: 'precommit', round: 0 })).toEqual([]);
    expect(node.step({ type: 'resend' })).toEqual([{ type: 'broadcast', message: answer }]);
  });
});
