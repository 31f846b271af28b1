/**
 * JSON forms of the bank API's values. Amounts and heights are decimal strings (JSON numbers
 * lose precision past 2^53), bytes are lowercase hex, times are integer milliseconds.
 * The same readers check request bodies on the server and response bodies in the client.
 *
 * A settlement's leg view (state, finalityHeight, lock) has the encoding of @tandem/legs/json,
 * the one codec for LegView and LockRecord in the whole repository (the leg host's too). Its
 * WireError is this module's too (`field` names the offending value).
 */
import { fromHex, toHex } from '@tandem/protocol';
import type { ApplyOutcome, PrepareOutcome, ReclaimOutcome } from '@tandem/legs';
import { LEG_VIEW_KEYS, WireError, legViewFromJson, legViewToJson } from '@tandem/legs/json';
import { type AccountBalance, type BankEvent, type BankSettlementView, type Transfer, BANK_EVENT_KINDS, TRANSFER_STATUSES } from './model.js';

export { WireError };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---------------------------------------------------------------------------------------------
// Readers

export function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(path, 'must be an object');
  return v as Record<string, unknown>;
}

export function str(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new WireError(`${path}.${key}`, 'must be a string');
  return v;
}

export function nullableStr(o: Record<string, unknown>, key: string, path: string): string | null {
  return o[key] === null ? null : str(o, key, path);
}

/** A non-negative integer as a decimal string, without sign or leading zeros. */
export function decimal(o: Record<string, unknown>, key: string, path: string): bigint {
  const v = str(o, key, path);
  if (!/^(0|[1-9][0-9]{0,79})$/.test(v)) throw new WireError(`${path}.${key}`, 'must be a decimal integer string such as "100"');
  return BigInt(v);
}

export function safeInt(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new WireError(`${path}.${key}`, 'must be a non-negative integer');
  return v;
}

export function hex(o: Record<string, unknown>, key: string, path: string, bytes?: number): Uint8Array {
  const v = str(o, key, path);
  try {
    return fromHex(v, bytes);
  } catch (e) {
    throw new WireError(`${path}.${key}`, e instanceof Error ? e.message : String(e));
  }
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, path: string, values: readonly T[]): T {
  const v = str(o, key, path);
  if (!(values as readonly string[]).includes(v)) throw new WireError(`${path}.${key}`, `must be one of ${values.join(', ')}`);
  return v as T;
}

// ---------------------------------------------------------------------------------------------
// Values

export function transferToJson(t: Transfer): Json {
  return {
    id: t.id.toString(),
    debitAccount: t.debitAccount,
    creditAccount: t.creditAccount,
    currency: t.currency,
    amount: t.amount.toString(),
    status: t.status,
    createdSeq: t.createdSeq.toString(),
    resolvedSeq: t.resolvedSeq === null ? null : t.resolvedSeq.toString(),
  };
}

export function transferFromJson(v: unknown, path: string): Transfer {
  const o = obj(v, path);
  return {
    id: decimal(o, 'id', path),
    debitAccount: str(o, 'debitAccount', path),
    creditAccount: str(o, 'creditAccount', path),
    currency: str(o, 'currency', path),
    amount: decimal(o, 'amount', path),
    status: oneOf(o, 'status', path, TRANSFER_STATUSES),
    createdSeq: decimal(o, 'createdSeq', path),
    resolvedSeq: o.resolvedSeq === null ? null : decimal(o, 'resolvedSeq', path),
  };
}

export function settlementToJson(s: BankSettlementView): Json {
  return {
    ...legViewToJson(s),
    transfer: s.transfer === null ? null : transferToJson(s.transfer),
    appliedReport: s.appliedReport === null ? null : toHex(s.appliedReport),
    rejectReason: s.rejectReason,
  };
}

/** The bank's settlement view: the leg view's keys (checked by the legs' codec) and the bank's own. */
export function settlementFromJson(v: unknown, path: string): BankSettlementView {
  const o = obj(v, path);
  const view = Object.fromEntries(LEG_VIEW_KEYS.filter((k) => Object.hasOwn(o, k)).map((k) => [k, o[k]]));
  return {
    ...legViewFromJson(view, path),
    transfer: o.transfer === null ? null : transferFromJson(o.transfer, `${path}.transfer`),
    appliedReport: o.appliedReport === null ? null : hex(o, 'appliedReport', path),
    rejectReason: nullableStr(o, 'rejectReason', path),
  };
}

export function accountToJson(a: AccountBalance): Json {
  return { account: a.account, currency: a.currency, balance: a.balance.toString(), held: a.held.toString(), available: a.available.toString() };
}

export function accountFromJson(v: unknown, path: string): AccountBalance {
  const o = obj(v, path);
  const balance = decimal(o, 'balance', path);
  const held = decimal(o, 'held', path);
  const available = decimal(o, 'available', path);
  if (available !== balance - held) throw new WireError(`${path}.available`, 'must equal balance - held');
  return { account: str(o, 'account', path), currency: str(o, 'currency', path), balance, held, available };
}

export function eventToJson(e: BankEvent): Json {
  return {
    seq: e.seq,
    atMs: e.atMs,
    kind: e.kind,
    ...(e.settlementIdHex === undefined ? {} : { settlementId: e.settlementIdHex }),
    ...(e.account === undefined ? {} : { account: e.account }),
    ...(e.counterparty === undefined ? {} : { counterparty: e.counterparty }),
    ...(e.unit === undefined ? {} : { currency: e.unit }),
    ...(e.amount === undefined ? {} : { amount: e.amount.toString() }),
    ...(e.transferId === undefined ? {} : { transferId: e.transferId.toString() }),
    detail: e.detail,
  };
}

export function eventFromJson(v: unknown, path: string): BankEvent {
  const o = obj(v, path);
  const present = (key: string) => o[key] !== undefined;
  return {
    seq: safeInt(o, 'seq', path),
    atMs: safeInt(o, 'atMs', path),
    kind: oneOf(o, 'kind', path, BANK_EVENT_KINDS),
    ...(present('settlementId') ? { settlementIdHex: toHex(hex(o, 'settlementId', path, 32)) } : {}),
    ...(present('account') ? { account: str(o, 'account', path) } : {}),
    ...(present('counterparty') ? { counterparty: str(o, 'counterparty', path) } : {}),
    ...(present('currency') ? { unit: str(o, 'currency', path) } : {}),
    ...(present('amount') ? { amount: decimal(o, 'amount', path) } : {}),
    ...(present('transferId') ? { transferId: decimal(o, 'transferId', path) } : {}),
    detail: str(o, 'detail', path),
  };
}

// Outcomes travel as they are ({ kind, reason? }); these check them on the way back.

export function prepareOutcomeFromJson(v: unknown, path: string): PrepareOutcome {
  const o = obj(v, path);
  const kind = oneOf(o, 'kind', path, ['locked', 'unauthorized', 'rejected', 'closed'] as const);
  return kind === 'locked' ? { kind } : { kind, reason: str(o, 'reason', path) };
}

export function applyOutcomeFromJson(v: unknown, path: string): ApplyOutcome {
  const o = obj(v, path);
  const kind = oneOf(o, 'kind', path, ['applied', 'duplicate', 'refused'] as const);
  return kind === 'refused' ? { kind, reason: str(o, 'reason', path) } : { kind };
}

export function reclaimOutcomeFromJson(v: unknown, path: string): ReclaimOutcome {
  const o = obj(v, path);
  const kind = oneOf(o, 'kind', path, ['reclaimed', 'refused'] as const);
  return kind === 'refused' ? { kind, reason: str(o, 'reason', path) } : { kind };
}
