/**
 * The runnable entry (`node packages/leg-host/dist/main.js --config FILE`) and its config file.
 * The process tests run the built dist, so beforeAll builds this package (and, incrementally,
 * what it depends on) first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Terms, reportTreeMultiproof, settlementId, toHex } from '@tandem/protocol';
import { authorize, createLegFixture, signReport } from '@tandem/legs/fixture';
import { Credential } from '@tandem/http';
import { ConfigError, HttpLegAdapter, LegHostAdminClient, loadLegHostConfig } from '../src/index.js';
import { fx as v2, reportOf } from './support.js';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_DIR = resolve(PACKAGE_DIR, '../..');
const MAIN_JS = join(PACKAGE_DIR, 'dist/main.js');
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;

const fx = createLegFixture('leg-host/main-spec');
const ESCROW_HEX = 'ab'.repeat(20);

let dir: string;

/** Writes the files a leg host reads; returns the config path. `config` overrides config keys. */
function writeFiles(name: string, config: Record<string, unknown> = {}, cluster: Record<string, unknown> = {}): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'cluster.json'),
    JSON.stringify({
      version: 1,
      network: 'main-spec',
      networkId: toHex(fx.anchor.networkId),
      n: 4,
      t: 3,
      members: [],
      commitments: fx.dealer.commitments.map(toHex),
      groupPublicKey: toHex(fx.anchor.groupPublicKey),
      configDigest: toHex(fx.anchor.configDigest),
      ...cluster,
    }),
  );
  writeFileSync(join(d, 'parties.json'), JSON.stringify(Object.fromEntries([...fx.partyPublicKeys].map(([p, k]) => [p, toHex(k)]))));
  Credential.ensureFile(join(d, 'legs.token'));
  Credential.ensureFile(join(d, 'admin.token'));
  const path = join(d, 'leg-host.json');
  const tokens = { legs: 'legs.token', admin: 'admin.token' };
  writeFileSync(
    path,
    JSON.stringify({ cluster: 'cluster.json', parties: 'parties.json', asset: { chainId: '31337', escrow: ESCROW_HEX }, bank: { bankId: 'bank-a', ledger: 'deposits' }, tokens, port: 0, ...config }),
  );
  return path;
}

