import { type ReportV2, BLS_SIGNATURE_BYTES, equalBytes, reportDigestV2 } from '@tandem/protocol';
import type { RootOutcome } from '../adapter.js';
import type { LegChecks } from './options.js';
import { type Refusal, refused } from './record.js';
import { safeVerify } from './signature.js';

/** A root the leg has verified: stored under the configuration digest it was signed for, with its count. */
export interface VerifiedRoot {
  readonly configDigest: Uint8Array;
  readonly root: Uint8Array;
  readonly count: number;
}

/** Why a leg anchored to protocol 1 refuses roots and entries (a configuration runs one version). */
export const V2_ON_V1_LEG = 'report v2 refused: this leg is anchored to protocol 1';

/**
 * What root acceptance does: refuse, find the root stored already (`duplicate`; idempotent), or
 * store it with its count.
 */
export type RootDecision = Refusal | { readonly kind: 'duplicate'; readonly root: VerifiedRoot } | { readonly kind: 'store'; readonly root: VerifiedRoot };

/**
 * What is wrong with a report v2's shape or anchors, or null: every check but the signature, so a
 * malformed or foreign report never reaches a signature check or a write.
 */
export function reportV2Problem(r: ReportV2, checks: LegChecks): string | null {
  if (checks.protocol !== 2) return V2_ON_V1_LEG;
  if (r.networkId.length !== 32 || r.configDigest.length !== 32 || r.root.length !== 32) return 'malformed report v2: network id, configuration digest and root must be 32 bytes';
  if (r.signature.length !== BLS_SIGNATURE_BYTES) return `malformed report v2: signature must be ${BLS_SIGNATURE_BYTES} bytes`;
  if (!Number.isSafeInteger(r.height) || r.height < 1) return 'malformed report v2: height must be at least 1';
  if (!Number.isInteger(r.round) || r.round < 0 || r.round > 0xffff_ffff) return 'malformed report v2: round out of range';
  if (!Number.isSafeInteger(r.timeMs) || r.timeMs < 0) return 'malformed report v2: time out of range';
  if (!Number.isSafeInteger(r.liveFrom) || r.liveFrom < 1 || r.liveFrom > r.height) return 'malformed report v2: liveFrom must be in 1..height';
  if (!Number.isInteger(r.count) || r.count < 1 || r.count > 0xffff) return 'malformed report v2: count must be in 1..65535';
  if (!equalBytes(r.networkId, checks.anchor.networkId)) return 'report is for another network';
  if (!equalBytes(r.configDigest, checks.anchor.configDigest)) return 'report is for another configuration';
  return null;
}

/**
 * Root acceptance (the package README, "Protocol v2") for a report that passed reportV2Problem,
 * given the count stored for its root under the anchor's configuration (null: none). A stored
 * root is a duplicate whatever the signature; a new one needs the signature to verify under the
 * anchor's group key (the slow check, last).
 */
export function processRoot(report: ReportV2, storedCount: number | null, checks: LegChecks): RootDecision {
  const root: VerifiedRoot = { configDigest: checks.anchor.configDigest, root: report.root, count: report.count };
  if (storedCount !== null) {
    // Positional under a signed count: one root cannot have two counts short of a hash collision.
    if (storedCount !== report.count) return refused(`root is stored with count ${storedCount}, this report says ${report.count}`);
    return { kind: 'duplicate', root };
  }
  if (!safeVerify(checks.verifyReport, checks.anchor.groupPublicKey, reportDigestV2(report), report.signature)) return refused('report v2 signature does not verify');
  return { kind: 'store', root };
}

/** A root named by applyEntries: found stored under the anchor's configuration, or refused. */
export function storedRoot(root: Uint8Array, storedCount: number | null, checks: LegChecks): VerifiedRoot | Refusal {
  if (checks.protocol !== 2) return refused(V2_ON_V1_LEG);
  if (root.length !== 32) return refused('malformed root: must be 32 bytes');
  if (storedCount === null) return refused('unknown root: submit its report first');
  return { configDigest: checks.anchor.configDigest, root, count: storedCount };
}

/** What submitRoot answers for a decision (once a `store` is written). */
export function rootOutcomeOf(decision: RootDecision): RootOutcome {
  return decision.kind === 'refused' ? decision : { kind: decision.kind === 'store' ? 'stored' : 'duplicate' };
}
