/**
 * Clients of the leg host: `HttpLegAdapter` (a LegAdapter over HTTP, what a node uses) and
 * `LegHostAdminClient` (the admin API, what `tandem cluster` and the cluster-mode runner use).
 *
 * HttpLegAdapter maps failures the way callers of a LegAdapter expect:
 * - unreachable host, reset connection, timeout, 502/503/504 → TransientLegError (retry later;
 *   every leg call is idempotent, so retrying one whose answer was lost is harmless);
 * - 400 and any other status → a plain Error: the node sent something the host cannot read, or
 *   talks to the wrong URL or with the wrong token (401/403), which retrying cannot fix;
 * - a 200 whose body does not decode strictly → a plain Error (a broken host).
 * Inputs that cannot be put on the wire are answered locally as the in-memory legs would answer
 * them: terms that do not encode → `rejected`, a malformed report → `refused`.
 */
import type { Credential } from '@tandem/http';
import { type Authorization, type LegName, type LegView, type Report, type Terms, EncodeError, LEG_NAMES } from '@tandem/protocol';
import { type ApplyOutcome, type LegAdapter, type PrepareOutcome, type ReclaimOutcome, TransientLegError, reportShapeProblem } from '@tandem/legs';
import {
  type LegBalances,
  type LegEventsPage,
  type LegFault,
  type LegFaultState,
  EVENTS_PAGE_MAX,
  faultRequestToJson,
  legBalancesFromJson,
  legEventsPageFromJson,
  legFaultStateFromJson,
  mintRequestToJson,
} from './admin.js';
import {
  WireError,
  applyOutcomeFromJson,
  legViewFromJson,
  prepareOutcomeFromJson,
  reclaimOutcomeFromJson,
  settlementIdToHex,
} from '@tandem/legs/json';
import { type PrepareRequestJson, applyRequestToJson, errorMessageFromJson, prepareRequestToJson } from './wire.js';

export interface HttpLegAdapterOptions {
  /** The leg host's base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly leg: LegName;
  /** The leg host's `legs` token (the nodes' credential). */
  readonly credential: Credential;
  /** Per call, connection to last body byte. */
  readonly timeoutMs: number;
  /** Largest answer accepted. Default 1 MiB. */
  readonly responseLimitBytes?: number;
}

export const RESPONSE_LIMIT_BYTES_DEFAULT = 1024 * 1024;
/** Statuses that mean "not now": the host or a proxy in front of it is down or overloaded. */
const TRANSIENT_STATUSES = [502, 503, 504];

/** A finished HTTP exchange: status and parsed JSON body (undefined when not JSON). */
interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The request never got a complete answer (network error, timeout). */
class Unreachable extends Error {}

function baseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`leg host URL is not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`leg host URL must be http(s): ${url}`);
  if (u.search !== '' || u.hash !== '') throw new Error(`leg host URL must have no query or fragment: ${url}`);
  return u.href.replace(/\/+$/, '');
}

function checkTimeout(timeoutMs: number): number {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive integer, got ${timeoutMs}`);
  return timeoutMs;
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    // fetch's TypeError("fetch failed") hides the useful part in `cause` (ECONNREFUSED, …).
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/** One request: JSON in, status and JSON out, bounded in time and size. Throws Unreachable. */
async function exchange(url: string, method: 'GET' | 'POST', body: unknown, credential: Credential, timeoutMs: number, limitBytes: number): Promise<Answer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string;
  let status: number;
  try {
    const res = await fetch(url, {
      method,
      signal,
      headers: credential.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
      body: body === undefined ? null : JSON.stringify(body),
    });
    status = res.status;
    text = await readBounded(res, limitBytes);
  } catch (e) {
    if (e instanceof ResponseTooLarge) throw e;
    const what = signal.aborted ? `no answer within ${timeoutMs} ms` : errorText(e);
    throw new Unreachable(`${method} ${url}: ${what}`);
  }
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    parsed = undefined;
  }
  return { status, body: parsed };
}

class ResponseTooLarge extends Error {}

