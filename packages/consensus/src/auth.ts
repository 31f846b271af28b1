import {
  type Decision,
  type Header,
  type Observation,
  type Proposal,
  type ReportBody,
  type SignedObservation,
  type SignedProposal,
  type SignedVote,
  type Vote,
  SIGN_DOMAIN,
  encodeObservationBody,
  encodeProposalBody,
  encodeVoteBody,
  equalBytes,
} from '@tandem/protocol';
import type { NodeContext } from './context.js';

/** Does the header bind this network, this configuration and this settlement? */
export function headerMatches(ctx: NodeContext, h: Header, settlementId: Uint8Array): boolean {
  return equalBytes(h.networkId, ctx.cluster.networkId) && equalBytes(h.configDigest, ctx.configDigest) && equalBytes(h.settlementId, settlementId);
}

/** The header every message and report of this settlement carries. */
export function headerFor(ctx: NodeContext, settlementId: Uint8Array): Header {
  return { networkId: ctx.cluster.networkId, configDigest: ctx.configDigest, settlementId };
}

/** What a report deciding `decision` in `round` signs (and the precommits' partials sign). */
export function reportBodyFor(ctx: NodeContext, settlementId: Uint8Array, validUntilMs: number, decision: Decision, round: number): ReportBody {
  return { ...headerFor(ctx, settlementId), decision, round, validUntilMs };
}

/** The identity key of member `index`, or null for an index outside 1..n. */
export function memberKey(ctx: NodeContext, index: number): Uint8Array | null {
  if (!Number.isInteger(index) || index < 1 || index > ctx.n) return null;
  return ctx.cluster.members[index - 1]!.identityKey;
}

export function signObservation(ctx: NodeContext, o: Observation): SignedObservation {
  return { ...o, signature: ctx.signer.sign(SIGN_DOMAIN.observation, encodeObservationBody(o)) };
}

export function signVote(ctx: NodeContext, v: Vote): SignedVote {
  return { ...v, signature: ctx.signer.sign(SIGN_DOMAIN.vote, encodeVoteBody(v)) };
}

export function signProposal(ctx: NodeContext, p: Proposal): SignedProposal {
  return { ...p, signature: ctx.signer.sign(SIGN_DOMAIN.proposal, encodeProposalBody(p)) };
}

/** Signature checks assume the header matched (callers check it first: a mismatch is misrouting, not forgery). */
export function observationAuthentic(ctx: NodeContext, o: SignedObservation, settlementId: Uint8Array): boolean {
  const key = memberKey(ctx, o.signer);
  return key !== null && headerMatches(ctx, o, settlementId) && ctx.verifier.identity(SIGN_DOMAIN.observation, key, encodeObservationBody(o), o.signature);
}

export function voteAuthentic(ctx: NodeContext, v: SignedVote, settlementId: Uint8Array): boolean {
  const key = memberKey(ctx, v.voter);
  return key !== null && headerMatches(ctx, v, settlementId) && ctx.verifier.identity(SIGN_DOMAIN.vote, key, encodeVoteBody(v), v.signature);
}

export function proposalAuthentic(ctx: NodeContext, p: SignedProposal, settlementId: Uint8Array): boolean {
  const key = memberKey(ctx, p.proposer);
  return key !== null && headerMatches(ctx, p, settlementId) && ctx.verifier.identity(SIGN_DOMAIN.proposal, key, encodeProposalBody(p), p.signature);
}

/** Content identity of a vote (its signed body), so duplicates are recognised whatever their signature bytes. */
export function voteContentEquals(a: Vote, b: Vote): boolean {
  return equalBytes(encodeVoteBody(a), encodeVoteBody(b));
}

export function proposalContentEquals(a: Proposal, b: Proposal): boolean {
  return equalBytes(encodeProposalBody(a), encodeProposalBody(b));
}
