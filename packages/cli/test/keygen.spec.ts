import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDigest, fromHex, networkIdFromName, toHex } from '@tandem/protocol';
import { blsVerify, combinePartials, blsSign, sharePublicKey, verifyShare } from '@tandem/crypto';
import { main } from '../src/main.js';
import { UsageError } from '../src/errors.js';
import { loadClusterFile, loadKeyFile } from '@tandem/daemon';

let dir: string;
let out: string[];
let err: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-keygen-'));
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]): Promise<number> {
  return main(['node', 'tandem', ...args]);
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Rewrites one key of a JSON file, to test that loading notices. */
function tamper(path: string, edit: (o: Record<string, any>) => void): void {
  const o = readJson(path);
  edit(o);
  writeFileSync(path, JSON.stringify(o));
}

function usageErrorOf(f: () => unknown, name = ''): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`expected a UsageError ${name}`);
}

describe('tandem keygen', () => {
  it('writes n private key files (mode 0600) and a public cluster.json that loads and checks', async () => {
    expect(await run('keygen', '--nodes', '4', '--out', dir)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['cluster.json', 'n1.key.json', 'n2.key.json', 'n3.key.json', 'n4.key.json']);
    for (let i = 1; i <= 4; i++) {
      const path = join(dir, `n${i}.key.json`);
      if (process.platform !== 'win32') expect(statSync(path).mode & 0o777).toBe(0o600);
      const key = readJson(path);
      expect(Object.keys(key).sort()).toEqual(['blsShareSecretKey', 'id', 'identitySecretKey', 'index', 'version']);
      expect(key).toMatchObject({ version: 1, id: `n${i}`, index: i });
    }
    const cluster = readJson(join(dir, 'cluster.json'));
    expect(cluster).toMatchObject({ version: 1, network: 'tandem-local', n: 4, t: 3 });
    expect(cluster.networkId).toBe(toHex(networkIdFromName('tandem-local')));
    expect((cluster.commitments as string[]).length).toBe(3);
    expect(cluster.groupPublicKey).toBe((cluster.commitments as string[])[0]);

    const loaded = loadClusterFile(join(dir, 'cluster.json'));
    expect(loaded.networkName).toBe('tandem-local');
    expect(toHex(loaded.configDigest)).toBe(cluster.configDigest);
    expect(toHex(configDigest(loaded.config))).toBe(cluster.configDigest);
    const keys = [1, 2, 3, 4].map((i) => loadKeyFile(join(dir, `n${i}.key.json`), loaded));
    for (const k of keys) {
      expect(verifyShare({ index: k.index, secret: k.blsShareSecretKey }, loaded.config.commitments)).toBe(true);
      expect(k.identityPublicKey).toEqual(loaded.config.members[k.index - 1]!.identityKey);
    }
    // The shares really are a 3-of-4 sharing of the group key.
    const msg = new TextEncoder().encode('report');
    const sig = combinePartials(keys.slice(1).map((k) => ({ index: k.index, signature: blsSign(k.blsShareSecretKey, msg) })));
    expect(blsVerify(fromHex(cluster.groupPublicKey as string), msg, sig)).toBe(true);
    expect(sharePublicKey(loaded.config.commitments, 2)).toHaveLength(96);

    const summary = out.join('');
    expect(summary).toContain('t = q = 3');
    expect(summary).toContain(cluster.groupPublicKey as string);
    for (const k of keys) {
      expect(summary).not.toContain(toHex(k.blsShareSecretKey));
      expect(summary).not.toContain(toHex(k.identitySecretKey));
    }
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('t = q = n - floor((n-1)/3) and --network sets the name and id', async () => {
    const cases: [number, number][] = [[1, 1], [2, 2], [3, 3], [7, 5], [10, 7]];
    for (const [n, t] of cases) {
      const sub = join(dir, `c${n}`);
      expect(await run('keygen', '--nodes', String(n), '--out', sub, '--network', 'testnet-x')).toBe(0);
      const c = readJson(join(sub, 'cluster.json'));
      expect([c.n, c.t, c.network]).toEqual([n, t, 'testnet-x']);
      expect(c.networkId).toBe(toHex(networkIdFromName('testnet-x')));
      expect(loadClusterFile(join(sub, 'cluster.json')).config.t).toBe(t);
    }
  });

  it('refuses to overwrite an existing key or cluster file (exit 1, naming it) unless --force', async () => {
    writeFileSync(join(dir, 'n2.key.json'), 'precious');
    expect(await run('keygen', '--nodes', '3', '--out', dir)).toBe(1);
    expect(err.join('')).toContain(join(dir, 'n2.key.json'));
    expect(readFileSync(join(dir, 'n2.key.json'), 'utf8')).toBe('precious');
    expect(existsSync(join(dir, 'n1.key.json'))).toBe(false);
    expect(existsSync(join(dir, 'cluster.json'))).toBe(false);

    expect(await run('keygen', '--nodes', '3', '--out', dir, '--force')).toBe(0);
    const before = readFileSync(join(dir, 'cluster.json'), 'utf8');
    err.length = 0;
    expect(await run('keygen', '--nodes', '3', '--out', dir)).toBe(1);
    expect(err.join('')).toMatch(/n1\.key\.json/);
    expect(readFileSync(join(dir, 'cluster.json'), 'utf8')).toBe(before);

    expect(await run('keygen', '--nodes', '3', '--out', dir, '--force')).toBe(0);
    expect(readFileSync(join(dir, 'cluster.json'), 'utf8')).not.toBe(before); // a fresh dealing
    loadKeyFile(join(dir, 'n3.key.json'), loadClusterFile(join(dir, 'cluster.json')));
  });

  it('a write that fails midway leaves no temporary file and no cluster.json (exit 2)', async () => {
    mkdirSync(join(dir, 'n2.key.json')); // renaming a file onto a directory fails
    expect(await run('keygen', '--nodes', '3', '--out', dir, '--force')).toBe(2);
    expect(err.join('')).toMatch(/--out .*cannot write the key files/);
    expect(existsSync(join(dir, 'cluster.json'))).toBe(false);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    writeFileSync(join(dir, 'file'), '');
    expect(await run('keygen', '--nodes', '3', '--out', join(dir, 'file'))).toBe(2);
    expect(err.join('')).toMatch(/--out .*cannot create the directory/);
  });

  it('bad --nodes exits 2 with a message naming --nodes', async () => {
    for (const bad of ['0', '-1', '2.5', 'abc', '1001', '', '1e3']) {
      err.length = 0;
      expect(await run('keygen', '--nodes', bad, '--out', dir)).toBe(2);
      expect(err.join('')).toMatch(/--nodes/);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(await run('keygen', '--out', dir)).toBe(2); // missing --nodes
  });

  it('loadClusterFile rejects a tampered cluster.json, naming the file and the key', async () => {
    expect(await run('keygen', '--nodes', '4', '--out', dir)).toBe(0);
    const path = join(dir, 'cluster.json');
    const original = readFileSync(path, 'utf8');
    const other = join(dir, 'other');
    expect(await run('keygen', '--nodes', '4', '--out', other)).toBe(0);
    const otherCluster = readJson(join(other, 'cluster.json'));

    const cases: [string, (o: Record<string, any>) => void, RegExp][] = [
      ['t', (o) => (o.t = 4), /key "t": must equal the quorum/],
      ['n', (o) => (o.n = 5), /key "t"|key "members"/],
      ['network', (o) => (o.network = 'tandem-other'), /key "networkId": does not match/],
      ['member key', (o) => (o.members[1].identityKey = otherCluster.members[1].identityKey), /key "configDigest": does not match/],
      ['member id', (o) => (o.members[1].id = 'n9'), /key "members\[1\]\.id"/],
      ['commitment', (o) => (o.commitments[1] = otherCluster.commitments[1]), /key "configDigest"/],
      ['commitment not a point', (o) => (o.commitments[2] = 'c0' + '00'.repeat(95)), /key "commitments\[2\]": not a valid G2 point.*identity/],
      ['commitment odd hex', (o) => (o.commitments[0] = 'abc'), /key "commitments\[0\]": hex string has an odd number of digits/],
      ['group key', (o) => (o.groupPublicKey = o.commitments[1]), /key "groupPublicKey": does not equal commitments\[0\]/],
      ['digest', (o) => (o.configDigest = '00'.repeat(32)), /key "configDigest": does not match/],
      ['version', (o) => (o.version = 2), /key "version"/],
      ['unknown key', (o) => (o.extra = 1), /key "extra": unknown key/],
    ];
    for (const [name, edit, expected] of cases) {
      writeFileSync(path, original);
      tamper(path, edit);
      const message = usageErrorOf(() => loadClusterFile(path), name);
      expect(message, name).toContain(path);
      expect(message, name).toMatch(expected);
    }
    writeFileSync(path, '{ not json');
    expect(usageErrorOf(() => loadClusterFile(path))).toMatch(/not valid JSON/);
    expect(usageErrorOf(() => loadClusterFile(join(dir, 'missing.json')))).toMatch(/cannot read/);
  });

  it('loadKeyFile checks the share against the commitments and the identity against the member', async () => {
    expect(await run('keygen', '--nodes', '4', '--out', dir)).toBe(0);
    const other = join(dir, 'other');
    expect(await run('keygen', '--nodes', '4', '--out', other)).toBe(0);
    const cluster = loadClusterFile(join(dir, 'cluster.json'));
    const path = join(dir, 'n2.key.json');
    const original = readFileSync(path, 'utf8');
    const foreign = readJson(join(other, 'n2.key.json'));
    const n3 = readJson(join(dir, 'n3.key.json'));
    const cases: [(o: Record<string, any>) => void, RegExp][] = [
      [(o) => (o.blsShareSecretKey = foreign.blsShareSecretKey), /key "blsShareSecretKey": not share 2/],
      [(o) => (o.blsShareSecretKey = n3.blsShareSecretKey), /key "blsShareSecretKey": not share 2/],
      [(o) => (o.identitySecretKey = foreign.identitySecretKey), /key "identitySecretKey": its public key does not match members\[1\]/],
      [(o) => (o.index = 3), /key "id": expected "n3"/],
      [(o) => (o.index = 9), /key "index": expected an integer in 1\.\.4/],
      [(o) => (o.blsShareSecretKey = '00'), /key "blsShareSecretKey": expected 32 bytes/],
    ];
    for (const [edit, expected] of cases) {
      writeFileSync(path, original);
      tamper(path, edit);
      const message = usageErrorOf(() => loadKeyFile(path, cluster), String(expected));
      expect(message).toContain(path);
      expect(message).toMatch(expected);
    }
  });
});
