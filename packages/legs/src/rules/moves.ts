/**
 * The log entry each decision writes, with the same kinds and detail texts on every leg built on
 * these rules (the in-memory legs' event log, the PostgreSQL ledger's history): what they mean
 * is in ../events.ts.
 */
import type { LegName, LockRecord } from '@tandem/protocol';
import { type LegEvent, type LegEventKind, appliedDecision } from '../events.js';

/** A log entry before the leg stamps it with its sequence number and time. */
export type NewLegEvent = Omit<LegEvent, 'seq' | 'atMs'>;

/** Leg-specific names for the same three value moves. */
export interface LegNaming {
  readonly lock: 'lock' | 'hold';
  readonly commit: 'release' | 'post';
  readonly abort: 'refund' | 'void';
}

/** The asset chain moves tokens into escrow and out; the bank holds, posts and voids transfers. */
export const LEG_NAMING: Readonly<Record<LegName, LegNaming>> = {
  asset: { lock: 'lock', commit: 'release', abort: 'refund' },
  payment: { lock: 'hold', commit: 'post', abort: 'void' },
};

/** A move of a lock's value; a COMMIT's names where the value went. */
export function moveEvent(kind: LegEventKind, idHex: string, lock: LockRecord, detail: string): NewLegEvent {
  const to = appliedDecision(kind) === 'COMMIT' ? { counterparty: lock.to } : {};
  return { kind, settlementIdHex: idHex, account: lock.from, unit: lock.unit, amount: lock.amount, ...to, detail };
}

export function lockEvent(naming: LegNaming, idHex: string, lock: LockRecord): NewLegEvent {
  return moveEvent(naming.lock, idHex, lock, `${lock.amount} ${lock.unit} of ${lock.from} locked until ${lock.validUntilMs} ms`);
}

export function rejectEvent(idHex: string, lock: LockRecord, reason: string): NewLegEvent {
  return { kind: 'reject', settlementIdHex: idHex, account: lock.from, detail: reason };
}

export function commitEvent(naming: LegNaming, idHex: string, lock: LockRecord): NewLegEvent {
  return moveEvent(naming.commit, idHex, lock, `${lock.amount} ${lock.unit} from ${lock.from} to ${lock.to}`);
}

/** The value back to its owner: an ABORT (`naming.abort`) or a reclaim. */
export function returnEvent(kind: LegNaming['abort'] | 'reclaim', idHex: string, lock: LockRecord): NewLegEvent {
  return moveEvent(kind, idHex, lock, `${lock.amount} ${lock.unit} back to ${lock.from}`);
}

/** An ABORT applied where nothing was locked. */
export function unlockedAbortEvent(kind: 'abort-closed' | 'abort-recorded', idHex: string): NewLegEvent {
  return { kind, settlementIdHex: idHex, detail: kind === 'abort-closed' ? 'ABORT before any lock: id closed' : 'ABORT recorded on a rejected id' };
}

export function mintEvent(account: string, unit: string, amount: bigint): NewLegEvent {
  return { kind: 'mint', account, unit, amount, detail: `${amount} ${unit} to ${account}` };
}
