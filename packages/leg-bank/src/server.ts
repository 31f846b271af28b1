import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Authorization, type Report, DecodeError, decodeReport, decodeTerms, equalBytes, fromHex } from '@tandem/protocol';
import { TransientLegError } from '@tandem/legs';
import type { PgBankLedger } from './ledger.js';
import { BankInputError } from './model.js';
import {
  type Json,
  WireError,
  accountToJson,
  decimal,
  eventToJson,
  hex,
  obj,
  settlementToJson,
  str,
} from './wire.js';

export interface BankServerOptions {
  readonly ledger: PgBankLedger;
  /** Default 127.0.0.1: the API has no authentication of its own (holds need the payer's signature, reports the committee's). */
  readonly host?: string;
  /** Default 0: any free port (read it from the returned `url`). */
  readonly port?: number;
  /** Largest request body accepted; default 64 KiB (a report is 348 hex digits, terms about 2 KB). */
  readonly bodyBytesMax?: number;
}

export interface BankServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and closes open connections. Does not close the ledger. */
  close(): Promise<void>;
}

const DEFAULT_BODY_BYTES_MAX = 64 * 1024;
const HISTORY_DEFAULT_LIMIT = 100;

/** An answer other than 200: status and message, sent as `{ "error": message }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The bank's HTTP API (JSON in and out):
 *
 * | method, path | body / query | answer |
 * |---|---|---|
 * | GET /health | | `{ ok, leg, venue, height }` |
 * | GET /accounts | | `{ accounts: [account…] }` |
 * | POST /accounts | `{ account, currency }` | account (created if missing) |
 * | POST /accounts/fund | `{ account, currency, amount }` | account after the deposit |
 * | GET /balances | `?account=…&currency=…` | account (zeros if it does not exist) |
 * | POST /holds | `{ terms: hex(encodeTerms), authorization: { party, signature: hex } \| null }` | prepare outcome |
 * | POST /holds/{id}/post | `{ report: hex(encodeReport) }`, a COMMIT for id | apply outcome |
 * | POST /holds/{id}/void | `{ report }`, an ABORT for id | apply outcome |
 * | POST /holds/{id}/reclaim | | reclaim outcome |
 * | POST /reports | `{ report }` (either decision) | apply outcome |
 * | GET /settlements/{id} | | settlement view (state, finalityHeight, lock, transfer, appliedReport, rejectReason) |
 * | GET /history | `?after=SEQ&limit=N` | `{ events: [event…] }` |
 *
 * Outcomes are 200 with `{ kind, reason? }`, exactly as the LegAdapter returns them. A malformed
 * request is 400, an unknown path 404, a wrong method 405, a body over the limit 413, a database
 * outage 503 (retry), anything else 500; every error body is `{ "error": "…" }`.
 */
export function bankRequestHandler(ledger: PgBankLedger, bodyBytesMax = DEFAULT_BODY_BYTES_MAX): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ledger, req, bodyBytesMax)
      .then((body) => send(res, 200, body))
      .catch((e: unknown) => {
        const err = httpErrorOf(e);
        send(res, err.status, { error: err.message }, err.headers);
      });
  };
}

export async function startBankServer(options: BankServerOptions): Promise<BankServer> {
  const server: Server = createServer(bankRequestHandler(options.ledger, options.bodyBytesMax ?? DEFAULT_BODY_BYTES_MAX));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e === undefined ? resolve() : reject(e)));
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

