/**
 * The leg host's HTTP server: LegAdapters (and optionally an admin API) behind plain node:http.
 *
 *   POST /legs/:leg/prepare                    { terms, authorization | null } → PrepareOutcome
 *   GET  /legs/:leg/settlements/:idHex                                         → LegView
 *   POST /legs/:leg/apply                      { report }                      → ApplyOutcome
 *   POST /legs/:leg/settlements/:idHex/reclaim                                 → ReclaimOutcome
 *   /admin/…                                   see admin.ts
 *
 * Status codes: 200 with the answer; 400 `{ error, field }` for input that does not decode (the
 * field is named); 404 unknown route or leg; 405 wrong method; 413 body over the limit; 503
 * `{ error }` when the leg throws TransientLegError (the caller retries); 500 for anything else
 * (a bug; reported to `onError`). No input can crash the server: every handler's failure becomes
 * an answer.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';
import { type LegName, LEG_NAMES } from '@tandem/protocol';
import { type LegAdapter, TransientLegError } from '@tandem/legs';
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
  legViewToJson,
  prepareOutcomeToJson,
  reclaimOutcomeToJson,
  settlementIdFromHex,
} from '@tandem/legs/json';
import { applyRequestFromJson, emptyRequestFromJson, prepareRequestFromJson } from './wire.js';

export interface ServedLegs {
  readonly asset?: LegAdapter;
  readonly payment?: LegAdapter;
}

export interface ServeLegsOptions {
  /** Interface to listen on. With an admin API it must be loopback: the API is unauthenticated. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly admin?: LegAdmin;
  /** Largest request body accepted. Default 64 KiB (a prepare is under 3 KiB). */
  readonly bodyLimitBytes?: number;
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
/** A whole request (headers and body) must arrive within this: slow senders do not hold sockets. */
const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
/** On close, requests in flight get this long to finish before their connections are cut. */
const CLOSE_GRACE_MS = 1_000;
const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];

/** An answer: status and JSON body. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

interface RequestContext {
  readonly method: string;
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** Reads and parses the body (undefined when empty); throws HttpError 413 / WireError. */
  readonly body: () => Promise<unknown>;
}

export async function serveLegs(legs: ServedLegs, opts: ServeLegsOptions): Promise<LegServer> {
  for (const name of LEG_NAMES) {
    const adapter = legs[name];
    if (adapter !== undefined && adapter.leg !== name) throw new Error(`serveLegs: the ${name} adapter is a ${adapter.leg} leg`);
  }
  if (opts.admin !== undefined && !LOOPBACK_HOSTS.includes(opts.host)) {
    throw new Error(`serveLegs: the admin API is unauthenticated and is served on loopback only, not ${opts.host}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`serveLegs: bad port ${opts.port}`);
  const bodyLimitBytes = opts.bodyLimitBytes ?? BODY_LIMIT_BYTES_DEFAULT;
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes <= 0) throw new Error(`serveLegs: bad bodyLimitBytes ${bodyLimitBytes}`);
  const onError = opts.onError ?? (() => {});
  const router = new Router(legs, opts.admin ?? null);

  const server = createServer((req, res) => {
    void respond(router, req, res, bodyLimitBytes, onError);
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // Malformed HTTP (bad request line, oversized headers) never reaches the handler.
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await listen(server, opts.host, opts.port);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('serveLegs: server has no TCP address');
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${hostPart}:${address.port}`, close: () => closeServer(server) };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    server.closeIdleConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// One request

async function respond(router: Router, req: IncomingMessage, res: ServerResponse, bodyLimitBytes: number, onError: (e: unknown) => void): Promise<void> {
  let reply: Reply;
  try {
    const url = new URL(req.url ?? '/', 'http://leg-host.invalid');
    const segments = pathSegments(url.pathname);
    let bodyPromise: Promise<unknown> | null = null;
    const ctx: RequestContext = {
      method: req.method ?? 'GET',
      segments,
      query: url.searchParams,
      body: () => (bodyPromise ??= readJsonBody(req, bodyLimitBytes)),
    };
    reply = { status: 200, body: await router.route(ctx) };
  } catch (e) {
    reply = errorReply(e, onError);
  }
  send(res, reply, onError);
}

function errorReply(e: unknown, onError: (e: unknown) => void): Reply {
  if (e instanceof WireError || e instanceof AdminInputError) return { status: 400, body: { error: e.message, field: e.field } };
  if (e instanceof HttpError) return { status: e.status, body: { error: e.message }, headers: e.headers };
  if (e instanceof TransientLegError) return { status: 503, body: { error: e.message }, headers: { 'retry-after': '1' } };
  onError(e);
  return { status: 500, body: { error: `internal error: ${e instanceof Error ? e.message : String(e)}` } };
}

function send(res: ServerResponse, reply: Reply, onError: (e: unknown) => void): void {
  if (res.headersSent || res.destroyed) return;
  try {
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
      ...reply.headers,
    });
    res.end(text);
  } catch (e) {
    // Only a bug gets here (an answer that does not serialize); the socket must not be left hanging.
    onError(e);
    res.destroy();
  }
}

function pathSegments(pathname: string): string[] {
  const raw = pathname.split('/').slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop(); // a trailing slash names the same route
  return raw.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HttpError(400, `bad percent-encoding in the path: ${JSON.stringify(s.slice(0, 80))}`);
    }
  });
}

/**
 * The body as JSON (undefined when empty). A body over the limit is read to its end and
 * discarded, then refused with 413: answering before the sender has finished writing would make
 * many clients see a reset connection instead of the answer. The request timeout bounds the wait.
 */
function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let tooLarge = Number(req.headers['content-length'] ?? '0') > limitBytes;
    req.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limitBytes) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('error', (e) => reject(new HttpError(400, `request body could not be read (${e.message})`)));
    // A sender that disconnects mid-body: settle the promise (there is no one left to answer).
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'request body ended early'));
    });
    req.on('end', () => {
      if (tooLarge) {
        reject(new HttpError(413, `body larger than ${limitBytes} bytes`));
        return;
      }
      if (total === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch (e) {
        reject(new WireError('body', `not valid JSON (${(e as Error).message})`));
      }
    });
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
    if (head === 'legs' && rest.length >= 2) return this.legRoute(ctx, rest[0]!, rest.slice(1));
    if (head === 'admin' && rest.length === 1 && this.admin !== null) return this.adminRoute(ctx, this.admin, rest[0]!);
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
    throw notFound(ctx);
  }

  private adapter(name: string): LegAdapter {
    if (!(LEG_NAMES as readonly string[]).includes(name)) throw new HttpError(404, `no leg named ${JSON.stringify(name.slice(0, 80))} (expected asset or payment)`);
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

function queryLeg(q: Map<string, string>): LegName {
  const leg = q.get('leg')!;
  if (!(LEG_NAMES as readonly string[]).includes(leg)) throw new WireError('leg', `expected asset or payment, got ${JSON.stringify(leg.slice(0, 80))}`);
  return leg as LegName;
}

function allow(ctx: RequestContext, ...methods: string[]): void {
  if (!methods.includes(ctx.method)) throw new HttpError(405, `${ctx.method} is not allowed here (use ${methods.join(' or ')})`, { allow: methods.join(', ') });
}

function notFound(ctx: RequestContext): HttpError {
  const path = `/${ctx.segments.join('/')}`;
  return new HttpError(404, `no route ${ctx.method} ${path.length > 120 ? `${path.slice(0, 120)}…` : path}`);
}
