/**
 * The node's control API behind its guard, over a stand-in runtime (the routes only relay to it),
 * and the config keys that set it up: token files, TLS, the link-fault injector.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credential } from '@tandem/http';
import type { NodeRuntime } from '@tandem/node';
import { type Terms, encodeTerms, settlementId, toHex } from '@tandem/protocol';
import { type ControlServer, ConfigKeyError, type LinkFaults, UsageError, controlOfV1, loadNodeConfig, startControlServer, v2Params } from '../src/index.js';
import { defaultV2Params } from '@tandem/protocol';

const TOKEN = Credential.generate();
const TERMS: Terms = {
  nonce: 'control-spec',
  asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(1), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1n },
  payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
  deadlineMs: 2_000_000_000_000,
  reportWindowMs: 30_000,
  marginMs: 10_000,
};

/** What the stand-in runtime was handed. */
const submitted: unknown[] = [];
const runtime = {
  submit: (terms: Terms, auths: unknown) => {
    submitted.push({ terms, auths });
    // A stand-in refusal, so a batch's answers can be told apart.
    return terms.nonce.startsWith('full-') ? { reason: 'full', detail: 'stand-in: full', retryAfterMs: 1_000 } : null;
  },
  decisions: () => [],
  settlementStatus: () => null,
} as unknown as NodeRuntime;
const status = () => ({ id: 'n1', index: 1, peerId: 'p', multiaddrs: [], connected: [], protocol: 1 as const, settlements: 0, decided: 0, height: null, stuck: 0, split: 0 });
const linkSets: LinkFaults[] = [];
const errors: unknown[] = [];

let plain: ControlServer; // as `cluster up` starts it: no link-fault injector
let faulty: ControlServer; // as the cluster-mode runner starts it

beforeAll(async () => {
  const listen = { host: '127.0.0.1', port: 0, credential: TOKEN, tls: null };
  plain = await startControlServer(controlOfV1(runtime), status, listen, null, (e) => errors.push(e));
  faulty = await startControlServer(controlOfV1(runtime), status, listen, { n: 4, set: (f) => linkSets.push(f) }, (e) => errors.push(e));
});

afterAll(async () => {
  await plain.close();
  await faulty.close();
});

