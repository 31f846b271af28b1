import { afterAll, beforeAll } from 'vitest';
import { legConformance } from '@tandem/legs/conformance';
import { type Sql, PgliteSql } from '../src/index.js';
import { ledgerHarness } from './support.js';
import { ledgerBehaviour } from './behaviour.js';
import { ledgerBehaviourV2 } from './behaviour-v2.js';

// One embedded database for the whole file (PGlite takes seconds to start); every ledger gets
// its own schema in it.
let sql: Sql;
beforeAll(async () => {
  sql = await PgliteSql.open();
});
afterAll(async () => {
  await sql.close();
});

legConformance('PgBankLedger on PGlite', (protocol) => ledgerHarness(sql, 'conf', protocol), { v2: true });

ledgerBehaviour('PGlite', () => sql, { concurrentConnections: false });
ledgerBehaviourV2('PGlite', () => sql, { concurrentConnections: false });
