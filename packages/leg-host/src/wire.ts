/**
 * The leg host's request and error bodies, shared by its server (server.ts) and its client
 * (client.ts) so both sides check exactly the same rules. The values inside them (terms, reports,
 * authorizations, leg views, outcomes) have the one codec of @tandem/legs/json.
 */
import type { Authorization, Report, Terms } from '@tandem/protocol';
import {
  type AuthorizationJson,
  type JsonObject,
  REASON_BYTES_MAX,
  authorizationFromJson,
  authorizationToJson,
  objectField,
  reportFromJson,
  reportToJson,
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
