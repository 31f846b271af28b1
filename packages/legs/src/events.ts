/**
 * What a leg's events mean: the one place that says which event moves a settlement to which
 * state, which events apply a report (and with which decision), and when a leg is closed. The
 * in-memory legs write these events; the simulator, the checker, the run report and the node
 * runtime read them through the functions below, never by naming event kinds themselves.
 */
import type { Decision, LegState } from '@tandem/protocol';

export type LegEventKind =
  | 'mint'
  | 'lock' // asset: tokens moved into escrow
  | 'hold' // payment: pending transfer placed
  | 'reject'
  | 'release' // asset: COMMIT, escrow → buyer
  | 'post' // payment: COMMIT, pending transfer posted to the payee
  | 'refund' // asset: ABORT, escrow → seller
  | 'void' // payment: ABORT, pending transfer voided
  | 'reclaim'
  | 'abort-closed' // ABORT applied to an id that never locked: the id is closed
  | 'abort-recorded' // ABORT applied to a rejected id: recorded, state stays rejected
  | 'reorg'; // an unfinalized lock undone by a chain reorganisation: the id is free again

/** One entry of a leg's append-only log. `seq` is the leg height after the event (1, 2, …). */
export interface LegEvent {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: LegEventKind;
  readonly settlementIdHex?: string;
  /** Whose value the event concerns: minted-to, seller/payer. */
  readonly account?: string;
  /** Where released/posted value went. */
  readonly counterparty?: string;
  readonly unit?: string;
  readonly amount?: bigint;
  readonly detail: string;
}

/** The settlement's state on the leg after each kind of event; null for events about no settlement. */
export const LEG_STATE_AFTER: Readonly<Record<LegEventKind, LegState | null>> = {
  mint: null,
  lock: 'locked',
  hold: 'locked',
  reject: 'rejected',
  release: 'committed',
  post: 'committed',
  refund: 'aborted',
  void: 'aborted',
  reclaim: 'reclaimed',
  'abort-closed': 'aborted',
  'abort-recorded': 'rejected', // the report is recorded; what the leg shows does not change
  reorg: 'none',
};

/** Every kind of leg event. */
export const LEG_EVENT_KINDS = Object.keys(LEG_STATE_AFTER) as readonly LegEventKind[];

const APPLIED: Readonly<Record<LegEventKind, Decision | null>> = {
  mint: null,
  lock: null,
  hold: null,
  reject: null,
  release: 'COMMIT',
  post: 'COMMIT',
  refund: 'ABORT',
  void: 'ABORT',
  reclaim: null,
  'abort-closed': 'ABORT',
  'abort-recorded': 'ABORT',
  reorg: null,
};

/** The decision of the report an event applied, or null if the event applied no report. */
export function appliedDecision(kind: LegEventKind): Decision | null {
  return APPLIED[kind];
}

/** Did this event lock the party's value (escrow lock, bank hold)? */
export function isLockEvent(kind: LegEventKind): boolean {
  return kind === 'lock' || kind === 'hold';
}

/**
 * Is a leg in `state` closed for a settlement: a report applied there or its value reclaimed, so
 * nothing can move on it any more? A rejected leg locked nothing; it counts as closed once the
 * settlement is decided (before that, the observer still owes the others its view).
 */
export function isLegClosed(state: LegState, decided: boolean): boolean {
  if (state === 'committed' || state === 'aborted' || state === 'reclaimed') return true;
  return state === 'rejected' && decided;
}

/** Follows a leg's append-only event log to know each settlement's state without an async call. */
export class LegStateTracker {
  private readonly states = new Map<string, LegState>();
  private seen = 0;

  /** The state of `idHex` after every event in `events` (the same growing log on every call). */
  state(events: readonly LegEvent[], idHex: string): LegState {
    for (; this.seen < events.length; this.seen++) {
      const e = events[this.seen]!;
      if (e.settlementIdHex === undefined) continue;
      const next = LEG_STATE_AFTER[e.kind];
      if (next !== null) this.states.set(e.settlementIdHex, next);
    }
    return this.states.get(idHex) ?? 'none';
  }
}
