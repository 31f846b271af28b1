/**
 * The leg rules as pure functions: each decision from a record, the inputs and a clock reading,
 * with signature checks that record which key they were asked about (no real cryptography: the
 * conformance suites run the rules with real signatures through every leg).
 */
import { describe, expect, it } from 'vitest';
import { type LockRecord, type Report, encodeReport, equalBytes } from '@tandem/protocol';
import {
  type LegChecks,
  type SettlementOnLeg,
  authorizationProblem,
  legChecksOf,
  prepareOnRecord,
  prepareRefusal,
  prepareWithFunds,
  processApply,
  processReclaim,
  reportAnchorProblem,
} from '../src/index.js';
import { testLock } from './lock-record.js';

const ANCHOR_KEY = new Uint8Array(96).fill(1);
const LOCK_KEY = new Uint8Array(96).fill(2);
const VALID_UNTIL_MS = 40_000;
const RECLAIM_AT_MS = 50_000;

const LOCK: LockRecord = testLock(new Uint8Array(32).fill(9), LOCK_KEY, VALID_UNTIL_MS, RECLAIM_AT_MS);

function report(decision: Report['decision'], validUntilMs = VALID_UNTIL_MS): Report {
  return {
    networkId: new Uint8Array(32).fill(3),
    configDigest: new Uint8Array(32).fill(4),
    settlementId: LOCK.settlementId,
    decision,
    round: 0,
    validUntilMs,
    signature: new Uint8Array(48).fill(5),
  };
}

/** Checks whose report signature verifies only under `validKey`, remembering which keys they were asked about (by fill byte). */
function checksAccepting(validKey: Uint8Array): LegChecks & { readonly keysAsked: number[] } {
  const keysAsked: number[] = [];
  const checks = legChecksOf({
    anchor: { networkId: new Uint8Array(32).fill(3), configDigest: new Uint8Array(32).fill(4), groupPublicKey: ANCHOR_KEY },
    nowMs: () => 0,
    parties: new Map([['bob', new Uint8Array(32).fill(7)]]),
    venue: null,
    verifyReport: (pk) => {
      keysAsked.push(pk[0]!);
      return equalBytes(pk, validKey);
    },
    verifyAuthorization: () => {
      throw new Error('a malformed key');
    },
  });
  return { ...checks, keysAsked };
}

const locked: SettlementOnLeg = { state: 'locked', lock: LOCK, appliedReport: null, configDigest: new Uint8Array(32).fill(4) };
const rejected: SettlementOnLeg = { state: 'rejected', lock: null, appliedReport: null, configDigest: null };

describe('prepare', () => {
  it('answers a known id without acting: locked again, or closed naming its state', () => {
    expect(prepareOnRecord('locked')).toEqual({ kind: 'locked' });
    expect(prepareOnRecord('reclaimed')).toEqual({ kind: 'closed', reason: 'settlement is reclaimed on this leg' });
  });

  it('refuses an unauthorized prepare before asking about the terms, then rejects bad terms, then looks at funds', () => {
    let asked = 0;
    const terms = () => {
      asked++;
      return 'terms name another ledger';
    };
    expect(prepareRefusal('no authorization from bob', terms)).toEqual({ kind: 'unauthorized', reason: 'no authorization from bob' });
    expect(asked).toBe(0);
    expect(prepareRefusal(null, terms)).toEqual({ kind: 'reject', reason: 'terms name another ledger' });
    expect(prepareRefusal(null, () => null)).toBeNull();
    expect(prepareWithFunds(LOCK, 99n)).toEqual({ kind: 'reject', reason: 'insufficient funds: bob has 99 USD available, needs 100' });
    expect(prepareWithFunds(LOCK, 100n)).toEqual({ kind: 'lock' });
  });

  it('an authorization check that throws is a bad signature, never an exception', () => {
    const checks = checksAccepting(LOCK_KEY);
    const auth = { party: 'bob', signature: new Uint8Array(64) };
    expect(authorizationProblem(checks, 'bob', LOCK.settlementId, auth)).toBe('bad authorization signature from bob (not its signature for this network and settlement)');
    expect(authorizationProblem(checks, 'carol', LOCK.settlementId, { ...auth, party: 'carol' })).toBe('unknown party carol');
    expect(authorizationProblem(checks, 'alice', LOCK.settlementId, auth)).toBe('authorization is by bob, this leg needs alice');
  });
});

