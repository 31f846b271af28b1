import { describe, expect, it } from 'vitest';
import { validUntilMs } from '@tandem/protocol';
import { type PersistedSettlement, SettlementInstance } from '../src/index.js';
import { type Fixture, forgeVote, makeFixture, reportBodyOf, thresholdReport } from './harness.js';

/**
 * Every step and every resume ends in assertInvariants (src/invariants.ts), so the other specs
 * check the invariants on every state they reach. Here: each invariant does fire, on records that
 * break it, fed through the one door that takes state from outside (resume).
 */
/** The record of a fresh instance that has entered round 0 and signed nothing. */
const cleanRecord = (fx: Fixture): PersistedSettlement => ({ ...SettlementInstance.create(fx.ctx(1), fx.terms).snapshot(), round: 0 });

/** q prevotes for COMMIT in `round`: a proof of lock. */
const polkaIn = (fx: Fixture, round: number) => fx.members.slice(0, fx.q).map((m) => forgeVote(fx, m, round, 'prevote', 'COMMIT'));

describe('assertInvariants', () => {
  const fx = makeFixture({ nonce: 'invariants' });
  const x = fx.proposer(1); // not the proposer of round 0, so a resume in round 0 signs nothing
  const resume = (rec: PersistedSettlement) => () => SettlementInstance.resume(fx.ctx(x), rec);

  it('holds on a clean record', () => {
    expect(resume(cleanRecord(fx))).not.toThrow();
  });

  it('a locked value needs its lock round, and a valid value its valid round', () => {
    expect(resume({ ...cleanRecord(fx), lockedValue: 'COMMIT' })).toThrow(/a locked value has a lock round/);
    expect(resume({ ...cleanRecord(fx), validRound: 0, validPolka: polkaIn(fx, 0) })).toThrow(/a valid value has a valid round/);
  });

  it('validRound ≥ lockedRound, and the valid value carries its polka', () => {
    const locked = { ...cleanRecord(fx), lockedValue: 'COMMIT', lockedRound: 0, validValue: 'COMMIT', validPolka: polkaIn(fx, 0) } as const;
    expect(resume({ ...locked, validRound: -1, validValue: null })).toThrow(/a lock also sets the valid value/);
    expect(resume({ ...locked, validRound: 0, validPolka: polkaIn(fx, 0).slice(1) })).toThrow(/carries q prevotes/);
  });

  it('lockedRound ≤ round while undecided', () => {
    const rec = { ...cleanRecord(fx), lockedValue: 'COMMIT', lockedRound: 2, validValue: 'COMMIT', validRound: 2, validPolka: polkaIn(fx, 2) } as const;
    expect(resume(rec)).toThrow(/a node locks only in a round it entered/);
  });

  it('a report must be about this settlement, with its validUntil', () => {
    const good = thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 0));
    expect(resume({ ...cleanRecord(fx), report: good })).not.toThrow();
    const late = thresholdReport(fx, reportBodyOf(fx, 'COMMIT', 0, validUntilMs(fx.terms) + 1));
    expect(resume({ ...cleanRecord(fx), report: late })).toThrow(/the report is about this settlement/);
  });

  it('what this node signed is its own, one vote per (round, step)', () => {
    const other = fx.members.find((m) => m !== x)!;
    expect(resume({ ...cleanRecord(fx), votes: [forgeVote(fx, other, 0, 'prevote', 'COMMIT')] })).toThrow(/a signed vote is ours/);
    const twice = [forgeVote(fx, x, 0, 'prevote', 'COMMIT'), forgeVote(fx, x, 0, 'prevote', null)];
    expect(resume({ ...cleanRecord(fx), votes: twice })).toThrow(/one signed vote per \(round, step\)/);
  });
});