async function call(url: string, init: RequestInit & { token?: Credential | null } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = init.token === undefined ? TOKEN : init.token;
  const headers: Record<string, string> = { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) };
  const res = await fetch(url, { ...init, headers: token === null ? headers : token.headers(headers) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const post = (url: string, body: unknown) => call(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
const intent = (authorizations: unknown) => ({ terms: toHex(encodeTerms(TERMS)), authorizations });

describe('control API', () => {
  it('401 to any request without the token, whatever the path; nothing reaches the runtime', async () => {
    for (const server of [plain, faulty]) {
      for (const [path, init] of [
        ['/', {}],
        ['/status', {}],
        ['/settlements', {}],
        ['/intents', { method: 'POST', body: JSON.stringify(intent({})) }],
        ['/faults/links', { method: 'POST', body: JSON.stringify({ block: [2] }) }],
        ['/nowhere', { method: 'POST', body: 'garbage', headers: { 'content-type': 'text/plain' } }],
      ] as const) {
        for (const token of [null, Credential.generate()]) {
          const r = await call(`${server.url}${path}`, { ...init, token });
          expect([r.status, r.body.field], `${path}`).toEqual([401, 'authorization']);
        }
      }
    }
    expect([submitted, linkSets]).toEqual([[], []]);
  });

  it('with the token: status, intents relayed, 404 for unknown routes', async () => {
    expect((await call(`${plain.url}/status`)).body).toMatchObject({ id: 'n1' });
    const r = await post(`${plain.url}/intents`, intent({}));
    expect(r).toEqual({ status: 202, body: { settlementId: toHex(settlementId(TERMS)) } });
    expect(submitted).toHaveLength(1);
    expect((await call(`${plain.url}/nowhere`)).status).toBe(404);
  });

  it('a batch of intents: answered in order, each taken or refused; a malformed one fails the whole call naming it, and none is taken', async () => {
    submitted.length = 0;
    const terms = (nonce: string) => toHex(encodeTerms({ ...TERMS, nonce }));
    const id = (nonce: string) => toHex(settlementId({ ...TERMS, nonce }));
    const ok = await post(`${plain.url}/intents/batch`, { intents: [{ terms: terms('b-1') }, { terms: terms('full-2') }, { ...intent({}), terms: terms('b-3') }] });
    expect(ok).toEqual({
      status: 200,
      body: {
        results: [
          { settlementId: id('b-1'), status: 202 },
          { settlementId: id('full-2'), status: 429, error: 'intent refused (full): stand-in: full', reason: 'full', retryAfterMs: 1_000 },
          { settlementId: id('b-3'), status: 202 },
        ],
      },
    });
    expect(submitted.map((x) => (x as { terms: Terms }).terms.nonce)).toEqual(['b-1', 'full-2', 'b-3']);
    submitted.length = 0;
    const cases: [unknown, RegExp][] = [
      [{ intents: [] }, /^intents: expected a non-empty array/],
      [{ intents: 'all' }, /^intents: expected a non-empty array/],
      [{ intents: [{ terms: terms('b-1') }, { terms: 'zz' }] }, /^intents\[1\]\.terms: /],
      [{ intents: [{ terms: terms('b-1') }, 7] }, /^intents\[1\]: expected \{ terms, authorizations \}/],
      [{ intents: [{ terms: terms('b-1'), authorizations: { payment: { party: 'bob', signature: '00' } } }] }, /^intents\[0\]\.authorizations\.payment\.signature: /],
      [{ intents: Array.from({ length: 1025 }, () => ({ terms: terms('b-1') })) }, /^intents: 1025 intents; at most 1024 per call/],
    ];
    for (const [body, message] of cases) {
      const r = await post(`${plain.url}/intents/batch`, body);
      expect([r.status, String(r.body.error)], JSON.stringify(body).slice(0, 80)).toEqual([400, expect.stringMatching(message)]);
    }
    expect([submitted, errors]).toEqual([[], []]);
  });

  it('the link-fault injector exists only when asked for: 404 otherwise', async () => {
    const r = await post(`${plain.url}/faults/links`, { block: [2] });
    expect(r.status).toBe(404);
    expect(linkSets).toEqual([]);
    const ok = await post(`${faulty.url}/faults/links`, { block: [2] });
    expect(ok).toEqual({ status: 200, body: { block: [2], drop: {}, delay: {} } });
    expect(linkSets).toHaveLength(1);
  });

  it('bad input is 4xx naming the field, never 500', async () => {
    submitted.length = 0;
    const good = intent({}).terms;
    const cases: [unknown, number, RegExp][] = [
      ['{"terms":', 400, /^body: not valid JSON/],
      ['', 400, /^body: expected a JSON object/],
      [[1, 2], 400, /^body: expected \{ terms, authorizations \}/],
      [{ terms: 'zz' }, 400, /^terms: /],
      [{ terms: '00' }, 400, /^terms: /],
      [{ terms: good, authorizations: 'all' }, 400, /^authorizations: expected/],
      [{ terms: good, authorizations: { asset: { party: 'alice\ud800', signature: '00'.repeat(64) } } }, 400, /^authorizations\.asset\.party: string has a lone UTF-16 surrogate/],
      [{ terms: good, authorizations: { asset: { party: 'a'.repeat(300), signature: '00'.repeat(64) } } }, 400, /^authorizations\.asset\.party: string longer than/],
      [{ terms: good, authorizations: { asset: { party: 'alice', signature: '00' } } }, 400, /^authorizations\.asset\.signature: /],
      [{ terms: 'ab'.repeat(40_000) }, 413, /^body: larger than/],
    ];
    for (const [body, code, message] of cases) {
      const r = await post(`${plain.url}/intents`, body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(code);
      expect(String(r.body.error), JSON.stringify(body).slice(0, 80)).toMatch(message);
    }
    const faults = await post(`${faulty.url}/faults/links`, { block: [9] });
    expect([faults.status, faults.body.error]).toEqual([400, "block[0]: '9' is not a member index 1..4"]);
    const plainText = await call(`${plain.url}/intents`, { method: 'POST', body: JSON.stringify(intent({})), headers: { 'content-type': 'text/plain' } });
    expect([plainText.status, plainText.body.field]).toEqual([415, 'content-type']);
    expect([submitted, errors]).toEqual([[], []]);
  });
});

describe('node config: credentials, TLS, link faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-control-config-'));
  const legsToken = join(dir, 'legs.token');
  const controlToken = join(dir, 'control.token');
  Credential.createFile(legsToken);
  Credential.createFile(controlToken);

  function config(extra: Record<string, unknown> = {}, control: Record<string, unknown> = {}): string {
    const file = join(dir, `node-${Math.random().toString(36).slice(2)}.json`);
    const base = {
      cluster: 'cluster.json',
      key: 'n1.key.json',
      listen: ['/ip4/127.0.0.1/tcp/0'],
      peers: [],
      legs: { asset: 'http://127.0.0.1:1', payment: 'http://127.0.0.1:1', tokenFile: 'legs.token' },
      dataDir: 'data',
      control: { host: '127.0.0.1', port: 0, tokenFile: 'control.token', ...control },
    };
    writeFileSync(file, JSON.stringify({ ...base, ...extra }));
    return file;
  }

  it('reads both tokens from their files; the link-fault injector is off unless "linkFaults": true', () => {
    const c = loadNodeConfig(config());
    expect(c.control.credential.source).toBe(controlToken);
    expect(c.legs.credential.source).toBe(legsToken);
    expect([c.linkFaults, c.control.tls]).toEqual([false, null]);
    expect(loadNodeConfig(config({ linkFaults: true })).linkFaults).toBe(true);
    // The token is never in the config object's printed form.
    expect(JSON.stringify(c)).not.toContain(Credential.fromFile(controlToken).headers().authorization!.slice(7));
  });

  it('refuses, naming the key: a missing or open token file, a non-loopback host without TLS, a non-boolean linkFaults', () => {
    const open = join(dir, 'open.token');
    Credential.createFile(open);
    chmodSync(open, 0o644);
    const cases: [string, RegExp][] = [
      [config({}, { tokenFile: undefined }), /key "control\.tokenFile": expected a non-empty string/],
      [config({}, { tokenFile: 'none.token' }), /key "control\.tokenFile": .*none\.token: no such token file/],
      [config({}, { tokenFile: 'open.token' }), /key "control\.tokenFile": .*open\.token: mode 644 lets others read it/],
      [config({ legs: { asset: 'http://x', payment: 'http://x' } }), /key "legs\.tokenFile": expected a non-empty string/],
      [config({}, { host: '0.0.0.0' }), /key "control\.host": expected a loopback address \(127\.0\.0\.1\), or "control\.tls": \{ certFile, keyFile \}/],
      [config({}, { colour: 'red' }), /key "control\.colour": expected no such key/],
      [config({ linkFaults: 'yes' }), /key "linkFaults": expected true or false/],
    ];
    for (const [file, message] of cases) {
      expect(() => loadNodeConfig(file), String(message)).toThrow(UsageError);
      expect(() => loadNodeConfig(file), String(message)).toThrow(message);
    }
    const tls = loadNodeConfig(config({}, { host: '0.0.0.0', tls: { certFile: 'cert.pem', keyFile: 'key.pem' } }));
    expect(tls.control.tls).toEqual({ certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') });
  });

  it('reads "protocol" (default 1) and the v2 parameters, the defaults for n filling in the rest', () => {
    expect(loadNodeConfig(config()).protocol).toEqual({ version: 1 });
    expect(loadNodeConfig(config({ protocol: 1 })).protocol).toEqual({ version: 1 });
    const c = loadNodeConfig(config({ protocol: 2, v2: { tickMs: 50, commitGuardMs: 8000 } }));
    expect(c.protocol).toEqual({ version: 2, v2: { tickMs: 50, commitGuardMs: 8000 } });
    if (c.protocol.version !== 2) throw new Error('expected protocol 2');
    expect(v2Params(c.protocol, 4)).toEqual({ ...defaultV2Params(4), tickMs: 50, commitGuardMs: 8000 });
    expect(v2Params({ version: 2, v2: {} }, 7)).toEqual(defaultV2Params(7));
  });

  it('refuses a bad protocol or bad v2 parameters, naming the key', () => {
    const cases: [string, RegExp][] = [
      [config({ protocol: 3 }), /key "protocol": expected 1 or 2/],
      [config({ protocol: '2' }), /key "protocol": expected 1 or 2/],
      [config({ v2: { tickMs: 100 } }), /key "v2": expected no "v2" parameters unless "protocol" is 2/],
      [config({ protocol: 2, v2: [] }), /key "v2": expected an object with some of tickMs, /],
      [config({ protocol: 2, v2: { tickMS: 100 } }), /key "v2\.tickMS": expected no such key \(allowed: tickMs, /],
      [config({ protocol: 2, v2: { tickMs: 1.5 } }), /key "v2\.tickMs": expected a non-negative integer/],
      [config({ protocol: 2, v2: { skewMaxMs: -1 } }), /key "v2\.skewMaxMs": expected a non-negative integer/],
    ];
    for (const [file, message] of cases) {
      expect(() => loadNodeConfig(file), String(message)).toThrow(UsageError);
      expect(() => loadNodeConfig(file), String(message)).toThrow(message);
    }
    // In the file's range but out of the v2 bounds: named once n is known (the cluster file), with v2ParamsProblem's text.
    const bounds: [Record<string, number>, RegExp][] = [
      [{ tickMs: 0 }, /^key "v2\.tickMs": tickMs must be an integer in 1\.\./],
      [{ skewMaxMs: 2500 }, /^key "v2\.skewMaxMs": skewMaxMs must be an integer in 0\.\.2499, got 2500/],
      [{ batchEntriesMax: 1000 }, /^key "v2\.batchEntriesMax": batchEntriesMax must be an integer in 1\.\.261, got 1000/],
      [{ openSettlementsMax: 100_000 }, /^key "v2\.openSettlementsMax": openSettlementsMax · tickMs \(10000000\) must be at most/],
    ];
    for (const [v2, message] of bounds) {
      const c = loadNodeConfig(config({ protocol: 2, v2 }));
      if (c.protocol.version !== 2) throw new Error('expected protocol 2');
      const choice = c.protocol;
      expect(() => v2Params(choice, 4), String(message)).toThrow(ConfigKeyError);
      expect(() => v2Params(choice, 4), String(message)).toThrow(message);
    }
  });
});
