/**
 * The leg host's request and error bodies, shared by its server (server.ts) and its client
 * (client.ts) so both sides check exactly the same rules. The values inside them (terms, reports,
 * reports v2, entries, proofs, authorizations, leg views, outcomes) have the one codec of
 * @tandem/legs/json.
 */
import type { Authorization, Entry, Report, ReportV2, Terms, TreeMultiproof } from '@tandem/protocol';
import type { ProvenEntry } from '@tandem/legs';
import {
  type AuthorizationJson,
  type JsonObject,
  REASON_BYTES_MAX,
  authorizationFromJson,
  authorizationToJson,
  entriesFromJson,
  entryToJson,
  multiproofFromJson,
  multiproofToJson,
  objectField,
  provenEntriesFromJson,
  provenEntryToJson,
  reportFromJson,
  reportToJson,
  reportV2FromJson,
  reportV2ToJson,
  termsFromJson,
  termsToJson,
} from '@tandem/legs/json';

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

// Protocol v2 (batches): POST …/roots, …/roots/:root/entries, …/batches.

export interface RootRequestJson {
  readonly report: string;
}

export function rootRequestToJson(report: ReportV2): RootRequestJson {
  return { report: reportV2ToJson(report) };
}

export function rootRequestFromJson(v: unknown): ReportV2 {
  const o = objectField(v, '', ['report']);
  return reportV2FromJson(o.report, 'report');
}

export interface EntriesRequestJson {
  readonly items: ReturnType<typeof provenEntryToJson>[];
}

export function entriesRequestToJson(items: readonly ProvenEntry[]): EntriesRequestJson {
  return { items: items.map(provenEntryToJson) };
}

/** 1..LEG_CALL_ENTRIES_MAX proven entries (the root is in the path). */
export function entriesRequestFromJson(v: unknown): ProvenEntry[] {
  const o = objectField(v, '', ['items']);
  return provenEntriesFromJson(o.items, 'items');
}

export interface BatchRequest {
  readonly report: ReportV2;
  readonly entries: readonly Entry[];
  readonly multiproof: TreeMultiproof;
}

export interface BatchRequestJson {
  readonly report: string;
  readonly entries: string[];
  readonly multiproof: ReturnType<typeof multiproofToJson>;
}

export function batchRequestToJson(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): BatchRequestJson {
  return { report: reportV2ToJson(report), entries: entries.map(entryToJson), multiproof: multiproofToJson(multiproof) };
}

export function batchRequestFromJson(v: unknown): BatchRequest {
  const o = objectField(v, '', ['report', 'entries', 'multiproof']);
  return { report: reportV2FromJson(o.report, 'report'), entries: entriesFromJson(o.entries, 'entries'), multiproof: multiproofFromJson(o.multiproof, 'multiproof') };
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
