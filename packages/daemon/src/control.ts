/**
 * The node's control API: a small HTTP server through which `tandem settle` submits intents and
 * reads a settlement's status. Every request passes @tandem/http's guard first: 401 without the
 * node's control token (`control.tokenFile`), whatever the path; 421/403 for a foreign Host or
 * Origin; 415 for a body not declared JSON; 413 past 64 KiB. Loopback only, unless the config
 * gives TLS. Parties' authorizations arrive signed; the node only relays.
 *
 *   GET  /status                          → NodeStatus
 *   POST /intents   { terms, authorizations: { asset?, payment? } } → 202 { settlementId },
 *                   or refused: 429 (reason `full`) or 422 (`late`, `window-too-short`, `horizon`)
 *                   { error, reason, retryAfterMs } (the node also logs `intent-refused`)
 *   POST /intents/batch { intents: [{ terms, authorizations }, …] } (at most INTENTS_PER_CALL_MAX,
 *                   1 MiB) → 200 { results: [{ settlementId, status: 202 } or { settlementId,
 *                   status: 429 | 422, error, reason, retryAfterMs }] } in the order given, the
 *                   taken ones made durable by one storage commit; any malformed intent fails the
 *                   whole call with 400 naming it (`intents[3].terms: …`), and none is taken
 *   GET  /settlements                     → { settlements: [{ id, decided, closed, split, stuck }] }
 *                                           (protocol 2: [{ id, decided, height, decision, expired, refused, split, stuck }])
 *   GET  /settlements/:idHex              → the node's view of one settlement (protocol 2: control-v2.ts)
 *   POST /faults/links  (only with "linkFaults": true in the config; else 404) → link-faults.ts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Credential, type TlsFiles, HttpError, readJsonBody, sendJsonText, serveGuarded } from '@tandem/http';
import { type Authorization, type Terms, DecodeError, Writer, decodeTerms, encodeReport, fromHex, settlementId, toHex } from '@tandem/protocol';
import { type Authorizations, INTENTS_PER_CALL_MAX, type Intent, type IntentRefusal, type NodeRuntime } from '@tandem/node';
import { toJson } from './json.js';
import { type LinkFaults, LinkFaultsError, linkFaultsToJson, parseLinkFaults } from './link-faults.js';

export interface NodeStatus {
  readonly id: string;
  readonly index: number;
  readonly peerId: string;
  readonly multiaddrs: readonly string[];
  readonly connected: readonly number[];
  /** The protocol version this node runs. */
  readonly protocol: 1 | 2;
  readonly settlements: number;
  readonly decided: number;
  /** Protocol 2: the newest decided height (0 before the first); protocol 1: null. */
  readonly height: number | null;
  /** Settlements still open past their reclaim time plus the grace period (each logged at error level). */
  readonly stuck: number;
  /** Settlements with one leg committed and the other aborted or reclaimed (each logged at error level). */
  readonly split: number;
}

/**
 * What the control API asks of the node's runtime, whichever protocol it runs: take an intent,
 * list its settlements, and show one (the JSON bodies of GET /settlements and /settlements/:id).
 */
export interface ControlRuntime {
  submit(terms: Terms, auths: Authorizations): IntentRefusal | null;
  /** Intents at once, answered in order (protocol 2: one storage commit for those taken). */
  submitMany(intents: readonly Intent[]): (IntentRefusal | null)[];
  settlements(): readonly Record<string, unknown>[];
  /** One settlement's view, or null when the node does not hold it. */
  settlement(settlementIdHex: string): Record<string, unknown> | null;
}

