import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ANVIL_DEV_PRIVATE_KEYS, anvilBinaryPath, rpc, startAnvil } from '../src/anvil.js';
import { anvilDevAccount } from '../src/chain.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startAnvil', () => {
  it('finds the binary the npm package ships', () => {
    expect(existsSync(anvilBinaryPath())).toBe(true);
  });

  it('runs Prague on 127.0.0.1 with a free port, knows the dev keys, and stops for good', async () => {
    const anvil = await startAnvil({ frozenTime: true });
    try {
      expect(anvil.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(anvil.port).toBeGreaterThan(0);
      expect(await rpc(anvil.rpcUrl, 'eth_chainId')).toBe('0x7a69');
      const info = (await rpc(anvil.rpcUrl, 'anvil_nodeInfo')) as { hardFork: string };
      expect(info.hardFork.toLowerCase()).toBe('prague');
      const accounts = (await rpc(anvil.rpcUrl, 'eth_accounts')) as string[];
      expect(accounts.map((a) => a.toLowerCase())).toEqual(ANVIL_DEV_PRIVATE_KEYS.map((_, i) => anvilDevAccount(i).address.toLowerCase()));
      // Frozen clock: mining does not move time.
      const t0 = ((await rpc(anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { timestamp: string }).timestamp;
      await new Promise((r) => setTimeout(r, 1100));
      await rpc(anvil.rpcUrl, 'evm_mine');
      const t1 = ((await rpc(anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { timestamp: string }).timestamp;
      expect(t1).toBe(t0);
    } finally {
      await anvil.stop();
    }
    expect(alive(anvil.pid)).toBe(false);
    await anvil.stop(); // stopping twice is harmless
  });

  it('runs two at once on different ports', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil()]);
    try {
      expect(a.port).not.toBe(b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
