/**
 * What a v2 node did, as plain data, for logs, the simulator's history and the checker. Never
 * carries key material. Ids and header digests are lowercase hex; times are the node's clock (ms).
 */
import type { BatchHeader, DecidedBatch, Decision, Entry, LegName, LegState, MessageV2 } from '@tandem/protocol';
import type { HeightMisbehaviour } from '@tandem/consensus';
import type { RefusalReason } from '../admission.js';

export type NodeEventV2 =
  /** An intent was taken (admitted). */
  | { readonly type: 'intent'; readonly settlementIdHex: string; readonly nonce: string }
  /** An intent was refused at intake: why, and when the same intent may be taken (null: never). */
  | { readonly type: 'intent-refused'; readonly settlementIdHex: string; readonly reason: RefusalReason; readonly detail: string; readonly retryAfterMs: number | null }
  /** A prepare answered (outcome: the PrepareOutcome kind). */
  | { readonly type: 'prepare'; readonly settlementIdHex: string; readonly leg: LegName; readonly outcome: string }
  /** This node signed and broadcast a bundle. */
  | { readonly type: 'bundle-signed'; readonly timeMs: number; readonly count: number; readonly kinds: { readonly view: number; readonly deadline: number; readonly guard: number } }
  /** This node entered a round of a height. */
  | { readonly type: 'height-round'; readonly height: number; readonly round: number }
  /** This node signed a proposal or a vote (the message as sent). */
  | { readonly type: 'signed'; readonly height: number; readonly round: number; readonly message: MessageV2 }
  /** A height decided at this node (its own decision or a decided batch it received for its next height). */
  | { readonly type: 'decided-height'; readonly height: number; readonly round: number; readonly header: BatchHeader; readonly entries: readonly Entry[] }
  /** Catch-up by jump: the chain now starts at `fromHeight`; heights below were skipped (outcomes on the legs). */
  | { readonly type: 'catch-up'; readonly fromHeight: number; readonly toHeight: number; readonly jumped: boolean }
  /** A settlement this node held undecided can never be decided (validUntil ≤ chain time): decision null, expired. */
  | { readonly type: 'expired-undecided'; readonly settlementIdHex: string; readonly chainTimeMs: number }
  /** A settlement this node held was decided in a batch. */
  | { readonly type: 'settlement-decided'; readonly settlementIdHex: string; readonly height: number; readonly decision: Decision }
  /** A delivery call for one entry on one leg answered (outcome: applied, duplicate, refused: …). */
  | { readonly type: 'deliver'; readonly height: number; readonly leg: LegName; readonly settlementIdHex: string; readonly outcome: string }
  /** Closed on both legs: no more polling. */
  | { readonly type: 'closed'; readonly settlementIdHex: string }
  /** Decided but not closed on both legs at reclaim time plus stuckGraceMs (an operator must look; still polled). */
  | { readonly type: 'stuck'; readonly settlementIdHex: string; readonly reclaimAtMs: number; readonly height: number; readonly asset: LegState | null; readonly payment: LegState | null }
  /** One leg committed, the other aborted or reclaimed: all-or-nothing broken (an operator must look; no more polling). */
  | { readonly type: 'split'; readonly settlementIdHex: string; readonly asset: LegState; readonly payment: LegState }
  /** Misbehaviour seen at a height. */
  | { readonly type: 'evidence'; readonly height: number; readonly misbehaviour: HeightMisbehaviour }
  /** The node resumed from storage. */
  | { readonly type: 'resumed'; readonly tip: number; readonly open: number; readonly heightRound: number | null }
  /** A leg call failed transiently (retried). */
  | { readonly type: 'leg-error'; readonly settlementIdHex: string | null; readonly leg: LegName; readonly op: string; readonly error: string };

/** The decided-height event of a decided batch. */
export function decidedHeightEvent(batch: DecidedBatch): NodeEventV2 {
  const r = batch.report;
  return { type: 'decided-height', height: r.height, round: r.round, header: { timeMs: r.timeMs, liveFrom: r.liveFrom, count: r.count, root: r.root }, entries: batch.entries };
}
