/**
 * `tandem demo --json` on a real cluster (4 nodes, anvil escrow, PGlite bank: about 20 s): one
 * JSON object on stdout and nothing else, progress on stderr, exit 0 as both settlements went as
 * expected — under protocol 1 (the default) and under `--protocol 2`, where each settlement also
 * carries the height and batch size it was decided in and its share of the settleBatch gas.
 * Needs the built dist (`npx tsc -b`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';
import { type DemoResult, type DemoSettlement, type SettleResult, wentAsExpected } from '@tandem/devnet';

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

  it('under protocol 2 also needs a height and a batch, and a gas share within the call that applied it', () => {
    const report = { decision: 'COMMIT', height: 3, round: 0, count: 2, root: '00', timeMs: 1, signature: '00', digest: '00', verified: true } as const;
    const v2: SettleResult = { ...good, report, height: 3, batchSize: 2, gasShare: 75_000 };
    expect(wentAsExpected(v2, expected)).toBe(true);
    expect(wentAsExpected({ ...v2, gasShare: null }, expected)).toBe(true); // no settleBatch call found: told, not failed
    expect(wentAsExpected({ ...v2, report: { ...report, verified: false } }, expected)).toBe(false);
    expect(wentAsExpected({ ...v2, height: 0 }, expected)).toBe(false);
    expect(wentAsExpected({ ...v2, batchSize: 0 }, expected)).toBe(false);
    expect(wentAsExpected({ ...v2, gasShare: 0 }, expected)).toBe(false);
    expect(wentAsExpected({ ...v2, gasShare: 150_001 }, expected)).toBe(false); // more than the call's gas
  });
});

/** What both protocols' demos must show: a COMMIT released on-chain and posted, then an ABORT refunded on-chain and rejected by the bank. */
function expectCommitThenAbort(stdout: string, stderr: string, protocol: 1 | 2): DemoSettlement[] {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trim().split('\n')).toHaveLength(1); // no progress text on stdout
  const result = JSON.parse(stdout) as DemoResult;
  expect(result.error).toBeUndefined();
  expect(Object.keys(result)).toEqual(['protocol', 'settlements']);
  expect(result.protocol).toBe(protocol);
  expect(result.settlements).toHaveLength(2);
  const [first, second] = result.settlements;
  const v2Keys = protocol === 2 ? ['batchSize', 'gasShare', 'height'] : [];
  for (const s of result.settlements) {
    expect(Object.keys(s).sort()).toEqual(['asset', 'decision', 'id', 'payment', ...v2Keys].sort());
    expect(s.id).toMatch(/^[0-9a-f]{64}$/);
    // The escrow's settle (v1) or settleBatch (v2) transaction: the report verified on-chain.
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
  return result.settlements;
}

const built = existsSync(join(import.meta.dirname, '../dist/bin.js'));

describe('tandem demo --json', () => {
  it('refuses --json with --sim (exit 2)', async () => {
    const { code, stdout, stderr } = await run(['demo', '--sim', '--json']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/--json goes with the demo on the real cluster/);
  });

  it('refuses a --protocol other than 1 or 2 before starting anything (exit 2, naming the flag)', async () => {
    for (const bad of ['3', '0', 'two']) {
      const { code, stdout, stderr } = await run(['demo', '--protocol', bad, '--json']);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(`tandem: --protocol ${bad}: expected 1 or 2\n`);
    }
  });

  it.skipIf(!built)(
    '--protocol 1 prints one JSON object: a COMMIT with its settle tx and posted transfer, then an ABORT refunded on-chain and rejected by the bank',
    async () => {
      const { code, stdout, stderr } = await run(['demo', '--protocol', '1', '--json']);
      expectCommitThenAbort(stdout, stderr, 1);
      expect(stderr).toContain('(the report verified on-chain)');
      expect(code).toBe(0);
    },
    240_000,
  );

  it.skipIf(!built)(
    'by default (protocol 2): the same two trades, each decided at its height in a batch, with its share of the settleBatch gas',
    async () => {
      const { code, stdout, stderr } = await run(['demo', '--json']);
      const settlements = expectCommitThenAbort(stdout, stderr, 2);
      for (const s of settlements) {
        expect(s.batchSize).toBeGreaterThanOrEqual(1);
        expect(s.gasShare).toBeGreaterThan(0);
        // Its share of the settleBatch call that applied it: the call's gas split over its entries.
        expect(s.gasShare).toBeLessThanOrEqual(s.asset.gasUsed!);
        expect(s.gasShare).toBeGreaterThanOrEqual(Math.floor(s.asset.gasUsed! / s.batchSize!));
      }
      // Heights run in order: the ABORT was submitted after the COMMIT closed, so it sits in a later batch.
      const [first, second] = settlements;
      expect(first!.height).toBeGreaterThanOrEqual(1);
      expect(second!.height).toBeGreaterThan(first!.height!);
      expect(stderr).toContain('4 nodes up and connected (protocol 2: batches)');
      expect(stderr).toMatch(/=> COMMIT decided at height \d+ in a batch of \d+ settlements?; the escrow checked the batch's report and this entry's proof on-chain in settleBatch: its share of the gas [\d,]+/);
      expect(stderr).toMatch(/=> ABORT decided at height \d+ in a batch of \d+ settlements?; .* settleBatch: its share of the gas [\d,]+/);
      expect(stderr.match(/verifies under the group key [0-9a-f]{16}…: VALID/g)).toHaveLength(2);
      expect(code).toBe(0);
    },
    240_000,
  );
});
