/**
 * The leg host's HTTP server: LegAdapters (and optionally an admin API) behind @tandem/http's guard.
 *
 *   POST /legs/:leg/prepare                    { terms, authorization | null } → PrepareOutcome
 *   GET  /legs/:leg/settlements/:idHex                                         → LegView
 *   POST /legs/:leg/apply                      { report }                      → ApplyOutcome
 *   POST /legs/:leg/settlements/:idHex/reclaim                                 → ReclaimOutcome
 *   POST /legs/:leg/roots                      { report: report v2 }           → RootOutcome
 *   POST /legs/:leg/roots/:rootHex/entries     { items: [{ entry, proof }…] }  → { outcomes }
 *   POST /legs/:leg/batches                    { report, entries, multiproof } → { outcomes }
 *   /admin/…                                   see admin.ts
 *
 * Two roles, each with its own token on the one listener: `legs` (the nodes: the /legs routes)
 * and `admin` (operators and the cluster-mode runner: the /admin routes). Before routing, the
 * guard answers 401 to any request carrying neither token (and 421/403/415/413, see
 * @tandem/http); a route called with the other role's token is 403.
 *
 * Status codes: 200 with the answer; 400 `{ error, field }` for input that does not decode (the
 * field is named); 404 unknown route or leg, or a protocol v2 route on a leg whose adapter is not
 * a BatchLegAdapter; 405 wrong method; 413 a body over its route's limit (the two batch routes
 * have their own, larger one); 503 `{ error }` when the leg throws
 * TransientLegError (the caller retries); 500 `{ error: "internal error" }` for anything else (a
 * bug; reported to `onError`, its text never sent). No input can crash the server: every
 * handler's failure becomes an answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Credential, type TlsFiles, HttpError, readJsonBody, sendError, sendJson, serveGuarded } from '@tandem/http';
import { type LegName, LEG_NAMES, assert } from '@tandem/protocol';
import { type ApplyOutcome, type BatchLegAdapter, type LegAdapter, TransientLegError, isBatchLegAdapter } from '@tandem/legs';
import {
  type LegAdmin,
  AdminInputError,
  EVENTS_PAGE_MAX,
  faultRequestFromJson,
  legBalancesToJson,
  legEventsPageToJson,
  legFaultStateToJson,
  mintRequestFromJson,
  queryInt,
  queryParams,
} from './admin.js';
import {
  WireError,
  applyOutcomeToJson,
  applyOutcomesToJson,
  legViewToJson,
  prepareOutcomeToJson,
  reclaimOutcomeToJson,
  rootFromHex,
  rootOutcomeToJson,
  settlementIdFromHex,
  viewsRequestFromJson,
  viewsToJson,
} from '@tandem/legs/json';
import { applyRequestFromJson, batchRequestFromJson, emptyRequestFromJson, entriesRequestFromJson, prepareRequestFromJson, rootRequestFromJson } from './wire.js';

export interface ServedLegs {
  readonly asset?: LegAdapter;
  readonly payment?: LegAdapter;
}

/** The leg host's credentials: the nodes' token, and the operators' when there is an admin API. */
export interface LegHostCredentials {
  readonly legs: Credential;
  readonly admin?: Credential;
}

export interface ServeLegsOptions {
  /** Interface to listen on: loopback, or any with `tls`. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly credentials: LegHostCredentials;
  /** HTTPS; needed to listen beyond loopback. */
  readonly tls?: TlsFiles | null;
  /** With an admin API, `credentials.admin` is required. */
  readonly admin?: LegAdmin;
  /** Largest request body accepted, but on the two batch routes. Default 64 KiB (a prepare is under 3 KiB). */
  readonly bodyLimitBytes?: number;
  /**
   * Largest body of POST …/roots/:root/entries and …/batches. Default 1 MiB: 256 entries with
   * their proofs take at most about 320 KB, whatever the batch's size (16 siblings each).
   */
  readonly batchBodyLimitBytes?: number;
  /** Unexpected failures (answered 500): a bug in an adapter or here. */
  readonly onError?: (error: unknown) => void;
}

export interface LegServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** Stops accepting, ends open connections, resolves when the server is closed. */
  close(): Promise<void>;
}

export const BODY_LIMIT_BYTES_DEFAULT = 64 * 1024;
export const BATCH_BODY_LIMIT_BYTES_DEFAULT = 1024 * 1024;

/** Body limits: of every request, and of the two batch routes. */
interface BodyLimits {
  readonly callBytes: number;
  readonly batchBytes: number;
}

/** The role a request's token grants (see the module comment). */
type Role = 'legs' | 'admin';

interface RequestContext {
  readonly method: string;
  readonly role: Role;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** Reads and parses the body (undefined when empty) within the call limit; throws HttpError 413 / 400. */
  readonly body: () => Promise<unknown>;
  /** The same within the batch routes' limit. */
  readonly batchBody: () => Promise<unknown>;
}

