/**
 * JSON encodings of the LegAdapter interface's values, one codec for the whole repository: the
 * leg host's HTTP API and its client, and the bank's settlement view, use these.
 *
 * - terms: hex of `encodeTerms`; a report: hex of `encodeReport` (the canonical binary encodings,
 *   so the settlement id and the signed report body survive the trip byte for byte);
 * - an authorization: `{ party, signature: hex }`; a settlement id: 32 bytes of hex;
 * - a LegView: `{ state, finalityHeight: "decimal", lock: null | { settlementId: hex, amount:
 *   "decimal", from, to, unit, venue, validUntilMs, reclaimAtMs, groupPublicKey: hex } }`;
 * - outcomes as they are (`{ kind }` or `{ kind, reason }`).
 *
 * Decoding is strict (./json-fields.ts): a WireError names the offending field.
 */
import {
  type Authorization,
  type LegState,
  type LegView,
  type LockRecord,
  type Report,
  type Terms,
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
  toHex,
} from '@tandem/protocol';
import { type ApplyOutcome, OBSERVE_IDS_MAX, type PrepareOutcome, type ReclaimOutcome, type RootOutcome } from './adapter.js';
import { LEG_CALL_ENTRIES_MAX } from './rules/entry.js';
import { WireError, arrayField, decimalField, encodedField, fieldPath, hexField, intField, objectField, oneOfField, stringField } from './json-fields.js';

export * from './json-fields.js';
export * from './json-v2.js';

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
  return encodedField(v, field, null, TERMS_BYTES_MAX, decodeTerms);
}

export function reportToJson(r: Report): string {
  return toHex(encodeReport(r));
}

export function reportFromJson(v: unknown, field = 'report'): Report {
  return encodedField(v, field, REPORT_BYTES, REPORT_BYTES, decodeReport);
}

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

export const rootOutcomeToJson = (o: RootOutcome): RootOutcome => outcomeToJson(o);

export function rootOutcomeFromJson(v: unknown, field = ''): RootOutcome {
  return outcomeFromJson(v, field, ['stored', 'duplicate'], ['refused']) as RootOutcome;
}

/** The answer of applyEntries and applyBatch: `{ outcomes: [outcome…] }`, one per entry. */
export function applyOutcomesToJson(outcomes: readonly ApplyOutcome[]): { readonly outcomes: ApplyOutcome[] } {
  return { outcomes: outcomes.map(applyOutcomeToJson) };
}

export function applyOutcomesFromJson(v: unknown, field = ''): ApplyOutcome[] {
  const o = objectField(v, field, ['outcomes']);
  const path = fieldPath(field, 'outcomes');
  return arrayField(o.outcomes, path, LEG_CALL_ENTRIES_MAX).map((x, k) => applyOutcomeFromJson(x, `${path}[${k}]`));
}

/** observeMany's request: `{ ids: [hex…] }`, 0..OBSERVE_IDS_MAX settlement ids. */
export function viewsRequestToJson(ids: readonly Uint8Array[]): { ids: string[] } {
  return { ids: ids.map(toHex) };
}

export function viewsRequestFromJson(v: unknown): Uint8Array[] {
  const o = objectField(v, '', ['ids']);
  return arrayField(o['ids'], 'ids', OBSERVE_IDS_MAX, 0).map((x, k) => settlementIdFromHex(x, `ids[${k}]`));
}

/** observeMany's answer: `{ views: [LegViewJson…] }`, one per id asked, in order. */
export function viewsToJson(views: readonly LegView[]): { views: LegViewJson[] } {
  return { views: views.map(legViewToJson) };
}

/** Throws WireError naming the field unless it holds exactly `count` views. */
export function viewsFromJson(v: unknown, count: number): LegView[] {
  const o = objectField(v, '', ['views']);
  const views = arrayField(o['views'], 'views', OBSERVE_IDS_MAX, 0).map((x, k) => legViewFromJson(x, `views[${k}]`));
  if (views.length !== count) throw new WireError('views', `${views.length} views for ${count} ids`);
  return views;
}

/** Bytes of one view's JSON at most (a lock record with its hex fields): bounds an answer of many. */
export const VIEW_JSON_BYTES_MAX = 2_048;