async function handle(ledger: PgBankLedger, req: IncomingMessage, bodyBytesMax: number): Promise<Json> {
  const url = new URL(req.url ?? '/', 'http://bank.invalid');
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const method = req.method ?? 'GET';
  const route = (allowed: string): void => {
    if (method !== allowed) throw new HttpError(405, `${url.pathname} takes ${allowed}`, { allow: allowed });
  };
  const body = async (): Promise<Record<string, unknown>> => obj(await readJson(req, bodyBytesMax), 'body');

  switch (parts[0]) {
    case 'health':
      if (parts.length !== 1) break;
      route('GET');
      return { ok: true, leg: ledger.leg, venue: { bankId: ledger.venue.bankId, ledger: ledger.venue.ledger }, height: (await ledger.height()).toString() };
    case 'accounts':
      if (parts.length === 1) {
        if (method === 'GET') return { accounts: (await ledger.accounts()).map(accountToJson) };
        route('POST');
        const b = await body();
        return accountToJson(await ledger.createAccount(str(b, 'account', 'body'), str(b, 'currency', 'body')));
      }
      if (parts.length === 2 && parts[1] === 'fund') {
        route('POST');
        const b = await body();
        return accountToJson(await ledger.fund(str(b, 'account', 'body'), str(b, 'currency', 'body'), decimal(b, 'amount', 'body')));
      }
      break;
    case 'balances': {
      if (parts.length !== 1) break;
      route('GET');
      const account = url.searchParams.get('account');
      const currency = url.searchParams.get('currency');
      if (account === null || currency === null) throw new HttpError(400, 'query needs account and currency');
      return accountToJson(await ledger.account(account, currency));
    }
    case 'holds':
      if (parts.length === 1) {
        route('POST');
        const b = await body();
        return ledger.prepare(termsOf(b), authorizationOf(b.authorization));
      }
      if (parts.length === 3) return holdAction(ledger, parts[1]!, parts[2]!, method, body);
      break;
    case 'reports':
      if (parts.length !== 1) break;
      route('POST');
      return ledger.applyReport(reportOf(await body()));
    case 'settlements':
      if (parts.length !== 2) break;
      route('GET');
      return settlementToJson(await ledger.settlement(idOf(parts[1]!)));
    case 'history': {
      if (parts.length !== 1) break;
      route('GET');
      const after = queryInt(url, 'after', 0n);
      const limit = queryInt(url, 'limit', BigInt(HISTORY_DEFAULT_LIMIT));
      return { events: (await ledger.history({ afterSeq: after, limit: Number(limit) })).map(eventToJson) };
    }
  }
  throw new HttpError(404, `no such resource: ${method} ${url.pathname}`);
}

async function holdAction(ledger: PgBankLedger, idHex: string, action: string, method: string, body: () => Promise<Record<string, unknown>>): Promise<Json> {
  const id = idOf(idHex);
  if (action !== 'post' && action !== 'void' && action !== 'reclaim') throw new HttpError(404, `no such hold action: ${action}`);
  if (method !== 'POST') throw new HttpError(405, `/holds/{id}/${action} takes POST`, { allow: 'POST' });
  if (action === 'reclaim') return ledger.reclaim(id);
  const report = reportOf(await body());
  const want = action === 'post' ? 'COMMIT' : 'ABORT';
  if (report.decision !== want) throw new HttpError(400, `${action} takes a ${want} report, this one is ${report.decision}`);
  if (!equalBytes(report.settlementId, id)) throw new HttpError(400, 'the report is for another settlement id than the path names');
  return ledger.applyReport(report);
}

function idOf(idHex: string): Uint8Array {
  try {
    return fromHex(idHex, 32);
  } catch (e) {
    throw new HttpError(400, `settlement id must be 32 bytes of hex: ${(e as Error).message}`);
  }
}

function termsOf(b: Record<string, unknown>): ReturnType<typeof decodeTerms> {
  const bytes = hex(b, 'terms', 'body');
  try {
    return decodeTerms(bytes);
  } catch (e) {
    throw new WireError('body.terms', (e as Error).message);
  }
}

function authorizationOf(v: unknown): Authorization | null {
  if (v === null) return null;
  if (v === undefined) throw new WireError('body.authorization', 'is required (null for none)');
  const o = obj(v, 'body.authorization');
  return { party: str(o, 'party', 'body.authorization'), signature: hex(o, 'signature', 'body.authorization') };
}

function reportOf(b: Record<string, unknown>): Report {
  const bytes = hex(b, 'report', 'body');
  try {
    return decodeReport(bytes);
  } catch (e) {
    throw new WireError('body.report', (e as Error).message);
  }
}

function queryInt(url: URL, key: string, fallback: bigint): bigint {
  const v = url.searchParams.get(key);
  if (v === null) return fallback;
  if (!/^(0|[1-9][0-9]{0,17})$/.test(v)) throw new HttpError(400, `query ${key} must be a non-negative integer`);
  return BigInt(v);
}

/** Reads the body as JSON; past the limit the rest is drained unread and the answer is 413. */
async function readJson(req: IncomingMessage, bodyBytesMax: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= bodyBytesMax) chunks.push(chunk);
  }
  if (size > bodyBytesMax) throw new HttpError(413, `request body over ${bodyBytesMax} bytes`);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'request body must be JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `request body is not JSON: ${(e as Error).message}`);
  }
}

function httpErrorOf(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof WireError || e instanceof BankInputError || e instanceof DecodeError) return new HttpError(400, e.message);
  // Retry-After: the caller (a node's transmitter) retries anyway; this says when.
  if (e instanceof TransientLegError) return new HttpError(503, e.message, { 'retry-after': '1' });
  return new HttpError(500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
}

function send(res: ServerResponse, status: number, body: Json | object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
