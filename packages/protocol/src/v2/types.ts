/**
 * The data of protocol v2 (batches): entries, batch headers, report v2, Merkle proofs, bundles and
 * parameters. Layouts and rules in docs/wire-format.md ("Protocol v2").
 */
import type { Decision } from '../report.js';
import type { LegState } from '../messages.js';

/** One settlement's outcome in a batch. 41 bytes encoded. */
export interface Entry { readonly settlementId: Uint8Array; readonly decision: Decision; readonly validUntilMs: number }
/** The value a height decides: votes, locks and proofs of lock name batchHeaderDigest(header). */
export interface BatchHeader { readonly timeMs: number; readonly liveFrom: number; readonly count: number; readonly root: Uint8Array }
/** What the threshold signature of a batch is over (through reportDigestV2). 143 bytes encoded. */
export interface ReportBodyV2 { readonly networkId: Uint8Array; readonly configDigest: Uint8Array; readonly height: number; readonly round: number; readonly timeMs: number; readonly liveFrom: number; readonly count: number; readonly root: Uint8Array }
export interface ReportV2 extends ReportBodyV2 { readonly signature: Uint8Array }
/** Self-certifying: the report binds the root, the root binds the entries. */
export interface DecidedBatch { readonly report: ReportV2; readonly entries: readonly Entry[] }
/** Siblings bottom-up, skipping the levels where the node has none. */
export interface TreeProof { readonly index: number; readonly count: number; readonly siblings: readonly Uint8Array[] }
/** Leaves at strictly ascending indices; the missing siblings bottom-up, left to right. */
export interface TreeMultiproof { readonly indices: readonly number[]; readonly count: number; readonly siblings: readonly Uint8Array[] }
export type BundleEntryKind = 'view' | 'deadline' | 'guard';
/** A leg as a bundle entry shows it; the lock travels as its digest (lockDigest), or null for none. */
export interface BundleLegView { readonly state: LegState; readonly finalityHeight: number; readonly lockDigest: Uint8Array | null }
export interface BundleEntry { readonly settlementId: Uint8Array; readonly kind: BundleEntryKind; readonly asset: BundleLegView; readonly payment: BundleLegView }
export interface BundleHeader { readonly networkId: Uint8Array; readonly configDigest: Uint8Array; readonly signer: number; readonly timeMs: number; readonly count: number; readonly root: Uint8Array }
export interface SignedBundleHeader extends BundleHeader { readonly signature: Uint8Array }
export interface Bundle { readonly header: SignedBundleHeader; readonly entries: readonly BundleEntry[] }
export interface V2Params { readonly tickMs: number; readonly heartbeatMs: number; readonly refreshMs: number; readonly commitGuardMs: number; readonly openSettlementsMax: number; readonly bundleEntriesMax: number; readonly batchEntriesMax: number; readonly legBatchEntriesMax: number; readonly horizonMaxMs: number; readonly skewMaxMs: number; readonly catchUpBatchesMax: number }

/** Ed25519 signing domains of v2 (each signed byte string is prefixed with its domain and a 0 byte). */
export const SIGN_DOMAIN_V2 = { bundle: 'tandem/v2/bundle', proposal: 'tandem/v2/proposal', vote: 'tandem/v2/vote' } as const;
