import { it } from 'vitest';
import { PgliteSql, applySchema } from '../src/index.js';
it('t', async () => {
const sql = await PgliteSql.open();
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await applySchema(sql, `s${i}`);
  const t1 = performance.now();
  await sql.exec(`DROP SCHEMA s${i} CASCADE`);
  console.log('apply', (t1 - t0).toFixed(0), 'drop', (performance.now() - t1).toFixed(0));
}
await sql.close();
});
