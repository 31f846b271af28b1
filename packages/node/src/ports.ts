import type { Authorization, LegName, LegState, Message, Report, Decision, Terms } from '@tandem/protocol';
import type { Misbehaviour, PersistedSettlement } from '@tandem/consensus';
import type { LegAdapter } from '@tandem/legs';
import type { RefusalReason } from './admission.js';

/**
 * The node runtime is generic over these ports. The simulator plugs in a virtual clock, simulated
 * network and in-memory storage; a real process plugs in libp2p, the system clock and files.
 */

/** Messages to other members (by member index). Broadcast never delivers to the sender itself. */
export interface Transport {
  broadcast(message: Message): void;
  send(to: number, message: Message): void;
}

/** This node's clock in ms (Unix time in a cluster, virtual time in the simulator; may be skewed). */
export interface Clock {
  nowMs(): number;
}

export type CancelTimer = () => void;
export interface Timers {
  /** Calls `fn` once after `delayMs` of this node's clock. */
  after(delayMs: number, fn: () => void): CancelTimer;
}

/**
 * Durable storage for write-ahead records, one per settlement, keyed by settlement id (hex).
 * `put` returns once the record is durable: the runtime sends nothing a record covers before that.
 */
export interface Storage {
  put(settlementIdHex: string, record: PersistedSettlement): void;
  /** The live records: what `start()` resumes. Never an archived one. */
  all(): readonly PersistedSettlement[];
  /**
   * Moves a settlement's record out of the live set, durably and atomically (it is either live or
   * archived, never lost). The runtime archives a settlement once it is closed on both legs and
   * past its reclaim time, when nothing it holds can move a leg any more. No-op for an id with no
   * live record.
   */
  archive(settlementIdHex: string): void;
}

export interface Legs {
  readonly asset: LegAdapter;
  readonly payment: LegAdapter;
}

/** What a node did, for logs, the simulator's history and the checker. Never carries key material. */
export type NodeEvent =
  | { readonly type: 'intent'; readonly settlementIdHex: string; readonly nonce: string }
  | { readonly type: 'prepare'; readonly settlementIdHex: string; readonly leg: LegName; readonly outcome: string }
  | { readonly type: 'signed'; readonly settlementIdHex: string; readonly message: Message }
  | { readonly type: 'valid'; readonly settlementIdHex: string; readonly value: Decision }
  | { readonly type: 'round'; readonly settlementIdHex: string; readonly round: number }
  | { readonly type: 'decided'; readonly settlementIdHex: string; readonly report: Report }
  | { readonly type: 'evidence'; readonly settlementIdHex: string; readonly misbehaviour: Misbehaviour }
  | { readonly type: 'deliver'; readonly settlementIdHex: string; readonly leg: LegName; readonly outcome: string }
  | { readonly type: 'closed'; readonly settlementIdHex: string }
  | { readonly type: 'resumed'; readonly settlementIdHex: string; readonly round: number; readonly decided: boolean }
  | { readonly type: 'leg-error'; readonly settlementIdHex: string; readonly leg: LegName; readonly op: string; readonly error: string }
  /** An intent the node did not take (admission.ts): why, in words, and when the same intent may be taken (null: never). */
  | { readonly type: 'intent-refused'; readonly settlementIdHex: string; readonly reason: RefusalReason; readonly detail: string; readonly retryAfterMs: number | null }
  /** Error: not closed on both legs by its reclaim time plus the grace period (what the node last saw of each leg; null: never read). */
  | { readonly type: 'stuck'; readonly settlementIdHex: string; readonly reclaimAtMs: number; readonly decided: boolean; readonly asset: LegState | null; readonly payment: LegState | null }
  /** Error: one leg committed, the other aborted or reclaimed. Never reported as closed. */
  | { readonly type: 'split'; readonly settlementIdHex: string; readonly asset: LegState; readonly payment: LegState };

/** How loud an event is in a log (v1 and v2 events alike): `stuck` and `split` need an operator. */
export function eventLevel(e: { readonly type: string }): 'info' | 'error' {
  return e.type === 'stuck' || e.type === 'split' ? 'error' : 'info';
}

export interface Log {
  event(e: NodeEvent): void;
}

/** Authorizations a party gave for a settlement, per leg. */
export type Authorizations = Partial<Record<LegName, Authorization>>;

/** An intent as the parties' agent hands it to a node: the terms and the authorizations it has. */
export interface Intent {
  readonly terms: Terms;
  readonly auths: Authorizations;
}
