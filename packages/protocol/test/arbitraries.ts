/**
 * fast-check arbitraries for valid protocol values. Keys and signatures are random bytes of the
 * right length: the codecs never look inside them, so no real cryptography is needed here.
 */
import fc from 'fast-check';
import {
  type ClusterConfig,
  type DecodeErrorCode,
  type Decision,
  type LegState,
  type LegView,
  type LockRecord,
  type Member,
  type Message,
  type Report,
  type ReportBody,
  type SignedObservation,
  type SignedProposal,
  type SignedVote,
  type Terms,
  DecodeError,
  STRING_BYTES_MAX,
  U256_MAX,
  U64_MAX,
  toHex,
} from '../src/index.js';

/** Wire order of leg states (the u8 code is the index); docs/wire-format.md lists the same. */
export const LEG_STATE_CODES: readonly LegState[] = ['none', 'locked', 'rejected', 'committed', 'aborted', 'reclaimed'];

export const U32_MAX = 0xffff_ffff;
export const U16_MAX = 0xffff;

export function bytesN(n: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: n, maxLength: n });
}

const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length;

/**
 * Strings the codec accepts: any code point (no lone surrogates, which UTF-8 cannot carry), at
 * most STRING_BYTES_MAX bytes. One in ten is long, to reach the length bound.
 */
export const wireString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 9 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 60, maxLength: STRING_BYTES_MAX }).filter((s) => utf8Bytes(s) <= STRING_BYTES_MAX), weight: 1 },
);

export const u64n: fc.Arbitrary<bigint> = fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.constantFrom(0n, U64_MAX));
export const positiveU256: fc.Arbitrary<bigint> = fc.oneof(fc.bigInt({ min: 1n, max: U256_MAX }), fc.constantFrom(1n, U256_MAX));
export const u32: fc.Arbitrary<number> = fc.integer({ min: 0, max: U32_MAX });
export const u16: fc.Arbitrary<number> = fc.integer({ min: 0, max: U16_MAX });
/** A u64 time in ms as the codec holds it in memory: a safe integer. */
export const timeMs: fc.Arbitrary<number> = fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));

export const decision: fc.Arbitrary<Decision> = fc.constantFrom('COMMIT', 'ABORT');

/** deadline + reportWindow + margin must stay a safe integer: each third of the range keeps it so. */
const termTimeMs = fc.oneof(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 3) }), fc.integer({ min: 0, max: 10_000_000 }));

export const terms: fc.Arbitrary<Terms> = fc.record({
  nonce: wireString,
  asset: fc.record({ chainId: u64n, escrow: bytesN(20), token: wireString, seller: wireString, buyer: wireString, amount: positiveU256 }),
  payment: fc.record({ bankId: wireString, ledger: wireString, payer: wireString, payee: wireString, currency: wireString, amount: positiveU256 }),
  deadlineMs: termTimeMs,
  reportWindowMs: termTimeMs,
  marginMs: termTimeMs,
});

export const reportBody: fc.Arbitrary<ReportBody> = fc.record({
  networkId: bytesN(32),
  configDigest: bytesN(32),
  settlementId: bytesN(32),
  decision,
  round: u32,
  validUntilMs: timeMs,
});

export const report: fc.Arbitrary<Report> = fc.record({
  networkId: bytesN(32),
  configDigest: bytesN(32),
  settlementId: bytesN(32),
  decision,
  round: u32,
  validUntilMs: timeMs,
  signature: bytesN(48),
});

export const lockRecord: fc.Arbitrary<LockRecord> = fc.record({
  settlementId: bytesN(32),
  amount: fc.bigInt({ min: 0n, max: U256_MAX }),
  from: wireString,
  to: wireString,
  unit: wireString,
  venue: wireString,
  validUntilMs: timeMs,
  reclaimAtMs: timeMs,
  groupPublicKey: bytesN(96),
});

export const legView: fc.Arbitrary<LegView> = fc.record({
  state: fc.constantFrom(...LEG_STATE_CODES),
  finalityHeight: u64n,
  lock: fc.option(lockRecord, { nil: null }),
});