/** The control API's view of a protocol-1 runtime. */
export function controlOfV1(runtime: NodeRuntime): ControlRuntime {
  return {
    submit: (terms, auths) => runtime.submit(terms, auths),
    submitMany: (intents) => intents.map((x) => runtime.submit(x.terms, x.auths)),
    settlements: () => runtime.decisions().map((d) => ({ id: d.settlementIdHex, decided: d.decided, closed: d.closed, split: d.split, stuck: d.stuck })),
    settlement: (idHex) => {
      const st = runtime.settlementStatus(idHex);
      if (st === null) return null;
      return {
        decided: st.decided,
        decision: st.report?.decision ?? null,
        round: st.report?.round ?? null,
        report: st.report === null ? null : toHex(encodeReport(st.report)),
        views: st.views,
        closed: st.closed,
        split: st.split,
        stuck: st.stuck,
      };
    },
  };
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const BODY_BYTES_MAX = 64 * 1024;
/** A batch of intents (POST /intents/batch): up to INTENTS_PER_CALL_MAX of ~1 kB each. */
const BATCH_BODY_BYTES_MAX = 1024 * 1024;

class BadRequest extends Error {}

/** Where and how the control API listens, and whose token it takes (NodeConfig's `control`). */
export interface ControlListen {
  readonly host: string;
  readonly port: number;
  readonly credential: Credential;
  readonly tls: TlsFiles | null;
}

/** `o[key]` as hex; errors name `where` (the key's full path in the body). */
function hexField(o: Record<string, unknown>, key: string, bytes?: number, where = key): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string') throw new BadRequest(`${where}: expected a hex string`);
  try {
    return fromHex(v, bytes);
  } catch (e) {
    throw new BadRequest(`${where}: ${(e as Error).message}`);
  }
}

function objectOf(v: unknown, key: string, expected: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadRequest(`${key}: expected ${expected}`);
  return v as Record<string, unknown>;
}

function termsOf(bytes: Uint8Array, where: string): Terms {
  try {
    return decodeTerms(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new BadRequest(`${where}terms: ${e.message}`);
    throw e;
  }
}

/** `where` prefixes every key an error names: '' for POST /intents, `intents[3].` in a batch. */
function authorization(v: unknown, leg: string, where: string): Authorization | undefined {
  if (v === undefined || v === null) return undefined;
  const key = `${where}authorizations.${leg}`;
  const o = objectOf(v, key, '{ party, signature }');
  const party = o['party'];
  if (typeof party !== 'string' || party.length === 0) throw new BadRequest(`${key}.party: expected a party name`);
  try {
    // A party name is a protocol string: well-formed UTF-16 (no lone surrogate), bounded.
    new Writer().string(party);
  } catch (e) {
    throw new BadRequest(`${key}.party: ${(e as Error).message}`);
  }
  return { party, signature: hexField(o, 'signature', 64, `${key}.signature`) };
}

/** One intent of a request body ({ terms, authorizations }); errors name its keys after `where`. */
function intentOf(v: unknown, where: string): Intent {
  const o = objectOf(v, where === '' ? 'body' : where.slice(0, -1), '{ terms, authorizations }');
  const terms = termsOf(hexField(o, 'terms', undefined, `${where}terms`), where);
  const a = objectOf(o['authorizations'] ?? {}, `${where}authorizations`, '{ asset?, payment? }');
  const auths: Authorizations = {};
  const asset = authorization(a['asset'], 'asset', where);
  const payment = authorization(a['payment'], 'payment', where);
  if (asset) auths.asset = asset;
  if (payment) auths.payment = payment;
  return { terms, auths };
}

/** A batch body: { intents: [...] }, every intent well-formed, at most INTENTS_PER_CALL_MAX. */
function intentsOf(body: unknown): Intent[] {
  const list = objectOf(body, 'body', '{ intents: [{ terms, authorizations }, …] }')['intents'];
  if (!Array.isArray(list) || list.length === 0) throw new BadRequest('intents: expected a non-empty array of { terms, authorizations }');
  if (list.length > INTENTS_PER_CALL_MAX) throw new BadRequest(`intents: ${list.length} intents; at most ${INTENTS_PER_CALL_MAX} per call`);
  return list.map((v, i) => intentOf(v, `intents[${i}].`));
}

/** A refusal as both intent routes answer it. */
function refusalBody(refusal: IntentRefusal): { error: string; reason: string; retryAfterMs: number | null } {
  return { error: `intent refused (${refusal.reason}): ${refusal.detail}`, reason: refusal.reason, retryAfterMs: refusal.retryAfterMs };
}

/** 429 when the node is full (the same intent may be taken later), 422 when these terms' times are refused. */
export function refusalStatus(refusal: IntentRefusal): 422 | 429 {
  return refusal.reason === 'full' ? 429 : 422;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, toJson(body));
}

