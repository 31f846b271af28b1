import type { Credential } from '@tandem/http';
import { type Authorization, type Entry, type LegView, type Report, type ReportV2, type Terms, type TreeMultiproof, EncodeError, encodeReport, encodeTerms, toHex } from '@tandem/protocol';
import {
  type ApplyOutcome,
  type BatchLegAdapter,
  type PrepareOutcome,
  type ProvenEntry,
  type ReclaimOutcome,
  type RootOutcome,
  type Refusal,
  TransientLegError,
  assertObserveIds,
  entriesCountProblem,
  entryShapeProblem,
  refuseAll,
  refused,
  reportShapeProblem,
} from '@tandem/legs';
import { applyOutcomesFromJson, entryToJson, multiproofToJson, provenEntryToJson, reportV2ToJson, rootOutcomeFromJson, viewsFromJson, viewsRequestToJson } from '@tandem/legs/json';
import type { AccountBalance, BankEvent, BankSettlementView } from './model.js';
import {
  type Json,
  accountFromJson,
  applyOutcomeFromJson,
  eventFromJson,
  obj,
  prepareOutcomeFromJson,
  reclaimOutcomeFromJson,
  settlementFromJson,
} from './wire.js';

export interface HttpBankAdapterOptions {
  /** The bank service, e.g. `http://127.0.0.1:41234` (what startBankServer returned). */
  readonly url: string;
  /** The bank API's token (see startBankServer). */
  readonly credential: Credential;
  /** Per request; past it the call fails transiently. Default 10 s. */
  readonly timeoutMs?: number;
}

/** The bank answered 4xx: the request itself was wrong (a bug on this side, not an outage). */
export class BankRequestError extends Error {
  override readonly name = 'BankRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The payment leg over the bank's HTTP API (see server.ts). Network failures, timeouts and 5xx
 * answers throw TransientLegError: the caller retries. A timeout can hide a call that did
 * commit on the server; retrying is still safe, because prepare is idempotent by settlement id
 * and a report applied twice answers `duplicate`.
 */
export class HttpBankAdapter implements BatchLegAdapter {
  readonly leg = 'payment' as const;
  readonly url: string;
  private readonly credential: Credential;
  private readonly timeoutMs: number;

