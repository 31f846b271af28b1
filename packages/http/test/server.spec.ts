import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credential, type GuardedServer, HttpError, ServeError, readJsonBody, serveGuarded } from '../src/index.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** One raw request (node:http, so Host and other headers are exactly what the test says). */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean; ca?: Buffer } = {}): Promise<Answer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, ...(opts.ca ? { ca: opts.ca, servername: u.hostname } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) {
      if (opts.chunked) {
        req.setHeader('transfer-encoding', 'chunked');
        req.write(opts.body);
      } else req.write(opts.body);
    }
    req.end();
  });
}

const client = Credential.generate();
const admin = Credential.generate();
const auth = (c: Credential, extra: Record<string, string> = {}) => c.headers(extra);
const errors: unknown[] = [];
let server: GuardedServer;

beforeAll(async () => {
  server = await serveGuarded({ name: 'test API', host: '127.0.0.1', port: 0, roles: { client, admin }, bodyBytesMax: 1000, onError: (e) => errors.push(e) }, async (req, res, admitted) => {
    if (req.url === '/boom') throw new Error('relation "secret_table" does not exist');
    if (req.url === '/refuse') throw new HttpError(400, 'name: must not contain NUL', 'name');
    const body = await readJsonBody(req, admitted.bodyBytesMax);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ role: admitted.role, body: body ?? null }));
  });
});

afterAll(async () => {
  await server.close();
});

