/**
 * JSON encodings of the LegAdapter calls, shared by the leg host (server.ts) and its client
 * (client.ts) so both sides check exactly the same rules.
 *
 * - terms: hex of `encodeTerms`; a report: hex of `encodeReport` (the canonical binary encodings,
 *   so the settlement id and the signed report body survive the trip byte for byte);
 * - an authorization: `{ party, signature: hex }`; a settlement id: 32 bytes of hex;
 * - a LegView: `{ state, finalityHeight: "decimal", lock: null | { settlementId: hex, amount:
 *   "decimal", from, to, unit, venue, validUntilMs, reclaimAtMs, groupPublicKey: hex } }`;
 * - outcomes as they are (`{ kind }` or `{ kind, reason }`).
 *
 * Decoding is strict: wrong types, missing or unknown keys, out-of-range numbers and bad hex are
 * a WireError naming the field (`lock.amount`, `authorization.signature`, …). Big integers travel
 * as decimal strings because JSON numbers lose precision past 2^53.
 */
import {
  type Authorization,
  type LegState,
  type LegView,
  type LockRecord,
  type Report,
  type Terms,
  DecodeError,
  G2_POINT_BYTES,
  REPORT_BODY_BYTES,
  BLS_SIGNATURE_BYTES,
  STRING_BYTES_MAX,
  U256_MAX,
  U64_MAX,
  decodeReport,
  decodeTerms,
  encodeReport,
  encodeTerms,
  fromHex,
  toHex,
  utf8,
} from '@tandem/protocol';
import type { ApplyOutcome, PrepareOutcome, ReclaimOutcome } from '@tandem/legs';

/** Input that does not match the wire format. `field` is the dotted path of the offending value. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitives

export type JsonObject = Record<string, unknown>;

/** An object with exactly the required keys and possibly some optional ones. */
export function objectField(v: unknown, field: string, required: readonly string[], optional: readonly string[] = []): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError(field, `expected an object, got ${describe(v)}`);
  const o = v as JsonObject;
  for (const key of Object.keys(o)) {
    if (!required.includes(key) && !optional.includes(key)) throw new WireError(fieldPath(field, key), 'unknown key');
  }
  for (const key of required) {
    if (!Object.hasOwn(o, key)) throw new WireError(fieldPath(field, key), 'missing');
  }
  return o;
}

