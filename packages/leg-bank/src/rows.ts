/**
 * Decoding of the ledger's rows. Numeric columns are selected as ::text, so both drivers (PGlite,
 * pg) hand back strings; a value of an unexpected type is a broken invariant, never bad input.
 */
import { type LegState, type LockRecord, toHex } from '@tandem/protocol';
import type { LegEventKind } from '@tandem/legs';
import { type AccountBalance, type BankEvent, type Transfer, type TransferStatus, BANK_EVENT_KINDS, TRANSFER_STATUSES } from './model.js';
import type { Row } from './sql.js';

/** A settlement's row: the rules' record, plus why it was rejected and the height of its last change. */
export interface SettlementRow {
  readonly state: LegState;
  readonly lock: LockRecord | null;
  readonly appliedReport: Uint8Array | null;
  readonly configDigest: Uint8Array | null;
  readonly rejectReason: string | null;
  readonly height: bigint;
}

export interface AccountRow {
  readonly balance: bigint;
  readonly held: bigint;
}

export function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`assertion failed: expected a text column, got ${typeof v}`);
  return v;
}

export function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  throw new Error(`assertion failed: expected an integer column, got ${String(v)}`);
}

export function safeNumber(v: unknown): number {
  const n = big(v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`assertion failed: ${n} is not a safe integer`);
  return Number(n);
}

/** bytea: PGlite returns Uint8Array, pg a Buffer; both become a plain Uint8Array copy. */
export function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new Error('assertion failed: expected a bytea column');
}

const LEG_STATES: readonly LegState[] = ['locked', 'rejected', 'committed', 'aborted', 'reclaimed'];
function legState(v: unknown): LegState {
  const s = str(v);
  if (!(LEG_STATES as readonly string[]).includes(s)) throw new Error(`assertion failed: unknown settlement state ${s}`);
  return s as LegState;
}

export function settlementRow(id: Uint8Array, r: Row): SettlementRow {
  const lock: LockRecord | null =
    r.payer === null
      ? null
      : {
          settlementId: id.slice(),
          amount: big(r.amount),
          from: str(r.payer),
          to: str(r.payee),
          unit: str(r.currency),
          venue: str(r.venue),
          validUntilMs: safeNumber(r.valid_until_ms),
          reclaimAtMs: safeNumber(r.reclaim_at_ms),
          groupPublicKey: bytes(r.group_public_key),
        };
  return {
    state: legState(r.state),
    lock,
    appliedReport: r.applied_report === null ? null : bytes(r.applied_report),
    configDigest: r.config_digest === null ? null : bytes(r.config_digest),
    rejectReason: r.reject_reason === null ? null : str(r.reject_reason),
    height: big(r.height),
  };
}

export function accountRow(r: Row): AccountRow {
  return { balance: big(r.balance), held: big(r.held) };
}

export function accountBalance(account: string, currency: string, r: AccountRow): AccountBalance {
  return { account, currency, balance: r.balance, held: r.held, available: r.balance - r.held };
}

export function transferOf(r: Row): Transfer {
  const status = str(r.status);
  if (!(TRANSFER_STATUSES as readonly string[]).includes(status)) throw new Error(`assertion failed: unknown transfer status ${status}`);
  return {
    id: big(r.id),
    debitAccount: str(r.debit_account),
    creditAccount: str(r.credit_account),
    currency: str(r.currency),
    amount: big(r.amount),
    status: status as TransferStatus,
    createdSeq: big(r.created_seq),
    resolvedSeq: r.resolved_seq === null ? null : big(r.resolved_seq),
  };
}

export function historyEvent(r: Row): BankEvent {
  const kind = str(r.kind);
  if (!(BANK_EVENT_KINDS as readonly string[]).includes(kind)) throw new Error(`assertion failed: unknown history kind ${kind}`);
  const optional = {
    ...(r.settlement_id === null ? {} : { settlementIdHex: toHex(bytes(r.settlement_id)) }),
    ...(r.account === null ? {} : { account: str(r.account) }),
    ...(r.counterparty === null ? {} : { counterparty: str(r.counterparty) }),
    ...(r.currency === null ? {} : { unit: str(r.currency) }),
    ...(r.amount === null ? {} : { amount: big(r.amount) }),
    ...(r.transfer_id === null ? {} : { transferId: big(r.transfer_id) }),
  };
  return { seq: safeNumber(r.seq), atMs: safeNumber(r.at_ms), kind: kind as LegEventKind, ...optional, detail: str(r.detail) };
}
