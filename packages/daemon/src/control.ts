/**
 * The node's control API: a small HTTP server on loopback through which `tandem settle` submits
 * intents and reads a settlement's status. No authentication, so it only ever binds to loopback
 * (the config refuses anything else). Parties' authorizations arrive signed; the node only relays.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Authorization, DecodeError, decodeTerms, encodeReport, fromHex, settlementId, toHex } from '@tandem/protocol';
import type { Authorizations, NodeRuntime } from '@tandem/node';
import { toJson } from './json.js';
import { type LinkFaults, LinkFaultsError, linkFaultsToJson, parseLinkFaults } from './link-faults.js';

export interface NodeStatus {
  readonly id: string;
  readonly index: number;
  readonly peerId: string;
  readonly multiaddrs: readonly string[];
  readonly connected: readonly number[];
  readonly settlements: number;
  readonly decided: number;
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const BODY_BYTES_MAX = 64 * 1024;

class BadRequest extends Error {}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > BODY_BYTES_MAX) throw new BadRequest(`body larger than ${BODY_BYTES_MAX} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('body is not JSON');
  }
}

function hexField(o: Record<string, unknown>, key: string, bytes?: number): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string') throw new BadRequest(`${key}: expected a hex string`);
  try {
    return fromHex(v, bytes);
  } catch (e) {
    throw new BadRequest(`${key}: ${(e as Error).message}`);
  }
}

function authorization(v: unknown, leg: string): Authorization | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object') throw new BadRequest(`authorizations.${leg}: expected { party, signature }`);
  const o = v as Record<string, unknown>;
  if (typeof o['party'] !== 'string' || o['party'].length === 0) throw new BadRequest(`authorizations.${leg}.party: expected a party name`);
  return { party: o['party'], signature: hexField(o, 'signature', 64) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(toJson(body));
}

/** Fault injection for cluster-mode scenarios and tests (link-faults.ts); null: not offered. */
export interface LinkFaultControl {
  /** Cluster size, to check member indices. */
  readonly n: number;
  set(faults: LinkFaults): void;
}

export function startControlServer(runtime: NodeRuntime, status: () => NodeStatus, host: string, port: number, links?: LinkFaultControl): Promise<ControlServer> {
  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (e instanceof BadRequest || e instanceof DecodeError || e instanceof LinkFaultsError) send(res, 400, { error: e.message });
      else send(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/status') return send(res, 200, status());
    if (req.method === 'POST' && path === '/intents') {
      const body = await readBody(req);
      if (body === null || typeof body !== 'object') throw new BadRequest('expected { terms, authorizations }');
      const o = body as Record<string, unknown>;
      const terms = decodeTerms(hexField(o, 'terms'));
      const a = (o['authorizations'] ?? {}) as Record<string, unknown>;
      const auths: Authorizations = {};
      const asset = authorization(a['asset'], 'asset');
      const payment = authorization(a['payment'], 'payment');
      if (asset) auths.asset = asset;
      if (payment) auths.payment = payment;
      runtime.submit(terms, auths);
      return send(res, 202, { settlementId: toHex(settlementId(terms)) });
    }
    if (req.method === 'POST' && path === '/faults/links' && links !== undefined) {
      const faults = parseLinkFaults(await readBody(req), links.n);
      links.set(faults);
      return send(res, 200, linkFaultsToJson(faults));
    }
    // Every settlement at once (a runner following many): { settlements: [{ id, decided, closed }] }.
    if (req.method === 'GET' && path === '/settlements') {
      return send(res, 200, { settlements: runtime.decisions().map((d) => ({ id: d.settlementIdHex, decided: d.decided, closed: d.closed })) });
    }
    const m = /^\/settlements\/([0-9a-f]{64})$/.exec(path);
    if (req.method === 'GET' && m) {
      const st = runtime.settlementStatus(m[1]!);
      if (st === null) return send(res, 404, { error: 'unknown settlement' });
      return send(res, 200, {
        decided: st.decided,
        decision: st.report?.decision ?? null,
        round: st.report?.round ?? null,
        report: st.report === null ? null : toHex(encodeReport(st.report)),
        views: st.views,
        closed: st.closed,
      });
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${addr.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