  constructor(options: HttpBankAdapterOptions) {
    this.credential = options.credential;
    const u = new URL(options.url); // throws on a malformed URL
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`bank url must be http(s), got ${options.url}`);
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new Error(`timeoutMs must be a positive integer, got ${this.timeoutMs}`);
  }

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    let termsHex: string;
    try {
      termsHex = toHex(encodeTerms(terms));
    } catch (e) {
      // As the ledger answers: no id can be derived, so nothing is sent or recorded.
      return { kind: 'rejected', reason: `terms do not encode: ${e instanceof Error ? e.message : String(e)}` };
    }
    const auth = authorization === null ? null : { party: authorization.party, signature: toHex(authorization.signature) };
    return prepareOutcomeFromJson(await this.call('POST', '/holds', { terms: termsHex, authorization: auth }), 'prepare');
  }

  async observe(settlementId: Uint8Array): Promise<LegView> {
    const v = settlementFromJson(await this.call('GET', `/settlements/${toHex(settlementId)}`), 'observe');
    return { state: v.state, finalityHeight: v.finalityHeight, lock: v.lock };
  }

  /** One POST /views for all of them. */
  async observeMany(settlementIds: readonly Uint8Array[]): Promise<readonly LegView[]> {
    assertObserveIds(settlementIds);
    if (settlementIds.length === 0) return [];
    return viewsFromJson(await this.call('POST', '/views', viewsRequestToJson(settlementIds)), settlementIds.length);
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    // A report that cannot be encoded cannot be sent; the ledger would refuse it the same way.
    const shape = reportShapeProblem(report);
    if (shape !== null) return { kind: 'refused', reason: shape };
    const action = report.decision === 'COMMIT' ? 'post' : 'void';
    const path = `/holds/${toHex(report.settlementId)}/${action}`;
    return applyOutcomeFromJson(await this.call('POST', path, { report: toHex(encodeReport(report)) }), 'applyReport');
  }

  async reclaim(settlementId: Uint8Array): Promise<ReclaimOutcome> {
    return reclaimOutcomeFromJson(await this.call('POST', `/holds/${toHex(settlementId)}/reclaim`, {}), 'reclaim');
  }

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    const encoded = encodedOrRefusal(() => ({ report: reportV2ToJson(report) }));
    if (encoded.kind === 'refused') return encoded;
    return rootOutcomeFromJson(await this.call('POST', '/roots', encoded.body), 'submitRoot');
  }

  /**
   * An item whose entry cannot be encoded is refused here (the ledger would refuse it the same way);
   * the rest are sent. A proof with a sibling that is not 32 bytes is a malformed request: the bank
   * answers 400 and this throws BankRequestError.
   */
  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    const count = entriesCountProblem(items.length);
    if (count !== null) return refuseAll(items.length, count);
    const problems = items.map((item) => entryShapeProblem(item.entry));
    const sent = items.filter((_, k) => problems[k] === null).map(provenEntryToJson);
    const answered = sent.length === 0 ? [] : applyOutcomesFromJson(await this.call('POST', `/roots/${toHex(root)}/entries`, { items: sent }), 'applyEntries');
    if (answered.length !== sent.length) throw new Error(`bank answered ${answered.length} outcomes for ${sent.length} entries`);
    let next = 0;
    return problems.map((problem) => (problem === null ? answered[next++]! : refused(problem)));
  }

  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    const count = entriesCountProblem(entries.length);
    if (count !== null) return refuseAll(entries.length, count);
    const encoded = encodedOrRefusal(() => ({ report: reportV2ToJson(report), entries: entries.map(entryToJson), multiproof: multiproofToJson(multiproof) }));
    if (encoded.kind === 'refused') return refuseAll(entries.length, encoded.reason);
    const answered = applyOutcomesFromJson(await this.call('POST', '/batches', encoded.body), 'applyBatch');
    if (answered.length !== entries.length) throw new Error(`bank answered ${answered.length} outcomes for ${entries.length} entries`);
    return answered;
  }

  // -------------------------------------------------------------------------------------------

  async createAccount(account: string, currency: string): Promise<AccountBalance> {
    return accountFromJson(await this.call('POST', '/accounts', { account, currency }), 'account');
  }

  async fund(account: string, currency: string, amount: bigint): Promise<AccountBalance> {
    return accountFromJson(await this.call('POST', '/accounts/fund', { account, currency, amount: amount.toString() }), 'account');
  }

  async account(account: string, currency: string): Promise<AccountBalance> {
    const q = new URLSearchParams({ account, currency });
    return accountFromJson(await this.call('GET', `/balances?${q.toString()}`), 'account');
  }

  /** Spendable balance (holds excluded). */
  async balance(account: string, currency: string): Promise<bigint> {
    return (await this.account(account, currency)).available;
  }

  async accounts(): Promise<AccountBalance[]> {
    const o = obj(await this.call('GET', '/accounts'), 'accounts');
    return arrayOf(o.accounts, 'accounts').map((a, i) => accountFromJson(a, `accounts[${i}]`));
  }

  async history(options: { readonly afterSeq?: bigint; readonly limit?: number } = {}): Promise<BankEvent[]> {
    const q = new URLSearchParams({ after: (options.afterSeq ?? 0n).toString(), limit: String(options.limit ?? 100) });
    const o = obj(await this.call('GET', `/history?${q.toString()}`), 'history');
    return arrayOf(o.events, 'events').map((e, i) => eventFromJson(e, `events[${i}]`));
  }

  async settlement(settlementId: Uint8Array): Promise<BankSettlementView> {
    return settlementFromJson(await this.call('GET', `/settlements/${toHex(settlementId)}`), 'settlement');
  }

  async height(): Promise<bigint> {
    const o = obj(await this.call('GET', '/health'), 'health');
    if (typeof o.height !== 'string' || !/^[0-9]+$/.test(o.height)) throw new Error('bank answered a malformed health body');
    return BigInt(o.height);
  }

  private async call(method: 'GET' | 'POST', path: string, body?: Json): Promise<unknown> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: this.credential.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      // fetch rejects only when no answer arrived: connection refused or reset, DNS, timeout.
      throw new TransientLegError(`bank unreachable (${method} ${path}): ${causeText(e)}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      if (res.status >= 500) throw new TransientLegError(`bank answered ${res.status} (${method} ${path})`);
      throw new Error(`bank answered ${res.status} with a body that is not JSON (${method} ${path})`);
    }
    if (res.ok) return json;
    const message = typeof (json as { error?: unknown }).error === 'string' ? (json as { error: string }).error : `status ${res.status}`;
    // 5xx: the server's transaction rolled back; nothing changed, so the call may be retried.
    if (res.status >= 500) throw new TransientLegError(`bank answered ${res.status} (${method} ${path}): ${message}`);
    throw new BankRequestError(res.status, `bank refused the request ${method} ${path} (${res.status}): ${message}`);
  }
}

/** A body whose values cannot be encoded (malformed report or entry) is refused without a request: the ledger would refuse it too. */
function encodedOrRefusal(encode: () => Json): { readonly kind: 'encoded'; readonly body: Json } | Refusal {
  try {
    return { kind: 'encoded', body: encode() };
  } catch (e) {
    if (e instanceof EncodeError) return refused(`malformed request: ${e.message}`);
    throw e;
  }
}

function arrayOf(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`bank answered a malformed body: ${path} must be an array`);
  return v;
}

function causeText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
}
