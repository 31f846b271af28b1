import { createServer as createTcpServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeReport, encodeTerms, settlementId, toHex } from '@tandem/protocol';
import { TransientLegError } from '@tandem/legs';
import { legConformance } from '@tandem/legs/conformance';
import { Credential } from '@tandem/http';
import { type BankServer, type Row, type Sql, type SqlQueryable, BankRequestError, HttpBankAdapter, PgliteSql, startBankServer } from '../src/index.js';
import { type TestLedger, anchorFor, bankReport, bankTerms, freshLedger, paymentHarness, payerAuth } from './support.js';

let sql: Sql;
beforeAll(async () => {
  sql = await PgliteSql.open();
});
afterAll(async () => {
  await sql.close();
});

const TOKEN = Credential.generate();

/** A ledger behind a server on a free port, and a client for it. */
async function startBank(db: Sql = sql, protocol: 1 | 2 = 1): Promise<{ t: TestLedger; server: BankServer; client: HttpBankAdapter; errors: unknown[]; stop(): Promise<void> }> {
  const t = await freshLedger(db, 'http', { anchor: anchorFor(protocol) });
  const errors: unknown[] = [];
  const server = await startBankServer({ ledger: t.ledger, credential: TOKEN, onError: (e) => errors.push(e) });
  const client = new HttpBankAdapter({ url: server.url, credential: TOKEN });
  return {
    t,
    server,
    client,
    errors,
    stop: async () => {
      await server.close();
      await t.dispose();
    },
  };
}

legConformance(
  'HttpBankAdapter → bank server → PgBankLedger on PGlite',
  async (protocol) => {
    const { t, client, stop } = await startBank(sql, protocol);
    const io = { fund: client.fund.bind(client), balance: client.balance.bind(client), conservationProblem: () => t.ledger.conservationProblem(), close: stop };
    return paymentHarness(client, t.clock, io, anchorFor(protocol));
  },
  { v2: true },
);

