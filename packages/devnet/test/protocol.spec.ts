/**
 * A cluster directory keeps the protocol version it was made with (protocol.ts): `cluster up`
 * records it, refuses to start the directory under another (a UsageError: exit 2, before anything
 * starts or is written), and a node restart checks its config against the record.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@tandem/daemon';
import { clusterPaths } from '../src/paths.js';
import { checkNodeProtocol, ensureProtocol, parseProtocolFlag, recordedProtocol } from '../src/protocol.js';
import { clusterUp } from '../src/up.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tandem-protocol-'));

describe('a cluster directory keeps its protocol version', () => {
  it('records the version a new directory is made with (default 2)', () => {
    const a = tmp();
    expect(ensureProtocol(a, undefined)).toBe(2);
    expect(JSON.parse(readFileSync(clusterPaths(a).protocol, 'utf8'))).toEqual({ protocol: 2 });
    const b = tmp();
    expect(ensureProtocol(b, 1)).toBe(1);
    // Later starts without the flag run what was recorded.
    expect(ensureProtocol(b, undefined)).toBe(1);
    expect(recordedProtocol(b)).toBe(1);
  });

  it('cluster up --protocol 2 on a directory made with protocol 1: a UsageError (exit 2) naming both, and nothing starts', async () => {
    const dir = tmp();
    ensureProtocol(dir, 1); // what `cluster up --protocol 1` recorded
    const up = clusterUp(dir, { legs: 'memory', protocol: '2' });
    await expect(up).rejects.toThrow(UsageError);
    await expect(clusterUp(dir, { legs: 'memory', protocol: '2' })).rejects.toThrow(
      new RegExp(`^--protocol 2: ${dir} was created with protocol 1 \\(${join(dir, 'protocol.json')}\\), and a cluster directory keeps its protocol`),
    );
    // Refused before keys, legs or nodes: nothing was made or started.
    expect(existsSync(clusterPaths(dir).keys)).toBe(false);
    expect(existsSync(clusterPaths(dir).state)).toBe(false);
    expect(recordedProtocol(dir)).toBe(1);
  });

  it('a directory made before the record (keys, no protocol.json) ran protocol 1', () => {
    const dir = tmp();
    mkdirSync(clusterPaths(dir).keys, { recursive: true });
    writeFileSync(clusterPaths(dir).cluster, '{}');
    expect(() => ensureProtocol(dir, 2)).toThrow(/^--protocol 2: .* was created with protocol 1/);
    expect(ensureProtocol(dir, undefined)).toBe(1);
  });

  it('refuses a bad flag, a damaged record, and a node config of another version at restart', () => {
    expect(() => parseProtocolFlag('3')).toThrow(/^--protocol 3: expected 1 or 2$/);
    const dir = tmp();
    writeFileSync(clusterPaths(dir).protocol, '{"protocol": 7}');
    expect(() => recordedProtocol(dir)).toThrow(/protocol\.json: key "protocol": expected 1 or 2, got 7/);
    writeFileSync(clusterPaths(dir).protocol, '{"protocol": 2}');
    const node = join(dir, 'n1.json');
    writeFileSync(node, '{}');
    expect(() => checkNodeProtocol(dir, node)).toThrow(/n1\.json: key "protocol": 1, but .* was created with protocol 2/);
    writeFileSync(node, '{"protocol": 2}');
    expect(() => checkNodeProtocol(dir, node)).not.toThrow();
  });
});
