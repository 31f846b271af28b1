/**
 * Signing and checking what a height's instance sends and takes: votes under `tandem/v2/vote`,
 * proposals under `tandem/v2/proposal` (their attachments authenticate themselves), and the report
 * v2 of a decided batch (the threshold signature over reportDigestV2 of the body).
 */
import {
  type AnchorV2,
  type DecidedBatch,
  type Proposal2,
  type SignedProposal2,
  type SignedVote2,
  type Vote2,
  SIGN_DOMAIN_V2,
  encodeProposal2Body,
  encodeVote2Body,
  equalBytes,
  reportDigestV2,
} from '@tandem/protocol';
import { memberKey } from '../auth.js';
import type { HeightContext } from './height-types.js';

/** Does the message bind this network and this (v2) configuration? A mismatch is misrouting, not forgery. */
export function anchorMatches(anchor: AnchorV2, m: AnchorV2): boolean {
  return equalBytes(m.networkId, anchor.networkId) && equalBytes(m.configDigest, anchor.configDigest);
}

export function signVote2(ctx: HeightContext, v: Vote2): SignedVote2 {
  return { ...v, signature: ctx.node.signer.sign(SIGN_DOMAIN_V2.vote, encodeVote2Body(v)) };
}

export function signProposal2(ctx: HeightContext, p: Proposal2): SignedProposal2 {
  return { ...p, signature: ctx.node.signer.sign(SIGN_DOMAIN_V2.proposal, encodeProposal2Body(p)) };
}

/** The voter's identity signature over the vote body (callers checked the anchor first). */
export function vote2Authentic(ctx: HeightContext, v: SignedVote2): boolean {
  const key = memberKey(ctx.node, v.voter);
  return key !== null && ctx.node.verifier.identity(SIGN_DOMAIN_V2.vote, key, encodeVote2Body(v), v.signature);
}

/** The proposer's identity signature over (height, round, validRound, header). */
export function proposal2Authentic(ctx: HeightContext, p: SignedProposal2): boolean {
  const key = memberKey(ctx.node, p.proposer);
  return key !== null && ctx.node.verifier.identity(SIGN_DOMAIN_V2.proposal, key, encodeProposal2Body(p), p.signature);
}

/** The report's threshold signature is valid under the group key (callers checked anchor and entries). */
export function reportV2Authentic(ctx: HeightContext, batch: DecidedBatch): boolean {
  return ctx.node.verifier.bls(ctx.node.groupPublicKey, reportDigestV2(batch.report), batch.report.signature);
}
