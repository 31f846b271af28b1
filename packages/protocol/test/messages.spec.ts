import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ED25519_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  EncodeError,
  G2_POINT_BYTES,
  LIST_ITEMS_MAX,
  type LegView,
  type LockRecord,
  MESSAGE_BYTES_MAX,
  type Message,
  authorizationMessage,
  SIGN_DOMAIN,
  type SignedObservation,
  type SignedProposal,
  type SignedVote,
  type Terms,
  decodeMessage,
  encodeMessage,
  encodeObservationBody,
  encodeProposalBody,
  encodeReport,
  encodeTerms,
  encodeVoteBody,
  expectedLock,
  lockEquals,
  reclaimAtMs,
  settlementId,
  toHex,
  validUntilMs,
} from '../src/index.js';
import {
  LEG_STATE_CODES,
  decodeOutcome,
  lockRecord,
  message,
  mutationOf,
  report,
  show,
  signedObservation,
  signedProposal,
  signedVote,
  signedVoteWith,
  terms,
} from './arbitraries.js';

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers

const fill = (len: number, byte: number): Uint8Array => new Uint8Array(len).fill(byte);
const u16be = (v: number): number[] => [v >> 8, v & 0xff];
const u32be = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const u64be = (v: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(56 - 8 * i)) & 0xffn));
const str = (s: string): number[] => {
  const b = new TextEncoder().encode(s);
  return [...u16be(b.length), ...b];
};

/** A copy of `b` with `bytes` written at `offset`. */
function patch(b: Uint8Array, offset: number, bytes: readonly number[]): Uint8Array {
  const m = b.slice();
  m.set(bytes, offset);
  return m;
}

const header = { networkId: fill(32, 0x11), configDigest: fill(32, 0x22), settlementId: fill(32, 0x33) };

const sampleTerms: Terms = {
  nonce: 'abc',
  asset: { chainId: 1n, escrow: fill(20, 0xee), token: 'OUSG', seller: 's', buyer: 'b', amount: 5n },
  payment: { bankId: 'bk', ledger: 'l', payer: 'b', payee: 's', currency: 'USD', amount: 7n },
  deadlineMs: 1_000,
  reportWindowMs: 500,
  marginMs: 100,
};

const sampleLock: LockRecord = {
  settlementId: fill(32, 0x44),
  amount: 258n,
  from: 'from',
  to: 'to',
  unit: 'USD',
  venue: 'bk/l',
  validUntilMs: 1_500,
  reclaimAtMs: 1_600,
  groupPublicKey: fill(96, 0x55),
};

const sampleObservation: SignedObservation = {
  ...header,
  signer: 0x0203,
  deadline: true,
  asset: { state: 'rejected', finalityHeight: 0x0102030405060708n, lock: null },
  payment: { state: 'locked', finalityHeight: 9n, lock: sampleLock },
  signature: fill(64, 0x66),
};

const sampleVote: SignedVote = {
  ...header,
  round: 0x0a0b0c0d,
  step: 'precommit',
  voter: 7,
  value: 'COMMIT',
  partial: fill(48, 0x77),
  signature: fill(64, 0x88),
};

/** Offsets inside an observation message: [version][tag][u32 body length][body][signature]. */
const OBS = { body: 6, signer: 102, deadline: 104, assetState: 105, assetHasLock: 114, paymentState: 115 } as const;
/** Offsets inside a vote message. */
const VOTE = { body: 6, round: 102, step: 106, voter: 107, value: 109, hasPartial: 110, partial: 111 } as const;

function expectRoundTrip(m: Message): void {
  const b = encodeMessage(m);
  const back = decodeMessage(b);
  expect(back).toEqual(m);
  // Canonical: the decoded value has exactly one encoding, the one we started from.
  expect(toHex(encodeMessage(back))).toBe(toHex(b));
}

// ---------------------------------------------------------------------------------------------

