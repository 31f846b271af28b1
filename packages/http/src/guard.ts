/**
 * The guard every Tandem HTTP server applies to a request before routing it, in this order:
 *
 *   421  the Host header names another server than this listener (DNS rebinding: a web page whose
 *        name was re-pointed at 127.0.0.1 sends its own name);
 *   403  an Origin header from another origin (a page in a local browser);
 *   401  no `Authorization: Bearer <token>` holding the token of one of the server's roles,
 *        whatever the path: an unauthenticated caller learns nothing, not even which routes exist;
 *   415  a body without `content-type: application/json` (charset, if given, utf-8);
 *   413  a declared body over the size bound (a body sent in chunks is bounded as it is read).
 *
 * Each refusal is an HttpError naming the header or `body` at fault.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Credential } from './credential.js';
import { bodyTooLarge } from './body.js';
import { HttpError } from './reply.js';

/** Who may call: role name → its credential (e.g. `{ client, admin }`). The handler learns the role. */
export type Roles = Readonly<Record<string, Credential>>;

export interface GuardRules {
  readonly roles: Roles;
  /** Host header values accepted (lowercase `name:port`), or null when not checked. */
  readonly hosts: ReadonlySet<string> | null;
  /** Origin header values accepted when one is sent (lowercase), or null when not checked. */
  readonly origins: ReadonlySet<string> | null;
  readonly bodyBytesMax: number;
}

/** The role whose token the request carries, or the refusal. */
export function guardRequest(headers: IncomingHttpHeaders, rules: GuardRules): { role: string } | HttpError {
  const host = headers.host?.toLowerCase();
  if (rules.hosts !== null && (host === undefined || !rules.hosts.has(host))) {
    return new HttpError(421, `host: this server does not answer for ${JSON.stringify((host ?? '').slice(0, 100))}`, 'host');
  }
  const origin = headers.origin?.toLowerCase();
  if (rules.origins !== null && origin !== undefined && !rules.origins.has(origin)) {
    return new HttpError(403, `origin: requests from ${JSON.stringify(origin.slice(0, 100))} are not served`, 'origin');
  }
  const role = roleOf(headers.authorization, rules.roles);
  if (role === null) {
    return new HttpError(401, 'authorization: expected "Bearer <token>" with a valid token', 'authorization', { 'www-authenticate': 'Bearer' });
  }
  const length = headers['content-length'];
  const hasBody = headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (hasBody && !isJson(headers['content-type'])) {
    return new HttpError(415, 'content-type: a request with a body must be application/json', 'content-type', { connection: 'close' });
  }
  if (length !== undefined && !(Number(length) <= rules.bodyBytesMax)) return bodyTooLarge(rules.bodyBytesMax);
  return { role };
}

/** Every role's credential is checked, so the time taken does not say which one matched. */
function roleOf(authorization: string | undefined, roles: Roles): string | null {
  let found: string | null = null;
  for (const [role, credential] of Object.entries(roles)) {
    if (credential.matches(authorization) && found === null) found = role;
  }
  return found;
}

/** `application/json`, optionally with `charset=utf-8` (any case); nothing else. */
export function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || p === 'charset=utf-8' || p === 'charset="utf-8"');
}