export async function serveLegs(legs: ServedLegs, opts: ServeLegsOptions): Promise<LegServer> {
  for (const name of LEG_NAMES) {
    const adapter = legs[name];
    if (adapter !== undefined && adapter.leg !== name) throw new Error(`serveLegs: the ${name} adapter is a ${adapter.leg} leg`);
  }
  if (opts.admin !== undefined && opts.credentials.admin === undefined) throw new Error('serveLegs: an admin API needs credentials.admin (its own token)');
  const onError = opts.onError ?? (() => {});
  const limits: BodyLimits = { callBytes: opts.bodyLimitBytes ?? BODY_LIMIT_BYTES_DEFAULT, batchBytes: opts.batchBodyLimitBytes ?? BATCH_BODY_LIMIT_BYTES_DEFAULT };
  for (const [key, bytes] of [['bodyLimitBytes', limits.callBytes], ['batchBodyLimitBytes', limits.batchBytes]] as const) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`serveLegs: ${key} must be a positive integer, got ${bytes}`);
  }
  const router = new Router(legs, opts.admin ?? null);
  const roles = { legs: opts.credentials.legs, ...(opts.admin !== undefined ? { admin: opts.credentials.admin! } : {}) };
  // The guard refuses what no route takes; each route then reads within its own limit.
  const bodyBytesMax = Math.max(limits.callBytes, limits.batchBytes);
  const server = await serveGuarded({ name: 'leg host', host: opts.host, port: opts.port, roles, tls: opts.tls ?? null, bodyBytesMax, onError }, (req, res, admitted) =>
    respond(router, req, res, admitted.role as Role, limits, onError),
  );
  return { url: server.url, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------
// One request

async function respond(router: Router, req: IncomingMessage, res: ServerResponse, role: Role, limits: BodyLimits, onError: (e: unknown) => void): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://leg-host.invalid');
    const segments = pathSegments(url.pathname);
    let bodyPromise: Promise<unknown> | null = null;
    const ctx: RequestContext = {
      method: req.method ?? 'GET',
      role,
      segments,
      query: url.searchParams,
      body: () => (bodyPromise ??= readJsonBody(req, limits.callBytes)),
      batchBody: () => (bodyPromise ??= readJsonBody(req, limits.batchBytes)),
    };
    sendJson(res, 200, await router.route(ctx));
  } catch (e) {
    if (e instanceof WireError || e instanceof AdminInputError) return sendJson(res, 400, { error: e.message, field: e.field });
    if (e instanceof TransientLegError) return sendJson(res, 503, { error: e.message }, { 'retry-after': '1' });
    if (e instanceof HttpError) return sendError(res, e);
    onError(e);
    // Never the error's text: an adapter's errors may quote its database or chain client.
    sendJson(res, 500, { error: 'internal error' });
  }
}

function pathSegments(pathname: string): string[] {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop(); // a trailing slash names the same route
  return raw.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `bad percent-encoding in the path: ${JSON.stringify(s.slice(0, 80))}`, 'path');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Routes

class Router {
  constructor(
    private readonly legs: ServedLegs,
    private readonly admin: LegAdmin | null,
  ) {}

  route(ctx: RequestContext): Promise<unknown> {
    const [head, ...rest] = ctx.segments;
    if (head === 'legs' && rest.length >= 2) return this.legRoute(grant(ctx, 'legs'), rest[0]!, rest.slice(1));
    if (head === 'admin' && rest.length === 1 && this.admin !== null) return this.adminRoute(grant(ctx, 'admin'), this.admin, rest[0]!);
    throw notFound(ctx);
  }

  private async legRoute(ctx: RequestContext, legName: string, rest: readonly string[]): Promise<unknown> {
    // Match the route before looking up the leg, so an unknown path is a 404 whatever the leg.
    const [a, b, c] = rest;
    if (rest.length === 1 && a === 'prepare') {
      allow(ctx, 'POST');
      const adapter = this.adapter(legName);
      const { terms, authorization } = prepareRequestFromJson(await ctx.body());
      return prepareOutcomeToJson(await adapter.prepare(terms, authorization));
    }
    if (rest.length === 1 && a === 'apply') {
      allow(ctx, 'POST');
      const adapter = this.adapter(legName);
      const report = applyRequestFromJson(await ctx.body());
      return applyOutcomeToJson(await adapter.applyReport(report));
    }
    if (rest.length === 2 && a === 'settlements') {
      allow(ctx, 'GET');
      const adapter = this.adapter(legName);
      return legViewToJson(await adapter.observe(settlementIdFromHex(b, 'settlementId')));
    }
    if (rest.length === 3 && a === 'settlements' && c === 'reclaim') {
      allow(ctx, 'POST');
      const adapter = this.adapter(legName);
      const id = settlementIdFromHex(b, 'settlementId');
      emptyRequestFromJson(await ctx.body());
      return reclaimOutcomeToJson(await adapter.reclaim(id));
    }
    if ((rest.length === 1 && (a === 'roots' || a === 'batches' || a === 'views')) || (rest.length === 3 && a === 'roots' && c === 'entries')) return this.batchRoute(ctx, legName, rest);
    throw notFound(ctx);
  }

