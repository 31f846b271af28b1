import type { Decision, LegView, Message, Report, SignedObservation, SignedProposal, SignedVote, Terms, VoteStep } from '@tandem/protocol';
import type { Step } from './context.js';

/** Inputs to one settlement's consensus instance. */
export type Input =
  /** This node read both legs (its own observation). `deadline` marks the deadline reading. */
  | { readonly type: 'observe'; readonly asset: LegView; readonly payment: LegView; readonly deadline: boolean }
  /** A message from peer `from` (already decoded; signatures are checked here). */
  | { readonly type: 'message'; readonly from: number; readonly message: Message }
  | { readonly type: 'timeout'; readonly step: Step; readonly round: number }
  /** Time to re-broadcast (every resendMs, and when a peer (re)connects). */
  | { readonly type: 'resend' };

/** Misbehaviour seen by this node, recorded as evidence. */
export type Misbehaviour =
  | { readonly kind: 'equivocation'; readonly member: number; readonly round: number; readonly step: VoteStep | 'proposal'; readonly first: string; readonly second: string }
  | { readonly kind: 'bad-partial'; readonly member: number; readonly round: number; readonly value: Decision }
  | { readonly kind: 'bad-signature'; readonly member: number; readonly what: string };

/** What the runtime must keep across a crash, written before anything it covers is sent. */
export interface PersistedSettlement {
  readonly terms: Terms;
  readonly round: number;
  readonly lockedValue: Decision | null;
  readonly lockedRound: number;
  readonly validValue: Decision | null;
  readonly validRound: number;
  readonly validPolka: readonly SignedVote[];
  readonly proposals: readonly SignedProposal[]; // every proposal this node signed
  readonly votes: readonly SignedVote[]; // every vote this node signed
  readonly deadlineObservation: SignedObservation | null;
  readonly report: Report | null;
}

export type Effect =
  /** Write-ahead: the runtime persists this before executing any later effect of the same step. */
  | { readonly type: 'persist'; readonly record: PersistedSettlement }
  | { readonly type: 'broadcast'; readonly message: Message }
  | { readonly type: 'send'; readonly to: number; readonly message: Message }
  | { readonly type: 'schedule'; readonly step: Step; readonly round: number; readonly delayMs: number }
  | { readonly type: 'decided'; readonly report: Report }
  /** This node signed something new (for the history and checker; already covered by persist where needed). */
  | { readonly type: 'signed'; readonly message: Message }
  /** The first time this node holds valid evidence for a value (for the history and checker). */
  | { readonly type: 'valid'; readonly value: Decision }
  | { readonly type: 'round'; readonly round: number }
  | { readonly type: 'evidence'; readonly misbehaviour: Misbehaviour };
