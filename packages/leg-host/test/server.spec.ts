import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type createServer } from 'node:http';
import { connect } from 'node:net';
import { type Terms, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { type LegAdapter, MemoryBankLedger, TransientLegError } from '@tandem/legs';
import { authorize, signReport } from '@tandem/legs/fixture';
import { Credential } from '@tandem/http';
import {
  type MemoryLegHost,
  EVENTS_PAGE_MAX,
  HttpLegAdapter,
  LegHostAdminClient,
  prepareRequestToJson,
  serveLegs,
  startMemoryLegHost,
} from '../src/index.js';
import { ADMIN, ASSET_VENUE, BANK_VENUE, CREDENTIALS, LEGS, START_MS, TIMEOUT_MS, closedPortUrl, fx, post, raw, stub } from './support.js';

function dvpTerms(nonce: string, amount = 100n): Terms {
  return {
    nonce,
    asset: { ...ASSET_VENUE, token: 'OUSG', seller: 'alice', buyer: 'bob', amount },
    payment: { ...BANK_VENUE, payer: 'bob', payee: 'alice', currency: 'USD', amount },
    deadlineMs: START_MS + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

const T1 = dvpTerms('t1');
const ID1 = settlementId(T1);
const BOB_AUTH = authorize('bob', fx.partySecretKeys.get('bob')!, fx.anchor.networkId, ID1);
const ALICE_AUTH = authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, ID1);
const COMMIT1 = signReport(fx.dealer, { networkId: fx.anchor.networkId, configDigest: fx.anchor.configDigest, settlementId: ID1, decision: 'COMMIT', round: 0, validUntilMs: validUntilMs(T1) });

describe('leg host over HTTP', () => {
  const clock = { nowMs: START_MS };
  let host: MemoryLegHost;
  let admin: LegHostAdminClient;
  let asset: HttpLegAdapter;
  let payment: HttpLegAdapter;

  beforeEach(async () => {
    clock.nowMs = START_MS;
    host = await startMemoryLegHost({ anchor: fx.anchor, parties: fx.partyPublicKeys, assetVenue: ASSET_VENUE, bankVenue: BANK_VENUE, credentials: CREDENTIALS, port: 0, clock: () => clock.nowMs });
    admin = new LegHostAdminClient({ url: host.url, credential: ADMIN, timeoutMs: TIMEOUT_MS });
    asset = new HttpLegAdapter({ url: host.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
    payment = new HttpLegAdapter({ url: host.url, leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
  });

  afterEach(async () => {
    await host.close();
  });

  describe('credentials', () => {
    it('401 without a valid token on every path, before routing: nothing reaches a leg', async () => {
      const stranger = Credential.generate();
      const requests: [string, RequestInit][] = [
        ['/', {}],
        ['/nowhere', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'garbage' }],
        [`/legs/payment/prepare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(prepareRequestToJson(T1, BOB_AUTH)) }],
        ['/admin/mint', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ leg: 'payment', account: 'mallory', unit: 'USD', amount: '999999999999999999999' }) }],
        ['/admin/balances?leg=payment', {}],
      ];
      for (const [path, init] of requests) {
        for (const authorization of [undefined, stranger.headers().authorization!, 'Bearer', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
          const res = await fetch(`${host.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(authorization !== undefined ? { authorization } : {}) } });
          expect(res.status, `${path} ${authorization}`).toBe(401);
          expect(await res.json()).toMatchObject({ field: 'authorization' });
        }
      }
      expect(host.bank.events()).toEqual([]);
      const unauthenticated = new LegHostAdminClient({ url: host.url, credential: stranger, timeoutMs: TIMEOUT_MS });
      await expect(unauthenticated.mint('payment', 'mallory', 'USD', 5n)).rejects.toThrow(/401: authorization/);
    });

    it('each token opens its own routes only: the nodes\' token cannot mint, the admin token cannot prepare', async () => {
      const mint = await fetch(`${host.url}/admin/mint`, { method: 'POST', headers: LEGS.headers({ 'content-type': 'application/json' }), body: JSON.stringify({ leg: 'payment', account: 'bob', unit: 'USD', amount: '5' }) });
      expect([mint.status, ((await mint.json()) as { field: string }).field]).toEqual([403, 'authorization']);
      const prepare = await fetch(`${host.url}/legs/payment/prepare`, { method: 'POST', headers: ADMIN.headers({ 'content-type': 'application/json' }), body: JSON.stringify(prepareRequestToJson(T1, BOB_AUTH)) });
      expect(prepare.status).toBe(403);
      // Percent-encoding the path does not change which routes a token opens.
      expect((await raw(`${host.url}/%61dmin/balances?leg=payment`, { headers: LEGS.headers() })).status).toBe(403);
      expect(host.bank.events()).toEqual([]);
    });

    it('a body not declared JSON is 415, before it reaches a leg', async () => {
      const r = await raw(`${host.url}/legs/payment/prepare`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(prepareRequestToJson(T1, BOB_AUTH)) });
      expect([r.status, r.body.field]).toEqual([415, 'content-type']);
      expect(host.bank.events()).toEqual([]);
    });
  });

  describe('malformed requests get 400 naming the field', () => {
    const good = () => prepareRequestToJson(T1, BOB_AUTH);

    it('prepare: terms, authorization, unknown keys, non-JSON and empty bodies', async () => {
      const url = `${host.url}/legs/payment/prepare`;
      const cases: [unknown, string][] = [
        [{ ...good(), terms: 'not hex' }, 'terms'],
        [{ ...good(), terms: good().terms.slice(0, 50) }, 'terms'],
        [{ ...good(), authorization: { party: 'bob', signature: 5 } }, 'authorization.signature'],
        [{ ...good(), authorization: { party: 'bob' } }, 'authorization.signature'],
        [{ terms: good().terms }, 'authorization'],
        [{ ...good(), extra: true }, 'extra'],
        ['{"terms": ', 'body'],
        [[1, 2], ''],
      ];
      for (const [body, field] of cases) {
        const r = await post(url, body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.field, JSON.stringify(body)).toBe(field);
        expect(typeof r.body.error).toBe('string');
      }
      const empty = await raw(url, { method: 'POST' });
      expect([empty.status, empty.body.field]).toEqual([400, '']);
      // None of it reached the leg.
      expect(host.bank.events()).toEqual([]);
    });

    it('observe, apply and reclaim: settlement ids and reports', async () => {
      const bad = await raw(`${host.url}/legs/asset/settlements/abcd`);
      expect([bad.status, bad.body.field]).toEqual([400, 'settlementId']);
      const apply = await post(`${host.url}/legs/asset/apply`, { report: '00'.repeat(174) });
      expect([apply.status, apply.body.field]).toEqual([400, 'report']);
      expect(String(apply.body.error)).toMatch(/report\.version/);
      const reclaim = await post(`${host.url}/legs/asset/settlements/${toHex(ID1)}/reclaim`, { please: 1 });
      expect([reclaim.status, reclaim.body.field]).toEqual([400, 'please']);
      const pct = await raw(`${host.url}/legs/asset/settlements/%E0%A4%A`);
      expect(pct.status).toBe(400);
    });

    it('a body over the limit gets 413, and the server keeps answering', async () => {
      const r = await post(`${host.url}/legs/payment/prepare`, { terms: 'ab'.repeat(40_000), authorization: null });
      expect(r.status).toBe(413);
      expect((await payment.observe(ID1)).state).toBe('none');
    });

    it('malformed HTTP gets 400, and the server keeps answering', async () => {
      const port = Number(new URL(host.url).port);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
      expect((await asset.observe(ID1)).state).toBe('none');
    });
  });

  describe('routes', () => {
    it('unknown routes and legs are 404, a wrong method is 405', async () => {
      expect((await raw(`${host.url}/`)).status).toBe(404);
      expect((await raw(`${host.url}/legs/asset`)).status).toBe(404);
      expect((await raw(`${host.url}/legs/asset/settlements/${toHex(ID1)}/explode`, { method: 'POST' })).status).toBe(404);
      expect((await raw(`${host.url}/legs/chain/settlements/${toHex(ID1)}`)).status).toBe(404);
      expect((await raw(`${host.url}/admin/nothing`)).status).toBe(404);
      const wrong = await raw(`${host.url}/legs/asset/prepare`);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
    });

    it('a trailing slash names the same route', async () => {
      const r = await raw(`${host.url}/legs/asset/settlements/${toHex(ID1)}/`);
      expect([r.status, r.body.state, r.body.finalityHeight]).toEqual([200, 'none', '0']);
    });

    it('a leg the host does not serve is 404; without an admin there are no admin routes', async () => {
      const bank = new MemoryBankLedger({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => START_MS, venue: BANK_VENUE });
      const only = await serveLegs({ payment: bank }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS } });
      try {
        const r = await raw(`${only.url}/legs/asset/settlements/${toHex(ID1)}`);
        expect(r.status).toBe(404);
        expect(String(r.body.error)).toMatch(/does not serve the asset leg/);
        // Without an admin there is no admin role either: the admin token is a stranger here.
        expect((await raw(`${only.url}/admin/balances?leg=payment`)).status).toBe(401);
        expect((await raw(`${only.url}/admin/balances?leg=payment`, { headers: LEGS.headers() })).status).toBe(404);
        const p = new HttpLegAdapter({ url: only.url, leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
        expect((await p.observe(ID1)).state).toBe('none');
        // The client treats a 404 as a configuration error, not an outage.
        const a = new HttpLegAdapter({ url: only.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
        const e = await a.observe(ID1).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(TransientLegError);
      } finally {
        await only.close();
      }
    });

    it('serveLegs refuses a mismatched adapter, an admin API without its token, and a bind off loopback without TLS', async () => {
      const bank = new MemoryBankLedger({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => START_MS, venue: BANK_VENUE });
      await expect(serveLegs({ asset: bank }, { host: '127.0.0.1', port: 0, credentials: CREDENTIALS })).rejects.toThrow(/asset adapter is a payment leg/);
      await expect(serveLegs({ payment: bank }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS }, admin: host.admin })).rejects.toThrow(/needs credentials\.admin/);
      await expect(serveLegs({ payment: bank }, { host: '0.0.0.0', port: 0, credentials: CREDENTIALS, admin: host.admin })).rejects.toThrow(/0\.0\.0\.0 is not a loopback address; .*TLS/);
      await expect(serveLegs({ payment: bank }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS, admin: LEGS }, admin: host.admin })).rejects.toThrow(/share one token/);
    });

    it('an adapter failing unexpectedly is a 500 without its text, reported to onError; the server survives', async () => {
      const errors: unknown[] = [];
      const broken: LegAdapter = {
        leg: 'asset',
        prepare: () => Promise.reject(new Error('boom')),
        observe: () => Promise.reject(new Error('relation "holds" does not exist')),
        applyReport: () => Promise.reject(new Error('boom')),
        reclaim: () => Promise.reject(new Error('boom')),
      };
      const s = await serveLegs({ asset: broken }, { host: '127.0.0.1', port: 0, credentials: { legs: LEGS }, onError: (e) => errors.push(e) });
      try {
        const r = await raw(`${s.url}/legs/asset/settlements/${toHex(ID1)}`);
        expect(r.status).toBe(500);
        expect(r.body).toEqual({ error: 'internal error' });
        expect(errors).toHaveLength(1);
        expect(String(errors[0])).toMatch(/relation "holds"/);
        const client = new HttpLegAdapter({ url: s.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
        const e = await client.observe(ID1).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(TransientLegError);
        expect(errors).toHaveLength(2);
      } finally {
        await s.close();
      }
    });
  });

  describe('leg faults through the admin API', () => {
    it('an unavailable leg answers 503, which the client throws as TransientLegError; it recovers at the given time', async () => {
      await admin.mint('payment', 'bob', 'USD', 1000n);
      const state = await admin.setFault('payment', { kind: 'unavailable', untilMs: START_MS + 5_000 });
      expect(state.unavailableUntilMs).toBe(START_MS + 5_000);
      const r = await raw(`${host.url}/legs/payment/settlements/${toHex(ID1)}`);
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      await expect(payment.prepare(T1, BOB_AUTH)).rejects.toBeInstanceOf(TransientLegError);
      await expect(payment.observe(ID1)).rejects.toBeInstanceOf(TransientLegError);
      // The other leg is not affected.
      expect((await asset.observe(ID1)).state).toBe('none');
      clock.nowMs = START_MS + 5_000;
      expect(await payment.prepare(T1, BOB_AUTH)).toEqual({ kind: 'locked' });
      expect((await admin.faults('payment')).unavailableUntilMs).toBeNull();
    });

    it('fail-apply makes the next N applies transient, then the report applies', async () => {
      await admin.mint('payment', 'bob', 'USD', 1000n);
      expect(await payment.prepare(T1, BOB_AUTH)).toEqual({ kind: 'locked' });
      const state = await admin.setFault('payment', { kind: 'fail-apply', settlementId: ID1, times: 2 });
      expect(state.failApply).toEqual([{ settlementId: toHex(ID1), timesLeft: 2 }]);
      await expect(payment.applyReport(COMMIT1)).rejects.toBeInstanceOf(TransientLegError);
      expect((await admin.faults('payment')).failApply).toEqual([{ settlementId: toHex(ID1), timesLeft: 1 }]);
      await expect(payment.applyReport(COMMIT1)).rejects.toBeInstanceOf(TransientLegError);
      expect((await payment.observe(ID1)).state).toBe('locked');
      expect(await payment.applyReport(COMMIT1)).toEqual({ kind: 'applied' });
      expect((await payment.observe(ID1)).state).toBe('committed');
      expect((await admin.faults('payment')).failApply).toEqual([]);
    });

    it('reject-prepare refuses the settlement durably; clear removes every fault', async () => {
      await admin.mint('asset', 'alice', 'OUSG', 1000n);
      await admin.setFault('asset', { kind: 'reject-prepare', settlementId: ID1 });
      await admin.setFault('asset', { kind: 'unavailable', untilMs: START_MS - 1 }); // already over
      const before = await admin.faults('asset');
      expect(before).toEqual({ rejectPrepare: [toHex(ID1)], failApply: [], unavailableUntilMs: null });
      const outcome = await asset.prepare(T1, ALICE_AUTH);
      expect(outcome).toEqual({ kind: 'rejected', reason: 'refused by policy' });
      expect((await asset.observe(ID1)).state).toBe('rejected');
      const cleared = await admin.setFault('asset', { kind: 'clear' });
      expect(cleared).toEqual({ rejectPrepare: [], failApply: [], unavailableUntilMs: null });
      // Rejection is final for the id even after the fault is gone.
      expect((await asset.prepare(T1, ALICE_AUTH)).kind).toBe('closed');
      expect(await admin.balance('asset', 'alice', 'OUSG')).toBe(1000n);
    });
  });

  describe('admin API', () => {
    it('mints, lists balances (holds excluded) and pages through events', async () => {
      await admin.mint('payment', 'bob', 'USD', 1000n);
      await admin.mint('payment', 'carol', 'USD', 5n);
      await admin.mint('asset', 'alice', 'OUSG', 100n);
      expect(await payment.prepare(T1, BOB_AUTH)).toEqual({ kind: 'locked' });
      const b = await admin.balances('payment');
      expect(b.balances).toEqual([
        { account: 'bob', unit: 'USD', amount: 900n },
        { account: 'carol', unit: 'USD', amount: 5n },
      ]);
      expect(b.height).toBe(3n);
      expect(b.conservationProblem).toBeNull();
      expect((await admin.balances('asset')).balances).toEqual([{ account: 'alice', unit: 'OUSG', amount: 100n }]);

      const all = await admin.events('payment');
      expect(all.height).toBe(3);
      expect(all.events.map((e) => [e.seq, e.kind])).toEqual([[1, 'mint'], [2, 'mint'], [3, 'hold']]);
      expect(all.events[0]).toEqual(host.bank.events()[0]);
      expect(all.events[2]).toMatchObject({ settlementIdHex: toHex(ID1), account: 'bob', unit: 'USD', amount: 100n, atMs: START_MS });
      const page = await admin.events('payment', 1, 1);
      expect(page.events.map((e) => e.seq)).toEqual([2]);
      expect((await admin.events('payment', 3)).events).toEqual([]);
    });

    it('refuses bad admin input with 400 naming the field', async () => {
      const cases: [string, RequestInit, string][] = [
        ['/admin/mint', { method: 'POST', body: JSON.stringify({ leg: 'payment', account: 'bob', unit: 'USD', amount: '-5' }) }, 'amount'],
        ['/admin/mint', { method: 'POST', body: JSON.stringify({ leg: 'payment', account: 'bob', unit: 'USD', amount: 5 }) }, 'amount'],
        ['/admin/mint', { method: 'POST', body: JSON.stringify({ leg: 'payment', account: 'bob', amount: '5' }) }, 'unit'],
        ['/admin/balances?leg=chain', {}, 'leg'],
        ['/admin/balances', {}, 'leg'],
        ['/admin/balances?leg=asset&leg=payment', {}, 'leg'],
        ['/admin/events?leg=asset&since=-1', {}, 'since'],
        ['/admin/events?leg=asset&limit=0', {}, 'limit'],
        [`/admin/events?leg=asset&limit=${EVENTS_PAGE_MAX + 1}`, {}, 'limit'],
        ['/admin/events?leg=asset&color=red', {}, 'color'],
        ['/admin/faults', { method: 'POST', body: JSON.stringify({ leg: 'asset', fault: 'unavailable' }) }, 'untilMs'],
        ['/admin/faults', { method: 'POST', body: JSON.stringify({ leg: 'asset', fault: 'reject-prepare', settlementId: 'ab' }) }, 'settlementId'],
      ];
      for (const [path, init, field] of cases) {
        const r = await raw(`${host.url}${path}`, init);
        expect([r.status, r.body.field], path).toEqual([400, field]);
      }
      expect(host.bank.events()).toEqual([]);
      // The admin client surfaces refusals as errors carrying the host's message.
      await expect(admin.mint('payment', '', 'USD', 5n)).rejects.toThrow(/400: account: must not be empty/);
    });

    it('the admin API keeps working while a leg is unavailable', async () => {
      await admin.setFault('asset', { kind: 'unavailable', untilMs: START_MS + 1_000 });
      await admin.mint('asset', 'alice', 'OUSG', 7n);
      expect(await admin.balance('asset', 'alice', 'OUSG')).toBe(7n);
    });
  });

  describe('client-side answers that need no host', () => {
    it('a malformed report is refused and terms that do not encode are rejected, without a request', async () => {
      const offline = new HttpLegAdapter({ url: await closedPortUrl(), leg: 'payment', credential: LEGS, timeoutMs: TIMEOUT_MS });
      expect(await offline.applyReport({ ...COMMIT1, signature: new Uint8Array(0) })).toEqual({ kind: 'refused', reason: 'malformed report: signature must be 48 bytes' });
      expect((await offline.applyReport({ ...COMMIT1, decision: 'MAYBE' as 'COMMIT' })).kind).toBe('refused');
      const zero = { ...T1, payment: { ...T1.payment, amount: 0n } };
      expect((await offline.prepare(zero, BOB_AUTH)).kind).toBe('rejected');
      // A well-formed call does go out, and fails as an outage.
      await expect(offline.observe(ID1)).rejects.toBeInstanceOf(TransientLegError);
      // A settlement id of the wrong length is a programming error.
      await expect(offline.observe(new Uint8Array(31))).rejects.toThrow(/32 bytes/);
    });
  });
});

describe('HttpLegAdapter error mapping', () => {
  let stubs: { close: () => Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(stubs.map((s) => s.close()));
    stubs = [];
  });

  async function stubbed(handler: Parameters<typeof createServer>[1], timeoutMs = TIMEOUT_MS): Promise<HttpLegAdapter> {
    const s = await stub(handler);
    stubs.push(s);
    return new HttpLegAdapter({ url: s.url, leg: 'asset', credential: LEGS, timeoutMs });
  }

  function answering(status: number, body: string): Parameters<typeof createServer>[1] {
    return (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
  }

  it('connection refused is transient', async () => {
    const a = new HttpLegAdapter({ url: await closedPortUrl(), leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS });
    const e = await a.prepare(T1, ALICE_AUTH).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransientLegError);
    expect(String((e as Error).message)).toMatch(/ECONNREFUSED/);
  });

  it('no answer within the timeout is transient, and does not wait much longer', async () => {
    const a = await stubbed(() => {
      /* never answers */
    }, 200);
    const started = Date.now();
    const e = await a.observe(ID1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransientLegError);
    expect(String((e as Error).message)).toMatch(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a connection reset mid-answer is transient', async () => {
    const a = await stubbed((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"state":');
      setTimeout(() => res.destroy(), 20);
    });
    await expect(a.observe(ID1)).rejects.toBeInstanceOf(TransientLegError);
  });

  it('502, 503 and 504 are transient; 400, 404 and 500 are errors', async () => {
    for (const status of [502, 503, 504]) {
      const a = await stubbed(answering(status, JSON.stringify({ error: 'down for now' })));
      const e = await a.reclaim(ID1).catch((x: unknown) => x);
      expect(e, String(status)).toBeInstanceOf(TransientLegError);
      expect((e as Error).message).toMatch(/down for now/);
    }
    for (const status of [400, 404, 500]) {
      const a = await stubbed(answering(status, JSON.stringify({ error: 'your fault', field: 'terms' })));
      const e = await a.prepare(T1, ALICE_AUTH).catch((x: unknown) => x);
      expect(e, String(status)).toBeInstanceOf(Error);
      expect(e, String(status)).not.toBeInstanceOf(TransientLegError);
      expect((e as Error).message).toMatch(/your fault/);
    }
  });

  it('a 200 that does not decode strictly is an error naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['{"state":"locked","finalityHeight":3,"lock":null}', /finalityHeight/],
      ['{"state":"none","finalityHeight":"0","lock":null,"x":1}', /x: unknown key/],
      ['not json', /malformed answer/],
    ];
    for (const [body, pattern] of cases) {
      const a = await stubbed(answering(200, body));
      const e = await a.observe(ID1).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(e).not.toBeInstanceOf(TransientLegError);
      expect((e as Error).message).toMatch(pattern);
    }
  });

  it('an answer over the size limit is an error', async () => {
    const s = await stub(answering(200, JSON.stringify({ kind: 'refused', reason: 'x'.repeat(5000) })));
    stubs.push(s);
    const a = new HttpLegAdapter({ url: s.url, leg: 'asset', credential: LEGS, timeoutMs: TIMEOUT_MS, responseLimitBytes: 1000 });
    await expect(a.reclaim(ID1)).rejects.toThrow(/limit/);
  });

  it('refuses bad options', () => {
    expect(() => new HttpLegAdapter({ url: 'ftp://x', leg: 'asset', credential: LEGS, timeoutMs: 1 })).toThrow(/http/);
    expect(() => new HttpLegAdapter({ url: 'http://127.0.0.1:1', leg: 'asset', credential: LEGS, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new HttpLegAdapter({ url: 'http://127.0.0.1:1', leg: 'chain' as 'asset', credential: LEGS, timeoutMs: 1 })).toThrow(/leg/);
  });
});
