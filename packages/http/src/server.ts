/**
 * `serveGuarded`: an HTTP(S) server with the guard (guard.ts) in front of its handler, request and
 * header timeouts, malformed HTTP answered 400, and a bind rule: a non-loopback address is refused
 * unless TLS is configured (a token always is: every server has roles). What it adds to
 * `node:http` is the same for every Tandem API, so it is written once, here.
 */
import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Credential } from './credential.js';
import { type Roles, guardRequest } from './guard.js';
import { HttpError, sendError, sendJson } from './reply.js';

export interface TlsFiles {
  /** PEM certificate chain. */
  readonly certFile: string;
  /** PEM private key (keep it mode 0600, like a token). */
  readonly keyFile: string;
}

export interface GuardedServerOptions {
  /** Names the server in errors, e.g. "control API". */
  readonly name: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Role → credential; a request must carry one role's token. At least one role. */
  readonly roles: Roles;
  /** HTTPS with this certificate; required to bind anything but loopback. */
  readonly tls?: TlsFiles | null;
  /** Names (`name` or `name:port`) a non-loopback listener answers for; unset: Host is not checked there. */
  readonly allowedHosts?: readonly string[];
  /** Largest request body. Default 64 KiB. */
  readonly bodyBytesMax?: number;
  /** A whole request must arrive within this. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Its headers within this. Default 5 s. */
  readonly headersTimeoutMs?: number;
  /** The configuration keys a refused bind names, e.g. `{ host: "control.host", tls: "control.tls" }`. */
  readonly optionNames?: { readonly host?: string; readonly tls?: string };
  /** A handler that threw something other than an HttpError (answered 500 without its message). */
  readonly onError?: (error: unknown) => void;
}

/** What the handler learns about an admitted request. */
export interface Admitted {
  /** The role whose token the request carried. */
  readonly role: string;
  readonly bodyBytesMax: number;
}

export type GuardedHandler = (req: IncomingMessage, res: ServerResponse, admitted: Admitted) => void | Promise<void>;

export interface GuardedServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends open connections, resolves when the server is closed. */
  close(): Promise<void>;
}

/** The server cannot be set up as asked (a bind the rules refuse, an unreadable certificate). */
export class ServeError extends Error {
  override readonly name = 'ServeError';
}

export const BODY_BYTES_MAX_DEFAULT = 64 * 1024;
export const REQUEST_TIMEOUT_MS_DEFAULT = 10_000;
export const HEADERS_TIMEOUT_MS_DEFAULT = 5_000;
const TIMEOUT_CHECK_MS = 1_000;
/** On close, requests in flight get this long to finish before their connections are cut. */
const CLOSE_GRACE_MS = 1_000;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./i.test(host);
}

export async function serveGuarded(opts: GuardedServerOptions, handler: GuardedHandler): Promise<GuardedServer> {
  const names = { host: opts.optionNames?.host ?? 'host', tls: opts.optionNames?.tls ?? 'tls' };
  if (Object.keys(opts.roles).length === 0) throw new ServeError(`${opts.name}: no credential configured (every Tandem API authenticates its callers)`);
  for (const [role, c] of Object.entries(opts.roles)) {
    if (!(c instanceof Credential)) throw new ServeError(`${opts.name}: the ${role} role has no credential (read one with Credential.fromFile)`);
  }
  const creds = Object.values(opts.roles);
  creds.forEach((c, i) => {
    if (creds.slice(i + 1).some((d) => c.sameTokenAs(d))) throw new ServeError(`${opts.name}: two roles share one token (${c.source}); each role needs its own`);
  });
  const tls = opts.tls ?? null;
  if (!isLoopback(opts.host) && tls === null) {
    throw new ServeError(`${opts.name}: ${names.host} ${opts.host} is not a loopback address; serving beyond this machine needs TLS (${names.tls}: { certFile, keyFile }) as well as the token`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new ServeError(`${opts.name}: bad port ${opts.port}`);
  const bodyBytesMax = opts.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT;
  if (!Number.isSafeInteger(bodyBytesMax) || bodyBytesMax <= 0) throw new ServeError(`${opts.name}: bad bodyBytesMax ${bodyBytesMax}`);
  const onError = opts.onError ?? (() => {});
  const rules = { roles: opts.roles, hosts: null as ReadonlySet<string> | null, origins: null as ReadonlySet<string> | null, bodyBytesMax };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const verdict = guardRequest(req.headers, rules);
    if (verdict instanceof HttpError) {
      sendError(res, verdict);
      return;
    }
    let done: void | Promise<void>;
    try {
      done = handler(req, res, { role: verdict.role, bodyBytesMax });
    } catch (e) {
      done = Promise.reject(e);
    }
    void Promise.resolve(done).catch((e: unknown) => {
      if (e instanceof HttpError) return sendError(res, e);
      onError(e);
      // Never the error's text: it may be a database's, naming tables or values.
      sendJson(res, 500, { error: 'internal error' });
    });
  };
  // Node checks the request and header timeouts every `connectionsCheckingInterval` (30 s by default).
  const common = { connectionsCheckingInterval: TIMEOUT_CHECK_MS };
  const server: Server =
    tls === null
      ? createHttpServer(common, listener)
      : createHttpsServer({ ...common, cert: readPem(tls.certFile, `${names.tls}.certFile`), key: readPem(tls.keyFile, `${names.tls}.keyFile`) }, listener);
  server.requestTimeout = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
  server.headersTimeout = opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS_DEFAULT;
  // Malformed HTTP (bad request line, oversized headers) never reaches the handler.
  server.on('clientError', (_err: Error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await listen(server, opts.host, opts.port);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new ServeError(`${opts.name}: the server has no TCP address`);
  const scheme = tls === null ? 'http' : 'https';
  const hosts = isLoopback(opts.host) ? loopbackHosts(opts.host, address.port, scheme) : allowed(opts.allowedHosts, address.port, scheme);
  rules.hosts = hosts === null ? null : new Set(hosts);
  rules.origins = hosts === null ? null : new Set(hosts.map((h) => `${scheme}://${h}`));
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `${scheme}://${hostPart}:${address.port}`, port: address.port, close: () => closeServer(server) };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ServeError(`${key}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The names a loopback listener answers for: its own address and `localhost`, with its port. */
function loopbackHosts(host: string, port: number, scheme: string): string[] {
  const names = host === 'localhost' ? ['localhost', '127.0.0.1', '[::1]'] : [host.includes(':') ? `[${host}]` : host, 'localhost'];
  return withPorts(names, port, scheme);
}

function allowed(names: readonly string[] | undefined, port: number, scheme: string): string[] | null {
  if (names === undefined) return null;
  return withPorts(names.map((n) => n.toLowerCase()), port, scheme);
}

function withPorts(names: readonly string[], port: number, scheme: string): string[] {
  const defaultPort = scheme === 'https' ? 443 : 80;
  return names.flatMap((n) => (/:\d+$/.test(n) ? [n] : port === defaultPort ? [`${n}:${port}`, n] : [`${n}:${port}`]));
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
