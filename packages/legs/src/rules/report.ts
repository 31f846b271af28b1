import { type Report, BLS_SIGNATURE_BYTES, equalBytes } from '@tandem/protocol';
import type { LegAnchor } from '../adapter.js';

/**
 * What is wrong with a report's shape (lengths, decision, ranges), or null: every adapter checks
 * it before anything else, so a malformed report is refused with a reason and never reaches a
 * signature check or a contract call.
 */
export function reportShapeProblem(r: Report): string | null {
  if (r.networkId.length !== 32 || r.configDigest.length !== 32 || r.settlementId.length !== 32) return 'malformed report: ids must be 32 bytes';
  if (r.signature.length !== BLS_SIGNATURE_BYTES) return `malformed report: signature must be ${BLS_SIGNATURE_BYTES} bytes`;
  if (r.decision !== 'COMMIT' && r.decision !== 'ABORT') return 'malformed report: unknown decision';
  if (!Number.isInteger(r.round) || r.round < 0 || r.round > 0xffff_ffff) return 'malformed report: round out of range';
  if (!Number.isSafeInteger(r.validUntilMs) || r.validUntilMs < 0) return 'malformed report: validUntil out of range';
  return null;
}

/** Why a leg anchored to protocol 2 refuses v1 reports (a configuration runs one version). */
export const V1_REPORT_ON_V2_LEG = 'report v1 refused: this leg is anchored to protocol 2';

/** Null when a (well-formed) report is for the anchor's protocol, network and configuration; else which is not. */
export function reportAnchorProblem(r: Report, anchor: LegAnchor): string | null {
  if ((anchor.protocol ?? 1) !== 1) return V1_REPORT_ON_V2_LEG;
  if (!equalBytes(r.networkId, anchor.networkId)) return 'report is for another network';
  if (!equalBytes(r.configDigest, anchor.configDigest)) return 'report is for another configuration';
  return null;
}