describe('bank HTTP API', () => {
  let bank: Awaited<ReturnType<typeof startBank>>;
  afterEach(async () => {
    await bank.stop();
  });

  async function post(path: string, body: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${bank.server.url}${path}`, { method: 'POST', headers: TOKEN.headers({ 'content-type': contentType }), body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  /** GET with the token (`init` may add or override headers). */
  function get(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${bank.server.url}${path}`, { ...init, headers: { ...TOKEN.headers(), ...(init.headers as Record<string, string> | undefined) } });
  }

  it('opens and funds accounts, and shows balances, holds, settlements and history', async () => {
    bank = await startBank();
    const { client } = bank;
    expect(await client.createAccount('carol', 'EUR')).toEqual({ account: 'carol', currency: 'EUR', balance: 0n, held: 0n, available: 0n });
    expect(await client.fund('alice', 'USD', 1_000n)).toMatchObject({ balance: 1_000n, available: 1_000n });
    const terms = bankTerms('api', { amount: 300n });
    const id = settlementId(terms);
    expect(await client.prepare(terms, payerAuth(terms))).toEqual({ kind: 'locked' });
    expect(await client.account('alice', 'USD')).toEqual({ account: 'alice', currency: 'USD', balance: 1_000n, held: 300n, available: 700n });
    expect(await client.account('nobody', 'USD')).toMatchObject({ balance: 0n, available: 0n });
    const pending = await client.settlement(id);
    expect(pending).toMatchObject({ state: 'locked', appliedReport: null, rejectReason: null, transfer: { status: 'pending', amount: 300n, debitAccount: 'alice', creditAccount: 'bob' } });
    const commit = bankReport(terms, 'COMMIT');
    expect(await client.applyReport(commit)).toEqual({ kind: 'applied' });
    const posted = await client.settlement(id);
    expect(posted.transfer).toMatchObject({ id: pending.transfer!.id, status: 'posted' });
    expect(posted.appliedReport).toEqual(encodeReport(commit));
    expect((await client.accounts()).map((a) => [a.account, a.currency, a.available])).toEqual([
      ['alice', 'USD', 700n],
      ['bob', 'USD', 300n],
      ['carol', 'EUR', 0n],
    ]);
    const history = await client.history();
    expect(history.map((e) => e.kind)).toEqual(['mint', 'hold', 'post']);
    expect(history[2]).toMatchObject({ seq: 3, settlementIdHex: toHex(id), account: 'alice', counterparty: 'bob', amount: 300n, transferId: pending.transfer!.id });
    expect(await client.history({ afterSeq: 1n, limit: 1 })).toEqual([history[1]]);
    expect(await client.height()).toBe(3n);
    // The client's views equal the ledger's own.
    expect(await client.observe(id)).toEqual(await bank.t.ledger.observe(id));
    expect(await client.history()).toEqual(await bank.t.ledger.history());
  });

  it('answers malformed requests with 400 and a message naming the problem', async () => {
    bank = await startBank();
    const terms = bankTerms('bad');
    const commitHex = toHex(encodeReport(bankReport(terms, 'COMMIT')));
    const idHex = toHex(settlementId(terms));
    const cases: [string, string, RegExp][] = [
      ['/accounts/fund', 'not json', /body: not valid JSON/],
      ['/accounts/fund', '', /must be JSON/],
      ['/accounts/fund', '[]', /body: must be an object/],
      ['/accounts/fund', '{"account":"a","currency":"USD"}', /body\.amount: must be a string/],
      ['/accounts/fund', '{"account":"a","currency":"USD","amount":"-1"}', /body\.amount: must be a decimal/],
      ['/accounts/fund', '{"account":"a","currency":"USD","amount":"0"}', /amount must be an integer in 1\.\./],
      ['/accounts/fund', '{"account":"","currency":"USD","amount":"5"}', /account must be a non-empty string/],
      ['/accounts', '{"account":"a"}', /body\.currency: must be a string/],
      ['/holds', '{"terms":"zz","authorization":null}', /body\.terms: hex string has a non-hex/],
      ['/holds', '{"terms":"00","authorization":null}', /body\.terms: cannot decode/],
      ['/holds', `{"terms":"${toHex(encodeTerms(terms))}"}`, /body\.authorization: is required/],
      ['/holds', `{"terms":"${toHex(encodeTerms(terms))}","authorization":{"party":"alice"}}`, /body\.authorization\.signature/],
      ['/reports', '{"report":"abcd"}', /body\.report: cannot decode/],
      [`/holds/${idHex}/void`, `{"report":"${commitHex}"}`, /void takes a ABORT report/],
      [`/holds/${'00'.repeat(32)}/post`, `{"report":"${commitHex}"}`, /another settlement id/],
      ['/holds/1234/post', `{"report":"${commitHex}"}`, /settlement id must be 32 bytes/],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(path, body);
      expect(r.status, `${path} ${body}`).toBe(400);
      expect(String(r.json.error), `${path} ${body}`).toMatch(message);
    }
    expect(await bank.t.ledger.height()).toBe(0n); // nothing was written
    expect((await get('/balances?account=alice')).status).toBe(400);
    expect((await get('/history?limit=0')).status).toBe(400);
    expect((await get('/history?after=-1')).status).toBe(400);
  });

  it('answers hostile names and amounts with 400 naming the field, never 500 or database text', async () => {
    bank = await startBank();
    const fund = (account: string, amount = '5', currency = 'USD') => JSON.stringify({ account, currency, amount });
    const cases: [string, string, RegExp][] = [
      ['/accounts/fund', fund('a\u0000b'), /account must not contain NUL/],
      ['/accounts/fund', fund('a', '5', 'US\u0000D'), /currency must not contain NUL/],
      ['/accounts/fund', fund('\ud800'), /account is not valid Unicode/],
      ['/accounts/fund', fund('x'.repeat(300)), /account is longer than/],
      ['/accounts/fund', fund('a', (2n ** 256n).toString()), /amount must be an integer in 1\.\.2\^256-1/],
      ['/accounts/fund', fund('a', '1'.repeat(100)), /body\.amount: must be a decimal/],
      ['/accounts', JSON.stringify({ account: '\u0000', currency: 'USD' }), /account must not contain NUL/],
    ];
    for (const [path, body, message] of cases) {
      const r = await post(path, body);
      expect(r.status, body).toBe(400);
      expect(String(r.json.error), body).toMatch(message);
    }
    // A balance is a u256: a deposit that would pass 2^256-1 is refused, the balance unchanged.
    const max = 2n ** 256n - 1n;
    expect((await post('/accounts/fund', fund('whale', (max - 1n).toString()))).status).toBe(200);
    const over = await post('/accounts/fund', fund('whale', '2'));
    expect([over.status, over.json.error]).toEqual([400, 'amount: the balance of whale would pass 2^256-1']);
    expect((await bank.client.account('whale', 'USD')).balance).toBe(max - 1n);
    for (const query of ['account=a%00b&currency=USD', 'account=a&currency=%00']) {
      const res = await get(`/balances?${query}`);
      expect(res.status, query).toBe(400);
    }
    expect(bank.errors).toEqual([]);
  });

  it('401 without the token on every path, before routing; 415 for a body not declared JSON', async () => {
    bank = await startBank();
    for (const [path, init] of [
      ['/', {}],
      ['/accounts', {}],
      ['/history', {}],
      ['/accounts/fund', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: 'mallory', currency: 'USD', amount: '999999999999999999999' }) }],
      ['/nowhere', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'garbage' }],
    ] as const) {
      const res = await fetch(`${bank.server.url}${path}`, init as RequestInit);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ field: 'authorization' });
      const wrong = await fetch(`${bank.server.url}${path}`, { ...(init as RequestInit), headers: { ...(init as { headers?: Record<string, string> }).headers, ...Credential.generate().headers() } });
      expect(wrong.status, path).toBe(401);
    }
    const plain = await post('/accounts/fund', JSON.stringify({ account: 'a', currency: 'USD', amount: '5' }), 'text/plain');
    expect([plain.status, plain.json.field]).toEqual([415, 'content-type']);
    expect(await bank.t.ledger.height()).toBe(0n);
    const stranger = new HttpBankAdapter({ url: bank.server.url, credential: Credential.generate() });
    await expect(stranger.fund('mallory', 'USD', 5n)).rejects.toThrow(/\(401\): authorization/);
  });

  it('refuses 0.0.0.0 (or any non-loopback address) without TLS', async () => {
    const t = await freshLedger(sql, 'bind');
    try {
      await expect(startBankServer({ ledger: t.ledger, credential: TOKEN, host: '0.0.0.0' })).rejects.toThrow(/bank API: host 0\.0\.0\.0 is not a loopback address; serving beyond this machine needs TLS \(tls: \{ certFile, keyFile \}\)/);
    } finally {
      await t.dispose();
    }
  });

  it('answers 404, 405 and 413 where they apply', async () => {
    bank = await startBank();
    expect((await get('/nowhere')).status).toBe(404);
    expect((await post(`/holds/${'ab'.repeat(32)}/explode`, '{}')).status).toBe(404);
    const wrongMethod = await get('/holds');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await post(`/settlements/${'ab'.repeat(32)}`, '{}')).status).toBe(405);
    const huge = await post('/accounts/fund', JSON.stringify({ account: 'a'.repeat(1_100_000), currency: 'USD', amount: '1' }));
    expect(huge.status).toBe(413);
    // The client turns a 4xx into a BankRequestError (a bug on the caller's side, not an outage).
    await expect(bank.client.fund('alice', 'USD', 0n)).rejects.toBeInstanceOf(BankRequestError);
  });

  it('reports a database outage as 503, which the client turns into TransientLegError', async () => {
    const db = new SwitchableSql(sql);
    bank = await startBank(db);
    const terms = bankTerms('outage');
    await bank.client.fund('alice', 'USD', 500n);
    db.down = true;
    const res = await get('/balances?account=alice&currency=USD');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    // The database's own text is not passed on; the SQLSTATE is.
    expect(await res.json()).toEqual({ error: 'bank ledger unavailable (account, 08006)' });
    await expect(bank.client.prepare(terms, payerAuth(terms))).rejects.toBeInstanceOf(TransientLegError);
    await expect(bank.client.observe(settlementId(terms))).rejects.toBeInstanceOf(TransientLegError);
    await expect(bank.client.applyReport(bankReport(terms, 'ABORT'))).rejects.toBeInstanceOf(TransientLegError);
    await expect(bank.client.reclaim(settlementId(terms))).rejects.toBeInstanceOf(TransientLegError);
    // The outage changed nothing; once the database is back the same calls go through.
    db.down = false;
    expect((await bank.client.observe(settlementId(terms))).state).toBe('none');
    expect(await bank.client.prepare(terms, payerAuth(terms))).toEqual({ kind: 'locked' });
  });
});

