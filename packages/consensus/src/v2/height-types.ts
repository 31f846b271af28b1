/**
 * What the per-height instance of protocol v2 (height.ts) takes in, gives out and keeps across a
 * crash. Values are batch headers, named in votes, locks and polkas by batchHeaderDigest (hex here).
 */
import type {
  AnchorV2,
  BatchHeader,
  DecidedBatch,
  Entry,
  FullProposal2,
  JustificationBundle,
  MessageV2,
  SignedVote2,
  Terms,
} from '@tandem/protocol';
import type { NodeContext } from '../context.js';
import type { InstanceEffect, MisbehaviourOf, SharedInput } from '../types.js';

/** A batch with everything a proposal of it carries besides the proof of lock. */
export interface BatchContent {
  readonly header: BatchHeader;
  /** Strictly ascending by settlement id; the header's root and count are theirs. */
  readonly entries: readonly Entry[];
  readonly terms: readonly Terms[];
  readonly justification: readonly JustificationBundle[];
}

/**
 * What the instance asks of the node, injected (the pool, the decided prefix and the clock live
 * outside consensus). The caller keeps the pool fed: before stepping a proposal in, it gives the
 * pool the proposal's terms and justification (bundles authenticate themselves), and after a
 * restart the batches of the persisted record (PersistedHeight.batches).
 */
export interface HeightPorts {
  /** valid_h(header, entries): pure and monotone (valid_h bound to the decided prefix and the pool). */
  isValid(header: BatchHeader, entries: readonly Entry[]): boolean;
  /** A fresh batch for this node to propose (proposer rules, the caller's clock), or null for none yet. */
  getValue(): BatchContent | null;
  /**
   * The fresh-COMMIT filter: false when this node must prevote nil on this fresh proposal
   * (validRound −1) by its clock. Asked only when the node is not locked on that header.
   */
  freshCommitAllowed(header: BatchHeader, entries: readonly Entry[]): boolean;
}

/** Everything a height instance needs that is shared by the node's heights. */
export interface HeightContext {
  /** Keys, verifier, n/f/q, timeouts (ConsensusParams) and the cluster. */
  readonly node: NodeContext;
  /** Network id and the v2 configuration digest (configDigestV2), bound by every v2 message. */
  readonly anchor: AnchorV2;
  readonly ports: HeightPorts;
}

/** Inputs to one height's instance. */
export type HeightInput =
  /** This node holds a ready entry for the height: enter round 0 (L10's "start"). */
  | { readonly type: 'start' }
  /** The pool grew or the clock moved: evaluate the rules again (validity, getValue, the filter). */
  | { readonly type: 'recheck' }
  /** Messages (vote2, proposal2, decided: bundles and catch-up requests are the runtime's), timeouts, resends. */
  | SharedInput<MessageV2>;

/** Misbehaviour seen at a height, recorded as evidence. Values are header digests in hex. */
export type HeightMisbehaviour = MisbehaviourOf<string>;

/** What the runtime must keep across a crash, written before anything it covers is sent. */
export interface PersistedHeight {
  readonly height: number;
  readonly round: number;
  /** Header digests in hex; their batches are in `batches`. */
  readonly lockedValue: string | null;
  readonly lockedRound: number;
  readonly validValue: string | null;
  readonly validRound: number;
  readonly validPolka: readonly SignedVote2[];
  /** The batches of the lock and of the valid value (entries, terms, justification); proposals carry their own. */
  readonly batches: readonly BatchContent[];
  /** Every proposal this node signed at this height, with its attachments. */
  readonly proposals: readonly FullProposal2[];
  /** Every vote this node signed at this height. */
  readonly votes: readonly SignedVote2[];
  readonly decided: DecidedBatch | null;
}

export type HeightEffect =
  | InstanceEffect<MessageV2, PersistedHeight, string>
  /** The height decided: its report v2 and entries (the runtime extends the chain with it). */
  | { readonly type: 'decided'; readonly batch: DecidedBatch };