async function readBounded(res: Response, limitBytes: number): Promise<string> {
  if (res.body === null) return '';
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limitBytes) {
    await res.body.cancel();
    throw new ResponseTooLarge(`answer of ${declared} bytes is over the ${limitBytes}-byte limit`);
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limitBytes) {
      await reader.cancel();
      throw new ResponseTooLarge(`answer over the ${limitBytes}-byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A LegAdapter served by a leg host over HTTP. */
export class HttpLegAdapter implements LegAdapter {
  readonly leg: LegName;
  private readonly base: string;
  private readonly credential: Credential;
  private readonly timeoutMs: number;
  private readonly limitBytes: number;

  constructor(opts: HttpLegAdapterOptions) {
    if (!LEG_NAMES.includes(opts.leg)) throw new Error(`leg must be asset or payment, got ${String(opts.leg)}`);
    this.leg = opts.leg;
    this.credential = opts.credential;
    this.base = `${baseUrl(opts.url)}/legs/${opts.leg}`;
    this.timeoutMs = checkTimeout(opts.timeoutMs);
    this.limitBytes = opts.responseLimitBytes ?? RESPONSE_LIMIT_BYTES_DEFAULT;
  }

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    let body: PrepareRequestJson;
    try {
      body = prepareRequestToJson(terms, authorization);
    } catch (e) {
      // As a leg answers terms it cannot derive an id from (no id, so nothing is recorded).
      if (e instanceof EncodeError) return { kind: 'rejected', reason: `terms do not encode: ${e.message}` };
      throw e;
    }
    return this.call('POST', '/prepare', body, prepareOutcomeFromJson);
  }

  async observe(settlementId: Uint8Array): Promise<LegView> {
    return this.call('GET', `/settlements/${settlementIdToHex(settlementId)}`, undefined, legViewFromJson);
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    // A malformed report can never apply anywhere; the legs refuse it before any other check.
    const shape = reportShapeProblem(report);
    if (shape !== null) return { kind: 'refused', reason: shape };
    return this.call('POST', '/apply', applyRequestToJson(report), applyOutcomeFromJson);
  }

  async reclaim(settlementId: Uint8Array): Promise<ReclaimOutcome> {
    return this.call('POST', `/settlements/${settlementIdToHex(settlementId)}/reclaim`, {}, reclaimOutcomeFromJson);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, decode: (v: unknown) => T): Promise<T> {
    const what = `${this.leg} leg host: ${method} ${path}`;
    let answer: Answer;
    try {
      answer = await exchange(this.base + path, method, body, this.credential, this.timeoutMs, this.limitBytes);
    } catch (e) {
      if (e instanceof Unreachable) throw new TransientLegError(`${this.leg} leg host unreachable: ${e.message}`);
      throw new Error(`${what}: ${errorText(e)}`);
    }
    if (answer.status === 200) return decodeAnswer(what, answer.body, decode);
    const message = errorMessageFromJson(answer.body) ?? 'no error message';
    if (TRANSIENT_STATUSES.includes(answer.status)) throw new TransientLegError(`${what}: ${answer.status}: ${message}`);
    if (answer.status === 400) throw new Error(`${what}: the host refused the request as malformed: ${message}`);
    throw new Error(`${what}: ${answer.status}: ${message}`);
  }
}

function decodeAnswer<T>(what: string, body: unknown, decode: (v: unknown) => T): T {
  try {
    return decode(body);
  } catch (e) {
    if (e instanceof WireError) throw new Error(`${what}: malformed answer: ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------

export interface LegHostAdminClientOptions {
  readonly url: string;
  /** The leg host's `admin` token. */
  readonly credential: Credential;
  readonly timeoutMs: number;
}

/** The admin API of a leg host. Every failure (unreachable, non-200, malformed answer) is an Error. */
export class LegHostAdminClient {
  private readonly base: string;
  private readonly credential: Credential;
  private readonly timeoutMs: number;

  constructor(opts: LegHostAdminClientOptions) {
    this.base = `${baseUrl(opts.url)}/admin`;
    this.credential = opts.credential;
    this.timeoutMs = checkTimeout(opts.timeoutMs);
  }

  async mint(leg: LegName, account: string, unit: string, amount: bigint): Promise<void> {
    await this.call('POST', '/mint', mintRequestToJson({ leg, account, unit, amount }), () => undefined);
  }

  balances(leg: LegName): Promise<LegBalances> {
    return this.call('GET', `/balances?leg=${leg}`, undefined, (v) => legBalancesFromJson(v, leg));
  }

  /** Spendable balance of one account in one unit (0 when never touched). */
  async balance(leg: LegName, account: string, unit: string): Promise<bigint> {
    const { balances } = await this.balances(leg);
    return balances.find((b) => b.account === account && b.unit === unit)?.amount ?? 0n;
  }

  /** Events with seq > sinceSeq, oldest first, at most `limit` (one page). */
  events(leg: LegName, sinceSeq = 0, limit = EVENTS_PAGE_MAX): Promise<LegEventsPage> {
    return this.call('GET', `/events?leg=${leg}&since=${sinceSeq}&limit=${limit}`, undefined, (v) => legEventsPageFromJson(v, leg));
  }

  setFault(leg: LegName, fault: LegFault): Promise<LegFaultState> {
    return this.call('POST', '/faults', faultRequestToJson(leg, fault), (v) => legFaultStateFromJson(v, leg));
  }

  faults(leg: LegName): Promise<LegFaultState> {
    return this.call('GET', `/faults?leg=${leg}`, undefined, (v) => legFaultStateFromJson(v, leg));
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, decode: (v: unknown) => T): Promise<T> {
    const what = `leg host admin: ${method} ${path}`;
    let answer: Answer;
    try {
      answer = await exchange(this.base + path, method, body, this.credential, this.timeoutMs, RESPONSE_LIMIT_BYTES_DEFAULT);
    } catch (e) {
      throw new Error(`${what}: ${errorText(e)}`);
    }
    if (answer.status !== 200) throw new Error(`${what}: ${answer.status}: ${errorMessageFromJson(answer.body) ?? 'no error message'}`);
    return decodeAnswer(what, answer.body, decode);
  }
}
