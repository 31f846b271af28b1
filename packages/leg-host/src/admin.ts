/**
 * The leg host's admin API (for `tandem cluster` and cluster-mode scenarios): fund accounts, read
 * balances and the legs' event logs, and set leg faults at run time. `LegAdmin` is what a host
 * implements (memory-admin.ts for the in-memory legs); the JSON codecs here are shared by the
 * server and `LegHostAdminClient`.
 *
 * Routes (served only when `serveLegs` is given an admin):
 *   POST /admin/mint     { leg, account, unit, amount: "decimal" }          → { ok: true }
 *   GET  /admin/balances?leg=asset                                          → LegBalancesJson
 *   GET  /admin/events?leg=asset&since=N[&limit=M]                          → LegEventsPageJson
 *   POST /admin/faults   { leg, fault: "reject-prepare", settlementId }      → LegFaultStateJson
 *                        { leg, fault: "fail-apply", settlementId, times }
 *                        { leg, fault: "unavailable", untilMs }
 *                        { leg, fault: "clear" }
 *   GET  /admin/faults?leg=asset                                            → LegFaultStateJson
 */
import { type LegName, LEG_NAMES, STRING_BYTES_MAX, U256_MAX, U64_MAX, Writer, toHex } from '@tandem/protocol';
import { type BalanceEntry, type LegEvent, type LegEventKind, LEG_EVENT_KINDS } from '@tandem/legs';
import {
  WireError,
  decimalField,
  hexField,
  intField,
  fieldPath,
  objectField,
  oneOfField,
  settlementIdFromHex,
  stringField,
  REASON_BYTES_MAX,
  truncateReason,
} from '@tandem/legs/json';

/** A leg fault set at run time (the cluster-mode counterparts of the simulator's leg faults). */
export type LegFault =
  /** Every later prepare of this settlement is durably refused (policy): state `rejected`. */
  | { readonly kind: 'reject-prepare'; readonly settlementId: Uint8Array }
  /** The next `times` applies of a report for this settlement fail transiently (HTTP 503). */
  | { readonly kind: 'fail-apply'; readonly settlementId: Uint8Array; readonly times: number }
  /** Every adapter call fails transiently until the leg clock reaches `untilMs`. */
  | { readonly kind: 'unavailable'; readonly untilMs: number }
  /** Clears every fault of the leg. */
  | { readonly kind: 'clear' };

export const LEG_FAULT_KINDS = ['reject-prepare', 'fail-apply', 'unavailable', 'clear'] as const;

/** The faults in force on one leg. */
export interface LegFaultState {
  readonly rejectPrepare: readonly string[]; // settlement ids, hex, sorted
  readonly failApply: readonly { readonly settlementId: string; readonly timesLeft: number }[]; // sorted by id
  readonly unavailableUntilMs: number | null;
}

export interface LegBalances {
  /** Spendable balances (for a bank: available, holds excluded), sorted by account then unit. */
  readonly balances: readonly BalanceEntry[];
  /** The leg's height: one per event. */
  readonly height: bigint;
  /** The leg's own conservation check: null when value is conserved. */
  readonly conservationProblem: string | null;
}

export interface LegEventsPage {
  /** Events with seq > since, oldest first, at most `limit`. */
  readonly events: readonly LegEvent[];
  /** The leg's height when read: more events exist when the last seq returned is below it. */
  readonly height: number;
}

/** A request the admin refuses (unknown leg, bad amount, too many faults): HTTP 400 naming the field. */
export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** What a leg host offers operators. Methods may throw AdminInputError. */
export interface LegAdmin {
  /** Credits new value to an account (initial balances). */
  mint(leg: LegName, account: string, unit: string, amount: bigint): Promise<void>;
  balances(leg: LegName): Promise<LegBalances>;
  events(leg: LegName, sinceSeq: number, limit: number): Promise<LegEventsPage>;
  setFault(leg: LegName, fault: LegFault): Promise<LegFaultState>;
  faults(leg: LegName): Promise<LegFaultState>;
}

/** Most events one /admin/events answer carries: a client pages with `since`. */
export const EVENTS_PAGE_MAX = 1000;
/** Account and unit names follow the protocol's string bound (they appear in terms). */
const NAME_BYTES_MAX = STRING_BYTES_MAX;

// ---------------------------------------------------------------------------------------------
// Requests

export interface MintRequest {
  readonly leg: LegName;
  readonly account: string;
  readonly unit: string;
  readonly amount: bigint;
}

export function mintRequestToJson(r: MintRequest): Record<string, string> {
  return { leg: r.leg, account: r.account, unit: r.unit, amount: r.amount.toString() };
}

export function mintRequestFromJson(v: unknown): MintRequest {
  const o = objectField(v, '', ['leg', 'account', 'unit', 'amount']);
  return {
    leg: oneOfField(o.leg, 'leg', LEG_NAMES),
    account: nameField(o.account, 'account'),
    unit: nameField(o.unit, 'unit'),
    amount: decimalField(o.amount, 'amount', U256_MAX, 1n),
  };
}

