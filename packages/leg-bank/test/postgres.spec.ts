/**
 * The same tests on a real PostgreSQL server, through a `pg` pool with several connections, so
 * the concurrency tests really run in parallel. Needs DATABASE_URL (CI sets it from
 * `.ci/postgres.sh`); without it the file is skipped with a message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientLegError } from '@tandem/legs';
import { legConformance } from '@tandem/legs/conformance';
import { type Sql, PgBankLedger, PgPoolSql, openSql } from '../src/index.js';
import { BANK_VENUE, START_MS, freshLedger, fx, ledgerHarness } from './support.js';
import { ledgerBehaviour } from './behaviour.js';
import { ledgerBehaviourV2 } from './behaviour-v2.js';

const databaseUrl = process.env.DATABASE_URL ?? '';
const POOL_SIZE = 8;

if (databaseUrl === '') {
  console.warn('leg-bank: DATABASE_URL is not set, so the tests on a real PostgreSQL are skipped (eval "$(bash .ci/postgres.sh)" sets it)');
  describe('PgBankLedger on a real PostgreSQL', () => {
    it.skip('needs DATABASE_URL=postgres://… (e.g. eval "$(bash .ci/postgres.sh)")', () => {});
  });
} else {
  let sql: Sql;
  beforeAll(async () => {
    sql = await openSql({ databaseUrl, poolSize: POOL_SIZE });
  });
  afterAll(async () => {
    await sql.close();
  });

  legConformance('PgBankLedger on PostgreSQL', (protocol) => ledgerHarness(sql, 'pgconf', protocol), { v2: true });

  ledgerBehaviour('PostgreSQL', () => sql, { concurrentConnections: true });
  ledgerBehaviourV2('PostgreSQL', () => sql, { concurrentConnections: true });

  describe('PgBankLedger on PostgreSQL: connections', () => {
    it('uses a pg pool for a postgres:// URL', () => {
      expect(sql).toBeInstanceOf(PgPoolSql);
      expect(sql.dialect).toBe('postgres');
    });

    it('opens its own pool from databaseUrl and closes it', async () => {
      const schema = `tandem_test_own_${process.pid}`;
      await sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      const ledger = await PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, databaseUrl, schema, poolSize: 2 });
      await ledger.fund('alice', 'USD', 5n);
      expect(await ledger.balance('alice', 'USD')).toBe(5n);
      await ledger.close();
      // Closed: calls fail transiently, never with a rejection.
      await expect(ledger.balance('alice', 'USD')).rejects.toBeInstanceOf(TransientLegError);
      await sql.exec(`DROP SCHEMA "${schema}" CASCADE`);
    });

    it('reports an unreachable server as TransientLegError', async () => {
      const url = new URL(databaseUrl);
      url.port = '1'; // nothing listens there
      await expect(
        PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, databaseUrl: url.toString(), schema: 'tandem_test_unreachable' }),
      ).rejects.toBeInstanceOf(TransientLegError);
    });

    it('runs transactions on several connections at once', async () => {
      const t = await freshLedger(sql, 'pgpar');
      try {
        // Each transaction holds its connection while it sleeps: serial execution would take 8 × 200 ms.
        const started = performance.now();
        await Promise.all(Array.from({ length: POOL_SIZE }, () => sql.transaction((tx) => tx.query('SELECT pg_sleep(0.2)'))));
        expect(performance.now() - started).toBeLessThan(POOL_SIZE * 200 * 0.75);
      } finally {
        await t.dispose();
      }
    });
  });
}
