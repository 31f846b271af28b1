import type { Decision, Report, SignedVote } from '@tandem/protocol';
import type { NodeContext, Step } from './context.js';
import type { EvidencePool } from './evidence.js';
import type { OwnMessages } from './own-messages.js';
import type { VoteKeeper } from './votes.js';

/**
 * One instance as the rules of Algorithm 1 and the invariants see it: its variables at this moment
 * and the keeping they are decided from. The instance builds it and alone changes its state; the
 * rules only read (opening a round's record on first use, as the instance would).
 */
export interface InstanceView {
  readonly ctx: NodeContext;
  readonly settlementId: Uint8Array;
  readonly validUntilMs: number;
  /** -1 until the node enters round 0. */
  readonly round: number;
  readonly roundStep: Step;
  readonly lockedValue: Decision | null;
  readonly lockedRound: number;
  readonly validValue: Decision | null;
  readonly validRound: number;
  /** The q prevotes for validValue in validRound: the proof of lock a re-proposal carries. */
  readonly validPolka: readonly SignedVote[];
  readonly report: Report | null;
  /** The report's signature was verified where the decision was taken (never once per step). */
  readonly reportVerified: boolean;
  readonly evidence: EvidencePool;
  readonly votes: VoteKeeper;
  readonly own: OwnMessages;
}