const header = { networkId: bytesN(32), configDigest: bytesN(32), settlementId: bytesN(32) };

export const signedObservation: fc.Arbitrary<SignedObservation> = fc.record({
  ...header,
  signer: u16,
  deadline: fc.boolean(),
  asset: legView,
  payment: legView,
  signature: bytesN(64),
});

/** A vote carries a partial exactly when it is a precommit for a value. */
export function signedVoteWith(opts: { step?: 'prevote' | 'precommit'; value?: Decision | null } = {}): fc.Arbitrary<SignedVote> {
  const step = opts.step === undefined ? fc.constantFrom<'prevote' | 'precommit'>('prevote', 'precommit') : fc.constant(opts.step);
  const value = opts.value === undefined ? fc.option(decision, { nil: null }) : fc.constant(opts.value);
  return fc
    .record({ ...header, round: u32, step, voter: u16, value, signature: bytesN(64), partialBytes: bytesN(48) })
    .map(({ partialBytes, ...v }) => ({ ...v, partial: v.step === 'precommit' && v.value !== null ? partialBytes : null }));
}

export const signedVote: fc.Arbitrary<SignedVote> = signedVoteWith();

export const signedProposal: fc.Arbitrary<SignedProposal> = fc
  .record({
    ...header,
    round: fc.integer({ min: 0, max: U32_MAX }),
    proposer: u16,
    value: decision,
    validRoundSeed: fc.double({ min: 0, max: 1, noNaN: true }),
    terms,
    evidence: fc.array(signedObservation, { maxLength: 3 }),
    polka: fc.array(signedVote, { maxLength: 3 }),
    signature: bytesN(64),
  })
  // validRound is -1 or below round: pick it inside [-1, round - 1] from a uniform seed.
  .map(({ validRoundSeed, ...p }) => ({ ...p, validRound: Math.min(p.round - 1, Math.floor(validRoundSeed * (p.round + 1)) - 1) }));

export const message: fc.Arbitrary<Message> = fc.oneof(
  terms.map((t) => ({ kind: 'terms', terms: t }) as const),
  signedObservation.map((o) => ({ kind: 'observation', observation: o }) as const),
  signedProposal.map((p) => ({ kind: 'proposal', proposal: p }) as const),
  signedVote.map((v) => ({ kind: 'vote', vote: v }) as const),
  fc.record({ report, terms }).map(({ report: r, terms: t }) => ({ kind: 'report', report: r, terms: t }) as const),
);

/** A cluster configuration of random bytes; shape rules (t = quorum) are not enforced here. */
export const clusterConfig: fc.Arbitrary<ClusterConfig> = fc
  .record({
    networkId: bytesN(32),
    members: fc.array(fc.record<Member>({ index: u16, id: wireString, identityKey: bytesN(32) }), { minLength: 1, maxLength: 7 }),
    t: u16,
    commitments: fc.array(bytesN(96), { minLength: 1, maxLength: 5 }),
  })
  .map((c) => ({ ...c, n: c.members.length }));

/** A byte string derived from `b` by changing exactly one byte to a different value. */
export const mutationOf = (b: Uint8Array): fc.Arbitrary<{ mutated: Uint8Array; index: number }> =>
  fc.record({ index: fc.nat({ max: b.length - 1 }), delta: fc.integer({ min: 1, max: 255 }) }).map(({ index, delta }) => {
    const mutated = b.slice();
    mutated[index] = (mutated[index]! + delta) & 0xff;
    return { mutated, index };
  });

/**
 * Runs a decoder and classifies the outcome: 'ok', or the DecodeError's code. Anything else a
 * decoder throws is re-thrown, so a property using this fails on it.
 */
export function decodeOutcome(decode: () => unknown): 'ok' | DecodeErrorCode {
  try {
    decode();
    return 'ok';
  } catch (e) {
    if (e instanceof DecodeError) return e.code;
    throw e;
  }
}

/** A string that is equal for structurally equal values (bigints and byte arrays included). */
export function show(v: unknown): string {
  return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `0x${toHex(x)}` : x));
}
