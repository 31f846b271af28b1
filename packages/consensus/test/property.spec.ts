import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Decision, type SignedObservation, reportDigest } from '@tandem/protocol';
import { supports } from '../src/index.js';
import {
  type Fixture,
  type LegPair,
  Net,
  bothLocked,
  lockedView,
  makeFixture,
  memoVerifier,
  noneView,
  ofType,
  paymentMissing,
  rejectedView,
} from './harness.js';

/** What a member reads from the legs at one moment (honest readings differ only in timing). */
type Reading = 'locked' | 'paymentNone' | 'paymentRejected' | 'deadlineMissing' | 'deadlineLocked';

function legsOf(fx: Fixture, r: Reading): { legs: LegPair; deadline: boolean } {
  switch (r) {
    case 'locked':
      return { legs: bothLocked(fx), deadline: false };
    case 'paymentNone':
      return { legs: { asset: lockedView(fx, 'asset'), payment: noneView() }, deadline: false };
    case 'paymentRejected':
      return { legs: { asset: lockedView(fx, 'asset'), payment: rejectedView() }, deadline: false };
    case 'deadlineMissing':
      return { legs: paymentMissing(fx), deadline: true };
    case 'deadlineLocked':
      return { legs: bothLocked(fx), deadline: true };
  }
}

type Action =
  | { readonly kind: 'deliver' | 'drop' | 'timeout'; readonly pick: number }
  | { readonly kind: 'resend' | 'observe'; readonly member: number };

const N = 4;
const member = fc.integer({ min: 1, max: N });
const reading: fc.Arbitrary<Reading> = fc.oneof(
  { arbitrary: fc.constant<Reading>('locked'), weight: 3 },
  { arbitrary: fc.constantFrom<Reading>('paymentNone', 'paymentRejected', 'deadlineMissing', 'deadlineLocked'), weight: 4 },
);
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('timeout' as const), pick: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('resend' as const), member }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('observe' as const), member }), weight: 2 },
);
const scenario = fc.record({
  /** Each member's readings in order (a later reading replaces the earlier one). */
  readings: fc.array(fc.array(reading, { minLength: 1, maxLength: 2 }), { minLength: N, maxLength: N }),
  /** A member that claims both legs locked whatever it reads (an observation liar), or none. */
  liar: fc.option(member, { nil: null }),
  /** The adversarial prefix: random delivery order, drops, timeouts fired out of order. */
  actions: fc.array(action, { minLength: 20, maxLength: 160 }),
});

/** Bounds of the fair suffix (everything delivered, timeouts in order, periodic resends). */
const FAIR_EVENTS_MAX = 800;
const FAIR_RESENDS = 3;

describe('safety under random delivery, drops and timeouts (n = 4)', () => {
  // One memo across runs: runs replay the same keys over mostly the same signed bytes.
  const fx = makeFixture({ nonce: 'property', verifier: memoVerifier() });
  let runsWithDecision = 0;

  it('never two different decisions, never a decision without f+1 supporting members (one of them correct)', () => {
    fc.assert(
      fc.property(scenario, ({ readings, liar, actions }) => {
        const net = new Net(fx);
        const pending = readings.map((rs, i) => (i + 1 === liar ? rs.map((): Reading => 'locked') : [...rs]));
        const observeNext = (m: number) => {
          const r = pending[m - 1]!.shift();
          if (r === undefined) return;
          const { legs, deadline } = legsOf(fx, r);
          net.observe(m, legs, deadline);
        };

        for (const a of actions) {
          if (a.kind === 'deliver' && net.inflight.length > 0) net.deliverOne(a.pick % net.inflight.length);
          else if (a.kind === 'drop' && net.inflight.length > 0) net.inflight.splice(a.pick % net.inflight.length, 1);
          else if (a.kind === 'timeout' && net.timers.length > 0) net.fireAt(a.pick % net.timers.length);
          else if (a.kind === 'resend') net.input(a.member, { type: 'resend' });
          else if (a.kind === 'observe') observeNext(a.member);
        }
        // Fair suffix: every reading happens, and resends repair what the prefix dropped.
        for (const m of fx.members) while (pending[m - 1]!.length > 0) observeNext(m);
        for (let i = 0; i < FAIR_RESENDS && !net.allDecided(); i++) {
          net.resendAll();
          net.run(undefined, FAIR_EVENTS_MAX);
        }

        // Agreement: at most one decided value.
        const reports = net.reports().filter((r) => r !== null);
        const values = new Set(reports.map((r) => r.decision));
        expect(values.size).toBeLessThanOrEqual(1);
        if (reports.length > 0) runsWithDecision++;

        // Validity: the decided value had f+1 distinct supporting members, at least one correct.
        const observations: SignedObservation[] = [];
        for (const m of fx.members) {
          for (const e of ofType(net.effectsOf(m), 'signed')) if (e.message.kind === 'observation') observations.push(e.message.observation);
        }
        for (const v of values as Set<Decision>) {
          const supporters = new Set(observations.filter((o) => supports(v, o, fx.terms, fx.groupKey)).map((o) => o.signer));
          expect(supporters.size).toBeGreaterThanOrEqual(fx.f + 1);
          expect([...supporters].some((m) => m !== liar)).toBe(true);
        }
        // Every report is a valid group signature over its own digest.
        for (const r of reports) expect(fx.ctx(1).verifier.bls(fx.groupKey, reportDigest(r), r.signature)).toBe(true);
        // Slashing protection: no member signed two votes for one (round, step), or two proposals for one round.
        for (const m of fx.members) {
          const keys = ofType(net.effectsOf(m), 'signed').flatMap((e) =>
            e.message.kind === 'vote' ? [`v${e.message.vote.round}:${e.message.vote.step}`] : e.message.kind === 'proposal' ? [`p${e.message.proposal.round}`] : [],
          );
          expect(new Set(keys).size).toBe(keys.length);
        }
      }),
      { numRuns: 15 },
    );
    // The property is not vacuous: some runs did reach a decision.
    expect(runsWithDecision).toBeGreaterThan(0);
  });
});
