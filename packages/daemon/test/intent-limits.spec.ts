/**
 * What an intent may cost a node, at the process's edges: `POST /intents` answers a refusal with
 * `{ error, reason, retryAfterMs }` (429 for `full`, 422 for the terms' times), the log line of an
 * `intent-refused` event carries the same, `GET /status` counts stuck
 * and split settlements, and the config's `intents` key sets the bounds (`intentLimits`, which
 * loadNodeConfig applies to that key). The refusals themselves
 * are the runtime's (packages/node/test/intake.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credential } from '@tandem/http';
import { DEFAULT_RUNTIME_PARAMS, type IntentRefusal, type NodeRuntime } from '@tandem/node';
import { type Terms, encodeTerms, toHex } from '@tandem/protocol';
import { type ControlServer, UsageError, controlOfV1, intentLimits, logLine, refusalStatus, startControlServer } from '../src/index.js';

const TOKEN = Credential.generate();

/** What the stand-in runtime answers the next intent. */
let answer: IntentRefusal | null = null;
const runtime = { submit: () => answer, decisions: () => [], settlementStatus: () => null } as unknown as NodeRuntime;
const status = () => ({ id: 'n1', index: 1, peerId: 'p', multiaddrs: [], connected: [], protocol: 1 as const, settlements: 3, decided: 1, height: null, stuck: 1, split: 1 });
let server: ControlServer;

beforeAll(async () => {
  server = await startControlServer(controlOfV1(runtime), status, { host: '127.0.0.1', port: 0, credential: TOKEN, tls: null }, null, () => {});
});
afterAll(async () => {
  await server.close();
});

async function call(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const init: RequestInit = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) };
  const res = await fetch(`${server.url}${path}`, { ...init, headers: TOKEN.headers(body === undefined ? {} : { 'content-type': 'application/json' }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the control API and what intents may cost', () => {
  it('answers a refused intent with its reason and retryAfterMs: 429 when full, 422 for the terms\' times', async () => {
    // The stand-in runtime answers whatever the terms: any that decode will do.
    const asset = { chainId: 1n, escrow: new Uint8Array(20), token: 'T', seller: 'a', buyer: 'b', amount: 1n };
    const terms: Terms = { nonce: 'n', asset, payment: { bankId: 'k', ledger: 'l', payer: 'b', payee: 'a', currency: 'C', amount: 1n }, deadlineMs: 1, reportWindowMs: 1, marginMs: 1 };
    const body = { terms: toHex(encodeTerms(terms)), authorizations: {} };
    const refusals: [IntentRefusal, number][] = [
      [{ reason: 'full', detail: 'this node holds 5000 undecided settlements (at most 5000)', retryAfterMs: 60_000 }, 429],
      [{ reason: 'late', detail: "its deadline passed 5 ms ago on this node's clock: it could only abort", retryAfterMs: null }, 422],
      [{ reason: 'window-too-short', detail: "its report window of 1000 ms is not longer than this node's commit guard of 5000 ms", retryAfterMs: null }, 422],
      [{ reason: 'horizon', detail: "its validUntil is 4000 days ahead, beyond this node's horizon of 3654 days", retryAfterMs: 346 * 24 * 3_600_000 }, 422],
    ];
    for (const [refusal, status] of refusals) {
      answer = refusal;
      expect(refusalStatus(refusal)).toBe(status);
      expect(await call('/intents', body)).toEqual({ status, body: { error: `intent refused (${refusal.reason}): ${refusal.detail}`, reason: refusal.reason, retryAfterMs: refusal.retryAfterMs } });
    }
    answer = null;
    expect((await call('/intents', body)).status).toBe(202);
  });

  it('logs a refusal with its reason, detail and retryAfterMs', () => {
    const line = JSON.parse(logLine('n1', { type: 'intent-refused', settlementIdHex: 'ab'.repeat(32), reason: 'full', detail: 'this node holds 2 undecided settlements (at most 2)', retryAfterMs: 1_000 }, 0)) as Record<string, unknown>;
    expect(line).toEqual({ t: '1970-01-01T00:00:00.000Z', level: 'info', node: 'n1', event: 'intent-refused', settlement: 'ab'.repeat(8), reason: 'full', detail: 'this node holds 2 undecided settlements (at most 2)', retryAfterMs: 1_000 });
  });

  it('counts stuck and split settlements in the status', async () => {
    expect((await call('/status')).body).toMatchObject({ stuck: 1, split: 1 });
  });
});

describe('node config: the intents key', () => {
  const FILE = 'n1.json';

  it('absent, the runtime defaults hold (a ten-year horizon at least); given, in days and a count', () => {
    expect(DEFAULT_RUNTIME_PARAMS.horizonMaxMs).toBeGreaterThanOrEqual(10 * 365.25 * 24 * 3_600_000);
    expect(intentLimits(FILE, {})).toEqual({});
    expect(intentLimits(FILE, { horizonMaxDays: 30 })).toEqual({ horizonMaxMs: 30 * 24 * 3_600_000 });
    expect(intentLimits(FILE, { horizonMaxDays: 4000, unauthorizedOpenMax: 10 })).toEqual({ horizonMaxMs: 4000 * 24 * 3_600_000, unauthorizedOpenMax: 10 });
  });

  it('refuses, naming the file and the key: not an object, an unknown key, a count that is not a positive integer', () => {
    const cases: [unknown, RegExp][] = [
      [5, /^n1\.json: key "intents": expected an object with horizonMaxDays, unauthorizedOpenMax/],
      [{ deadlineHorizonDays: 5 }, /key "intents\.deadlineHorizonDays": expected no such key/],
      [{ horizonMaxDays: 0 }, /key "intents\.horizonMaxDays": expected an integer 1\.\.100000/],
      [{ horizonMaxDays: 1.5 }, /key "intents\.horizonMaxDays": expected an integer/],
      [{ unauthorizedOpenMax: '10' }, /key "intents\.unauthorizedOpenMax": expected an integer 1\.\.1000000/],
    ];
    for (const [v, message] of cases) {
      expect(() => intentLimits(FILE, v), String(message)).toThrow(UsageError);
      expect(() => intentLimits(FILE, v), String(message)).toThrow(message);
    }
  });
});
