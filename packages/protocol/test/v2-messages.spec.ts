/**
 * v2 wire messages and sign bodies: round trips, one encoding per value, truncation and trailing
 * bytes, every count bounded, the 1 MiB limit, and the v2 sign domains.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_ENTRIES_LIMIT,
  EncodeError,
  type FullProposal2,
  MESSAGE_BYTES_MAX,
  type MessageV2,
  PROPOSAL2_BODY_BYTES,
  SIGN_DOMAIN,
  SIGN_DOMAIN_V2,
  type SignedVote2,
  concatBytes,
  decodeMessage,
  decodeMessageV2,
  decodeProposal2Body,
  decodeVote2Body,
  encodeBundleHeaderBody,
  encodeMessage,
  encodeMessageV2,
  encodeProposal2Body,
  encodeVote2Body,
  encodeReportV2,
} from '../src/index.js';
import { decodeOutcome, mutationOf } from './arbitraries.js';
import { bundleEntry, decidedBatch, entry, fullProposal2, messageV2, signedVote2 } from './v2-arbitraries.js';

describe('v2 wire messages', () => {
  it('round-trip: decode(encode(m)) = m and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(messageV2, (m) => {
        const b = encodeMessageV2(m);
        expect(b[0]).toBe(2);
        const back = decodeMessageV2(b);
        expect(back).toEqual(m);
        expect(encodeMessageV2(back)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated message fails with DecodeError, a trailing byte with `trailing`', () => {
    fc.assert(
      fc.property(messageV2, fc.nat(), (m, seed) => {
        const b = encodeMessageV2(m);
        expect(decodeOutcome(() => decodeMessageV2(b.subarray(0, seed % b.length)))).not.toBe('ok');
        expect(decodeOutcome(() => decodeMessageV2(concatBytes(b, Uint8Array.of(seed & 0xff))))).toBe('trailing');
      }),
      { numRuns: 300 },
    );
  });

  it('a changed byte fails to decode or decodes to a value with that very encoding (one encoding per value)', () => {
    fc.assert(
      fc.property(messageV2.chain((m) => mutationOf(encodeMessageV2(m))), ({ mutated }) => {
        let decoded: MessageV2;
        try {
          decoded = decodeMessageV2(mutated);
        } catch (e) {
          expect(decodeOutcome(() => { throw e; })).not.toBe('ok');
          return;
        }
        expect(encodeMessageV2(decoded)).toEqual(mutated);
      }),
      { numRuns: 300 },
    );
  });

  it('v1 and v2 messages never decode as each other; unknown tags are refused', () => {
    fc.assert(
      fc.property(messageV2, (m) => {
        expect(decodeOutcome(() => decodeMessage(encodeMessageV2(m)))).toBe('tag');
      }),
      { numRuns: 50 },
    );
    expect(decodeOutcome(() => decodeMessageV2(encodeMessage({ kind: 'vote', vote: { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), settlementId: new Uint8Array(32), round: 0, step: 'prevote', voter: 1, value: null, partial: null, signature: new Uint8Array(64) } })))).toBe('tag');
    for (const tag of [0, 6, 255]) expect(decodeOutcome(() => decodeMessageV2(Uint8Array.of(2, tag)))).toBe('tag');
  });

  it('catch-up carries fromHeight u64 and count u16, both at least 1', () => {
    expect(encodeMessageV2({ kind: 'catch-up', fromHeight: 0x0102, count: 3 })).toEqual(Uint8Array.of(2, 5, 0, 0, 0, 0, 0, 0, 1, 2, 0, 3));
    expect(decodeOutcome(() => decodeMessageV2(Uint8Array.of(2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3)))).toBe('range');
    expect(decodeOutcome(() => decodeMessageV2(Uint8Array.of(2, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0)))).toBe('range');
    expect(() => encodeMessageV2({ kind: 'catch-up', fromHeight: 1, count: 0 })).toThrow(EncodeError);
  });

  it('a decided batch is its report followed by exactly count entries, at most BATCH_ENTRIES_LIMIT', () => {
    fc.assert(
      fc.property(decidedBatch, (batch) => {
        const b = encodeMessageV2({ kind: 'decided', batch });
        expect(b.subarray(2, 193)).toEqual(encodeReportV2(batch.report));
        expect(b.length).toBe(2 + 191 + 41 * batch.entries.length);
        expect(() => encodeMessageV2({ kind: 'decided', batch: { ...batch, entries: batch.entries.slice(1) } })).toThrow(/count/);
      }),
      { numRuns: 50 },
    );
    const batch = fc.sample(decidedBatch, { numRuns: 1, seed: 1 })[0]!;
    const big = { ...batch.report, count: BATCH_ENTRIES_LIMIT + 1 };
    expect(decodeOutcome(() => decodeMessageV2(concatBytes(Uint8Array.of(2, 4), encodeReportV2(big))))).toBe('length');
  });

  it('the encoder refuses a message over 1 MiB and the decoder refuses its bytes', () => {
    const p = fc.sample(fullProposal2, { numRuns: 1, seed: 2 })[0]!;
    const entries = fc.sample(entry, { numRuns: BATCH_ENTRIES_LIMIT, seed: 3 });
    const e = fc.sample(bundleEntry, { numRuns: 1, seed: 3 })[0]!;
    const siblings = Array.from({ length: 16 }, () => new Uint8Array(32));
    // 4,096 bundles of 808 bytes each: over 3 MiB.
    const justification = Array.from({ length: 4096 }, () => ({ header: { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), signer: 1, timeMs: 0, count: 1, root: new Uint8Array(32), signature: new Uint8Array(64) }, entries: [e], proof: { indices: [0], count: 1, siblings } }));
    const huge: FullProposal2 = { ...p, header: { ...p.header, count: entries.length }, entries, justification, polka: [] };
    expect(() => encodeMessageV2({ kind: 'proposal2', proposal: huge })).toThrow(/exceeds 1048576/);
    expect(decodeOutcome(() => decodeMessageV2(new Uint8Array(MESSAGE_BYTES_MAX + 1)))).toBe('length');
  });

  it('justification counts are bounded: entries by the header count, siblings by 16 per entry', () => {
    const p = fc.sample(fullProposal2, { numRuns: 1, seed: 4 })[0]!;
    const header = { networkId: new Uint8Array(32), configDigest: new Uint8Array(32), signer: 1, timeMs: 0, count: 1, root: new Uint8Array(32), signature: new Uint8Array(64) };
    const base = encodeMessageV2({ kind: 'proposal2', proposal: { ...p, terms: [], justification: [], polka: [] } });
    const head = base.subarray(0, base.length - 4); // up to the justification count (then polka count 0)
    const part = (k: number, s: number) => concatBytes(encodeBundleHeaderBody(header), new Uint8Array(64), Uint8Array.of(k >> 8, k & 0xff), Uint8Array.of(s >> 8, s & 0xff));
    expect(decodeOutcome(() => decodeMessageV2(concatBytes(head, Uint8Array.of(0, 1), part(2, 0), Uint8Array.of(0, 0))))).toBe('length');
    expect(decodeOutcome(() => decodeMessageV2(concatBytes(head, Uint8Array.of(0, 1), part(0, 1), Uint8Array.of(0, 0))))).toBe('length');
    expect(decodeOutcome(() => decodeMessageV2(concatBytes(head, Uint8Array.of(0, 1), part(0, 0), Uint8Array.of(0, 0))))).toBe('ok');
    expect(decodeOutcome(() => decodeMessageV2(concatBytes(head, Uint8Array.of(0x10, 0x01))))).toBe('length');
  });
});

describe('v2 sign bodies', () => {
  it('a vote body is 81 bytes for nil, 113 for a prevote, 161 for a precommit, and is what the wire carries before the signature', () => {
    fc.assert(
      fc.property(signedVote2, (v: SignedVote2) => {
        const body = encodeVote2Body(v);
        expect(body.length).toBe(v.headerDigest === null ? 81 : v.partial === null ? 113 : 161);
        const wire = encodeMessageV2({ kind: 'vote2', vote: v });
        expect(wire).toEqual(concatBytes(Uint8Array.of(2, 2), body, v.signature));
        const { signature: _s, ...unsigned } = v;
        expect(decodeVote2Body(body)).toEqual(unsigned);
      }),
    );
  });

  it('a vote carries a partial exactly when it is a precommit for a header, both ways', () => {
    const v = fc.sample(signedVote2, { numRuns: 1, seed: 5 })[0]!;
    const nilPrecommit = { ...v, step: 'precommit' as const, headerDigest: null };
    expect(() => encodeVote2Body({ ...nilPrecommit, partial: new Uint8Array(48) })).toThrow(/partial exactly/);
    expect(() => encodeVote2Body({ ...v, step: 'precommit', headerDigest: new Uint8Array(32), partial: null })).toThrow(/partial exactly/);
    const body = encodeVote2Body({ ...nilPrecommit, partial: null });
    expect(decodeOutcome(() => decodeVote2Body(concatBytes(body.subarray(0, 80), Uint8Array.of(1), new Uint8Array(48))))).toBe('tag');
    expect(decodeOutcome(() => decodeVote2Body(concatBytes(body.subarray(0, 76), Uint8Array.of(3), body.subarray(77))))).toBe('tag');
    expect(decodeOutcome(() => decodeVote2Body(concatBytes(body.subarray(0, 64), new Uint8Array(8), body.subarray(72))))).toBe('range');
  });

  it('a proposal body is 132 bytes, validRound is -1 or below round, and it is what the wire carries before the signature', () => {
    fc.assert(
      fc.property(fullProposal2, (p) => {
        const body = encodeProposal2Body(p);
        expect(body.length).toBe(PROPOSAL2_BODY_BYTES);
        expect(encodeMessageV2({ kind: 'proposal2', proposal: p }).subarray(2, 2 + 132 + 64)).toEqual(concatBytes(body, p.signature));
        expect(decodeProposal2Body(body)).toEqual({ networkId: p.networkId, configDigest: p.configDigest, height: p.height, round: p.round, proposer: p.proposer, validRound: p.validRound, header: p.header });
        expect(() => encodeProposal2Body({ ...p, validRound: p.round })).toThrow(/validRound/);
        expect(() => encodeProposal2Body({ ...p, validRound: -2 })).toThrow(/validRound/);
      }),
      { numRuns: 100 },
    );
    const p = fc.sample(fullProposal2, { numRuns: 1, seed: 6 })[0]!;
    const body = encodeProposal2Body({ ...p, round: 3, validRound: 1 });
    expect(decodeOutcome(() => decodeProposal2Body(concatBytes(body.subarray(0, 78), Uint8Array.of(0, 0, 0, 4), body.subarray(82))))).toBe('range');
  });

  it('the v2 domains are tandem/v2/*, distinct from v1, none a prefix of another', () => {
    expect(SIGN_DOMAIN_V2).toEqual({ bundle: 'tandem/v2/bundle', proposal: 'tandem/v2/proposal', vote: 'tandem/v2/vote' });
    const all = [...Object.values(SIGN_DOMAIN), ...Object.values(SIGN_DOMAIN_V2)];
    for (const a of all) for (const b of all) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
});
