/**
 * The ports of the protocol-v2 runtime that differ from v1's (../ports.ts): the transport carries
 * v2 messages, the legs take roots and proven entries, and storage keeps what a restart needs per
 * node rather than per settlement. Clock, Timers and the authorizations are v1's, unchanged.
 */
import type { AnchorV2, BatchHeader, BundleEntry, DecidedBatch, Entry, JustificationBundle, MessageV2, Terms, V2Params } from '@tandem/protocol';
import type { BatchContent, DecidedChain, EvidencePoolV2, JustificationPart, NodeContext, PersistedHeight } from '@tandem/consensus';
import type { BatchLegAdapter } from '@tandem/legs';
import type { Authorizations } from '../ports.js';
import type { NodeEventV2 } from './events.js';

/** v2 messages to other members (by member index). Broadcast never delivers to the sender itself. */
export interface TransportV2 {
  broadcast(message: MessageV2): void;
  send(to: number, message: MessageV2): void;
}

/** Both legs, each taking roots and entries by proof (protocol 2 anchors). */
export interface LegsV2 {
  readonly asset: BatchLegAdapter;
  readonly payment: BatchLegAdapter;
}

/** An intent the node took: its terms and the authorizations it prepares with. */
export interface PersistedIntent {
  readonly terms: Terms;
  readonly auths: Authorizations;
  /** Refused at intake, held only for its guard entry (absent: taken). */
  readonly refused?: true;
}

/** Everything a restarted v2 node resumes from. */
export interface StoredV2 {
  /** Intents taken and not yet closed, and intents refused and held for their guard entry, by settlement id (hex). */
  readonly intents: ReadonlyMap<string, PersistedIntent>;
  /** This node's deadline and guard entries (repeated verbatim, never signed anew). */
  readonly ownEntries: readonly BundleEntry[];
  /** The time of the last bundle this node signed (0 before any): the next is later. */
  readonly bundleTimeMs: number;
  /** The write-ahead record of the height in progress, or null. */
  readonly height: PersistedHeight | null;
  /** Decided batches, ascending by height, from the lowest still needed. */
  readonly decided: readonly DecidedBatch[];
}

/**
 * Durable storage of one v2 node. Puts are staged; `commit` makes every staged put durable at once
 * and returns when it is. The runtime commits before anything a staged record covers is sent
 * (write-ahead): once per tick (before its bundle goes out), once per height step that persisted
 * (before its first message), and before an intent is answered as taken.
 */
export interface StorageV2 {
  putIntent(settlementIdHex: string, intent: PersistedIntent): void;
  /** The settlement is closed on both legs: its intent is not resumed any more. */
  dropIntent(settlementIdHex: string): void;
  /** A deadline or guard entry, before it is first sent. */
  putOwnEntry(entry: BundleEntry): void;
  putBundleTime(timeMs: number): void;
  putHeight(record: PersistedHeight): void;
  putDecided(batch: DecidedBatch): void;
  /** Decided batches below `height` are no longer needed (neither for the chain nor for delivery). */
  dropDecidedBelow(height: number): void;
  /** Makes the staged puts durable. */
  commit(): void;
  /** What was committed (staged puts not committed may be lost in a crash). */
  load(): StoredV2;
}

export interface LogV2 {
  event(e: NodeEventV2): void;
}

/**
 * What a Byzantine proposer (byzantine.ts: the simulator and tests only) reads of its node: the
 * decided chain, the pool, the clock, and the node's means to prove bundle entries.
 */
export interface ProposerView {
  readonly ctx: NodeContext;
  readonly anchor: AnchorV2;
  readonly v2: V2Params;
  readonly chain: DecidedChain;
  readonly pool: EvidencePoolV2;
  nowMs(): number;
  /** The justification of a batch whose every entry is valid in the pool (multiproofs attached), or null. */
  justify(header: BatchHeader, entries: readonly Entry[]): JustificationBundle[] | null;
  /** The chosen bundle entries with their multiproofs, or null when one cannot be built. */
  prove(parts: readonly JustificationPart[]): JustificationBundle[] | null;
}

/**
 * The hook through which a Byzantine member proposes what a correct one would not. The honest
 * runtime never sets it (RuntimeV2Deps.proposerForTesting): without it the node proposes exactly
 * what the proposer rules give, and every message it signs is unchanged.
 */
export interface ProposerHook {
  /** Whether to enter the next height though nothing is ready here (it has a batch of its own). */
  wantsHeight(view: ProposerView): boolean;
  /** This node's fresh proposal (validRound −1); `honest` is what the proposer rules give (null: nothing ready). */
  fresh(honest: BatchContent | null, view: ProposerView): BatchContent | null;
  /** Batches are about to join the chain; the pool still holds the evidence of their settlements. */
  settling(batches: readonly DecidedBatch[], view: ProposerView): void;
}
