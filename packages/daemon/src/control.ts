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
 *   GET  /settlements                     → { settlements: [{ id, decided, closed, split, stuck }] }
 *                                           (protocol 2: [{ id, decided, height, decision, expired, refused, split, stuck }])
 *   GET  /settlements/:idHex              → the node's view of one settlement (protocol 2: control-v2.ts)
 *   POST /faults/links  (only with "linkFaults": true in the config; else 404) → link-faults.ts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Credential, type TlsFiles, HttpError, readJsonBody, sendJsonText, serveGuarded } from '@tandem/http';
import { type Authorization, type Terms, DecodeError, Writer, decodeTerms, encodeReport, fromHex, settlementId, toHex } from '@tandem/protocol';
import type { Authorizations, IntentRefusal, NodeRuntime } from '@tandem/node';
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
  settlements(): readonly Record<string, unknown>[];
  /** One settlement's view, or null when the node does not hold it. */
  settlement(settlementIdHex: string): Record<string, unknown> | null;
}

/** The control API's view of a protocol-1 runtime. */
export function controlOfV1(runtime: NodeRuntime): ControlRuntime {
  return {
    submit: (terms, auths) => runtime.submit(terms, auths),
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

function termsOf(bytes: Uint8Array): Terms {
  try {
    return decodeTerms(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new BadRequest(`terms: ${e.message}`);
    throw e;
  }
}

function authorization(v: unknown, leg: string): Authorization | undefined {
  if (v === undefined || v === null) return undefined;
  const o = objectOf(v, `authorizations.${leg}`, '{ party, signature }');
  const party = o['party'];
  if (typeof party !== 'string' || party.length === 0) throw new BadRequest(`authorizations.${leg}.party: expected a party name`);
  try {
    // A party name is a protocol string: well-formed UTF-16 (no lone surrogate), bounded.
    new Writer().string(party);
  } catch (e) {
    throw new BadRequest(`authorizations.${leg}.party: ${(e as Error).message}`);
  }
  return { party, signature: hexField(o, 'signature', 64, `authorizations.${leg}.signature`) };
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
    { name: 'control API', host: listen.host, port: listen.port, roles: { operator: listen.credential }, tls: listen.tls, bodyBytesMax: BODY_BYTES_MAX, optionNames: { host: 'control.host', tls: 'control.tls' }, onError },
    (req, res) =>
      handle(req, res).catch((e: unknown) => {
        if (e instanceof BadRequest || e instanceof DecodeError || e instanceof LinkFaultsError) throw new HttpError(400, e.message);
        throw e;
      }),
  );
  return { url: server.url, close: () => server.close() };

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const body = await readJsonBody(req, BODY_BYTES_MAX);
    if (body === undefined) throw new BadRequest('body: expected a JSON object');
    return body;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/status') return send(res, 200, status());
    if (req.method === 'POST' && path === '/intents') {
      const body = await readBody(req);
      const o = objectOf(body, 'body', '{ terms, authorizations }');
      const terms = termsOf(hexField(o, 'terms'));
      const a = objectOf(o['authorizations'] ?? {}, 'authorizations', '{ asset?, payment? }');
      const auths: Authorizations = {};
      const asset = authorization(a['asset'], 'asset');
      const payment = authorization(a['payment'], 'payment');
      if (asset) auths.asset = asset;
      if (payment) auths.payment = payment;
      const refusal = runtime.submit(terms, auths);
      // 429: the node is full, try again after retryAfterMs; 422: not for these terms (their times), or not before retryAfterMs.
      if (refusal !== null) return send(res, refusalStatus(refusal), { error: `intent refused (${refusal.reason}): ${refusal.detail}`, reason: refusal.reason, retryAfterMs: refusal.retryAfterMs });
      return send(res, 202, { settlementId: toHex(settlementId(terms)) });
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
