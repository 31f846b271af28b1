import { assert } from '@tandem/protocol';
import { headerMatches } from './auth.js';
import type { InstanceView } from './view.js';

/**
 * What holds of an instance between steps, whatever its inputs were (TigerBeetle's style: a
 * violation is a bug here, so it stops the node rather than letting it sign on a broken state).
 * Run after every step and after a resume. Cheap: no signature is checked here.
 */
export function assertInvariants(s: InstanceView): void {
  assert(s.round >= -1 && Number.isInteger(s.round), 'round is -1 or a round number');
  assert((s.lockedValue !== null) === (s.lockedRound >= 0), 'a locked value has a lock round, and only then');
  assert((s.validValue !== null) === (s.validRound >= 0), 'a valid value has a valid round, and only then');
  assert(s.validRound >= s.lockedRound, 'a lock also sets the valid value, and later polkas only raise it');
  assert(s.validValue === null || validPolkaHolds(s), 'the valid value carries q prevotes for it in its round');
  // A decided node resumed from storage keeps round -1 (its round no longer matters, and the
  // runtime reports it as such), so the rounds are ordered only while undecided.
  if (s.report === null) {
    assert(s.lockedRound <= s.round, 'a node locks only in a round it entered');
    assert(s.validRound <= s.round, 'a node takes a valid value only in a round it entered');
  } else {
    assert(s.reportVerified, "the report's signature was verified where the decision was taken");
    assert(headerMatches(s.ctx, s.report, s.settlementId) && s.report.validUntilMs === s.validUntilMs, 'the report is about this settlement, with its validUntil');
  }
  s.own.assertConsistent(s.ctx.self, s.ctx.n, s.settlementId);
}

function validPolkaHolds(s: InstanceView): boolean {
  const voters = new Set<number>();
  for (const v of s.validPolka) {
    if (v.step === 'prevote' && v.round === s.validRound && v.value === s.validValue) voters.add(v.voter);
  }
  return voters.size >= s.ctx.q;
}