/**
 * An account or unit name: a protocol string (well-formed, at most NAME_BYTES_MAX bytes) without
 * NUL, which no leg backed by PostgreSQL can hold. Every leg refuses the same names.
 */
function nameField(v: unknown, field: string): string {
  const s = stringField(v, field, NAME_BYTES_MAX, 1);
  if (s.includes('\u0000')) throw new WireError(field, 'must not contain NUL');
  try {
    new Writer().string(s);
  } catch (e) {
    throw new WireError(field, (e as Error).message);
  }
  return s;
}

export interface FaultRequest {
  readonly leg: LegName;
  readonly fault: LegFault;
}

/** Most apply failures one fault can ask for: a bound, not a policy. */
export const FAIL_APPLY_TIMES_MAX = 1_000_000;

export function faultRequestToJson(leg: LegName, f: LegFault): Record<string, unknown> {
  switch (f.kind) {
    case 'reject-prepare':
      return { leg, fault: f.kind, settlementId: toHex(f.settlementId) };
    case 'fail-apply':
      return { leg, fault: f.kind, settlementId: toHex(f.settlementId), times: f.times };
    case 'unavailable':
      return { leg, fault: f.kind, untilMs: f.untilMs };
    case 'clear':
      return { leg, fault: f.kind };
  }
}

export function faultRequestFromJson(v: unknown): FaultRequest {
  const head = objectField(v, '', ['leg', 'fault'], ['settlementId', 'times', 'untilMs']);
  const leg = oneOfField(head.leg, 'leg', LEG_NAMES);
  const kind = oneOfField(head.fault, 'fault', LEG_FAULT_KINDS);
  switch (kind) {
    case 'reject-prepare': {
      const o = objectField(v, '', ['leg', 'fault', 'settlementId']);
      return { leg, fault: { kind, settlementId: settlementIdFromHex(o.settlementId) } };
    }
    case 'fail-apply': {
      const o = objectField(v, '', ['leg', 'fault', 'settlementId', 'times']);
      return { leg, fault: { kind, settlementId: settlementIdFromHex(o.settlementId), times: intField(o.times, 'times', 1, FAIL_APPLY_TIMES_MAX) } };
    }
    case 'unavailable': {
      const o = objectField(v, '', ['leg', 'fault', 'untilMs']);
      return { leg, fault: { kind, untilMs: intField(o.untilMs, 'untilMs', 0, Number.MAX_SAFE_INTEGER) } };
    }
    case 'clear':
      objectField(v, '', ['leg', 'fault']);
      return { leg, fault: { kind } };
  }
}

/** Query parameters: exactly the allowed ones, each at most once. */
export function queryParams(search: URLSearchParams, required: readonly string[], optional: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of search) {
    if (!required.includes(key) && !optional.includes(key)) throw new WireError(key, 'unknown query parameter');
    if (out.has(key)) throw new WireError(key, 'given more than once');
    out.set(key, value);
  }
  for (const key of required) if (!out.has(key)) throw new WireError(key, 'missing query parameter');
  return out;
}

/** A non-negative decimal integer query parameter (no sign, no leading zeros). */
export function queryInt(value: string | undefined, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  return Number(decimalField(value, field, BigInt(max), BigInt(min)));
}

// ---------------------------------------------------------------------------------------------
// Answers

export interface BalanceJson {
  readonly account: string;
  readonly unit: string;
  readonly amount: string;
}

export interface LegBalancesJson {
  readonly leg: LegName;
  readonly height: string;
  readonly balances: readonly BalanceJson[];
  readonly conservationProblem: string | null;
}

export function legBalancesToJson(leg: LegName, b: LegBalances): LegBalancesJson {
  return {
    leg,
    height: b.height.toString(),
    balances: b.balances.map((e) => ({ account: e.account, unit: e.unit, amount: e.amount.toString() })),
    conservationProblem: b.conservationProblem === null ? null : truncateReason(b.conservationProblem),
  };
}

/** Bound on list lengths in admin answers: far above any cluster run, far below memory trouble. */
const LIST_MAX = 1_000_000;

function listField(v: unknown, field: string, max = LIST_MAX): unknown[] {
  if (!Array.isArray(v)) throw new WireError(field, 'expected an array');
  if (v.length > max) throw new WireError(field, `more than ${max} entries`);
  return v;
}

export function legBalancesFromJson(v: unknown, expectedLeg: LegName): LegBalances {
  const o = objectField(v, '', ['leg', 'height', 'balances', 'conservationProblem']);
  if (oneOfField(o.leg, 'leg', LEG_NAMES) !== expectedLeg) throw new WireError('leg', `expected ${expectedLeg}`);
  const balances = listField(o.balances, 'balances').map((raw, i): BalanceEntry => {
    const f = `balances[${i}]`;
    const e = objectField(raw, f, ['account', 'unit', 'amount']);
    return { account: stringField(e.account, fieldPath(f, 'account')), unit: stringField(e.unit, fieldPath(f, 'unit')), amount: decimalField(e.amount, fieldPath(f, 'amount'), U256_MAX) };
  });
  const problem = o.conservationProblem === null ? null : stringField(o.conservationProblem, 'conservationProblem', REASON_BYTES_MAX);
  return { balances, height: decimalField(o.height, 'height', U64_MAX), conservationProblem: problem };
}