describe('wire messages round-trip', () => {
  it('terms', () => {
    fc.assert(fc.property(terms, (t) => expectRoundTrip({ kind: 'terms', terms: t })));
  });

  it('observation', () => {
    fc.assert(fc.property(signedObservation, (o) => expectRoundTrip({ kind: 'observation', observation: o })));
  });

  it('proposal with evidence and polka', () => {
    const withLists: fc.Arbitrary<SignedProposal> = fc
      .record({ p: signedProposal, evidence: fc.array(signedObservation, { minLength: 1, maxLength: 4 }), polka: fc.array(signedVote, { minLength: 1, maxLength: 4 }) })
      .map(({ p, evidence, polka }) => ({ ...p, evidence, polka }));
    fc.assert(fc.property(withLists, (p) => expectRoundTrip({ kind: 'proposal', proposal: p })), { numRuns: 50 });
  });

  it('proposal with empty lists, validRound -1 and round 0', () => {
    fc.assert(
      fc.property(signedProposal, (p) => expectRoundTrip({ kind: 'proposal', proposal: { ...p, round: 0, validRound: -1, evidence: [], polka: [] } })),
      { numRuns: 30 },
    );
  });

  it('vote with a partial (precommit for a value)', () => {
    fc.assert(fc.property(signedVoteWith({ step: 'precommit' }).filter((v) => v.value !== null), (v) => {
      expect(v.partial).not.toBeNull();
      expectRoundTrip({ kind: 'vote', vote: v });
    }));
  });

  it('vote without a partial (prevote, or precommit for nil)', () => {
    const noPartial = fc.oneof(signedVoteWith({ step: 'prevote' }), signedVoteWith({ step: 'precommit', value: null }));
    fc.assert(fc.property(noPartial, (v) => {
      expect(v.partial).toBeNull();
      expectRoundTrip({ kind: 'vote', vote: v });
    }));
  });

  it('report with terms', () => {
    fc.assert(fc.property(report, terms, (r, t) => expectRoundTrip({ kind: 'report', report: r, terms: t })));
  });
});

