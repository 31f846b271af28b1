import type { IncomingMessage } from 'node:http';
import { type Credential, type TlsFiles, HttpError, parseJsonBody, readBody, sendJson, serveGuarded } from '@tandem/http';
import { type Authorization, type Report, DecodeError, decodeReport, decodeTerms, equalBytes, fromHex } from '@tandem/protocol';
import { TransientLegError } from '@tandem/legs';
import {
  applyOutcomesToJson,
  entriesFromJson,
  multiproofFromJson,
  provenEntriesFromJson,
  reportV2FromJson,
  rootFromHex,
  rootOutcomeToJson,
  viewsRequestFromJson,
  viewsToJson,
} from '@tandem/legs/json';
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
  /** The token every caller presents (`Authorization: Bearer …`): read it from its file with Credential.fromFile. */
  readonly credential: Credential;
  /** Default 127.0.0.1. Any other address (0.0.0.0 included) is refused unless `tls` is given. */
  readonly host?: string;
  /** HTTPS with this certificate: needed to listen beyond loopback. */
  readonly tls?: TlsFiles | null;
  /** Default 0: any free port (read it from the returned `url`). */
  readonly port?: number;
  /**
   * Largest request body accepted; default 1 MiB (a report is 348 hex digits, terms about 2 KB; a
   * call of 128 proven entries about 150 KB).
   */
  readonly bodyBytesMax?: number;
  /** Unexpected failures (answered 500 without their text): a bug, or a database error. */
  readonly onError?: (error: unknown) => void;
}

export interface BankServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and closes open connections. Does not close the ledger. */
  close(): Promise<void>;
}

const DEFAULT_BODY_BYTES_MAX = 1024 * 1024;
const HISTORY_DEFAULT_LIMIT = 100;

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
 * | POST /roots | `{ report: hex(encodeReportV2) }` | root outcome (`stored`, `duplicate`, `refused`) |
 * | POST /roots/{root}/entries | `{ items: [{ entry: hex(encodeEntry), proof: { index, count, siblings } }…] }` | `{ outcomes: [apply outcome…] }` |
 * | POST /batches | `{ report, entries: [hex(encodeEntry)…], multiproof: { indices, count, siblings } }` | `{ outcomes: [apply outcome…] }` |
 * | GET /settlements/{id} | | settlement view (state, finalityHeight, lock, transfer, appliedReport, rejectReason) |
 * | POST /views | `{ ids: [hex…] }`, at most 1,024 | `{ views: [leg view…] }`, one per id in order (observeMany) |
 * | GET /history | `?after=SEQ&limit=N` | `{ events: [event…] }` |
 *
 * Every request first passes @tandem/http's guard: 401 without the bearer token (whatever the
 * path), 421 for a foreign Host, 415 for a body not declared `application/json`, 413 for a body
 * over the limit. Outcomes are 200 with `{ kind, reason? }`, exactly as the LegAdapter returns
 * them. A malformed request is 400 naming the field, an unknown path 404, a wrong method 405, a
 * database outage 503 (retry), anything else 500; every error body is `{ "error": "…" }` (plus
 * `field` where one is at fault), and never carries the database's own error text.
 */
export async function startBankServer(options: BankServerOptions): Promise<BankServer> {
  const { ledger } = options;
  const server = await serveGuarded(
    {
      name: 'bank API',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      roles: { client: options.credential },
      tls: options.tls ?? null,
      bodyBytesMax: options.bodyBytesMax ?? DEFAULT_BODY_BYTES_MAX,
      ...(options.onError !== undefined ? { onError: options.onError } : {}),
    },
    async (req, res, admitted) => {
      let body: Json;
      try {
        body = await handle(ledger, req, admitted.bodyBytesMax);
      } catch (e) {
        throw httpErrorOf(e);
      }
      sendJson(res, 200, body);
    },
  );
  return { url: server.url, port: server.port, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------

async function handle(ledger: PgBankLedger, req: IncomingMessage, bodyBytesMax: number): Promise<Json> {
  const url = new URL(req.url ?? '/', 'http://bank.invalid');
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const method = req.method ?? 'GET';
  const route = (allowed: string): void => {
    if (method !== allowed) throw new HttpError(405, `${url.pathname} takes ${allowed}`, undefined, { allow: allowed });
  };
  const body = async (): Promise<Record<string, unknown>> => obj(await readJson(req, bodyBytesMax), 'body');
  const query = (key: string): string => {
    const v = url.searchParams.get(key);
    if (v === null) throw new HttpError(400, `query ${key}: missing`, key);
    return v;
  };

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
      return accountToJson(await ledger.account(query('account'), query('currency')));
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
    case 'roots':
      route('POST');
      if (parts.length === 1) return rootOutcomeToJson(await ledger.submitRoot(reportV2FromJson((await body()).report, 'body.report')));
      if (parts.length === 3 && parts[2] === 'entries') {
        const root = rootFromHex(parts[1], 'root');
        return applyOutcomesToJson(await ledger.applyEntries(root, provenEntriesFromJson((await body()).items, 'body.items')));
      }
      break;
    case 'batches': {
      if (parts.length !== 1) break;
      route('POST');
      const b = await body();
      return applyOutcomesToJson(await ledger.applyBatch(reportV2FromJson(b.report, 'body.report'), entriesFromJson(b.entries, 'body.entries'), multiproofFromJson(b.multiproof, 'body.multiproof')));
    }
    case 'views':
      if (parts.length !== 1) break;
      route('POST');
      return viewsToJson(await ledger.observeMany(viewsRequestFromJson(await body())));
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
  if (method !== 'POST') throw new HttpError(405, `/holds/{id}/${action} takes POST`, undefined, { allow: 'POST' });
  if (action === 'reclaim') return ledger.reclaim(id);
  const report = reportOf(await body());
  const want = action === 'post' ? 'COMMIT' : 'ABORT';
  if (report.decision !== want) throw new HttpError(400, `body.report: ${action} takes a ${want} report, this one is ${report.decision}`, 'body.report');
  if (!equalBytes(report.settlementId, id)) throw new HttpError(400, 'body.report: the report is for another settlement id than the path names', 'body.report');
  return ledger.applyReport(report);
}

function idOf(idHex: string): Uint8Array {
  try {
    return fromHex(idHex, 32);
  } catch (e) {
    throw new HttpError(400, `settlement id must be 32 bytes of hex: ${(e as Error).message}`, 'settlementId');
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
  if (!/^(0|[1-9][0-9]{0,17})$/.test(v)) throw new HttpError(400, `query ${key} must be a non-negative integer`, key);
  return BigInt(v);
}

/** The body as JSON; an empty one is refused (every POST here takes an object). */
async function readJson(req: IncomingMessage, bodyBytesMax: number): Promise<unknown> {
  const json = parseJsonBody(await readBody(req, bodyBytesMax));
  if (json === undefined) throw new HttpError(400, 'body: the request body must be JSON', 'body');
  return json;
}

/** The answer for a failure; anything unexpected is rethrown for the guard's 500 (text withheld, onError told). */
function httpErrorOf(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  if (e instanceof WireError) return new HttpError(400, e.message, e.field);
  if (e instanceof BankInputError || e instanceof DecodeError) return new HttpError(400, e.message);
  // Retry-After: the caller (a node's transmitter) retries anyway; this says when. The ledger's
  // message names the operation only; the database's own text stays in its `cause`.
  if (e instanceof TransientLegError) return new HttpError(503, e.message, undefined, { 'retry-after': '1' });
  return e;
}
