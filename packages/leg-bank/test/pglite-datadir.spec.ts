import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settlementId } from '@tandem/protocol';
import { TransientLegError } from '@tandem/legs';
import { PgBankLedger } from '../src/index.js';
import { BANK_VENUE, START_MS, bankReport, bankTerms, fx, payerAuth } from './support.js';

describe('PgBankLedger on PGlite with a data directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-leg-bank-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = () => PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, dataDir: dir });

  it('keeps accounts, holds, reports and history across a restart; fails transiently once closed', async () => {
    const t1 = bankTerms('durable-1');
    const t2 = bankTerms('durable-2');
    const first = await open();
    await first.fund('alice', 'USD', 1_000n);
    expect(await first.prepare(t1, payerAuth(t1))).toEqual({ kind: 'locked' });
    expect(await first.prepare(t2, payerAuth(t2))).toEqual({ kind: 'locked' });
    const commit = bankReport(t1, 'COMMIT');
    expect(await first.applyReport(commit)).toEqual({ kind: 'applied' });
    const history = await first.history();
    await first.close();
    // The ledger opened its own PGlite, so close() closed it: calls now fail transiently.
    await expect(first.observe(settlementId(t1))).rejects.toBeInstanceOf(TransientLegError);
    await expect(first.prepare(t2, payerAuth(t2))).rejects.toBeInstanceOf(TransientLegError);

    const second = await open();
    try {
      expect(await second.history()).toEqual(history);
      expect((await second.observe(settlementId(t1))).state).toBe('committed');
      expect(await second.applyReport(commit)).toEqual({ kind: 'duplicate' }); // still at most one report per id
      expect(await second.account('alice', 'USD')).toEqual({ account: 'alice', currency: 'USD', balance: 900n, held: 100n, available: 800n });
      expect(await second.applyReport(bankReport(t2, 'ABORT'))).toEqual({ kind: 'applied' });
      expect(await second.balance('alice', 'USD')).toBe(900n);
      expect(await second.conservationProblem()).toBeNull();
    } finally {
      await second.close();
    }
  });
});