describe('wire message layouts (docs/wire-format.md)', () => {
  it('vote: version, tag 4, u32 body length, body, signature', () => {
    const body = [...header.networkId, ...header.configDigest, ...header.settlementId, ...u32be(0x0a0b0c0d), 2, ...u16be(7), 1, 1, ...fill(48, 0x77)];
    const expected = [1, 4, ...u32be(body.length), ...body, ...fill(64, 0x88)];
    expect(toHex(encodeMessage({ kind: 'vote', vote: sampleVote }))).toBe(toHex(Uint8Array.from(expected)));
    expect(expected).toHaveLength(223);
    expect(toHex(encodeVoteBody(sampleVote))).toBe(toHex(Uint8Array.from(body)));
    expect(body).toHaveLength(153);
    const prevote = encodeVoteBody({ ...sampleVote, step: 'prevote', value: null, partial: null });
    expect(toHex(prevote.subarray(98))).toBe(toHex(Uint8Array.from([0x0c, 0x0d, 1, 0, 7, 0, 0])));
  });

  it('observation: leg states, flags and lock records in order', () => {
    const lock = [
      ...fill(32, 0x44), ...new Array<number>(30).fill(0), 1, 2, // amount 258 as u256
      ...str('from'), ...str('to'), ...str('USD'), ...str('bk/l'),
      ...u64be(1_500n), ...u64be(1_600n), ...fill(96, 0x55),
    ];
    const body = [
      ...header.networkId, ...header.configDigest, ...header.settlementId,
      ...u16be(0x0203), 1,
      2, ...u64be(0x0102030405060708n), 0, // asset: rejected, no lock
      1, ...u64be(9n), 1, ...lock, // payment: locked, with lock
    ];
    const expected = [1, 2, ...u32be(body.length), ...body, ...fill(64, 0x66)];
    const b = encodeMessage({ kind: 'observation', observation: sampleObservation });
    expect(toHex(b)).toBe(toHex(Uint8Array.from(expected)));
    expect(toHex(encodeObservationBody(sampleObservation))).toBe(toHex(Uint8Array.from(body)));
    expect([b[OBS.signer], b[OBS.signer + 1], b[OBS.deadline], b[OBS.assetState], b[OBS.assetHasLock], b[OBS.paymentState]]).toEqual([2, 3, 1, 2, 0, 1]);
  });

  it('leg state codes are 0..5 in the documented order', () => {
    LEG_STATE_CODES.forEach((state, code) => {
      const o = { ...sampleObservation, asset: { ...sampleObservation.asset, state } };
      expect(encodeMessage({ kind: 'observation', observation: o })[OBS.assetState]).toBe(code);
    });
  });

  it('proposal: framing, validRound + 1, nested terms, counted evidence and polka', () => {
    fc.assert(
      fc.property(signedProposal, (p) => {
        const ev = p.evidence.flatMap((o) => {
          const body = encodeObservationBody(o);
          return [...u32be(body.length), ...body, ...o.signature];
        });
        const pk = p.polka.flatMap((v) => {
          const body = encodeVoteBody(v);
          return [...u32be(body.length), ...body, ...v.signature];
        });
        const t = encodeTerms(p.terms);
        const body = [
          ...p.networkId, ...p.configDigest, ...p.settlementId,
          ...u32be(p.round), ...u16be(p.proposer), p.value === 'COMMIT' ? 1 : 2, ...u32be(p.validRound + 1),
          ...u32be(t.length), ...t,
          ...u16be(p.evidence.length), ...ev,
          ...u16be(p.polka.length), ...pk,
        ];
        expect(toHex(encodeProposalBody(p))).toBe(toHex(Uint8Array.from(body)));
        const expected = [1, 3, ...u32be(body.length), ...body, ...p.signature];
        expect(toHex(encodeMessage({ kind: 'proposal', proposal: p }))).toBe(toHex(Uint8Array.from(expected)));
      }),
      { numRuns: 30 },
    );
  });

  it('terms and report messages', () => {
    const t = encodeTerms(sampleTerms);
    expect(toHex(encodeMessage({ kind: 'terms', terms: sampleTerms }))).toBe(toHex(Uint8Array.from([1, 1, ...u32be(t.length), ...t])));
    fc.assert(
      fc.property(report, (r) => {
        const expected = [1, 5, ...encodeReport(r), ...u32be(t.length), ...t];
        expect(toHex(encodeMessage({ kind: 'report', report: r, terms: sampleTerms }))).toBe(toHex(Uint8Array.from(expected)));
      }),
      { numRuns: 20 },
    );
  });
});