describe('the guard', () => {
  it('401 for any request without a valid token, whatever the path, before routing', async () => {
    const wrong = Credential.generate();
    for (const [path, method, headers, body] of [
      ['/', 'GET', {}, undefined],
      ['/boom', 'GET', {}, undefined],
      ['/anything/at/all?x=1', 'POST', { 'content-type': 'text/plain' }, 'garbage'],
      ['/', 'POST', auth(wrong, { 'content-type': 'application/json' }), '{}'],
      ['/', 'GET', { authorization: 'Basic dXNlcjpwYXNz' }, undefined],
      ['/', 'GET', { authorization: 'Bearer ' }, undefined],
    ] as const) {
      const r = await send(`${server.url}${path}`, { method, headers: { ...headers }, ...(body !== undefined ? { body } : {}) });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.body).toMatchObject({ field: 'authorization' });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(errors).toEqual([]);
  });

  it('admits each role with its own token and tells the handler which', async () => {
    expect((await send(`${server.url}/x`, { headers: auth(client) })).body).toEqual({ role: 'client', body: null });
    expect((await send(`${server.url}/x`, { headers: auth(admin) })).body).toEqual({ role: 'admin', body: null });
    const posted = await send(`${server.url}/x`, { method: 'POST', headers: auth(client, { 'content-type': 'application/json; charset=UTF-8' }), body: '{"a":1}' });
    expect(posted.body).toEqual({ role: 'client', body: { a: 1 } });
  });

  it('421 for a foreign Host (DNS rebinding), 403 for a foreign Origin; its own names pass', async () => {
    const port = server.port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1']) {
      const r = await send(`${server.url}/`, { headers: auth(client, { host }) });
      expect([r.status, r.body.field], host).toEqual([421, 'host']);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await send(`${server.url}/`, { headers: auth(client, { host }) })).status, host).toBe(200);
    }
    const foreign = await send(`${server.url}/`, { headers: auth(client, { origin: 'http://evil.example' }) });
    expect([foreign.status, foreign.body.field]).toEqual([403, 'origin']);
    expect((await send(`${server.url}/`, { headers: auth(client, { origin: `http://localhost:${port}` }) })).status).toBe(200);
  });

  it('415 for a body that is not declared application/json; 400 naming body for one that is not JSON', async () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonp']) {
      const r = await send(`${server.url}/`, { method: 'POST', headers: auth(client, type === undefined ? {} : { 'content-type': type }), body: '{}' });
      expect([r.status, r.body.field], String(type)).toEqual([415, 'content-type']);
    }
    const chunked = await send(`${server.url}/`, { method: 'POST', headers: auth(client, { 'content-type': 'text/plain' }), body: '{}', chunked: true });
    expect(chunked.status).toBe(415);
    const notJson = await send(`${server.url}/`, { method: 'POST', headers: auth(client, { 'content-type': 'application/json' }), body: '{"a":' });
    expect([notJson.status, notJson.body.field]).toEqual([400, 'body']);
    const notUtf8 = await send(`${server.url}/`, { method: 'POST', headers: auth(client, { 'content-type': 'application/json' }), body: Buffer.from([0x22, 0xff, 0x22]) });
    expect([notUtf8.status, notUtf8.body.error]).toEqual([400, 'body: not valid UTF-8']);
  });

  it('413 for a body over the bound, declared or chunked; the server keeps answering', async () => {
    const big = JSON.stringify({ a: 'x'.repeat(2000) });
    const declared = await send(`${server.url}/`, { method: 'POST', headers: auth(client, { 'content-type': 'application/json' }), body: big });
    expect([declared.status, declared.body.field]).toEqual([413, 'body']);
    const chunked = await send(`${server.url}/`, { method: 'POST', headers: auth(client, { 'content-type': 'application/json' }), body: big, chunked: true });
    expect([chunked.status, chunked.body.field]).toEqual([413, 'body']);
    expect((await send(`${server.url}/`, { headers: auth(client) })).status).toBe(200);
  });

  it('a handler failure is 500 without its text (reported to onError); an HttpError is answered as it says', async () => {
    const r = await send(`${server.url}/boom`, { headers: auth(client) });
    expect(r).toMatchObject({ status: 500, body: { error: 'internal error' } });
    expect(JSON.stringify(r.body)).not.toMatch(/secret_table/);
    expect(errors).toHaveLength(1);
    expect((await send(`${server.url}/refuse`, { headers: auth(client) })).body).toEqual({ error: 'name: must not contain NUL', field: 'name' });
  });

  it('malformed HTTP is 400', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('serveGuarded', () => {
  it('a client that sends its headers too slowly is cut off', async () => {
    const slow = await serveGuarded({ name: 'slow', host: '127.0.0.1', port: 0, roles: { client }, headersTimeoutMs: 200, requestTimeoutMs: 300 }, (_req, res) => res.end());
    try {
      const t0 = Date.now();
      const closedAfterMs = await new Promise<number>((resolve, reject) => {
        const socket = connect(slow.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n'));
        socket.on('data', () => {});
        socket.on('close', () => resolve(Date.now() - t0));
        socket.on('error', reject);
      });
      expect(closedAfterMs).toBeLessThan(5_000);
    } finally {
      await slow.close();
    }
  });

  it('refuses a non-loopback bind without TLS, naming the option; refuses no roles and shared tokens', async () => {
    const opts = { name: 'control API', host: '0.0.0.0', port: 0, roles: { client }, optionNames: { host: 'control.host', tls: 'control.tls' } };
    await expect(serveGuarded(opts, () => {})).rejects.toThrow(ServeError);
    await expect(serveGuarded(opts, () => {})).rejects.toThrow(/control\.host 0\.0\.0\.0 is not a loopback address; .*control\.tls: \{ certFile, keyFile \}/);
    await expect(serveGuarded({ ...opts, host: '127.0.0.1', roles: {} }, () => {})).rejects.toThrow(/no credential/);
    await expect(serveGuarded({ ...opts, host: '127.0.0.1', roles: { client: undefined as unknown as Credential } }, () => {})).rejects.toThrow(/the client role has no credential/);
    await expect(serveGuarded({ ...opts, host: '127.0.0.1', roles: { a: client, b: client } }, () => {})).rejects.toThrow(/share one token/);
    await expect(serveGuarded({ ...opts, tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }, () => {})).rejects.toThrow(/control\.tls\.certFile: cannot read \/nonexistent\/cert\.pem/);
  });

  it.skipIf(!existsSync('/usr/bin/openssl'))('with TLS it binds beyond loopback and checks the token and the allowed names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'));
    const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const s = await serveGuarded({ name: 'tls', host: '0.0.0.0', port: 0, roles: { client }, tls: { certFile, keyFile }, allowedHosts: ['localhost'] }, (_req, res) => res.end('{}'));
    try {
      expect(s.url).toMatch(/^https:\/\//);
      const ca = readFileSync(certFile);
      const url = `https://localhost:${s.port}/`;
      expect((await send(url, { ca })).status).toBe(401);
      expect((await send(url, { ca, headers: auth(client) })).status).toBe(200);
      expect((await send(url, { ca, headers: auth(client, { host: `example.com:${s.port}` }) })).status).toBe(421);
    } finally {
      await s.close();
    }
  });
});