  /** The protocol v2 routes: roots, entries by proof, batches by multiproof, views of many ids. */
  private async batchRoute(ctx: RequestContext, legName: string, rest: readonly string[]): Promise<unknown> {
    allow(ctx, 'POST');
    const adapter = this.batchAdapter(legName);
    const [a, b] = rest;
    if (a === 'views') return viewsToJson(await adapter.observeMany(viewsRequestFromJson(await ctx.batchBody())));
    if (a === 'roots' && rest.length === 1) return rootOutcomeToJson(await adapter.submitRoot(rootRequestFromJson(await ctx.body())));
    if (a === 'roots') {
      const root = rootFromHex(b, 'root');
      const items = entriesRequestFromJson(await ctx.batchBody());
      return outcomesToJson(await adapter.applyEntries(root, items), items.length);
    }
    const { report, entries, multiproof } = batchRequestFromJson(await ctx.batchBody());
    return outcomesToJson(await adapter.applyBatch(report, entries, multiproof), entries.length);
  }

  private batchAdapter(name: string): BatchLegAdapter {
    const adapter = this.adapter(name);
    if (!isBatchLegAdapter(adapter)) throw new HttpError(404, `this host's ${name} leg does not take protocol v2 calls (roots, entries, batches, views)`);
    return adapter;
  }

  private adapter(name: string): LegAdapter {
    if (!(LEG_NAMES as readonly string[]).includes(name)) throw new HttpError(404, `no leg named ${JSON.stringify(name.slice(0, 80))} (expected asset or payment)`, 'leg');
    const adapter = this.legs[name as LegName];
    if (adapter === undefined) throw new HttpError(404, `this host does not serve the ${name} leg`);
    return adapter;
  }

  private async adminRoute(ctx: RequestContext, admin: LegAdmin, action: string): Promise<unknown> {
    switch (action) {
      case 'mint': {
        allow(ctx, 'POST');
        const m = mintRequestFromJson(await ctx.body());
        await admin.mint(m.leg, m.account, m.unit, m.amount);
        return { ok: true };
      }
      case 'balances': {
        allow(ctx, 'GET');
        const leg = queryLeg(queryParams(ctx.query, ['leg']));
        return legBalancesToJson(leg, await admin.balances(leg));
      }
      case 'events': {
        allow(ctx, 'GET');
        const q = queryParams(ctx.query, ['leg'], ['since', 'limit']);
        const leg = queryLeg(q);
        const since = queryInt(q.get('since'), 'since', 0, Number.MAX_SAFE_INTEGER, 0);
        const limit = queryInt(q.get('limit'), 'limit', 1, EVENTS_PAGE_MAX, EVENTS_PAGE_MAX);
        return legEventsPageToJson(leg, await admin.events(leg, since, limit));
      }
      case 'faults': {
        allow(ctx, 'GET', 'POST');
        if (ctx.method === 'GET') {
          const leg = queryLeg(queryParams(ctx.query, ['leg']));
          return legFaultStateToJson(leg, await admin.faults(leg));
        }
        const f = faultRequestFromJson(await ctx.body());
        return legFaultStateToJson(f.leg, await admin.setFault(f.leg, f.fault));
      }
      default:
        throw notFound(ctx);
    }
  }
}

/** One outcome per entry, in order: an adapter answering otherwise is a bug (a 500), never a short answer. */
function outcomesToJson(outcomes: readonly ApplyOutcome[], entries: number): ReturnType<typeof applyOutcomesToJson> {
  assert(outcomes.length === entries, `the leg answered ${outcomes.length} outcomes for ${entries} entries`);
  return applyOutcomesToJson(outcomes);
}

function queryLeg(q: Map<string, string>): LegName {
  const leg = q.get('leg')!;
  if (!(LEG_NAMES as readonly string[]).includes(leg)) throw new WireError('leg', `expected asset or payment, got ${JSON.stringify(leg.slice(0, 80))}`);
  return leg as LegName;
}

/** The /legs routes take the nodes' token, the /admin routes the operators': neither opens the other. */
function grant(ctx: RequestContext, needed: Role): RequestContext {
  if (ctx.role !== needed) throw new HttpError(403, `authorization: the /${needed} routes take the ${needed} token`, 'authorization');
  return ctx;
}

function allow(ctx: RequestContext, ...methods: string[]): void {
  if (!methods.includes(ctx.method)) throw new HttpError(405, `${ctx.method} is not allowed here (use ${methods.join(' or ')})`, undefined, { allow: methods.join(', ') });
}

function notFound(ctx: RequestContext): HttpError {
  const path = `/${ctx.segments.join('/')}`;
  return new HttpError(404, `no route ${ctx.method} ${path.length > 120 ? `${path.slice(0, 120)}…` : path}`);
}
