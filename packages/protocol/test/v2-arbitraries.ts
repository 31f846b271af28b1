/**
 * fast-check arbitraries for protocol v2 values (beside arbitraries.ts for v1). Signatures,
 * partials, digests and roots are random bytes of the right length: the codecs never look inside.
 */
import fc from 'fast-check';
import type {
  BatchHeader,
  Bundle,
  BundleEntry,
  BundleLegView,
  DecidedBatch,
  Entry,
  FullProposal2,
  JustificationBundle,
  MessageV2,
  ReportV2,
  SignedBundleHeader,
  SignedVote2,
} from '../src/index.js';
import { LEG_STATE_CODES, U32_MAX, bytesN, decision, terms, timeMs, u16 } from './arbitraries.js';

export const entry: fc.Arbitrary<Entry> = fc.record({ settlementId: bytesN(32), decision, validUntilMs: timeMs });

/** Entries with distinct ids, in random order (sort them for a batch). */
export const entryList = (minLength: number, maxLength: number): fc.Arbitrary<Entry[]> =>
  fc.uniqueArray(entry, { minLength, maxLength, selector: (e) => Buffer.from(e.settlementId).toString('hex') });

/** A height or liveFrom: at least 1, a safe integer. */
export const heightArb: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1, Number.MAX_SAFE_INTEGER));
const count: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 1, max: 0xffff }), fc.constantFrom(1, 0xffff));

export const batchHeader: fc.Arbitrary<BatchHeader> = fc.record({ timeMs, liveFrom: heightArb, count, root: bytesN(32) });

/** liveFrom is at most height. */
export const reportV2: fc.Arbitrary<ReportV2> = fc
  .record({ networkId: bytesN(32), configDigest: bytesN(32), height: heightArb, round: fc.integer({ min: 0, max: U32_MAX }), header: batchHeader, signature: bytesN(48) })
  .map(({ header, ...r }) => ({ ...r, ...header, liveFrom: Math.min(header.liveFrom, r.height) }));

export const bundleLegView: fc.Arbitrary<BundleLegView> = fc.record({
  state: fc.constantFrom(...LEG_STATE_CODES),
  finalityHeight: timeMs,
  lockDigest: fc.option(bytesN(32), { nil: null }),
});

export const bundleEntry: fc.Arbitrary<BundleEntry> = fc.record({
  settlementId: bytesN(32),
  kind: fc.constantFrom('view', 'deadline', 'guard'),
  asset: bundleLegView,
  payment: bundleLegView,
});

const anchor = { networkId: bytesN(32), configDigest: bytesN(32) };

export const signedBundleHeader = (countArb: fc.Arbitrary<number>): fc.Arbitrary<SignedBundleHeader> =>
  fc.record({ ...anchor, signer: u16, timeMs, count: countArb, root: bytesN(32), signature: bytesN(64) });

/** A bundle as the codec sees it: header count = number of entries (root not checked). */
export const bundle: fc.Arbitrary<Bundle> = fc
  .record({ header: signedBundleHeader(fc.constant(0)), entries: fc.array(bundleEntry, { maxLength: 4 }) })
  .map(({ header, entries }) => ({ header: { ...header, count: entries.length }, entries }));

export const signedVote2: fc.Arbitrary<SignedVote2> = fc
  .record({
    ...anchor,
    height: heightArb,
    round: fc.integer({ min: 0, max: U32_MAX }),
    step: fc.constantFrom<'prevote' | 'precommit'>('prevote', 'precommit'),
    voter: u16,
    headerDigest: fc.option(bytesN(32), { nil: null }),
    partialBytes: bytesN(48),
    signature: bytesN(64),
  })
  .map(({ partialBytes, ...v }) => ({ ...v, partial: v.step === 'precommit' && v.headerDigest !== null ? partialBytes : null }));

/** Structurally valid (indices and siblings shaped as the codec wants; not a real proof). */
const justificationBundle: fc.Arbitrary<JustificationBundle> = fc
  .record({ header: signedBundleHeader(fc.integer({ min: 0, max: 6 })), picks: fc.array(bundleEntry, { maxLength: 3 }), siblings: fc.array(bytesN(32), { maxLength: 4 }) })
  .map(({ header, picks, siblings }) => {
    const entries = picks.slice(0, header.count);
    const indices = entries.map((_, k) => k);
    return { header, entries, proof: { indices, count: header.count, siblings: entries.length === 0 ? [] : siblings } };
  });

export const fullProposal2: fc.Arbitrary<FullProposal2> = fc
  .record({
    ...anchor,
    height: heightArb,
    round: fc.integer({ min: 0, max: U32_MAX }),
    proposer: u16,
    validRoundSeed: fc.double({ min: 0, max: 1, noNaN: true }),
    header: batchHeader,
    entries: fc.array(entry, { minLength: 1, maxLength: 4 }),
    terms: fc.array(terms, { maxLength: 2 }),
    justification: fc.array(justificationBundle, { maxLength: 3 }),
    polka: fc.array(signedVote2, { maxLength: 3 }),
    signature: bytesN(64),
  })
  .map(({ validRoundSeed, ...p }) => ({
    ...p,
    header: { ...p.header, count: p.entries.length },
    validRound: Math.min(p.round - 1, Math.floor(validRoundSeed * (p.round + 1)) - 1),
  }));

export const decidedBatch: fc.Arbitrary<DecidedBatch> = fc
  .record({ report: reportV2, entries: fc.array(entry, { minLength: 1, maxLength: 5 }) })
  .map(({ report, entries }) => ({ report: { ...report, count: entries.length }, entries }));

export const messageV2: fc.Arbitrary<MessageV2> = fc.oneof(
  bundle.map((b) => ({ kind: 'bundle', bundle: b }) as const),
  signedVote2.map((v) => ({ kind: 'vote2', vote: v }) as const),
  fullProposal2.map((p) => ({ kind: 'proposal2', proposal: p }) as const),
  decidedBatch.map((b) => ({ kind: 'decided', batch: b }) as const),
  fc.record({ fromHeight: heightArb, count: fc.integer({ min: 1, max: 0xffff }) }).map((c) => ({ kind: 'catch-up', ...c }) as const),
);