describe('HttpBankAdapter without a reachable bank', () => {
  it('throws TransientLegError when nothing listens', async () => {
    const bank = await startBank();
    const url = bank.server.url;
    await bank.stop();
    const client = new HttpBankAdapter({ url, credential: TOKEN });
    const terms = bankTerms('down');
    await expect(client.prepare(terms, payerAuth(terms))).rejects.toBeInstanceOf(TransientLegError);
    await expect(client.applyReport(bankReport(terms, 'COMMIT'))).rejects.toBeInstanceOf(TransientLegError);
  });

  it('throws TransientLegError when the bank does not answer in time', async () => {
    // Accepts connections and never answers.
    const sockets: import('node:net').Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const client = new HttpBankAdapter({ url: `http://127.0.0.1:${port}`, credential: TOKEN, timeoutMs: 200 });
      await expect(client.observe(new Uint8Array(32))).rejects.toThrow(TransientLegError);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses a malformed report locally, as the ledger would', async () => {
    const client = new HttpBankAdapter({ url: 'http://127.0.0.1:9', credential: TOKEN }); // never contacted
    const r = bankReport(bankTerms('local'), 'COMMIT');
    expect(await client.applyReport({ ...r, signature: new Uint8Array(0) })).toEqual({ kind: 'refused', reason: 'malformed report: signature must be 48 bytes' });
  });
});

/** Delegates to a real Sql, or fails every call as a lost connection would (SQLSTATE 08006). */
class SwitchableSql implements Sql {
  readonly dialect: Sql['dialect'];
  down = false;

  constructor(private readonly inner: Sql) {
    this.dialect = inner.dialect;
  }

  private check(): void {
    if (this.down) throw Object.assign(new Error('connection failure (simulated)'), { code: '08006' });
  }

  async query(text: string, params?: readonly unknown[]): Promise<Row[]> {
    this.check();
    return this.inner.query(text, params);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    this.check();
    return this.inner.transaction(fn);
  }

  async exec(script: string): Promise<void> {
    this.check();
    return this.inner.exec(script);
  }

  async close(): Promise<void> {}
}
