/**
 * The conformance suite every leg adapter must pass (the rules in this package's README): import
 * it from `@tandem/legs/conformance` in a vitest spec and call `legConformance(name, makeHarness)`.
 * It signs real threshold reports, so the harness must build its leg with the fixture's anchor
 * (`anchor` for protocol 1, `anchorV2` for protocol 2). With `{ v2: true }` it also runs the
 * protocol v2 suite (./conformance-v2.ts) on a leg built by `makeHarness(2)`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Report, expectedLock, lockEquals, settlementId, validUntilMs, reclaimAtMs } from '@tandem/protocol';
import { authorize } from './fixture.js';
import { type HarnessVenue, type LegHarness, AMOUNT, BEFORE_MS, FUNDS, Session, otherDealer } from './conformance-harness.js';
import { legConformanceV2 } from './conformance-v2.js';

export * from './fixture.js';
export type { HarnessVenue, LegHarness } from './conformance-harness.js';

export interface ConformanceOptions {
  /** Also run the protocol v2 suite: the adapter must be a BatchLegAdapter, and makeHarness(2) must anchor it with the fixture's anchorV2. */
  readonly v2?: boolean;
}

/** `makeHarness(protocol)` builds a fresh leg anchored to that protocol version (1 unless `options.v2`). */
export function legConformance(name: string, makeHarness: (protocol: 1 | 2) => Promise<LegHarness>, options: ConformanceOptions = {}): void {
  if (options.v2 === true) legConformanceV2(name, makeHarness);
  describe(`leg conformance: ${name}`, () => {
    let s: Session;

    beforeEach(async () => {
      const h = await makeHarness(1);
      expect(h.venue.leg).toBe(h.leg);
      expect(h.adapter.leg).toBe(h.leg);
      s = new Session(h);
      await s.fund('alice', FUNDS);
    });

    afterEach(async () => {
      await s.expectConserved();
      await s.h.close();
    });

    describe('prepare', () => {
      it('leaves the leg none without an authorization', async () => {
        const t = s.makeTerms('no-auth');
        expect((await s.h.adapter.prepare(t, null)).kind).toBe('unauthorized');
        const v = await s.expectState(t, 'none');
        expect(v.lock).toBeNull();
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('leaves the leg none with a bad authorization signature', async () => {
        const t = s.makeTerms('bad-auth');
        // Claims to be alice, signed with carol's key.
        expect((await s.h.adapter.prepare(t, s.auth(t, 'alice', 'carol'))).kind).toBe('unauthorized');
        // alice's signature over another settlement id.
        const other = s.makeTerms('bad-auth-other');
        expect((await s.h.adapter.prepare(t, { party: 'alice', signature: s.auth(other).signature })).kind).toBe('unauthorized');
        // Tampered signature bytes.
        const good = s.auth(t);
        const tampered = good.signature.slice();
        tampered[0]! ^= 1;
        expect((await s.h.adapter.prepare(t, { party: 'alice', signature: tampered })).kind).toBe('unauthorized');
        await s.expectState(t, 'none');
        expect(await s.balance('alice')).toBe(FUNDS);
        // The same id still locks once properly authorized: the failures left no trace.
        await s.lockOf(t);
      });

      it('leaves the leg none with an authorization signed for another network', async () => {
        const t = s.makeTerms('other-network');
        // alice's own key over the right settlement id, but for another cluster's network id:
        // an intent signed for one cluster must never lock value on a leg of another.
        const elsewhere = s.h.anchor.networkId.slice();
        elsewhere[0]! ^= 1;
        const key = s.h.partyKeys.get('alice')!;
        expect((await s.h.adapter.prepare(t, authorize('alice', key, elsewhere, settlementId(t)))).kind).toBe('unauthorized');
        await s.expectState(t, 'none');
        expect(await s.balance('alice')).toBe(FUNDS);
        await s.lockOf(t);
      });

      it('leaves the leg none when the wrong party authorizes', async () => {
        const t = s.makeTerms('wrong-party');
        expect((await s.h.adapter.prepare(t, s.auth(t, 'bob'))).kind).toBe('unauthorized');
        expect((await s.h.adapter.prepare(t, s.auth(t, 'carol'))).kind).toBe('unauthorized');
        await s.expectState(t, 'none');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('locks with exactly the expected lock record and the anchor group key', async () => {
        const t = s.makeTerms('lock');
        await s.lockOf(t);
        const v = await s.expectState(t, 'locked');
        expect(v.lock).not.toBeNull();
        const want = expectedLock(t, s.h.leg, settlementId(t), s.h.anchor.groupPublicKey);
        expect(lockEquals(v.lock!, want)).toBe(true);
        expect(v.finalityHeight > 0n).toBe(true);
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
      });

      it('is idempotent by settlement id', async () => {
        const t = s.makeTerms('idempotent');
        await s.lockOf(t);
        const first = await s.view(t);
        expect(await s.h.adapter.prepare(t, s.auth(t))).toEqual({ kind: 'locked' });
        expect(await s.h.adapter.prepare(t, null)).toEqual({ kind: 'locked' });
        const second = await s.view(t);
        expect(second.finalityHeight).toBe(first.finalityHeight);
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
      });

      it('rejects insufficient funds durably: later prepares are closed', async () => {
        const t = s.makeTerms('insufficient', { amount: FUNDS + 1n });
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('rejected');
        const v = await s.expectState(t, 'rejected');
        expect(v.lock).toBeNull();
        await s.fund('alice', FUNDS); // enough now, but a rejection is final for the id
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('closed');
        await s.expectState(t, 'rejected');
        expect(await s.balance('alice')).toBe(2n * FUNDS);
      });

      it('rejects terms that name another venue', async () => {
        const v = s.h.venue;
        const elsewhere: HarnessVenue =
          v.leg === 'asset' ? { ...v, chainId: v.chainId + 1n } : { ...v, ledger: `${v.ledger}-other` };
        const t = s.makeTerms('other-venue', { venue: elsewhere });
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('rejected');
        await s.expectState(t, 'rejected');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('moves finalityHeight up with every state change', async () => {
        const t = s.makeTerms('heights');
        const h0 = (await s.view(t)).finalityHeight;
        await s.lockOf(t);
        const h1 = (await s.view(t)).finalityHeight;
        expect(await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).toEqual({ kind: 'applied' });
        const h2 = (await s.view(t)).finalityHeight;
        expect(h1 > h0).toBe(true);
        expect(h2 > h1).toBe(true);
      });
    });

    describe('COMMIT', () => {
      it('applies before validUntil: committed, value moved to the counterparty, lock kept', async () => {
        const t = s.makeTerms('commit');
        await s.lockOf(t);
        await s.h.setNowMs(validUntilMs(t) - BEFORE_MS);
        expect(await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).toEqual({ kind: 'applied' });
        const v = await s.expectState(t, 'committed');
        expect(lockEquals(v.lock!, expectedLock(t, s.h.leg, settlementId(t), s.h.anchor.groupPublicKey))).toBe(true);
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
        expect(await s.balance('bob')).toBe(AMOUNT);
      });

      it('is refused at validUntil and after; the value stays locked until an ABORT', async () => {
        const t = s.makeTerms('commit-late');
        await s.lockOf(t);
        const commit = s.report(t, 'COMMIT');
        await s.h.setNowMs(validUntilMs(t));
        expect((await s.h.adapter.applyReport(commit)).kind).toBe('refused');
        await s.h.setNowMs(validUntilMs(t) + BEFORE_MS);
        expect((await s.h.adapter.applyReport(commit)).kind).toBe('refused');
        await s.expectState(t, 'locked');
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
        expect(await s.balance('bob')).toBe(0n);
        // A refused report is not "applied": the ABORT still goes through.
        expect(await s.h.adapter.applyReport(s.report(t, 'ABORT'))).toEqual({ kind: 'applied' });
        await s.expectState(t, 'aborted');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('is refused on a never-locked id, which stays none', async () => {
        const t = s.makeTerms('commit-unlocked');
        expect((await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).kind).toBe('refused');
        await s.expectState(t, 'none');
        await s.lockOf(t);
      });
    });

    describe('ABORT', () => {
      it('refunds while locked, also after validUntil', async () => {
        const t = s.makeTerms('abort');
        await s.lockOf(t);
        await s.h.setNowMs(reclaimAtMs(t) - BEFORE_MS);
        expect(await s.h.adapter.applyReport(s.report(t, 'ABORT'))).toEqual({ kind: 'applied' });
        const v = await s.expectState(t, 'aborted');
        expect(v.lock).not.toBeNull();
        expect(await s.balance('alice')).toBe(FUNDS);
        expect(await s.balance('bob')).toBe(0n);
      });

      it('closes a never-locked id: a later prepare is closed', async () => {
        const t = s.makeTerms('abort-first');
        expect(await s.h.adapter.applyReport(s.report(t, 'ABORT'))).toEqual({ kind: 'applied' });
        const v = await s.expectState(t, 'aborted');
        expect(v.lock).toBeNull();
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('closed');
        await s.expectState(t, 'aborted');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('is recorded on a rejected id, whose state stays rejected', async () => {
        const t = s.makeTerms('abort-rejected', { amount: FUNDS + 1n });
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('rejected');
        const abort = s.report(t, 'ABORT');
        expect(await s.h.adapter.applyReport(abort)).toEqual({ kind: 'applied' });
        await s.expectState(t, 'rejected');
        expect(await s.h.adapter.applyReport(abort)).toEqual({ kind: 'duplicate' });
        expect((await s.h.adapter.applyReport(s.report(t, 'ABORT', { round: 1 }))).kind).toBe('refused');
        expect((await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).kind).toBe('refused');
        await s.expectState(t, 'rejected');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('from another signer set cannot close a never-locked id', async () => {
        const t = s.makeTerms('abort-forged');
        expect((await s.h.adapter.applyReport(s.report(t, 'ABORT', { dealer: otherDealer() }))).kind).toBe('refused');
        await s.expectState(t, 'none');
        await s.lockOf(t);
      });
    });

    describe('reclaim', () => {
      it('is refused before the reclaim time and when nothing is locked', async () => {
        const t = s.makeTerms('reclaim-early');
        expect((await s.h.adapter.reclaim(settlementId(t))).kind).toBe('refused');
        await s.lockOf(t);
        await s.h.setNowMs(reclaimAtMs(t) - BEFORE_MS);
        expect((await s.h.adapter.reclaim(settlementId(t))).kind).toBe('refused');
        await s.expectState(t, 'locked');
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
      });

      it('returns the value at the reclaim time; every report is refused afterwards', async () => {
        const t = s.makeTerms('reclaim');
        await s.lockOf(t);
        const abort = s.report(t, 'ABORT');
        const commit = s.report(t, 'COMMIT');
        await s.h.setNowMs(reclaimAtMs(t));
        expect(await s.h.adapter.reclaim(settlementId(t))).toEqual({ kind: 'reclaimed' });
        const v = await s.expectState(t, 'reclaimed');
        expect(v.lock).not.toBeNull();
        expect(await s.balance('alice')).toBe(FUNDS);
        expect((await s.h.adapter.applyReport(abort)).kind).toBe('refused');
        expect((await s.h.adapter.applyReport(commit)).kind).toBe('refused');
        expect((await s.h.adapter.reclaim(settlementId(t))).kind).toBe('refused');
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('closed');
        await s.expectState(t, 'reclaimed');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('is refused once a report was applied', async () => {
        const t = s.makeTerms('reclaim-after-commit');
        await s.lockOf(t);
        expect(await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).toEqual({ kind: 'applied' });
        await s.h.setNowMs(reclaimAtMs(t));
        expect((await s.h.adapter.reclaim(settlementId(t))).kind).toBe('refused');
        await s.expectState(t, 'committed');
        expect(await s.balance('bob')).toBe(AMOUNT);
      });
    });

    describe('reports', () => {
      it('applies at most one report per id: the same again is a duplicate, any other is refused', async () => {
        const t = s.makeTerms('one-report');
        await s.lockOf(t);
        const commit = s.report(t, 'COMMIT');
        expect(await s.h.adapter.applyReport(commit)).toEqual({ kind: 'applied' });
        const h1 = (await s.view(t)).finalityHeight;
        expect(await s.h.adapter.applyReport(commit)).toEqual({ kind: 'duplicate' });
        expect((await s.h.adapter.applyReport(s.report(t, 'ABORT'))).kind).toBe('refused');
        expect((await s.h.adapter.applyReport(s.report(t, 'COMMIT', { round: 1 }))).kind).toBe('refused');
        const v = await s.expectState(t, 'committed');
        expect(v.finalityHeight).toBe(h1);
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
        expect(await s.balance('bob')).toBe(AMOUNT);
      });

      it('refuses forged, foreign and mismatching reports and leaves the value locked', async () => {
        const t = s.makeTerms('forgeries');
        const other = s.makeTerms('forgeries-other');
        await s.lockOf(t);
        const commit = s.report(t, 'COMMIT');
        const abort = s.report(t, 'ABORT');
        const otherCommit = s.report(other, 'COMMIT');
        const flipped = commit.signature.slice();
        flipped[47]! ^= 1;
        const forgeries: readonly [string, Report][] = [
          ['a flipped signature bit', { ...commit, signature: flipped }],
          ['the ABORT signature on the COMMIT body', { ...commit, signature: abort.signature }],
          ['a tampered decision (COMMIT → ABORT)', { ...commit, decision: 'ABORT' }],
          ['a tampered decision (ABORT → COMMIT)', { ...abort, decision: 'COMMIT' }],
          ['a tampered round', { ...commit, round: 1 }],
          ['another dealer (wrong signer set)', s.report(t, 'COMMIT', { dealer: otherDealer() })],
          ['only 2 of the 3 partials needed', s.report(t, 'COMMIT', { indices: [1, 2] })],
          ['another network', s.report(t, 'COMMIT', { networkId: new Uint8Array(32).fill(7) })],
          ['another configuration digest', s.report(t, 'COMMIT', { configDigest: new Uint8Array(32).fill(9) })],
          ['another settlement id on a valid signature', { ...otherCommit, settlementId: settlementId(t) }],
          ['a validUntil that differs from the lock', s.report(t, 'COMMIT', { validUntilMs: validUntilMs(t) + BEFORE_MS })],
          ['an empty signature', { ...commit, signature: new Uint8Array(0) }],
          ['a signature of zeros', { ...commit, signature: new Uint8Array(48) }],
        ];
        for (const [what, report] of forgeries) {
          const outcome = await s.h.adapter.applyReport(report);
          expect(outcome.kind, what).toBe('refused');
          expect((await s.view(t)).state, what).toBe('locked');
          expect(await s.balance('alice'), what).toBe(FUNDS - AMOUNT);
        }
        // A valid report for a settlement that never locked moves nothing here.
        expect((await s.h.adapter.applyReport(otherCommit)).kind).toBe('refused');
        await s.expectState(other, 'none');
        // The genuine report still applies: the refusals were about the forgeries.
        expect(await s.h.adapter.applyReport(commit)).toEqual({ kind: 'applied' });
        await s.expectState(t, 'committed');
        expect(await s.balance('bob')).toBe(AMOUNT);
      });
    });
  });
}