describe('apply', () => {
  it('COMMIT only while the clock is before validUntil; ABORT any time while locked', () => {
    const checks = checksAccepting(LOCK_KEY);
    expect(processApply(locked, report('COMMIT'), VALID_UNTIL_MS - 1, checks)).toEqual({ kind: 'commit', lock: LOCK });
    expect(processApply(locked, report('COMMIT'), VALID_UNTIL_MS, checks)).toEqual({
      kind: 'refused',
      reason: `COMMIT expired: now ${VALID_UNTIL_MS} ms >= validUntil ${VALID_UNTIL_MS} ms`,
    });
    expect(processApply(locked, report('ABORT'), RECLAIM_AT_MS + 1, checks)).toEqual({ kind: 'abort', lock: LOCK });
  });

  it("a report whose validUntil is not the lock's is refused before its signature is checked", () => {
    const checks = checksAccepting(LOCK_KEY);
    expect(processApply(locked, report('ABORT', VALID_UNTIL_MS + 1), 0, checks).kind).toBe('refused');
    expect(checks.keysAsked).toEqual([]);
  });

  it("verifies against the key stored in the lock, and the anchor's key only where nothing is locked", () => {
    const lockOnly = checksAccepting(LOCK_KEY);
    expect(processApply(locked, report('ABORT'), 0, lockOnly).kind).toBe('abort');
    expect(processApply(null, report('ABORT'), 0, lockOnly)).toEqual({ kind: 'refused', reason: 'report signature does not verify' });
    expect(lockOnly.keysAsked).toEqual([LOCK_KEY[0], ANCHOR_KEY[0]]);
    const anchorOnly = checksAccepting(ANCHOR_KEY);
    expect(processApply(locked, report('COMMIT'), 0, anchorOnly)).toEqual({ kind: 'refused', reason: 'report signature does not verify' });
    expect(processApply(null, report('ABORT'), 0, anchorOnly)).toEqual({ kind: 'abort-closed' });
    expect(processApply(rejected, report('ABORT'), 0, anchorOnly)).toEqual({ kind: 'abort-recorded' });
    expect(processApply(rejected, report('COMMIT'), 0, anchorOnly)).toEqual({ kind: 'refused', reason: 'COMMIT refused: nothing is locked for this settlement' });
  });

  it('one report per id: the same again is a duplicate, another is refused; a reclaimed id refuses every report', () => {
    const checks = checksAccepting(LOCK_KEY);
    const committed: SettlementOnLeg = { ...locked, state: 'committed', appliedReport: encodeReport(report('COMMIT')) };
    expect(processApply(committed, report('COMMIT'), 0, checks)).toEqual({ kind: 'duplicate' });
    expect(processApply(committed, report('ABORT'), 0, checks)).toEqual({ kind: 'refused', reason: 'another report was already applied' });
    expect(processApply({ ...locked, state: 'reclaimed' }, report('ABORT'), 0, checks)).toEqual({
      kind: 'refused',
      reason: 'value was reclaimed: reports are refused',
    });
    expect(checks.keysAsked).toEqual([]);
  });

  it("names the network or configuration a report is not the anchor's", () => {
    const { anchor } = checksAccepting(LOCK_KEY);
    expect(reportAnchorProblem(report('ABORT'), anchor)).toBeNull();
    expect(reportAnchorProblem({ ...report('ABORT'), networkId: new Uint8Array(32) }, anchor)).toBe('report is for another network');
    expect(reportAnchorProblem({ ...report('ABORT'), configDigest: new Uint8Array(32) }, anchor)).toBe('report is for another configuration');
  });
});

describe('reclaim', () => {
  it('only a lock, and only from the reclaim time on', () => {
    expect(processReclaim(null, RECLAIM_AT_MS)).toEqual({ kind: 'refused', reason: 'nothing to reclaim: settlement is none' });
    expect(processReclaim(rejected, RECLAIM_AT_MS)).toEqual({ kind: 'refused', reason: 'nothing to reclaim: settlement is rejected' });
    expect(processReclaim(locked, RECLAIM_AT_MS - 1)).toEqual({ kind: 'refused', reason: `too early: now ${RECLAIM_AT_MS - 1} ms < reclaim time ${RECLAIM_AT_MS} ms` });
    expect(processReclaim(locked, RECLAIM_AT_MS)).toEqual({ kind: 'reclaim', lock: LOCK });
  });
});