export interface LegEventJson {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: LegEventKind;
  readonly settlementIdHex?: string;
  readonly account?: string;
  readonly counterparty?: string;
  readonly unit?: string;
  readonly amount?: string;
  readonly detail: string;
}

export interface LegEventsPageJson {
  readonly leg: LegName;
  readonly height: number;
  readonly events: readonly LegEventJson[];
}

/** LegEvent as JSON: the same keys, the amount as a decimal string; absent keys stay absent. */
export function legEventToJson(e: LegEvent): LegEventJson {
  const out: Record<string, unknown> = { seq: e.seq, atMs: e.atMs, kind: e.kind };
  if (e.settlementIdHex !== undefined) out.settlementIdHex = e.settlementIdHex;
  if (e.account !== undefined) out.account = e.account;
  if (e.counterparty !== undefined) out.counterparty = e.counterparty;
  if (e.unit !== undefined) out.unit = e.unit;
  if (e.amount !== undefined) out.amount = e.amount.toString();
  out.detail = truncateReason(e.detail);
  return out as unknown as LegEventJson;
}

function legEventFromJson(v: unknown, field: string): LegEvent {
  const o = objectField(v, field, ['seq', 'atMs', 'kind', 'detail'], ['settlementIdHex', 'account', 'counterparty', 'unit', 'amount']);
  const f = (k: string) => fieldPath(field, k);
  const opt = <T>(k: string, read: (x: unknown, name: string) => T): { [key: string]: T } => (Object.hasOwn(o, k) ? { [k]: read(o[k], f(k)) } : {});
  return {
    seq: intField(o.seq, f('seq'), 1, Number.MAX_SAFE_INTEGER),
    // The log clock may be virtual or skewed, so only finiteness is required, not a sign.
    atMs: intField(o.atMs, f('atMs'), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    kind: oneOfField(o.kind, f('kind'), LEG_EVENT_KINDS),
    ...opt('settlementIdHex', (x, name) => toHex(settlementIdFromHex(x, name))),
    ...opt('account', (x, name) => stringField(x, name)),
    ...opt('counterparty', (x, name) => stringField(x, name)),
    ...opt('unit', (x, name) => stringField(x, name)),
    ...opt('amount', (x, name) => decimalField(x, name, U256_MAX)),
    detail: stringField(o.detail, f('detail'), REASON_BYTES_MAX),
  } as LegEvent;
}

export function legEventsPageToJson(leg: LegName, p: LegEventsPage): LegEventsPageJson {
  return { leg, height: p.height, events: p.events.map(legEventToJson) };
}

export function legEventsPageFromJson(v: unknown, expectedLeg: LegName): LegEventsPage {
  const o = objectField(v, '', ['leg', 'height', 'events']);
  if (oneOfField(o.leg, 'leg', LEG_NAMES) !== expectedLeg) throw new WireError('leg', `expected ${expectedLeg}`);
  return {
    height: intField(o.height, 'height', 0, Number.MAX_SAFE_INTEGER),
    events: listField(o.events, 'events', EVENTS_PAGE_MAX).map((e, i) => legEventFromJson(e, `events[${i}]`)),
  };
}

export interface LegFaultStateJson extends LegFaultState {
  readonly leg: LegName;
}

export function legFaultStateToJson(leg: LegName, s: LegFaultState): LegFaultStateJson {
  return { leg, rejectPrepare: [...s.rejectPrepare], failApply: s.failApply.map((x) => ({ ...x })), unavailableUntilMs: s.unavailableUntilMs };
}

export function legFaultStateFromJson(v: unknown, expectedLeg: LegName): LegFaultState {
  const o = objectField(v, '', ['leg', 'rejectPrepare', 'failApply', 'unavailableUntilMs']);
  if (oneOfField(o.leg, 'leg', LEG_NAMES) !== expectedLeg) throw new WireError('leg', `expected ${expectedLeg}`);
  return {
    rejectPrepare: listField(o.rejectPrepare, 'rejectPrepare').map((x, i) => toHex(hexField(x, `rejectPrepare[${i}]`, 32))),
    failApply: listField(o.failApply, 'failApply').map((raw, i) => {
      const f = `failApply[${i}]`;
      const e = objectField(raw, f, ['settlementId', 'timesLeft']);
      return { settlementId: toHex(settlementIdFromHex(e.settlementId, fieldPath(f, 'settlementId'))), timesLeft: intField(e.timesLeft, fieldPath(f, 'timesLeft'), 0, FAIL_APPLY_TIMES_MAX) };
    }),
    unavailableUntilMs: o.unavailableUntilMs === null ? null : intField(o.unavailableUntilMs, 'unavailableUntilMs', 0, Number.MAX_SAFE_INTEGER),
  };
}
