/**
 * `tandem demo --json` on a real cluster (4 nodes, anvil escrow, PGlite bank: about 20 s): one
 * JSON object on stdout and nothing else, progress on stderr, exit 0 as both settlements went as
 * expected. Needs the built dist (`npx tsc -b`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';
import { type DemoResult, type SettleResult, wentAsExpected } from '@tandem/devnet';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await main(['node', 'tandem', ...args]), stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('wentAsExpected', () => {
  const expected = { decision: 'commit', asset: 'released', payment: 'posted' } as const;
  const good: SettleResult = {
    id: 'ab'.repeat(32),
    decision: 'commit',
    asset: { state: 'released', txHash: `0x${'01'.repeat(32)}`, gasUsed: 150_000 },
    payment: { state: 'posted', transferId: '1' },
    report: { decision: 'COMMIT', round: 0, validUntilMs: 1, signature: '00', digest: '00', verified: true },
  };

  it('holds only for the expected decision and leg states under a verified report', () => {
    expect(wentAsExpected(good, expected)).toBe(true);
    expect(wentAsExpected(null, expected)).toBe(false);
    expect(wentAsExpected({ ...good, decision: 'abort' }, expected)).toBe(false);
    expect(wentAsExpected({ ...good, asset: { ...good.asset, state: 'refunded' } }, expected)).toBe(false);
    expect(wentAsExpected({ ...good, payment: { ...good.payment, state: 'voided' } }, expected)).toBe(false);
    expect(wentAsExpected({ ...good, report: { ...good.report, verified: false } }, expected)).toBe(false);
  });
});

describe('tandem demo --json', () => {
  it('refuses --json with --sim (exit 2)', async () => {
    const { code, stdout, stderr } = await run(['demo', '--sim', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/--json goes with the demo on the real cluster/);
  });

  it.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))(
    'prints one JSON object: a COMMIT with its settle tx and posted transfer, then an ABORT refunded on-chain and rejected by the bank',
    async () => {
      const { code, stdout, stderr } = await run(['demo', '--json']);
      expect(stdout.endsWith('\n')).toBe(true);
      expect(stdout.trim().split('\n')).toHaveLength(1); // no progress text on stdout
      const result = JSON.parse(stdout) as DemoResult;
      expect(result.error).toBeUndefined();
      expect(Object.keys(result)).toEqual(['settlements']);
      expect(result.settlements).toHaveLength(2);
      const [first, second] = result.settlements;
      for (const s of result.settlements) {
        expect(Object.keys(s).sort()).toEqual(['asset', 'decision', 'id', 'payment']);
        expect(s.id).toMatch(/^[0-9a-f]{64}$/);
        expect(s.asset.txHash).toMatch(/^0x[0-9a-f]{64}$/);
        expect(s.asset.gasUsed).toBeGreaterThan(100_000); // the on-chain pairing check alone is ~103k
      }
      expect(first).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
      expect(first!.payment.transferId).toMatch(/^[1-9][0-9]*$/);
      // The bank refused the hold: no transfer was ever made for the second settlement.
      expect(second).toMatchObject({ decision: 'abort', asset: { state: 'refunded' }, payment: { state: 'rejected', transferId: null } });
      expect(first!.id).not.toBe(second!.id);
      expect(first!.asset.txHash).not.toBe(second!.asset.txHash);
      // The progress went to stderr, down to the clean-up.
      expect(stderr).toContain('real legs up at');
      expect(stderr).toContain('cluster stopped; nothing left running.');
      expect(code).toBe(0);
    },
    240_000,
  );
});
