/**
 * No one in: a `tandem cluster up` (real processes, in-memory legs) whose every listener answers
 * 401 to a request without its token, whatever the path, while the `tandem` commands (which read
 * DIR/secrets) still work; the link-fault injector does not exist on such a node; bad input gets
 * a 4xx naming the field, never a 500. Needs the built dist (pnpm test builds first).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterCredentials, clusterCredentials, clusterDown, tokenFile } from '@tandem/devnet';
import { tandem } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-cluster-auth-'));
const ZERO_ID = '00'.repeat(32);
type Credential = ClusterCredentials['control'];


interface Endpoint {
  readonly name: string;
  readonly url: string;
}

let endpoints: Endpoint[] = [];

async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const json = (body: unknown, credential?: Credential): RequestInit => {
  const headers = { 'content-type': 'application/json' };
  return { method: 'POST', headers: credential === undefined ? headers : credential.headers(headers), body: typeof body === 'string' ? body : JSON.stringify(body) };
};

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))('a cluster up: every listener needs its token', () => {
  beforeAll(async () => {
    const up = await tandem('cluster', 'up', '--dir', dir, '--legs', 'memory', '--nodes', '4');
    expect(up.code, up.err).toBe(0);
    const status = await tandem('cluster', 'status', '--dir', dir, '--json');
    expect(status.code, status.err).toBe(0);
    endpoints = (JSON.parse(status.out) as { endpoints: Endpoint[] }).endpoints;
  }, 90_000);

  afterAll(async () => {
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
  }, 30_000);

  it('cluster up wrote one token per role, mode 0600, in a directory of mode 0700', () => {
    expect(readdirSync(join(dir, 'secrets')).sort()).toEqual(['admin.token', 'control.token', 'legs.token']);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    for (const role of ['control', 'legs', 'admin'] as const) expect(statSync(tokenFile(dir, role)).mode & 0o777).toBe(0o600);
  });

  it('status --json lists every listener that needs a credential: the four control APIs and the leg host', () => {
    expect(endpoints.map((e) => e.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'leghost']);
    for (const e of endpoints) expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('every endpoint answers 401 without a valid token, on any path: GET /, garbage, valid routes', async () => {
    const stranger = `Bearer ${randomBytes(32).toString('hex')}`;
    for (const e of endpoints) {
      const valid: [string, RequestInit][] =
        e.name === 'leghost'
          ? [
              [`/legs/asset/settlements/${ZERO_ID}`, {}],
              ['/admin/balances?leg=payment', {}],
              ['/admin/mint', json({ leg: 'payment', account: 'mallory', unit: 'USD', amount: '999999999999999999999' })],
            ]
          : [
              ['/status', {}],
              ['/settlements', {}],
              ['/faults/links', json({ block: [1, 2, 3, 4] })],
            ];
      const requests: [string, RequestInit][] = [['/', {}], ['/x', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '\u0000garbage' }], ['/', json('{not json')], ...valid];
      for (const [path, init] of requests) {
        for (const authorization of [undefined, stranger, 'Bearer ', 'Basic YWRtaW46YWRtaW4=']) {
          const headers = { ...(init.headers as Record<string, string> | undefined), ...(authorization !== undefined ? { authorization } : {}) };
          const r = await request(`${e.url}${path}`, { ...init, headers });
          expect([r.status, r.body.field], `${e.name} ${init.method ?? 'GET'} ${path} ${authorization ?? '(none)'}`).toEqual([401, 'authorization']);
        }
      }
    }
    // Nothing got through: mallory was never funded.
    const admin = clusterCredentials(dir).admin;
    const leghost = endpoints.find((e) => e.name === 'leghost')!;
    const balances = await request(`${leghost.url}/admin/balances?leg=payment`, { headers: admin.headers() });
    expect(JSON.stringify(balances.body)).not.toContain('mallory');
  });

  it('the nodes\' token does not open the admin routes, nor the operators\' the leg routes', async () => {
    const { legs, admin, control } = clusterCredentials(dir);
    const leghost = endpoints.find((e) => e.name === 'leghost')!;
    expect((await request(`${leghost.url}/admin/mint`, json({ leg: 'payment', account: 'bob', unit: 'USD', amount: '5' }, legs))).status).toBe(403);
    expect((await request(`${leghost.url}/legs/asset/settlements/${ZERO_ID}`, { headers: admin.headers() })).status).toBe(403);
    expect((await request(`${leghost.url}/legs/asset/settlements/${ZERO_ID}`, { headers: control.headers() })).status).toBe(401);
    expect((await request(`${endpoints[0]!.url}/status`, { headers: legs.headers() })).status).toBe(401);
  });

  it('the link-fault injector answers 404 on a cluster up node (after auth)', async () => {
    const control = clusterCredentials(dir).control;
    for (const e of endpoints.filter((x) => x.name !== 'leghost')) {
      const r = await request(`${e.url}/faults/links`, json({ block: [1, 2, 3, 4] }, control));
      expect(r.status, e.name).toBe(404);
    }
  });

  it('authenticated tandem settle still commits', async () => {
    const r = await tandem('settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '20s', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
  }, 60_000);

  it('bad input gets 4xx naming the field, never 500 or a stack trace', async () => {
    const { control, admin, legs } = clusterCredentials(dir);
    const node = endpoints[0]!.url;
    const leghost = endpoints.find((e) => e.name === 'leghost')!.url;
    const big = 'a'.repeat(100_000);
    const cases: [string, RequestInit, number, string][] = [
      [`${node}/intents`, json('{"terms":', control), 400, 'body: not valid JSON'],
      [`${node}/intents`, json({ terms: big }, control), 413, 'body: larger than'],
      [`${node}/intents`, json({ terms: 'zz' }, control), 400, 'terms: '],
      [`${node}/intents`, { method: 'POST', headers: control.headers({ 'content-type': 'text/plain' }), body: '{}' }, 415, 'content-type: '],
      [`${leghost}/admin/mint`, json({ leg: 'payment', account: 'a\u0000b', unit: 'USD', amount: '5' }, admin), 400, 'account: must not contain NUL'],
      [`${leghost}/admin/mint`, json({ leg: 'payment', account: 'a\ud800', unit: 'USD', amount: '5' }, admin), 400, 'account: string has a lone UTF-16 surrogate'],
      [`${leghost}/admin/mint`, json({ leg: 'asset', account: 'alice', unit: 'OUSG', amount: (2n ** 256n).toString() }, admin), 400, 'amount: '],
      [`${leghost}/admin/mint`, json({ leg: 'asset', account: 'alice', unit: 'OUSG', amount: (2n ** 256n - 1n).toString() }, admin), 400, "amount: the asset leg's total of OUSG would pass 2^256-1"],
      [`${leghost}/legs/payment/prepare`, json('not json', legs), 400, 'body: not valid JSON'],
      [`${leghost}/legs/payment/prepare`, json({ terms: big, authorization: null }, legs), 413, 'body: larger than'],
    ];
    for (const [url, init, status, message] of cases) {
      const r = await request(url, init);
      expect(r.status, `${url} ${String(init.body).slice(0, 60)}`).toBe(status);
      expect(String(r.body.error), url).toContain(message);
    }
  });

  it('a token file others can read is refused by the commands: exit 2 naming it, no stack trace', async () => {
    const file = tokenFile(dir, 'control');
    chmodSync(file, 0o644);
    try {
      const r = await tandem('cluster', 'status', '--dir', dir);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`tandem: ${file}: mode 644 lets others read it: chmod 600 ${file} (the cluster's control token; cluster up writes it)\n`);
    } finally {
      chmodSync(file, 0o600);
    }
  });
});
