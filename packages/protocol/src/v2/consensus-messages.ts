/**
 * What a node signs for a height: votes (one covers a batch, named by its header digest) and
 * proposals (height, round, validRound, header). Layouts in docs/wire-format.md ("Protocol v2").
 */
import { DecodeError, EncodeError, Reader, Writer } from '../bytes.js';
import { ED25519_SIGNATURE_BYTES, type VoteStep, readFlag, readVoteStep, voteStepCode } from '../messages.js';
import { BLS_SIGNATURE_BYTES } from '../report.js';
import { decodeWith } from './codec.js';
import { readBatchHeader, writeBatchHeader } from './report.js';
import type { BatchHeader } from './types.js';

/** Every vote and proposal of v2 binds the network and the configuration. */
export interface AnchorV2 {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
}

export interface Vote2 extends AnchorV2 {
  readonly height: number;
  readonly round: number;
  readonly step: VoteStep;
  readonly voter: number;
  /** batchHeaderDigest of the header voted for; null is nil (never ABORT). */
  readonly headerDigest: Uint8Array | null;
  /** BLS partial over reportDigestV2 of (height, round, header): precommits for a header only. */
  readonly partial: Uint8Array | null;
}
export interface SignedVote2 extends Vote2 {
  readonly signature: Uint8Array;
}

/** What the proposer signs under `tandem/v2/proposal`; the attachments travel beside it. */
export interface Proposal2 extends AnchorV2 {
  readonly height: number;
  readonly round: number;
  readonly proposer: number;
  /** -1 when the proposer holds no polka; else the round of the q prevotes attached. */
  readonly validRound: number;
  readonly header: BatchHeader;
}
export interface SignedProposal2 extends Proposal2 {
  readonly signature: Uint8Array;
}

/** 32 + 32 + 8 + 4 + 2 + 4 + 50. */
export const PROPOSAL2_BODY_BYTES = 132;

function writeAnchor(w: Writer, a: AnchorV2, height: number, field: string): void {
  if (!Number.isInteger(height) || height < 1) throw new EncodeError(`${field}: height must be at least 1, got ${height}`);
  w.fixed(a.networkId, 32).fixed(a.configDigest, 32).u64(height);
}

function readAnchor(r: Reader, field: string): AnchorV2 & { readonly height: number } {
  const networkId = r.fixed(32, `${field}.networkId`);
  const configDigest = r.fixed(32, `${field}.configDigest`);
  const at = r.position;
  const height = r.u64(`${field}.height`);
  if (height < 1) throw new DecodeError('range', `${field}.height`, at, 'must be at least 1');
  return { networkId, configDigest, height };
}

const partialRuleHolds = (v: Pick<Vote2, 'step' | 'headerDigest' | 'partial'>): boolean =>
  (v.partial !== null) === (v.step === 'precommit' && v.headerDigest !== null);

/** What a voter signs under `tandem/v2/vote`: 81 bytes for nil, 113 for a prevote, 161 for a precommit. */
export function encodeVote2Body(v: Vote2): Uint8Array {
  if (!partialRuleHolds(v)) throw new EncodeError('a vote carries a partial exactly when it is a precommit for a header');
  const w = new Writer();
  writeAnchor(w, v, v.height, 'vote2');
  w.u32(v.round).u8(voteStepCode(v.step)).u16(v.voter);
  if (v.headerDigest === null) w.u8(0);
  else w.u8(1).fixed(v.headerDigest, 32);
  if (v.partial === null) w.u8(0);
  else w.u8(1).fixed(v.partial, BLS_SIGNATURE_BYTES);
  return w.finish();
}

export function readVote2Body(r: Reader): Vote2 {
  const anchor = readAnchor(r, 'vote2');
  const round = r.u32('vote2.round');
  const step = readVoteStep(r, 'vote2.step');
  const voter = r.u16('vote2.voter');
  const headerDigest = readFlag(r, 'vote2.hasHeader') ? r.fixed(32, 'vote2.headerDigest') : null;
  const pAt = r.position;
  const partial = readFlag(r, 'vote2.hasPartial') ? r.fixed(BLS_SIGNATURE_BYTES, 'vote2.partial') : null;
  const vote: Vote2 = { ...anchor, round, step, voter, headerDigest, partial };
  if (!partialRuleHolds(vote)) throw new DecodeError('tag', 'vote2.hasPartial', pAt, 'partial present exactly on precommits for a header');
  return vote;
}

export function decodeVote2Body(b: Uint8Array): Vote2 {
  return decodeWith(readVote2Body, b, 'vote2');
}

/** Signed vote: body ‖ Ed25519 signature (64 bytes); the body delimits itself. */
export function writeSignedVote2(w: Writer, v: SignedVote2): void {
  const body = encodeVote2Body(v);
  w.fixed(body, body.length).fixed(v.signature, ED25519_SIGNATURE_BYTES);
}

export function readSignedVote2(r: Reader): SignedVote2 {
  const v = readVote2Body(r);
  return { ...v, signature: r.fixed(ED25519_SIGNATURE_BYTES, 'vote2.signature') };
}

/** What a proposer signs under `tandem/v2/proposal`. 132 bytes. */
export function encodeProposal2Body(p: Proposal2): Uint8Array {
  if (!Number.isInteger(p.validRound) || p.validRound < -1 || p.validRound >= p.round) {
    throw new EncodeError(`proposal2: validRound must be -1 or below round ${p.round}, got ${p.validRound}`);
  }
  const w = new Writer();
  writeAnchor(w, p, p.height, 'proposal2');
  w.u32(p.round).u16(p.proposer).u32(p.validRound + 1);
  writeBatchHeader(w, p.header);
  return w.finish();
}

export function readProposal2Body(r: Reader): Proposal2 {
  const anchor = readAnchor(r, 'proposal2');
  const round = r.u32('proposal2.round');
  const proposer = r.u16('proposal2.proposer');
  const vrAt = r.position;
  const validRound = r.u32('proposal2.validRound') - 1;
  if (validRound >= round) throw new DecodeError('range', 'proposal2.validRound', vrAt, 'must be below round');
  return { ...anchor, round, proposer, validRound, header: readBatchHeader(r, 'proposal2.header') };
}

export function decodeProposal2Body(b: Uint8Array): Proposal2 {
  return decodeWith(readProposal2Body, b, 'proposal2');
}