describe('decoders reject malformed input with DecodeError', () => {
  it('every truncation is short and any trailing bytes are trailing, for every kind', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ minLength: 1, maxLength: 8 }), (m, extra) => {
        const b = encodeMessage(m);
        for (let len = 0; len < b.length; len++) expect(decodeOutcome(() => decodeMessage(b.subarray(0, len))), `${m.kind} at ${len}`).toBe('short');
        expect(decodeOutcome(() => decodeMessage(Uint8Array.from([...b, ...extra])))).toBe('trailing');
      }),
      { numRuns: 25 },
    );
  });

  it('unknown wire version and message tag', () => {
    const b = encodeMessage({ kind: 'terms', terms: sampleTerms });
    for (let v = 0; v < 256; v++) if (v !== 1) expect(decodeOutcome(() => decodeMessage(patch(b, 0, [v])))).toBe('tag');
    for (let tag = 0; tag < 256; tag++) {
      if (tag >= 1 && tag <= 5) continue;
      expect(decodeOutcome(() => decodeMessage(patch(b, 1, [tag])))).toBe('tag');
    }
  });

  it('unknown vote step, vote value, leg state and nested versions', () => {
    const vote = encodeMessage({ kind: 'vote', vote: sampleVote });
    for (const step of [0, 3, 255]) expect(decodeOutcome(() => decodeMessage(patch(vote, VOTE.step, [step])))).toBe('tag');
    for (const value of [3, 4, 255]) expect(decodeOutcome(() => decodeMessage(patch(vote, VOTE.value, [value])))).toBe('tag');
    const obs = encodeMessage({ kind: 'observation', observation: sampleObservation });
    for (const state of [6, 7, 255]) {
      expect(decodeOutcome(() => decodeMessage(patch(obs, OBS.assetState, [state])))).toBe('tag');
      expect(decodeOutcome(() => decodeMessage(patch(obs, OBS.paymentState, [state])))).toBe('tag');
    }
    const termsMsg = encodeMessage({ kind: 'terms', terms: sampleTerms });
    expect(decodeOutcome(() => decodeMessage(patch(termsMsg, 6, [2])))).toBe('tag'); // terms version
    const rep = encodeMessage({ kind: 'report', report: { ...header, decision: 'COMMIT', round: 0, validUntilMs: 1, signature: fill(48, 1) }, terms: sampleTerms });
    expect(decodeOutcome(() => decodeMessage(patch(rep, 2, [2])))).toBe('tag'); // report version
    expect(decodeOutcome(() => decodeMessage(patch(rep, 2 + 113, [0])))).toBe('tag'); // decision
  });

  it('bad flags: only 0 and 1 are booleans', () => {
    const obs = encodeMessage({ kind: 'observation', observation: sampleObservation });
    const vote = encodeMessage({ kind: 'vote', vote: sampleVote });
    for (let flag = 2; flag < 256; flag += 17) {
      expect(decodeOutcome(() => decodeMessage(patch(obs, OBS.deadline, [flag])))).toBe('tag');
      expect(decodeOutcome(() => decodeMessage(patch(obs, OBS.assetHasLock, [flag])))).toBe('tag');
      expect(decodeOutcome(() => decodeMessage(patch(vote, VOTE.hasPartial, [flag])))).toBe('tag');
    }
  });

  it('a partial on a prevote or a nil precommit, or none on a precommit for a value', () => {
    const encodedAs = (v: SignedVote): Uint8Array => encodeMessage({ kind: 'vote', vote: v });
    // Rebuild the wire bytes by hand: the encoder refuses these votes.
    const prevote = encodedAs({ ...sampleVote, step: 'prevote', value: 'COMMIT', partial: null });
    const withPartial = Uint8Array.from([...prevote.subarray(0, 2), ...u32be(153), ...prevote.subarray(6, VOTE.hasPartial), 1, ...fill(48, 9), ...prevote.subarray(VOTE.hasPartial + 1)]);
    expect(decodeOutcome(() => decodeMessage(withPartial))).toBe('tag');
    const nil = encodedAs({ ...sampleVote, value: null, partial: null });
    const nilWithPartial = Uint8Array.from([...nil.subarray(0, 2), ...u32be(153), ...nil.subarray(6, VOTE.hasPartial), 1, ...fill(48, 9), ...nil.subarray(VOTE.hasPartial + 1)]);
    expect(decodeOutcome(() => decodeMessage(nilWithPartial))).toBe('tag');
    const full = encodedAs(sampleVote);
    const withoutPartial = Uint8Array.from([...full.subarray(0, 2), ...u32be(105), ...full.subarray(6, VOTE.hasPartial), 0, ...full.subarray(VOTE.partial + 48)]);
    expect(decodeOutcome(() => decodeMessage(withoutPartial))).toBe('tag');
  });

  it('invalid UTF-8 in any string', () => {
    const termsMsg = encodeMessage({ kind: 'terms', terms: sampleTerms });
    // Nonce "abc" sits after the 6-byte frame, the terms version and its u16 length.
    expect(decodeOutcome(() => decodeMessage(patch(termsMsg, 9, [0xff])))).toBe('utf8');
    expect(decodeOutcome(() => decodeMessage(patch(termsMsg, 9, [0xc0, 0x80])))).toBe('utf8');
    expect(decodeOutcome(() => decodeMessage(patch(termsMsg, 9, [0xed, 0xa0, 0x80])))).toBe('utf8');
    const obs = encodeMessage({ kind: 'observation', observation: sampleObservation });
    // The payment lock's "from" string: after the state, height, flag, settlement id and amount.
    const fromAt = OBS.paymentState + 1 + 8 + 1 + 32 + 32;
    expect(toHex(obs.subarray(fromAt, fromAt + 6))).toBe(toHex(Uint8Array.from(str('from'))));
    expect(decodeOutcome(() => decodeMessage(patch(obs, fromAt + 2, [0x80])))).toBe('utf8');
  });

  it('u64 times above 2^53-1', () => {
    const twoTo53 = u64be(2n ** 53n);
    const termsMsg = encodeMessage({ kind: 'terms', terms: sampleTerms });
    for (const back of [24, 16, 8]) expect(decodeOutcome(() => decodeMessage(patch(termsMsg, termsMsg.length - back, twoTo53)))).toBe('range');
    const obs = encodeMessage({ kind: 'observation', observation: sampleObservation });
    // validUntil and reclaimAt of the payment lock: just before its 96-byte key and the signature.
    const reclaimAt = obs.length - 64 - 96 - 8;
    expect(decodeOutcome(() => decodeMessage(patch(obs, reclaimAt, twoTo53)))).toBe('range');
    expect(decodeOutcome(() => decodeMessage(patch(obs, reclaimAt - 8, twoTo53)))).toBe('range');
    expect(decodeOutcome(() => decodeMessage(patch(obs, reclaimAt, u64be(2n ** 53n - 1n))))).toBe('ok');
    const rep = encodeMessage({ kind: 'report', report: { ...header, decision: 'ABORT', round: 3, validUntilMs: 9, signature: fill(48, 1) }, terms: sampleTerms });
    expect(decodeOutcome(() => decodeMessage(patch(rep, 2 + 118, twoTo53)))).toBe('range');
  });

  it('proposal value, validRound not below round, list counts above the bound', () => {
    const p: SignedProposal = { ...header, round: 5, proposer: 2, value: 'ABORT', validRound: 4, terms: sampleTerms, evidence: [], polka: [], signature: fill(64, 3) };
    const b = encodeMessage({ kind: 'proposal', proposal: p });
    const roundAt = 6 + 96;
    const valueAt = roundAt + 4 + 2;
    const validRoundAt = valueAt + 1;
    expect(toHex(b.subarray(validRoundAt, validRoundAt + 4))).toBe('00000005'); // validRound + 1
    for (const v of [0, 3]) expect(decodeOutcome(() => decodeMessage(patch(b, valueAt, [v])))).toBe('tag');
    expect(decodeOutcome(() => decodeMessage(patch(b, validRoundAt, u32be(6))))).toBe('range'); // validRound 5 = round
    expect(decodeOutcome(() => decodeMessage(patch(b, validRoundAt, u32be(0))))).toBe('ok'); // validRound -1
    const evidenceCountAt = b.length - 64 - 2 - 2;
    expect(decodeOutcome(() => decodeMessage(patch(b, evidenceCountAt, u16be(LIST_ITEMS_MAX + 1))))).toBe('length');
    expect(decodeOutcome(() => decodeMessage(patch(b, evidenceCountAt + 2, u16be(LIST_ITEMS_MAX + 1))))).toBe('length');
    expect(decodeOutcome(() => decodeMessage(patch(b, evidenceCountAt + 2, u16be(1))))).toBe('short');
  });

  it('a message above MESSAGE_BYTES_MAX, whatever it contains', () => {
    const b = new Uint8Array(MESSAGE_BYTES_MAX + 1);
    b[0] = 1;
    b[1] = 1;
    expect(decodeOutcome(() => decodeMessage(b))).toBe('length');
  });

  it('random byte strings decode or throw DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        decodeOutcome(() => decodeMessage(b));
      }),
      { numRuns: 500 },
    );
    // With a valid version and tag, so the body decoders see the noise.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 400 }), (tag, rest) => {
        decodeOutcome(() => decodeMessage(Uint8Array.from([1, tag, ...rest])));
      }),
      { numRuns: 500 },
    );
  });

  it('single-byte mutations of valid messages decode canonically or throw DecodeError', () => {
    const mutated = message.chain((m) => mutationOf(encodeMessage(m)).map((x) => ({ kind: m.kind, ...x })));
    fc.assert(
      fc.property(mutated, ({ mutated: b }) => {
        if (decodeOutcome(() => decodeMessage(b)) !== 'ok') return;
        // Whatever decodes has exactly one encoding: the bytes it was decoded from.
        expect(toHex(encodeMessage(decodeMessage(b)))).toBe(toHex(b));
      }),
      { numRuns: 600 },
    );
  });

  it('inserting or deleting one byte decodes canonically or throws DecodeError', () => {
    const edited = message.chain((m) => {
      const b = encodeMessage(m);
      return fc.tuple(fc.nat({ max: b.length }), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([at, byte, insert]) =>
        insert ? Uint8Array.from([...b.subarray(0, at), byte, ...b.subarray(at)]) : Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]),
      );
    });
    fc.assert(
      fc.property(edited, (b) => {
        if (decodeOutcome(() => decodeMessage(b)) !== 'ok') return;
        expect(toHex(encodeMessage(decodeMessage(b)))).toBe(toHex(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('encoders refuse values outside the format', () => {
  it('a vote whose partial does not match its step and value', () => {
    expect(() => encodeVoteBody({ ...sampleVote, partial: null })).toThrow(EncodeError);
    expect(() => encodeVoteBody({ ...sampleVote, step: 'prevote' })).toThrow(EncodeError);
    expect(() => encodeVoteBody({ ...sampleVote, value: null })).toThrow(EncodeError);
    expect(() => encodeVoteBody({ ...sampleVote, partial: fill(47, 1) })).toThrow(EncodeError);
  });

  it('a proposal whose validRound is not -1 or below round, or whose lists are too long', () => {
    const p: SignedProposal = { ...header, round: 3, proposer: 1, value: 'COMMIT', validRound: 2, terms: sampleTerms, evidence: [], polka: [], signature: fill(64, 1) };
    expect(() => encodeProposalBody(p)).not.toThrow();
    for (const validRound of [3, 4, -2, 0.5]) expect(() => encodeProposalBody({ ...p, validRound })).toThrow(EncodeError);
    expect(() => encodeProposalBody({ ...p, round: 0, validRound: 0 })).toThrow(EncodeError);
    const tooMany = new Array<SignedObservation>(LIST_ITEMS_MAX + 1).fill(sampleObservation);
    expect(() => encodeProposalBody({ ...p, evidence: tooMany })).toThrow(EncodeError);
  });

  it('a message larger than any decoder accepts', () => {
    // The longest observation, repeated up to the list bound, is over a megabyte.
    const long = 'x'.repeat(256);
    const bigLock: LockRecord = { ...sampleLock, from: long, to: long, unit: long, venue: long };
    const bigObs: SignedObservation = { ...sampleObservation, asset: { ...sampleObservation.asset, lock: bigLock }, payment: { ...sampleObservation.payment, lock: bigLock } };
    const evidence = new Array<SignedObservation>(LIST_ITEMS_MAX).fill(bigObs);
    const p: SignedProposal = { ...header, round: 1, proposer: 1, value: 'COMMIT', validRound: -1, terms: sampleTerms, evidence, polka: [], signature: fill(64, 1) };
    expect(encodeProposalBody(p).length).toBeGreaterThan(MESSAGE_BYTES_MAX);
    expect(() => encodeMessage({ kind: 'proposal', proposal: p })).toThrow(EncodeError);
  });

  it('signatures and keys of the wrong length', () => {
    expect(() => encodeMessage({ kind: 'vote', vote: { ...sampleVote, signature: fill(63, 1) } })).toThrow(EncodeError);
    expect(() => encodeMessage({ kind: 'observation', observation: { ...sampleObservation, signature: fill(65, 1) } })).toThrow(EncodeError);
    const badKey: LegView = { ...sampleObservation.payment, lock: { ...sampleLock, groupPublicKey: fill(48, 1) } };
    expect(() => encodeObservationBody({ ...sampleObservation, payment: badKey })).toThrow(EncodeError);
  });
});

describe('expected locks', () => {
  const gpk = fill(G2_POINT_BYTES, 0x99);

  it('carry the terms of each leg, the derived times and the stored group key', () => {
    fc.assert(
      fc.property(terms, (t) => {
        const id = settlementId(t);
        const a = expectedLock(t, 'asset', id, gpk);
        const p = expectedLock(t, 'payment', id, gpk);
        expect([a.amount, a.from, a.to, a.unit]).toEqual([t.asset.amount, t.asset.seller, t.asset.buyer, t.asset.token]);
        expect(a.venue).toBe(`${t.asset.chainId.toString(10)}:0x${Buffer.from(t.asset.escrow).toString('hex')}`);
        expect([p.amount, p.from, p.to, p.unit, p.venue]).toEqual([t.payment.amount, t.payment.payer, t.payment.payee, t.payment.currency, `${t.payment.bankId}/${t.payment.ledger}`]);
        for (const l of [a, p]) {
          expect(l.validUntilMs).toBe(validUntilMs(t));
          expect(l.reclaimAtMs).toBe(reclaimAtMs(t));
          expect(toHex(l.settlementId)).toBe(toHex(id));
          expect(toHex(l.groupPublicKey)).toBe(toHex(gpk));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('are equal exactly when every field is equal', () => {
    const fields = ['settlementId', 'amount', 'from', 'to', 'unit', 'venue', 'validUntilMs', 'reclaimAtMs', 'groupPublicKey'] as const;
    fc.assert(
      fc.property(lockRecord, lockRecord, fc.constantFrom(...fields), (a, b, field) => {
        expect(lockEquals(a, { ...a, settlementId: a.settlementId.slice() })).toBe(true);
        const changed: LockRecord = { ...a, [field]: b[field] };
        expect(lockEquals(a, changed)).toBe(show(a[field]) === show(b[field]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('constants', () => {
  it('signing domains are the Tandem-only prefixes of docs/wire-format.md §7, all distinct', () => {
    expect(SIGN_DOMAIN).toEqual({ observation: 'tandem/v1/obs', proposal: 'tandem/v1/proposal', vote: 'tandem/v1/vote', authorization: 'tandem/v1/auth' });
    // No domain is a prefix of another, so "domain ‖ 0x00 ‖ body" never means two things.
    const domains = Object.values(SIGN_DOMAIN);
    for (const a of domains) for (const b of domains) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it('an authorization signs network id ‖ settlement id (docs/wire-format.md §7), both 32 bytes', () => {
    const network = new Uint8Array(32).fill(0xa1);
    const id = new Uint8Array(32).fill(0x5e);
    const m = authorizationMessage(network, id);
    expect(toHex(m)).toBe('a1'.repeat(32) + '5e'.repeat(32));
    // Another network, same settlement: other bytes, so a signature for one never verifies for the other.
    expect(toHex(authorizationMessage(new Uint8Array(32).fill(0xa2), id))).not.toBe(toHex(m));
    expect(() => authorizationMessage(network.subarray(0, 31), id)).toThrow(EncodeError);
    expect(() => authorizationMessage(network, new Uint8Array(33))).toThrow(EncodeError);
  });

  it('sizes', () => {
    expect([ED25519_SIGNATURE_BYTES, ED25519_KEY_BYTES, G2_POINT_BYTES]).toEqual([64, 32, 96]);
  });
});
