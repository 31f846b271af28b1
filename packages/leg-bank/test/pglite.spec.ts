import { afterAll, beforeAll } from 'vitest';
import { legConformance } from '@tandem/legs/conformance';
import { type Sql, PgliteSql } from '../src/index.js';
import { freshLedger, paymentHarness } from './support.js';
import { ledgerBehaviour } from './behaviour.js';

// One embedded database for the whole file (PGlite takes seconds to start); every ledger gets
// its own schema in it.
let sql: Sql;
beforeAll(async () => {
  sql = await PgliteSql.open();
});
afterAll(async () => {
  await sql.close();
});

legConformance('PgBankLedger on PGlite', async () => {
  const { ledger, clock, dispose } = await freshLedger(sql, 'conf');
  return paymentHarness(ledger, clock, {
    fund: (a, c, x) => ledger.fund(a, c, x),
    balance: (a, c) => ledger.balance(a, c),
    conservationProblem: () => ledger.conservationProblem(),
    close: dispose,
  });
});

ledgerBehaviour('PGlite', () => sql, { concurrentConnections: false });
