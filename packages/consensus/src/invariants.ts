import { type SignedProposal, type SignedVote, assert, equalBytes } from '@tandem/protocol';
import { headerMatches } from './auth.js';
import { proposerOf } from './context.js';
import type { AlgorithmView } from './rules.js';
import type { ValueKey, VoteLike } from './votes.js';
import type { InstanceView } from './view.js';

/**
 * What holds of Algorithm 1's variables between steps, in either protocol version (TigerBeetle's
 * style: a violation is a bug here, so it stops the node rather than letting it sign on a broken
 * state). `keyOf` names a vote's value as the view does. Cheap: no signature is checked here.
 */
export function assertRoundInvariants<V extends string, Vt extends VoteLike, Pr, R>(s: AlgorithmView<V, Vt, Pr, R>, keyOf: (v: Vt) => ValueKey): void {
  assert(s.round >= -1 && Number.isInteger(s.round), 'round is -1 or a round number');
  assert((s.lockedValue !== null) === (s.lockedRound >= 0), 'a locked value has a lock round, and only then');
  assert((s.validValue !== null) === (s.validRound >= 0), 'a valid value has a valid round, and only then');
  assert(s.validRound >= s.lockedRound, 'a lock also sets the valid value, and later polkas only raise it');
  const voters = new Set<number>();
  for (const v of s.validPolka) {
    if (v.step === 'prevote' && v.round === s.validRound && keyOf(v) === s.validValue) voters.add(v.voter);
  }
  assert(s.validValue === null || voters.size >= s.q, 'the valid value carries q prevotes for it in its round');
  // A decided node resumed from storage keeps round -1 (its round no longer matters, and the
  // runtime reports it as such), so the rounds are ordered only while undecided.
  if (!s.decided) {
    assert(s.lockedRound <= s.round, 'a node locks only in a round it entered');
    assert(s.validRound <= s.round, 'a node takes a valid value only in a round it entered');
  }
}

/** The invariants of a v1 settlement instance, run after every step and after a resume. */
export function assertInvariants(s: InstanceView): void {
  assertRoundInvariants(s, (v) => v.value);
  if (s.report !== null) {
    assert(s.reportVerified, "the report's signature was verified where the decision was taken");
    assert(headerMatches(s.ctx, s.report, s.settlementId) && s.report.validUntilMs === s.validUntilMs, 'the report is about this settlement, with its validUntil');
  }
  s.own.assertConsistent(
    (p: SignedProposal) => {
      assert(p.proposer === s.ctx.self && proposerOf(s.settlementId, p.round, s.ctx.n) === s.ctx.self, 'a signed proposal is ours, in a round we propose');
      assert(equalBytes(p.settlementId, s.settlementId), 'a signed proposal is about this settlement');
    },
    (v: SignedVote) => {
      assert(v.voter === s.ctx.self, 'a signed vote is ours');
      assert((v.partial !== null) === (v.step === 'precommit' && v.value !== null), 'a partial signature rides on a precommit for a value, and only there');
      assert(equalBytes(v.settlementId, s.settlementId), 'a signed vote is about this settlement');
    },
  );
}