export function fieldPath(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

/** A string of at most `maxBytes` UTF-8 bytes (and so at most that many UTF-16 units to check). */
export function stringField(v: unknown, field: string, maxBytes = STRING_BYTES_MAX, minBytes = 0): string {
  if (typeof v !== 'string') throw new WireError(field, `expected a string, got ${describe(v)}`);
  // Cheap bound before encoding: a UTF-16 unit is at least one UTF-8 byte.
  const bytes = v.length > maxBytes ? maxBytes + 1 : utf8(v).length;
  if (bytes > maxBytes) throw new WireError(field, `longer than ${maxBytes} bytes`);
  if (bytes < minBytes) throw new WireError(field, minBytes === 1 ? 'must not be empty' : `shorter than ${minBytes} bytes`);
  return v;
}

/** Hex (either case, optional 0x), exactly `bytes` long, or at most `maxBytes` when `bytes` is null. */
export function hexField(v: unknown, field: string, bytes: number | null, maxBytes = bytes ?? 0): Uint8Array {
  if (typeof v !== 'string') throw new WireError(field, `expected a hex string, got ${describe(v)}`);
  const limit = bytes ?? maxBytes;
  // Refuse oversized input before parsing it.
  if (v.length > 2 * limit + 2) throw new WireError(field, bytes === null ? `longer than ${limit} bytes` : `expected ${bytes} bytes of hex`);
  try {
    return fromHex(v, bytes ?? undefined);
  } catch (e) {
    throw new WireError(field, (e as Error).message);
  }
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A non-negative integer as a decimal string (no sign, no leading zeros), within [min, max]. */
export function decimalField(v: unknown, field: string, max: bigint, min = 0n): bigint {
  if (typeof v !== 'string') throw new WireError(field, `expected a decimal string, got ${describe(v)}`);
  if (v.length > max.toString().length || !DECIMAL.test(v)) throw new WireError(field, `expected a decimal integer in ${min}..${max}, got ${JSON.stringify(v.slice(0, 80))}`);
  const x = BigInt(v);
  if (x < min || x > max) throw new WireError(field, `expected a decimal integer in ${min}..${max}, got ${v}`);
  return x;
}

export function intField(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new WireError(field, `expected an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

export function oneOfField<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new WireError(field, `expected one of ${allowed.join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** A short, safe rendering of an unexpected value for an error message. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

// ---------------------------------------------------------------------------------------------
// Values

/**
 * Upper bound on encoded terms: 1 + nonce + 8 + 20 + 3 strings + 32 + 5 strings + 32 + 24, with
 * every string at its maximum (2 + 256 bytes). Nothing longer can decode.
 */
export const TERMS_BYTES_MAX = 1 + 9 * (2 + STRING_BYTES_MAX) + 8 + 20 + 32 + 32 + 24;
export const REPORT_BYTES = REPORT_BODY_BYTES + BLS_SIGNATURE_BYTES;
/**
 * Bound on an authorization's party name and signature. Looser than a valid one (a name of at
 * most 256 bytes, a 64-byte signature): a malformed authorization is the leg's to refuse as
 * `unauthorized`, not the transport's.
 */
export const AUTH_PARTY_BYTES_MAX = 1024;
export const AUTH_SIGNATURE_BYTES_MAX = 1024;

export function termsToJson(t: Terms): string {
  return toHex(encodeTerms(t));
}

export function termsFromJson(v: unknown, field = 'terms'): Terms {
  const bytes = hexField(v, field, null, TERMS_BYTES_MAX);
  try {
    return decodeTerms(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new WireError(field, e.message);
    throw e;
  }
}

export function reportToJson(r: Report): string {
  return toHex(encodeReport(r));
}

export function reportFromJson(v: unknown, field = 'report'): Report {
  const bytes = hexField(v, field, REPORT_BYTES);
  try {
    return decodeReport(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new WireError(field, e.message);
    throw e;
  }
}

/** Every adapter's shape check (defined with the adapter interface); re-exported for the HTTP layers. */
export { reportShapeProblem } from '@tandem/legs';

export interface AuthorizationJson {
  readonly party: string;
  readonly signature: string;
}

export function authorizationToJson(a: Authorization | null): AuthorizationJson | null {
  return a === null ? null : { party: a.party, signature: toHex(a.signature) };
}

export function authorizationFromJson(v: unknown, field = 'authorization'): Authorization | null {
  if (v === null) return null;
  const o = objectField(v, field, ['party', 'signature']);
  return {
    party: stringField(o.party, fieldPath(field, 'party'), AUTH_PARTY_BYTES_MAX),
    signature: hexField(o.signature, fieldPath(field, 'signature'), null, AUTH_SIGNATURE_BYTES_MAX),
  };
}

export function settlementIdToHex(id: Uint8Array): string {
  if (id.length !== 32) throw new Error(`a settlement id is 32 bytes, got ${id.length}`);
  return toHex(id);
}

export function settlementIdFromHex(v: unknown, field = 'settlementId'): Uint8Array {
  return hexField(v, field, 32);
}

// ---------------------------------------------------------------------------------------------
// LegView

export const LEG_STATES: readonly LegState[] = ['none', 'locked', 'rejected', 'committed', 'aborted', 'reclaimed'];

/** (A type, not an interface: it must fit index-signature JSON types, such as the bank's settlement view.) */
export type LockRecordJson = {
  readonly settlementId: string;
  readonly amount: string;
  readonly from: string;
  readonly to: string;
  readonly unit: string;
  readonly venue: string;
  readonly validUntilMs: number;
  readonly reclaimAtMs: number;
  readonly groupPublicKey: string;
};

export type LegViewJson = {
  readonly state: LegState;
  readonly finalityHeight: string;
  readonly lock: LockRecordJson | null;
};

export function lockToJson(l: LockRecord): LockRecordJson {
  return {
    settlementId: toHex(l.settlementId),
    amount: l.amount.toString(),
    from: l.from,
    to: l.to,
    unit: l.unit,
    venue: l.venue,
    validUntilMs: l.validUntilMs,
    reclaimAtMs: l.reclaimAtMs,
    groupPublicKey: toHex(l.groupPublicKey),
  };
}

export function legViewToJson(v: LegView): LegViewJson {
  return { state: v.state, finalityHeight: v.finalityHeight.toString(), lock: v.lock === null ? null : lockToJson(v.lock) };
}

const LOCK_KEYS = ['settlementId', 'amount', 'from', 'to', 'unit', 'venue', 'validUntilMs', 'reclaimAtMs', 'groupPublicKey'];

export function lockFromJson(v: unknown, field: string): LockRecord {
  const o = objectField(v, field, LOCK_KEYS);
  const f = (k: string) => fieldPath(field, k);
  return {
    settlementId: hexField(o.settlementId, f('settlementId'), 32),
    amount: decimalField(o.amount, f('amount'), U256_MAX),
    from: stringField(o.from, f('from')),
    to: stringField(o.to, f('to')),
    unit: stringField(o.unit, f('unit')),
    // A venue is "<chainId>:0x<40 hex>" or "<bankId>/<ledger>": at most two strings and a separator.
    venue: stringField(o.venue, f('venue'), 2 * STRING_BYTES_MAX + 1),
    validUntilMs: intField(o.validUntilMs, f('validUntilMs'), 0, Number.MAX_SAFE_INTEGER),
    reclaimAtMs: intField(o.reclaimAtMs, f('reclaimAtMs'), 0, Number.MAX_SAFE_INTEGER),
    groupPublicKey: hexField(o.groupPublicKey, f('groupPublicKey'), G2_POINT_BYTES),
  };
}

/** The keys of a LegView's JSON: a wider object (a bank's settlement view) picks these out first. */
export const LEG_VIEW_KEYS = ['state', 'finalityHeight', 'lock'] as const;

export function legViewFromJson(v: unknown, field = ''): LegView {
  const o = objectField(v, field, [...LEG_VIEW_KEYS]);
  return {
    state: oneOfField(o.state, fieldPath(field, 'state'), LEG_STATES),
    finalityHeight: decimalField(o.finalityHeight, fieldPath(field, 'finalityHeight'), U64_MAX),
    lock: o.lock === null ? null : lockFromJson(o.lock, fieldPath(field, 'lock')),
  };
}

// ---------------------------------------------------------------------------------------------
// Outcomes: { kind } or { kind, reason }, exactly.

/** Bound on a refusal's reason text: human-readable, never parsed. */
export const REASON_BYTES_MAX = 4096;

/**
 * Shortens a human-readable text to fit REASON_BYTES_MAX: a UTF-16 unit is at most 3 UTF-8 bytes,
 * so 1300 units and an ellipsis always fit. A leg's long error text must not make its answer
 * undecodable.
 */
export function truncateReason(s: string): string {
  return s.length > 1300 ? `${s.slice(0, 1300)}…` : s;
}

type KindsWithReason = { readonly kind: string; readonly reason?: string };

function outcomeToJson<T extends KindsWithReason>(o: T): T {
  // Only the known keys: an adapter's extra properties must not leak into (and break) the strict decoder.
  return (o.reason === undefined ? { kind: o.kind } : { kind: o.kind, reason: truncateReason(o.reason) }) as T;
}

function outcomeFromJson<K extends string>(v: unknown, field: string, bare: readonly K[], withReason: readonly K[]): { kind: K; reason?: string } {
  const kindOnly = objectField(v, field, ['kind'], ['reason']);
  const kind = oneOfField(kindOnly.kind, fieldPath(field, 'kind'), [...bare, ...withReason]);
  if (bare.includes(kind)) {
    objectField(v, field, ['kind']);
    return { kind };
  }
  objectField(v, field, ['kind', 'reason']);
  return { kind, reason: stringField(kindOnly.reason, fieldPath(field, 'reason'), REASON_BYTES_MAX) };
}

export const prepareOutcomeToJson = (o: PrepareOutcome): PrepareOutcome => outcomeToJson(o);
export const applyOutcomeToJson = (o: ApplyOutcome): ApplyOutcome => outcomeToJson(o);
export const reclaimOutcomeToJson = (o: ReclaimOutcome): ReclaimOutcome => outcomeToJson(o);

export function prepareOutcomeFromJson(v: unknown, field = ''): PrepareOutcome {
  return outcomeFromJson(v, field, ['locked'], ['unauthorized', 'rejected', 'closed']) as PrepareOutcome;
}

export function applyOutcomeFromJson(v: unknown, field = ''): ApplyOutcome {
  return outcomeFromJson(v, field, ['applied', 'duplicate'], ['refused']) as ApplyOutcome;
}

export function reclaimOutcomeFromJson(v: unknown, field = ''): ReclaimOutcome {
  return outcomeFromJson(v, field, ['reclaimed'], ['refused']) as ReclaimOutcome;
}

// ---------------------------------------------------------------------------------------------
// Request bodies

export interface PrepareRequest {
  readonly terms: Terms;
  readonly authorization: Authorization | null;
}

export interface PrepareRequestJson {
  readonly terms: string;
  readonly authorization: AuthorizationJson | null;
}

export function prepareRequestToJson(terms: Terms, authorization: Authorization | null): PrepareRequestJson {
  return { terms: termsToJson(terms), authorization: authorizationToJson(authorization) };
}

export function prepareRequestFromJson(v: unknown): PrepareRequest {
  // `authorization` is required (null when absent) so a misspelt key is not read as "no authorization".
  const o = objectField(v, '', ['terms', 'authorization']);
  return { terms: termsFromJson(o.terms, 'terms'), authorization: authorizationFromJson(o.authorization, 'authorization') };
}

export interface ApplyRequestJson {
  readonly report: string;
}

export function applyRequestToJson(report: Report): ApplyRequestJson {
  return { report: reportToJson(report) };
}

export function applyRequestFromJson(v: unknown): Report {
  const o = objectField(v, '', ['report']);
  return reportFromJson(o.report, 'report');
}

/** A request that carries nothing (reclaim): an empty body or `{}`. */
export function emptyRequestFromJson(v: unknown): void {
  if (v === undefined) return;
  objectField(v, '', []);
}

/** Every non-200 answer: a message, and the field at fault for a 400. */
export interface ErrorJson {
  readonly error: string;
  readonly field?: string;
}

/** Lenient on purpose: an error body is only ever shown to a person. */
export function errorMessageFromJson(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const e = (v as JsonObject).error;
  return typeof e === 'string' ? e.slice(0, REASON_BYTES_MAX) : null;
}