/** The credentials a config written by writeFiles names. */
function credentialsOf(configPath: string): { legs: Credential; admin: Credential } {
  return { legs: Credential.fromFile(join(dirname(configPath), 'legs.token')), admin: Credential.fromFile(join(dirname(configPath), 'admin.token')) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'leg-host-main-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('config file', () => {
  it('reads the anchor from the cluster file, the parties and venues, with defaults', () => {
    const c = loadLegHostConfig(writeFiles('ok'));
    expect(toHex(c.anchor.networkId)).toBe(toHex(fx.anchor.networkId));
    expect(toHex(c.anchor.configDigest)).toBe(toHex(fx.anchor.configDigest));
    expect(toHex(c.anchor.groupPublicKey)).toBe(toHex(fx.anchor.groupPublicKey));
    expect([...c.parties.keys()]).toEqual(['alice', 'bob', 'carol']);
    expect(toHex(c.parties.get('bob')!)).toBe(toHex(fx.partyPublicKeys.get('bob')!));
    expect(c.assetVenue).toEqual({ chainId: 31337n, escrow: new Uint8Array(20).fill(0xab) });
    expect(c.bankVenue).toEqual({ bankId: 'bank-a', ledger: 'deposits' });
    expect([c.host, c.port, c.tls]).toEqual(['127.0.0.1', 0, null]);
    expect(c.anchor.protocol).toBe(1);
    expect(c.credentials.legs.source).toBe(join(dir, 'ok', 'legs.token'));
    expect(c.credentials.admin.sameTokenAs(credentialsOf(join(dir, 'ok', 'leg-host.json')).admin)).toBe(true);
  });

  it('takes the anchor inline instead of a cluster file', () => {
    const anchor = { networkId: toHex(fx.anchor.networkId), configDigest: toHex(fx.anchor.configDigest), groupPublicKey: toHex(fx.anchor.groupPublicKey) };
    const path = writeFiles('inline', { anchor, cluster: undefined, port: 4567 });
    const c = loadLegHostConfig(path);
    expect(toHex(c.anchor.configDigest)).toBe(anchor.configDigest);
    expect(c.port).toBe(4567);
  });

  it('anchors the legs to the protocol it names (default 1), which a cluster file naming its own must match', () => {
    expect(loadLegHostConfig(writeFiles('v2', { protocol: 2 })).anchor.protocol).toBe(2);
    expect(loadLegHostConfig(writeFiles('v2-cluster', { protocol: 2 }, { protocol: 2 })).anchor.protocol).toBe(2);
    const anchor = { networkId: toHex(fx.anchorV2.networkId), configDigest: toHex(fx.anchorV2.configDigest), groupPublicKey: toHex(fx.anchorV2.groupPublicKey) };
    const inline = loadLegHostConfig(writeFiles('v2-inline', { anchor, cluster: undefined, protocol: 2 }));
    expect([inline.anchor.protocol, toHex(inline.anchor.configDigest)]).toEqual([2, anchor.configDigest]);
  });

  it('names the file and the key of every problem', () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      ['escrow', { asset: { chainId: 1, escrow: 'abcd' } }, {}, /leg-host\.json: key "asset\.escrow": expected 20 bytes/],
      ['chain', { asset: { chainId: '-1', escrow: ESCROW_HEX } }, {}, /key "asset\.chainId"/],
      ['bank', { bank: { bankId: '', ledger: 'x' } }, {}, /key "bank\.bankId": must not be empty/],
      ['port', { port: 70000 }, {}, /key "port"/],
      ['host', { host: '0.0.0.0' }, {}, /key "host": 0\.0\.0\.0 is not a loopback address: .*"tls"/],
      ['notokens', { tokens: undefined }, {}, /key "tokens": missing/],
      ['notoken', { tokens: { legs: 'legs.token', admin: 'none.token' } }, {}, /key "tokens\.admin": .*none\.token: no such token file/],
      ['sametoken', { tokens: { legs: 'legs.token', admin: 'legs.token' } }, {}, /key "tokens": "legs" and "admin" hold the same token/],
      ['unknown', { colour: 'red' }, {}, /key "colour": unknown key/],
      ['both', { anchor: {} }, {}, /exactly one of the keys "cluster"/],
      ['nocluster', { cluster: 'missing.json' }, {}, /missing\.json: cannot read \(ENOENT\)/],
      ['version', {}, { version: 2 }, /cluster\.json: key "version": expected 1/],
      ['digest', {}, { configDigest: 'zz' }, /cluster\.json: key "configDigest"/],
      ['point', {}, { groupPublicKey: 'ff'.repeat(96), commitments: ['ff'.repeat(96)] }, /cluster\.json: key "groupPublicKey": not a valid G2 point/],
      ['commitment', {}, { commitments: [toHex(fx.dealer.commitments[1]!)] }, /key "groupPublicKey": differs from commitments\[0\]/],
      ['protocol', { protocol: 3 }, {}, /leg-host\.json: key "protocol": expected 1 or 2/],
      ['protocol-text', { protocol: '2' }, {}, /leg-host\.json: key "protocol": expected 1 or 2 .*got "2"/],
      ['protocol-cluster', {}, { protocol: 2 }, /cluster\.json: key "protocol": the cluster runs protocol 2, the leg host config says 1/],
    ];
    for (const [name, config, cluster, pattern] of cases) {
      const path = writeFiles(`bad-${name}`, config, cluster);
      expect(() => loadLegHostConfig(path), name).toThrow(ConfigError);
      expect(() => loadLegHostConfig(path), name).toThrow(pattern);
    }
    const openPath = writeFiles('bad-mode');
    chmodSync(join(dirname(openPath), 'admin.token'), 0o640);
    expect(() => loadLegHostConfig(openPath)).toThrow(/key "tokens\.admin": .*admin\.token: mode 640 lets others read it/);
    const partiesPath = writeFiles('bad-parties');
    writeFileSync(join(dirname(partiesPath), 'parties.json'), JSON.stringify({ alice: toHex(fx.partyPublicKeys.get('alice')!), bob: 'abc' }));
    expect(() => loadLegHostConfig(partiesPath)).toThrow(/parties\.json: key "bob"/);
    writeFileSync(join(dirname(partiesPath), 'parties.json'), '{}');
    expect(() => loadLegHostConfig(partiesPath)).toThrow(/parties\.json: no parties/);
  });
});

// ---------------------------------------------------------------------------------------------

