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
 * them: terms that do not encode → `rejected`, a malformed report → `refused`; and for protocol
 * v2, whatever the host's own decoder would refuse as malformed (a report v2, an entry, a proof
 * or a multiproof that does not fit its codec) → `refused`, an item alone where the leg would
 * refuse it alone.
 */
import type { Credential } from '@tandem/http';
import {
  type Authorization,
  type Entry,
  type LegName,
  type LegView,
  type Report,
  type ReportV2,
  type Terms,
  type TreeMultiproof,
  DECISIONS,
  EncodeError,
  LEG_NAMES,
  TREE_HASH_BYTES,
  toHex,
} from '@tandem/protocol';
import {
  type ApplyOutcome,
  type BatchLegAdapter,
  type PrepareOutcome,
  type ProvenEntry,
  type ReclaimOutcome,
  type Refusal,
  type RootOutcome,
  TransientLegError,
  assertObserveIds,
  entriesCountProblem,
  refuseAll,
  refused,
  reportShapeProblem,
} from '@tandem/legs';
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
  REASON_BYTES_MAX,
  WireError,
  applyOutcomeFromJson,
  applyOutcomesFromJson,
  legViewFromJson,
  prepareOutcomeFromJson,
  provenEntryFromJson,
  provenEntryToJson,
  reclaimOutcomeFromJson,
  rootOutcomeFromJson,
  settlementIdToHex,
  VIEW_JSON_BYTES_MAX,
  viewsFromJson,
  viewsRequestToJson,
} from '@tandem/legs/json';
import {
  type PrepareRequestJson,
  applyRequestToJson,
  batchRequestFromJson,
  batchRequestToJson,
  errorMessageFromJson,
  prepareRequestToJson,
  rootRequestFromJson,
  rootRequestToJson,
} from './wire.js';

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
/**
 * Room per outcome in the answer of a batch call: a reason is at most REASON_BYTES_MAX bytes of
 * UTF-8, and JSON may escape a byte into up to 6 (a control character as \u00XX). A batch
 * call's answer may take this much per entry even when that is over responseLimitBytes.
 */
const OUTCOME_JSON_BYTES_MAX = 6 * REASON_BYTES_MAX + 64;
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

/**
 * The body `encode` builds, if the host's decoder (`decode`, the one its server runs) reads it;
 * else the refusal a leg answers malformed input with. Nothing is sent for a refused body.
 */
function onTheWire<J>(encode: () => J, decode: (body: unknown) => unknown): { readonly kind: 'sendable'; readonly body: J } | Refusal {
  try {
    const body = encode();
    decode(body); // plain JSON values already: what the host parses from the text
    return { kind: 'sendable', body };
  } catch (e) {
    if (e instanceof EncodeError || e instanceof WireError) return refused(`malformed request: ${e.message}`);
    throw e;
  }
}

/**
 * A refusal for an entry whose decision is neither COMMIT nor ABORT: the entry encoding writes any
 * decision but COMMIT with ABORT's code, so sending one would send another entry than the caller's.
 */
function decisionRefusal(entries: readonly Entry[]): Refusal | null {
  const bad = entries.find((e) => !DECISIONS.includes(e.decision));
  return bad === undefined ? null : refused(`malformed entry: unknown decision ${JSON.stringify(bad.decision)}`);
}

/** A LegAdapter served by a leg host over HTTP; a BatchLegAdapter too (the host answers 404 for a leg that is not). */
export class HttpLegAdapter implements BatchLegAdapter {
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

  /** One POST for all of them (the ids are checked here first: too many is a caller's bug). */
  async observeMany(settlementIds: readonly Uint8Array[]): Promise<readonly LegView[]> {
    assertObserveIds(settlementIds);
    if (settlementIds.length === 0) return [];
    const limitBytes = Math.max(this.limitBytes, settlementIds.length * VIEW_JSON_BYTES_MAX);
    return this.call('POST', '/views', viewsRequestToJson(settlementIds), (v) => viewsFromJson(v, settlementIds.length), limitBytes);
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

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    const request = onTheWire(() => rootRequestToJson(report), rootRequestFromJson);
    if (request.kind === 'refused') return request;
    return this.call('POST', '/roots', request.body, rootOutcomeFromJson);
  }

  /** An item the host could not read is refused here, alone (as the leg refuses an item whose proof does not verify); the rest are sent. */
  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    const count = entriesCountProblem(items.length);
    if (count !== null) return refuseAll(items.length, count);
    if (root.length !== TREE_HASH_BYTES) return refuseAll(items.length, `malformed root: must be ${TREE_HASH_BYTES} bytes`);
    const checked = items.map((item) => decisionRefusal([item.entry]) ?? onTheWire(() => provenEntryToJson(item), (v) => provenEntryFromJson(v, 'item')));
    const sent = checked.flatMap((c) => (c.kind === 'sendable' ? [c.body] : []));
    const answered = sent.length === 0 ? [] : await this.batchCall(`/roots/${toHex(root)}/entries`, { items: sent }, sent.length);
    let next = 0;
    return checked.map((c) => (c.kind === 'sendable' ? answered[next++]! : c));
  }

  /** A body the host could not read refuses every entry, as the leg refuses a batch whose multiproof does not verify. */
  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    const count = entriesCountProblem(entries.length);
    if (count !== null) return refuseAll(entries.length, count);
    const request = decisionRefusal(entries) ?? onTheWire(() => batchRequestToJson(report, entries, multiproof), batchRequestFromJson);
    if (request.kind === 'refused') return refuseAll(entries.length, request.reason);
    return this.batchCall('/batches', request.body, entries.length);
  }

  /** A call answered with one outcome per entry sent: its answer may be larger than others (OUTCOME_JSON_BYTES_MAX each). */
  private async batchCall(path: string, body: unknown, entries: number): Promise<ApplyOutcome[]> {
    const limitBytes = Math.max(this.limitBytes, entries * OUTCOME_JSON_BYTES_MAX);
    const outcomes = await this.call('POST', path, body, applyOutcomesFromJson, limitBytes);
    if (outcomes.length !== entries) throw new Error(`${this.leg} leg host: POST ${path}: malformed answer: ${outcomes.length} outcomes for ${entries} entries`);
    return outcomes;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, decode: (v: unknown) => T, limitBytes = this.limitBytes): Promise<T> {
    const what = `${this.leg} leg host: ${method} ${path}`;
    let answer: Answer;
    try {
      answer = await exchange(this.base + path, method, body, this.credential, this.timeoutMs, limitBytes);
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
