/**
 * `tandem cluster up`'s external-chain options on the command line: every mistake exits 2 before
 * anything starts, naming the option, and no message quotes the key. (The option parsing itself
 * is tested in packages/devnet/test/chain-flags.spec.ts.)
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { generatePrivateKey } from 'viem/accounts';
import { PRIVATE_KEY_ENV, ensureProtocol } from '@tandem/devnet';
import { main } from '../src/main.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tandem-cluster-up-options-'));

function keyFile(text: string): string {
  const path = join(tmp(), 'deployer.key');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('tandem cluster up: the chain options on the command line', () => {
  async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      return { code: await main(['node', 'tandem', ...args]), stderr: err.join('') };
    } finally {
      spy.mockRestore();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it('exits 2 for --rpc-url with --legs memory, before making the cluster directory', async () => {
    const dir = join(tmp(), 'cluster');
    const { code, stderr } = await run(['cluster', 'up', '--dir', dir, '--legs', 'memory', '--rpc-url', 'http://127.0.0.1:8545']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--rpc-url goes with --legs real/);
    expect(existsSync(dir)).toBe(false);
  });

  it('exits 2 naming --rpc-url when the RPC is unreachable, and the key is in no message', async () => {
    const dir = join(tmp(), 'cluster');
    const key = generatePrivateKey();
    // Port 9 (discard) on loopback: nothing listens there on this machine.
    const { code, stderr } = await run(['cluster', 'up', '--dir', dir, '--rpc-url', 'http://127.0.0.1:9', '--private-key-file', keyFile(key)]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tandem: --rpc-url http:\/\/127\.0\.0\.1:9: no Ethereum JSON-RPC answers there/);
    expect(stderr).not.toContain(key.slice(2));
    expect(existsSync(dir)).toBe(false);
  });

  it('exits 2 naming TANDEM_EVM_PRIVATE_KEY when it is malformed, without quoting it', async () => {
    const bad = `${generatePrivateKey()}ff`;
    const { code, stderr } = await run(['cluster', 'up', '--dir', join(tmp(), 'c'), '--rpc-url', 'http://127.0.0.1:9'], { [PRIVATE_KEY_ENV]: bad });
    expect(code).toBe(2);
    expect(stderr).toContain(PRIVATE_KEY_ENV);
    expect(stderr).not.toContain(bad.slice(2, 60));
  });

  it('exits 2 starting a directory made with protocol 1 under --protocol 2, saying so', async () => {
    const dir = tmp();
    ensureProtocol(dir, 1); // what `cluster up` (protocol 1) recorded when it made the directory
    const { code, stderr } = await run(['cluster', 'up', '--dir', dir, '--legs', 'memory', '--protocol', '2']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tandem: --protocol 2: .* was created with protocol 1 .*a cluster directory keeps its protocol/);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  });

  it('exits 2 for a --protocol that is neither 1 nor 2', async () => {
    const { code, stderr } = await run(['cluster', 'up', '--dir', join(tmp(), 'c'), '--legs', 'memory', '--protocol', 'v2']);
    expect([code, stderr]).toEqual([2, 'tandem: --protocol v2: expected 1 or 2\n']);
  });
});
