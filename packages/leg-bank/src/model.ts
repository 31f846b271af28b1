/** What the bank ledger holds and answers, apart from the leg interface's own types. */
import { type LegView, STRING_BYTES_MAX, utf8 } from '@tandem/protocol';
import type { LegEvent } from '@tandem/legs';

/** One account in one currency. `available = balance - held`. */
export interface AccountBalance {
  readonly account: string;
  readonly currency: string;
  /** Posted balance, holds included. */
  readonly balance: bigint;
  /** Pending debits (holds). */
  readonly held: bigint;
  /** Spendable: what a new hold can take. */
  readonly available: bigint;
}

export type TransferStatus = 'pending' | 'posted' | 'voided';

export const TRANSFER_STATUSES: readonly TransferStatus[] = ['pending', 'posted', 'voided'];

/** A two-phase transfer: a hold while pending; posted on COMMIT, voided on ABORT or reclaim. */
export interface Transfer {
  readonly id: bigint;
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly status: TransferStatus;
  /** Ledger height of the hold and of its resolution (null while pending). */
  readonly createdSeq: bigint;
  readonly resolvedSeq: bigint | null;
}

/** One committed change of a transfer: what `onTransfer` is told. */
export interface TransferChange {
  /** The settlement the transfer belongs to: lowercase hex of its 32-byte id, as toHex writes it. */
  readonly settlementIdHex: string;
  readonly transferId: bigint;
  /** What happened: `hold` created it (pending); `post`, `void` and `reclaim` resolved it. */
  readonly kind: 'hold' | 'post' | 'void' | 'reclaim';
  /** The transfer's status after the change. */
  readonly status: TransferStatus;
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly currency: string;
  readonly amount: bigint;
  /** The ledger height of the change (its history entry's seq). */
  readonly seq: bigint;
}

/** The leg view plus what only the bank knows: the transfer, the report applied, why it refused. */
export interface BankSettlementView extends LegView {
  readonly transfer: Transfer | null;
  /** The applied marker of the one report or entry applied for this id: encodeReport bytes (v1), keccak256(root ‖ leaf) (v2). */
  readonly appliedReport: Uint8Array | null;
  readonly rejectReason: string | null;
}

/** A history entry: the in-memory legs' event, plus the transfer it concerns. */
export interface BankEvent extends LegEvent {
  readonly transferId?: bigint;
}

/** The kinds of event the bank's history holds (the payment leg's names for the moves). */
export const BANK_EVENT_KINDS: readonly BankEvent['kind'][] = ['mint', 'hold', 'reject', 'post', 'void', 'reclaim', 'abort-closed', 'abort-recorded'];

/** A caller's mistake (bad account name, amount out of range): the HTTP API answers 400. */
export class BankInputError extends Error {
  override readonly name = 'BankInputError';
}

/** Bound on one history page. */
export const HISTORY_PAGE_MAX = 10_000;

/** Account and currency names: non-empty UTF-8 up to the protocol's string bound, no NUL. */
export function checkName(what: string, s: string): void {
  if (typeof s !== 'string' || s === '') throw new BankInputError(`${what} must be a non-empty string`);
  if (s.includes('\u0000')) throw new BankInputError(`${what} must not contain NUL`);
  try {
    encodeURIComponent(s); // throws URIError on a lone surrogate, which has no UTF-8 form
  } catch {
    throw new BankInputError(`${what} is not valid Unicode`);
  }
  if (utf8(s).length > STRING_BYTES_MAX) throw new BankInputError(`${what} is longer than ${STRING_BYTES_MAX} UTF-8 bytes`);
}
