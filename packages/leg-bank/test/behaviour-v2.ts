/**
 * Ledger behaviour under protocol v2 beyond the conformance suite, run on PGlite and on a real
 * PostgreSQL: batch calls racing each other and v1-style calls (lock order, no deadlock, each
 * entry applied once), transfer changes told per entry after the one transaction, the applied
 * marker stored, and a database of layout version 1 migrated on open.
 */
import { describe, expect, it } from 'vitest';
import { type Entry, type Terms, compareIds, reportTreeMultiproof, reportTreeRoot, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { appliedEntryMarker } from '@tandem/legs';
import { authorize, signReportV2 } from '@tandem/legs/fixture';
import { type Sql, type TransferChange, PgBankLedger } from '../src/index.js';
import { type BehaviourOptions } from './behaviour.js';
import { BANK_VENUE, START_MS, bankTerms, fx, ledgersPerTest, payerAuth } from './support.js';

const ANCHOR = fx.anchorV2;
let heights = 0;

function auth(t: Terms) {
  return authorize(t.payment.payer, fx.partySecretKeys.get(t.payment.payer)!, ANCHOR.networkId, settlementId(t));
}

/** A signed batch over entries (sorted as a batch lists them) and its full multiproof. */
function batchOf(items: readonly Entry[]) {
  const entries = [...items].sort((a, b) => compareIds(a.settlementId, b.settlementId));
  const height = ++heights;
  const report = signReportV2(fx.dealer, {
    networkId: ANCHOR.networkId,
    configDigest: ANCHOR.configDigest,
    height,
    round: 0,
    timeMs: START_MS,
    liveFrom: height,
    count: entries.length,
    root: reportTreeRoot(entries),
  });
  return { report, entries, multiproof: reportTreeMultiproof(entries, entries.map((_, i) => i)) };
}

function entryOf(t: Terms, decision: Entry['decision']): Entry {
  return { settlementId: settlementId(t), decision, validUntilMs: validUntilMs(t) };
}

export function ledgerBehaviourV2(name: string, getSql: () => Sql, options: BehaviourOptions): void {
  describe(`PgBankLedger behaviour under protocol v2 on ${name}`, () => {
    const fresh = ledgersPerTest(getSql, 'v2', { anchor: ANCHOR });

    const mode = options.concurrentConnections ? 'in parallel on several connections' : 'queued on one connection';

    it(`applies overlapping batches, entries and reports racing each other once each, without deadlock (${mode})`, async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 10_000n);
      await ledger.fund('carol', 'USD', 10_000n);
      const ts = Array.from({ length: 12 }, (_, i) => bankTerms(`race-${i}`, { payer: i % 2 === 0 ? 'alice' : 'carol', payee: i % 3 === 0 ? 'bob' : 'dave', amount: 100n }));
      for (const t of ts) expect(await ledger.prepare(t, auth(t))).toEqual({ kind: 'locked' });
      const b = batchOf(ts.map((t, i) => entryOf(t, i % 4 === 0 ? 'ABORT' : 'COMMIT')));
      const extra = bankTerms('race-extra', { payer: 'alice', payee: 'bob' });
      const half = b.entries.map((_, i) => i).filter((i) => i % 2 === 0);
      const racing = await Promise.all([
        ledger.applyBatch(b.report, b.entries, b.multiproof),
        ledger.applyBatch(b.report, half.map((i) => b.entries[i]!), reportTreeMultiproof(b.entries, half)),
        ledger.submitRoot(b.report),
        ledger.fund('carol', 'USD', 1n),
        ledger.prepare(extra, auth(extra)),
        ledger.applyBatch(b.report, b.entries, b.multiproof),
      ]);
      expect(racing[4]).toEqual({ kind: 'locked' });
      const outcomes = [racing[0], racing[1], racing[5]].flatMap((o) => o as readonly { kind: string }[]);
      expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(ts.length);
      expect(outcomes.filter((o) => o.kind !== 'applied').every((o) => o.kind === 'duplicate')).toBe(true);
      for (const [k, e] of b.entries.entries()) {
        const view = await ledger.settlement(e.settlementId);
        expect(view.state, `entry ${k}`).toBe(e.decision === 'COMMIT' ? 'committed' : 'aborted');
        expect(view.appliedReport).toEqual(appliedEntryMarker(b.report.root, e));
      }
    });

    it(`tells onTransfer each entry's change, after its batch committed (${mode})`, async () => {
      const changes: TransferChange[] = [];
      const { ledger } = await fresh({ onTransfer: (c) => changes.push(c) });
      await ledger.fund('alice', 'USD', 1_000n);
      const [c, a] = [bankTerms('tell-v2-commit'), bankTerms('tell-v2-abort')];
      for (const t of [c!, a!]) await ledger.prepare(t, auth(t));
      changes.length = 0;
      const b = batchOf([entryOf(c!, 'COMMIT'), entryOf(a!, 'ABORT')]);
      expect(await ledger.applyBatch(b.report, b.entries, b.multiproof)).toEqual([{ kind: 'applied' }, { kind: 'applied' }]);
      expect(changes.map((x) => [x.settlementIdHex, x.kind])).toEqual(b.entries.map((e) => [toHex(e.settlementId), e.decision === 'COMMIT' ? 'post' : 'void']));
      // History: one entry per applied entry, at consecutive heights.
      const seqs = (await ledger.history()).filter((e) => e.kind === 'post' || e.kind === 'void').map((e) => e.seq);
      expect(seqs[1]! - seqs[0]!).toBe(1);
    });

    it('migrates tables of layout version 1 on open: roots table, lock configuration, wider applied marker', async () => {
      const { ledger } = await fresh({ anchor: fx.anchor });
      const t = bankTerms('migrate');
      await ledger.fund('alice', 'USD', 1_000n);
      expect(await ledger.prepare(t, payerAuth(t))).toEqual({ kind: 'locked' });
      // Back to the version 1 layout, as a ledger of the previous release left it.
      const s = `"${ledger.schema}"`;
      for (const statement of [
        `DROP TABLE ${s}.roots`,
        `ALTER TABLE ${s}.settlements DROP COLUMN config_digest`,
        `ALTER TABLE ${s}.settlements DROP CONSTRAINT settlements_applied_report_check`,
        `ALTER TABLE ${s}.settlements ADD CONSTRAINT settlements_applied_report_check CHECK (octet_length(applied_report) = 174)`,
        `UPDATE ${s}.ledger_meta SET schema_version = 1`,
      ]) {
        await getSql().query(statement);
      }
      const reopened = await PgBankLedger.open({ anchor: ANCHOR, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, sql: getSql(), schema: ledger.schema });
      try {
        expect((await getSql().query(`SELECT schema_version FROM ${s}.ledger_meta`))[0]?.schema_version).toBe(2);
        expect((await reopened.observe(settlementId(t))).state).toBe('locked');
        // The old lock names no configuration: no v2 entry may move it.
        const b = batchOf([entryOf(t, 'ABORT')]);
        expect((await reopened.applyBatch(b.report, b.entries, b.multiproof))[0]!.kind).toBe('refused');
        expect((await reopened.observe(settlementId(t))).state).toBe('locked');
        // A new lock does, and its marker (32 bytes) fits the widened column.
        const u = bankTerms('migrate-new');
        expect(await reopened.prepare(u, auth(u))).toEqual({ kind: 'locked' });
        const b2 = batchOf([entryOf(u, 'COMMIT')]);
        expect(await reopened.applyBatch(b2.report, b2.entries, b2.multiproof)).toEqual([{ kind: 'applied' }]);
      } finally {
        await reopened.close();
      }
    });
  });
}