/** Fault injection for cluster-mode scenarios and tests (link-faults.ts); null: not offered. */
export interface LinkFaultControl {
  /** Cluster size, to check member indices. */
  readonly n: number;
  set(faults: LinkFaults): void;
}

/**
 * Starts the control API. `links` offers the link-fault injector (cluster-mode scenarios only);
 * `onError` hears of failures answered 500 (a bug: their text is never sent).
 */
export async function startControlServer(runtime: ControlRuntime, status: () => NodeStatus, listen: ControlListen, links: LinkFaultControl | null, onError: (e: unknown) => void): Promise<ControlServer> {
  const server = await serveGuarded(
    { name: 'control API', host: listen.host, port: listen.port, roles: { operator: listen.credential }, tls: listen.tls, bodyBytesMax: BATCH_BODY_BYTES_MAX, optionNames: { host: 'control.host', tls: 'control.tls' }, onError },
    (req, res) =>
      handle(req, res).catch((e: unknown) => {
        if (e instanceof BadRequest || e instanceof DecodeError || e instanceof LinkFaultsError) throw new HttpError(400, e.message);
        throw e;
      }),
  );
  return { url: server.url, close: () => server.close() };

  async function readBody(req: IncomingMessage, bytesMax = BODY_BYTES_MAX): Promise<unknown> {
    const body = await readJsonBody(req, bytesMax);
    if (body === undefined) throw new BadRequest('body: expected a JSON object');
    return body;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/status') return send(res, 200, status());
    if (req.method === 'POST' && path === '/intents') {
      const { terms, auths } = intentOf(await readBody(req), '');
      const refusal = runtime.submit(terms, auths);
      // 429: the node is full, try again after retryAfterMs; 422: not for these terms (their times), or not before retryAfterMs.
      if (refusal !== null) return send(res, refusalStatus(refusal), refusalBody(refusal));
      return send(res, 202, { settlementId: toHex(settlementId(terms)) });
    }
    if (req.method === 'POST' && path === '/intents/batch') {
      // Every intent is checked before any is submitted: a malformed one fails the call, nothing taken.
      const intents = intentsOf(await readBody(req, BATCH_BODY_BYTES_MAX));
      const answers = runtime.submitMany(intents);
      const results = intents.map((x, k) => {
        const refusal = answers[k]!;
        const settlementIdHex = toHex(settlementId(x.terms));
        return refusal === null ? { settlementId: settlementIdHex, status: 202 } : { settlementId: settlementIdHex, status: refusalStatus(refusal), ...refusalBody(refusal) };
      });
      return send(res, 200, { results });
    }
    if (req.method === 'POST' && path === '/faults/links' && links !== null) {
      const faults = parseLinkFaults(await readBody(req), links.n);
      links.set(faults);
      return send(res, 200, linkFaultsToJson(faults));
    }
    // Every settlement at once (a runner following many): { settlements: [{ id, decided, closed, split, stuck }] }.
    if (req.method === 'GET' && path === '/settlements') {
      return send(res, 200, { settlements: runtime.settlements() });
    }
    const m = /^\/settlements\/([0-9a-f]{64})$/.exec(path);
    if (req.method === 'GET' && m) {
      const view = runtime.settlement(m[1]!);
      return view === null ? send(res, 404, { error: 'unknown settlement' }) : send(res, 200, view);
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  }
}
