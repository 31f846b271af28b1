import type { Decision, LegView, Message, Report, SignedObservation, SignedProposal, SignedVote, Terms, VoteStep } from '@tandem/protocol';
import type { Step } from './context.js';

/** Inputs every instance takes, whatever its version (Msg its messages). */
export type SharedInput<Msg> =
  /** A message from peer `from` (already decoded; signatures are checked here). */
  | { readonly type: 'message'; readonly from: number; readonly message: Msg }
  | { readonly type: 'timeout'; readonly step: Step; readonly round: number }
  /** Time to re-broadcast (every resendMs, and when a peer (re)connects). */
  | { readonly type: 'resend' };

/** Inputs to one settlement's consensus instance. */
export type Input =
  /** This node read both legs (its own observation). `deadline` marks the deadline reading. */
  | { readonly type: 'observe'; readonly asset: LegView; readonly payment: LegView; readonly deadline: boolean }
  | SharedInput<Message>;

/**
 * Misbehaviour seen by this node, recorded as evidence. V names values: v1 the decision, v2 a
 * batch header digest in hex.
 */
export type MisbehaviourOf<V extends string> =
  | { readonly kind: 'equivocation'; readonly member: number; readonly round: number; readonly step: VoteStep | 'proposal'; readonly first: string; readonly second: string }
  | { readonly kind: 'bad-partial'; readonly member: number; readonly round: number; readonly value: V }
  | { readonly kind: 'bad-signature'; readonly member: number; readonly what: string };

export type Misbehaviour = MisbehaviourOf<Decision>;

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

/** The effects every instance emits, whatever its version: Msg its messages, Rec its persisted record, V its value keys. */
export type InstanceEffect<Msg, Rec, V extends string> =
  /** Write-ahead: the runtime persists this before executing any later effect of the same step. */
  | { readonly type: 'persist'; readonly record: Rec }
  | { readonly type: 'broadcast'; readonly message: Msg }
  | { readonly type: 'send'; readonly to: number; readonly message: Msg }
  | { readonly type: 'schedule'; readonly step: Step; readonly round: number; readonly delayMs: number }
  /** This node signed something new (for the history and checker; already covered by persist where needed). */
  | { readonly type: 'signed'; readonly message: Msg }
  | { readonly type: 'round'; readonly round: number }
  | { readonly type: 'evidence'; readonly misbehaviour: MisbehaviourOf<V> };

export type Effect =
  | InstanceEffect<Message, PersistedSettlement, Decision>
  | { readonly type: 'decided'; readonly report: Report }
  /** The first time this node holds valid evidence for a value (for the history and checker). */
  | { readonly type: 'valid'; readonly value: Decision };