interface Running {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function start(args: readonly string[]): Running {
  const child = spawn(process.execPath, [MAIN_JS, ...args], { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stderr: () => err, exited };
}

/** The first stdout line, parsed; fails if the process exits or stays silent too long. */
function readyLine(r: Running): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms; stderr: ${r.stderr()}`)), READY_TIMEOUT_MS);
    r.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(out.slice(0, nl)) as Record<string, unknown>);
      }
    });
    void r.exited.then((code) => reject(new Error(`exited with ${code} before its ready line; stderr: ${r.stderr()}`)));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))]);
}

describe('main entry (built dist)', () => {
  const children: ChildProcess[] = [];

  beforeAll(() => {
    // Incremental: cheap when nothing changed, and the dist can never be stale for these tests.
    execFileSync(join(REPO_DIR, 'node_modules/.bin/tsc'), ['-b', 'packages/leg-host'], { cwd: REPO_DIR, stdio: 'pipe' });
  });

  afterAll(() => {
    // Only the processes this test started, by their handles.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('prints its ready line, serves both legs and the admin API, and stops cleanly on SIGTERM', async () => {
    const configPath = writeFiles('run');
    const credentials = credentialsOf(configPath);
    const r = start(['--config', configPath]);
    children.push(r.child);
    const ready = await readyLine(r);
    expect(ready.ready).toBe(true);
    const url = String(ready.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/admin/balances?leg=asset`)).status).toBe(401);

    const admin = new LegHostAdminClient({ url, credential: credentials.admin, timeoutMs: 5_000 });
    await admin.mint('asset', 'alice', 'OUSG', 1000n);
    const now = Date.now();
    const terms: Terms = {
      nonce: 'main-spec',
      asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(0xab), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 100n },
      payment: { bankId: 'bank-a', ledger: 'deposits', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
      deadlineMs: now + 60_000,
      reportWindowMs: 30_000,
      marginMs: 10_000,
    };
    const id = settlementId(terms);
    const asset = new HttpLegAdapter({ url, leg: 'asset', credential: credentials.legs, timeoutMs: 5_000 });
    expect(await asset.prepare(terms, authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, id))).toEqual({ kind: 'locked' });
    const view = await asset.observe(id);
    expect(view.state).toBe('locked');
    expect(toHex(view.lock!.groupPublicKey)).toBe(toHex(fx.anchor.groupPublicKey));
    // The real clock: the lock is stamped with the host's Date.now.
    const events = await admin.events('asset');
    expect(events.events.map((e) => e.kind)).toEqual(['mint', 'lock']);
    expect(Math.abs(events.events[1]!.atMs - Date.now())).toBeLessThan(60_000);
    const payment = new HttpLegAdapter({ url, leg: 'payment', credential: credentials.legs, timeoutMs: 5_000 });
    expect((await payment.observe(id)).state).toBe('none');

    r.child.kill('SIGTERM');
    expect(await withTimeout(r.exited, EXIT_TIMEOUT_MS, 'exit after SIGTERM')).toBe(0);
    expect(r.stderr()).toMatch(/"msg":"leg host stopped","signal":"SIGTERM"/);
    await expect(payment.observe(id)).rejects.toThrow(/unreachable/);
  });

  it('with "protocol": 2 serves legs that take roots and refuse v1 reports', async () => {
    // The fixture reportOf signs with: its committee is the one this host is anchored to.
    const anchor = { networkId: toHex(v2.anchorV2.networkId), configDigest: toHex(v2.anchorV2.configDigest), groupPublicKey: toHex(v2.anchorV2.groupPublicKey) };
    const configPath = writeFiles('run-v2', { anchor, cluster: undefined, protocol: 2 });
    const r = start(['--config', configPath]);
    children.push(r.child);
    const url = String((await readyLine(r)).url);
    const payment = new HttpLegAdapter({ url, leg: 'payment', credential: credentialsOf(configPath).legs, timeoutMs: 5_000 });
    const entry = { settlementId: new Uint8Array(32).fill(5), decision: 'ABORT' as const, validUntilMs: Date.now() + 60_000 };
    const report = reportOf([entry], 1, Date.now());
    expect(await payment.applyBatch(report, [entry], reportTreeMultiproof([entry], [0]))).toEqual([{ kind: 'applied' }]);
    expect(await payment.submitRoot(report)).toEqual({ kind: 'duplicate' });
    const v1 = signReport(v2.dealer, { networkId: v2.anchorV2.networkId, configDigest: v2.anchorV2.configDigest, settlementId: entry.settlementId, decision: 'ABORT', round: 0, validUntilMs: entry.validUntilMs });
    expect((await payment.applyReport(v1)).kind).toBe('refused');
    r.child.kill('SIGTERM');
    expect(await withTimeout(r.exited, EXIT_TIMEOUT_MS, 'exit after SIGTERM')).toBe(0);
    expect(r.stderr()).toMatch(/"msg":"leg host listening".*"protocol":2/);
  });

  it('exits 2 naming the key of a bad config, and 2 with usage on bad arguments', async () => {
    const bad = start(['--config', writeFiles('run-bad', { asset: { chainId: '1', escrow: '00' } })]);
    children.push(bad.child);
    expect(await withTimeout(bad.exited, EXIT_TIMEOUT_MS, 'exit on bad config')).toBe(2);
    expect(bad.stderr()).toMatch(/key "asset\.escrow": expected 20 bytes/);

    const noArgs = start([]);
    children.push(noArgs.child);
    expect(await withTimeout(noArgs.exited, EXIT_TIMEOUT_MS, 'exit without arguments')).toBe(2);
    expect(noArgs.stderr()).toMatch(/missing --config FILE[\s\S]*usage:/);
  });

  it('exits 1 when its port is taken', async () => {
    const first = start(['--config', writeFiles('run-first')]);
    children.push(first.child);
    const port = Number(new URL(String((await readyLine(first)).url)).port);
    const second = start(['--config', writeFiles('run-second', { port })]);
    children.push(second.child);
    expect(await withTimeout(second.exited, EXIT_TIMEOUT_MS, 'exit on a taken port')).toBe(1);
    expect(second.stderr()).toMatch(/EADDRINUSE/);
    first.child.kill('SIGTERM');
    expect(await withTimeout(first.exited, EXIT_TIMEOUT_MS, 'exit after SIGTERM')).toBe(0);
  });
});
