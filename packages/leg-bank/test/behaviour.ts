/**
 * Ledger behaviour beyond the conformance suite, run on PGlite and on a real PostgreSQL:
 * concurrency (no overdraft, post-vs-void races, duplicate delivery), append-only history,
 * schema idempotence, exact u256 amounts, input validation, and a differential property test
 * against the in-memory MemoryBankLedger (same outcomes, views and history for random operations).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Report, type Terms, U256_MAX, encodeReport, settlementId, reclaimAtMs, toHex, validUntilMs } from '@tandem/protocol';
import { TANDEM_BLS_DST, blsVerify } from '@tandem/crypto';
import { type SignatureCheck, MemoryBankLedger } from '@tandem/legs';
import { authorize, createLegFixture, signReport } from '@tandem/legs/conformance';
import { type Sql, type TransferChange, BankInputError, PgBankLedger } from '../src/index.js';
import { BANK_VENUE, START_MS, bankReport, bankTerms, freshLedger, fx, ledgersPerTest, payerAuth } from './support.js';

export interface BehaviourOptions {
  /** True when the Sql runs transactions on several connections at once (a `pg` pool). */
  readonly concurrentConnections: boolean;
}

/** Memoized signature checks: the property test verifies the same few reports many times. */
function memoized(check: SignatureCheck): SignatureCheck {
  const seen = new Map<string, boolean>();
  return (pk, msg, sig) => {
    const key = `${toHex(pk)}/${toHex(msg)}/${toHex(sig)}`;
    let ok = seen.get(key);
    if (ok === undefined) {
      ok = check(pk, msg, sig);
      seen.set(key, ok);
    }
    return ok;
  };
}
const verifyReportMemo = memoized((pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST));

export function ledgerBehaviour(name: string, getSql: () => Sql, options: BehaviourOptions): void {
  describe(`PgBankLedger behaviour on ${name}`, () => {
    const fresh = ledgersPerTest(getSql, 'beh');

    const mode = options.concurrentConnections ? 'in parallel on several connections' : 'queued on one connection';

    it(`never overdraws: many holds on one payer at once (${mode})`, async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 1000n);
      const terms = Array.from({ length: 24 }, (_, i) => bankTerms(`overdraw-${i}`, { amount: 100n }));
      const outcomes = await Promise.all(terms.map((t) => ledger.prepare(t, payerAuth(t))));
      const kinds = outcomes.map((o) => o.kind);
      expect(kinds.filter((k) => k === 'locked')).toHaveLength(10);
      expect(kinds.filter((k) => k === 'rejected')).toHaveLength(14);
      expect(await ledger.account('alice', 'USD')).toEqual({ account: 'alice', currency: 'USD', balance: 1000n, held: 1000n, available: 0n });
      // The views agree with the outcomes one by one.
      for (const [i, t] of terms.entries()) expect((await ledger.observe(settlementId(t))).state).toBe(kinds[i] === 'locked' ? 'locked' : 'rejected');
    });

    it(`lets exactly one of a COMMIT and an ABORT win a race (${mode})`, async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 1000n);
      const terms = Array.from({ length: 6 }, (_, i) => bankTerms(`race-${i}`, { amount: 100n }));
      for (const t of terms) expect(await ledger.prepare(t, payerAuth(t))).toEqual({ kind: 'locked' });
      const reports = terms.map((t) => ({ commit: bankReport(t, 'COMMIT'), abort: bankReport(t, 'ABORT') }));
      // Alternate which report is sent first, so both orders race.
      const results = await Promise.all(
        reports.map(async (r, i) => {
          const [a, b] = i % 2 === 0 ? [r.commit, r.abort] : [r.abort, r.commit];
          const [ra, rb] = await Promise.all([ledger.applyReport(a), ledger.applyReport(b)]);
          return i % 2 === 0 ? { commit: ra, abort: rb } : { commit: rb, abort: ra };
        }),
      );
      let commits = 0n;
      for (const [i, r] of results.entries()) {
        const applied = [r.commit.kind, r.abort.kind].filter((k) => k === 'applied');
        expect(applied, `settlement ${i}`).toHaveLength(1);
        expect([r.commit.kind, r.abort.kind]).toContain('refused');
        const state = (await ledger.observe(settlementId(terms[i]!))).state;
        expect(state).toBe(r.commit.kind === 'applied' ? 'committed' : 'aborted');
        if (state === 'committed') commits += 1n;
        // The loser stays refused when delivered again; the winner is a duplicate.
        const [winner, loser] = r.commit.kind === 'applied' ? [reports[i]!.commit, reports[i]!.abort] : [reports[i]!.abort, reports[i]!.commit];
        expect(await ledger.applyReport(winner)).toEqual({ kind: 'duplicate' });
        expect((await ledger.applyReport(loser)).kind).toBe('refused');
      }
      expect(await ledger.balance('alice', 'USD')).toBe(1000n - 100n * commits);
      expect(await ledger.balance('bob', 'USD')).toBe(100n * commits);
      const kinds = (await ledger.history()).map((e) => e.kind);
      expect(kinds.filter((k) => k === 'post' || k === 'void')).toHaveLength(terms.length);
    });

    it(`posts in opposite directions at once without deadlock (${mode})`, async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 1000n);
      await ledger.fund('bob', 'USD', 1000n);
      const terms = Array.from({ length: 16 }, (_, i) =>
        bankTerms(`cross-${i}`, i % 2 === 0 ? { payer: 'alice', payee: 'bob', amount: 10n } : { payer: 'bob', payee: 'alice', amount: 7n }),
      );
      // Holds and posts interleave: each settlement locks, then commits, all of them concurrently.
      const outcomes = await Promise.all(
        terms.map(async (t) => {
          const locked = await ledger.prepare(t, payerAuth(t));
          return [locked.kind, (await ledger.applyReport(bankReport(t, 'COMMIT'))).kind];
        }),
      );
      expect(outcomes).toEqual(terms.map(() => ['locked', 'applied']));
      expect(await ledger.balance('alice', 'USD')).toBe(1000n - 8n * 10n + 8n * 7n);
      expect(await ledger.balance('bob', 'USD')).toBe(1000n + 8n * 10n - 8n * 7n);
      expect(await ledger.height()).toBe(2n + 2n * BigInt(terms.length));
    });

    it(`tells onTransfer each committed transfer change, once, after the fact (${mode})`, async () => {
      const changes: TransferChange[] = [];
      let throwOnNext = true;
      const { ledger, clock } = await fresh({
        onTransfer: (c) => {
          changes.push(c);
          // A failing observer must not fail (or roll back) the call that made the change.
          if (throwOnNext) {
            throwOnNext = false;
            throw new Error('observer failure');
          }
        },
      });
      await ledger.fund('alice', 'USD', 1000n);
      const [posted, voided, reclaimed, refused] = ['tell-post', 'tell-void', 'tell-reclaim', 'tell-refused'].map((n) => bankTerms(n, { amount: n === 'tell-refused' ? 5000n : 100n }));
      for (const t of [posted!, voided!, reclaimed!]) expect(await ledger.prepare(t, payerAuth(t))).toEqual({ kind: 'locked' });
      expect((await ledger.prepare(refused!, payerAuth(refused!))).kind).toBe('rejected'); // no transfer: nothing to tell
      expect(await ledger.applyReport(bankReport(posted!, 'COMMIT'))).toEqual({ kind: 'applied' });
      expect(await ledger.applyReport(bankReport(posted!, 'COMMIT'))).toEqual({ kind: 'duplicate' }); // no change: nothing to tell
      expect(await ledger.applyReport(bankReport(voided!, 'ABORT'))).toEqual({ kind: 'applied' });
      clock.nowMs = reclaimAtMs(reclaimed!);
      expect(await ledger.reclaim(settlementId(reclaimed!))).toEqual({ kind: 'reclaimed' });

      const hex = (t: Terms) => toHex(settlementId(t));
      expect(changes.map((c) => [c.settlementIdHex, c.kind, c.status])).toEqual([
        [hex(posted!), 'hold', 'pending'],
        [hex(voided!), 'hold', 'pending'],
        [hex(reclaimed!), 'hold', 'pending'],
        [hex(posted!), 'post', 'posted'],
        [hex(voided!), 'void', 'voided'],
        [hex(reclaimed!), 'reclaim', 'voided'],
      ]);
      // Each change names the transfer the bank keeps for that settlement, at the height of its history entry.
      const history = await ledger.history();
      for (const c of changes) {
        const view = await ledger.settlement(settlementId([posted!, voided!, reclaimed!].find((t) => hex(t) === c.settlementIdHex)!));
        expect(c.transferId).toBe(view.transfer!.id);
        expect(c).toMatchObject({ debitAccount: 'alice', creditAccount: 'bob', currency: 'USD', amount: 100n });
        const entry = history.find((e) => BigInt(e.seq) === c.seq)!;
        expect(entry).toMatchObject({ kind: c.kind, settlementIdHex: c.settlementIdHex, transferId: c.transferId });
      }
      expect(new Set(changes.map((c) => c.transferId)).size).toBe(3);
    });

    it(`applies a report delivered many times at once exactly once (${mode})`, async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 1000n);
      const t = bankTerms('dup', { amount: 250n });
      // Concurrent prepares of the same id place one hold.
      const prepares = await Promise.all(Array.from({ length: 5 }, () => ledger.prepare(t, payerAuth(t))));
      expect(prepares).toEqual(Array.from({ length: 5 }, () => ({ kind: 'locked' })));
      const commit = bankReport(t, 'COMMIT');
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => ledger.applyReport(commit)));
      expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(5);
      expect(await ledger.balance('bob', 'USD')).toBe(250n);
      expect(await ledger.account('alice', 'USD')).toMatchObject({ balance: 750n, held: 0n });
      const events = (await ledger.history()).filter((e) => e.settlementIdHex === toHex(settlementId(t)));
      expect(events.map((e) => e.kind)).toEqual(['hold', 'post']);
      const view = await ledger.settlement(settlementId(t));
      expect(view.transfer).toMatchObject({ debitAccount: 'alice', creditAccount: 'bob', amount: 250n, status: 'posted' });
      expect(view.transfer!.id).toBe(events[0]!.transferId);
      expect(view.appliedReport).toEqual(encodeReport(commit));
    });

    it('keeps history append-only, gapless, and in step with finality heights', async () => {
      const { ledger, clock } = await fresh();
      await ledger.fund('alice', 'USD', 500n);
      const [t1, t2, t3] = [bankTerms('h1'), bankTerms('h2', { amount: 10_000n }), bankTerms('h3')];
      await ledger.prepare(t1, payerAuth(t1));
      await ledger.prepare(t2, payerAuth(t2)); // rejected: insufficient funds
      await ledger.prepare(t3, payerAuth(t3));
      await ledger.applyReport(bankReport(t1, 'COMMIT'));
      await ledger.applyReport(bankReport(t2, 'ABORT')); // recorded on a rejected id
      clock.nowMs = reclaimAtMs(t3);
      expect(await ledger.reclaim(settlementId(t3))).toEqual({ kind: 'reclaimed' });
      const history = await ledger.history();
      expect(history.map((e) => e.kind)).toEqual(['mint', 'hold', 'reject', 'hold', 'post', 'abort-recorded', 'reclaim']);
      expect(history.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await ledger.height()).toBe(7n);
      expect(history[6]!.atMs).toBe(reclaimAtMs(t3));
      // Each settlement's finality height is the seq of its last state change.
      expect((await ledger.observe(settlementId(t1))).finalityHeight).toBe(5n);
      expect((await ledger.observe(settlementId(t2))).finalityHeight).toBe(3n); // the recorded ABORT changed nothing
      expect((await ledger.observe(settlementId(t3))).finalityHeight).toBe(7n);
      // Paging.
      expect((await ledger.history({ afterSeq: 5n, limit: 1 })).map((e) => e.seq)).toEqual([6]);
      // The database itself refuses to rewrite history.
      const h = `"${ledger.schema}".history`;
      await expect(getSql().query(`UPDATE ${h} SET amount = 1 WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(getSql().query(`DELETE FROM ${h} WHERE seq = 7`)).rejects.toThrow(/append-only/);
      await expect(getSql().query(`TRUNCATE ${h}`)).rejects.toThrow(/append-only/);
      expect(await ledger.history()).toEqual(history);
    });

    it('enforces no overdraft in the database too, not only in the ledger code', async () => {
      const { ledger } = await fresh();
      await ledger.fund('alice', 'USD', 100n);
      const a = `"${ledger.schema}".accounts`;
      await expect(getSql().query(`UPDATE ${a} SET held = 101 WHERE id = 'alice'`)).rejects.toThrow(/accounts_no_overdraft/);
      await expect(getSql().query(`UPDATE ${a} SET balance = -1, held = 0 WHERE id = 'alice'`)).rejects.toThrow(/check constraint/);
      expect(await ledger.balance('alice', 'USD')).toBe(100n);
    });

    it('keeps u256 amounts exact', async () => {
      const { ledger } = await fresh();
      const big = (1n << 255n) + 12345n;
      await ledger.fund('alice', 'USD', big);
      await ledger.fund('alice', 'USD', U256_MAX - big);
      // A balance is a u256 like every amount: a deposit past 2^256-1 is refused, nothing changed.
      await expect(ledger.fund('alice', 'USD', 1n)).rejects.toThrow(BankInputError);
      const t = bankTerms('huge', { amount: U256_MAX - 1n });
      expect(await ledger.prepare(t, payerAuth(t))).toEqual({ kind: 'locked' });
      expect((await ledger.observe(settlementId(t))).lock?.amount).toBe(U256_MAX - 1n);
      expect(await ledger.applyReport(bankReport(t, 'COMMIT'))).toEqual({ kind: 'applied' });
      expect(await ledger.balance('bob', 'USD')).toBe(U256_MAX - 1n);
      expect(await ledger.balance('alice', 'USD')).toBe(1n);
    });

    it('refuses bad funding input with BankInputError and changes nothing', async () => {
      const { ledger } = await fresh();
      const bad: [string, string, bigint][] = [
        ['alice', 'USD', 0n],
        ['alice', 'USD', -5n],
        ['alice', 'USD', U256_MAX + 1n],
        ['', 'USD', 1n],
        ['alice', '', 1n],
        ['al\u0000ice', 'USD', 1n],
        ['\ud800', 'USD', 1n],
        ['x'.repeat(257), 'USD', 1n],
      ];
      for (const [account, currency, amount] of bad) {
        await expect(ledger.fund(account, currency, amount), JSON.stringify([account, currency, String(amount)])).rejects.toBeInstanceOf(BankInputError);
      }
      expect(await ledger.height()).toBe(0n);
      expect(await ledger.accounts()).toEqual([]);
    });

    it('rejects terms naming a NUL account durably instead of failing', async () => {
      const { ledger } = await fresh();
      const t = bankTerms('nul', { payee: 'b\u0000b' });
      const out = await ledger.prepare(t, payerAuth(t));
      expect(out.kind).toBe('rejected');
      expect((await ledger.prepare(t, payerAuth(t))).kind).toBe('closed');
      expect((await ledger.settlement(settlementId(t))).rejectReason).toMatch(/NUL/);
    });

    it('applies the schema idempotently: reopening keeps every row', async () => {
      const first = await fresh();
      await first.ledger.fund('carol', 'EUR', 42n);
      const t = bankTerms('reopen', { payer: 'carol' });
      await first.ledger.fund('carol', 'USD', 100n);
      await first.ledger.prepare(t, payerAuth(t));
      // Several ledgers opening the same schema at once.
      const again = await Promise.all(
        [0, 1, 2].map(() =>
          PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, sql: getSql(), schema: first.ledger.schema }),
        ),
      );
      for (const l of again) {
        expect(await l.balance('carol', 'EUR')).toBe(42n);
        expect((await l.observe(settlementId(t))).state).toBe('locked');
        expect(await l.height()).toBe(3n);
        await l.close();
      }
      // Tables of another layout version are refused, not silently used.
      await getSql().query(`UPDATE "${first.ledger.schema}".ledger_meta SET schema_version = 99`);
      await expect(
        PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => START_MS, sql: getSql(), schema: first.ledger.schema }),
      ).rejects.toThrow(/layout version 99/);
    });

    it('matches MemoryBankLedger on random operation sequences (outcomes, views, history)', async () => {
      const seen = new Set<string>(); // op:outcome over all runs: the generator must reach every outcome
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30, size: 'max' }), async (ops) => {
          const clock = { nowMs: START_MS };
          const memory = new MemoryBankLedger({
            anchor: fx.anchor,
            parties: fx.partyPublicKeys,
            venue: BANK_VENUE,
            nowMs: () => clock.nowMs,
            verifyReport: verifyReportMemo,
          });
          const pgl = await freshLedger(getSql(), 'prop', { nowMs: () => clock.nowMs, verifyReport: verifyReportMemo });
          try {
            // Funded up front, so early prepares can lock; carol holds nothing unless a fund op gives her some.
            const funding: Op[] = [{ op: 'fund', party: 0, amount: 100n }, { op: 'fund', party: 1, amount: 40n }];
            for (const op of [...funding, ...ops]) {
              const [want, got] = [await runOp(memory, op, clock), await runOp(pgl.ledger, op, clock)];
              expect(got, JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toEqual(want);
              seen.add(`${op.op}:${typeof got === 'object' && got !== null ? (got as { kind: string }).kind : String(got)}`);
              for (const p of PARTIES) expect(await pgl.ledger.balance(p, 'USD')).toBe(memory.balance(p, 'USD'));
            }
            for (const t of P_TERMS) expect(await pgl.ledger.observe(settlementId(t))).toEqual(await memory.observe(settlementId(t)));
            const history = (await pgl.ledger.history()).map(({ transferId: _id, ...e }) => e);
            expect(history).toEqual(memory.events().map((e) => ({ ...e })));
            expect(await pgl.ledger.conservationProblem()).toBeNull();
          } finally {
            await pgl.dispose();
          }
        }),
        { numRuns: 15, examples: [[EVERY_OUTCOME]] },
      );
      for (const outcome of ['prepare:locked', 'prepare:unauthorized', 'prepare:rejected', 'prepare:closed', 'apply:applied', 'apply:duplicate', 'apply:refused', 'reclaim:reclaimed', 'reclaim:refused']) {
        expect(seen.has(outcome), outcome).toBe(true);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The differential property test's operations.

const PARTIES = ['alice', 'bob', 'carol'] as const;
const otherDealer = createLegFixture('leg-bank/other-dealer').dealer;

export const P_TERMS: readonly Terms[] = [
  bankTerms('p0', { payer: 'alice', payee: 'bob', amount: 60n }),
  bankTerms('p1', { payer: 'alice', payee: 'bob', amount: 50n }),
  bankTerms('p2', { payer: 'bob', payee: 'alice', amount: 30n }),
  bankTerms('p3', { payer: 'carol', payee: 'alice', amount: 10n }),
  { ...bankTerms('p4'), payment: { ...bankTerms('p4').payment, ledger: 'elsewhere' } },
];

/** Per settlement: COMMIT r0, COMMIT r1, ABORT r0, ABORT r1, a COMMIT from another dealer, and a COMMIT with another validUntil. */
const P_REPORTS: readonly (readonly Report[])[] = P_TERMS.map((t) => {
  const body = { networkId: fx.anchor.networkId, configDigest: fx.anchor.configDigest, settlementId: settlementId(t), validUntilMs: validUntilMs(t) };
  return [
    signReport(fx.dealer, { ...body, decision: 'COMMIT', round: 0 }),
    signReport(fx.dealer, { ...body, decision: 'COMMIT', round: 1 }),
    signReport(fx.dealer, { ...body, decision: 'ABORT', round: 0 }),
    signReport(fx.dealer, { ...body, decision: 'ABORT', round: 1 }),
    signReport(otherDealer, { ...body, decision: 'COMMIT', round: 0 }),
    signReport(fx.dealer, { ...body, decision: 'ABORT', round: 0, validUntilMs: body.validUntilMs + 1 }),
  ];
});

export type Op =
  | { readonly op: 'fund'; readonly party: number; readonly amount: bigint }
  | { readonly op: 'prepare'; readonly s: number; readonly auth: 'good' | 'none' | 'wrong-key' | 'wrong-party' }
  | { readonly op: 'apply'; readonly s: number; readonly r: number }
  | { readonly op: 'reclaim'; readonly s: number }
  | { readonly op: 'advance'; readonly ms: number };

const sArb = fc.integer({ min: 0, max: P_TERMS.length - 1 });
/**
 * One sequence that reaches every outcome (random runs rarely reach a reclaim: a lock must
 * survive 50 s of leg time without a report). fast-check runs it first.
 */
const EVERY_OUTCOME: Op[] = [
  { op: 'prepare', s: 0, auth: 'good' }, // locked
  { op: 'prepare', s: 0, auth: 'none' }, // locked (idempotent, no authorization needed)
  { op: 'prepare', s: 1, auth: 'none' }, // unauthorized
  { op: 'prepare', s: 1, auth: 'wrong-key' }, // unauthorized
  { op: 'prepare', s: 1, auth: 'wrong-party' }, // unauthorized
  { op: 'prepare', s: 1, auth: 'good' }, // rejected: alice has 40 left, needs 50
  { op: 'prepare', s: 1, auth: 'good' }, // closed
  { op: 'prepare', s: 2, auth: 'good' }, // locked
  { op: 'apply', s: 0, r: 0 }, // applied (COMMIT)
  { op: 'apply', s: 0, r: 0 }, // duplicate
  { op: 'apply', s: 0, r: 2 }, // refused: another report was applied
  { op: 'apply', s: 2, r: 4 }, // refused: another dealer
  { op: 'apply', s: 2, r: 5 }, // refused: validUntil differs
  { op: 'reclaim', s: 2 }, // refused: too early
  { op: 'advance', ms: 50_000 },
  { op: 'apply', s: 2, r: 0 }, // refused: COMMIT expired
  { op: 'reclaim', s: 2 }, // reclaimed
  { op: 'apply', s: 2, r: 2 }, // refused: reclaimed
  { op: 'apply', s: 3, r: 2 }, // applied: ABORT closes a never-locked id
  { op: 'prepare', s: 3, auth: 'good' }, // closed
  { op: 'prepare', s: 4, auth: 'good' }, // rejected: another ledger
  { op: 'apply', s: 1, r: 3 }, // applied: ABORT recorded on a rejected id
  { op: 'fund', party: 2, amount: 10n },
];

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fund' as const), party: fc.integer({ min: 0, max: 2 }), amount: fc.constantFrom(10n, 40n, 100n) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('prepare' as const), s: sArb, auth: fc.constantFrom('good' as const, 'good' as const, 'none' as const, 'wrong-key' as const, 'wrong-party' as const) }) },
  // Genuine round-0 reports twice as often, so duplicates are common.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('apply' as const), s: sArb, r: fc.constantFrom(0, 0, 1, 2, 2, 3, 4, 5) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reclaim' as const), s: sArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 999, 10_000, 50_000, 50_000) }) },
);

interface AnyBank {
  prepare: MemoryBankLedger['prepare'];
  applyReport: MemoryBankLedger['applyReport'];
  reclaim: MemoryBankLedger['reclaim'];
}

export async function runOp(leg: MemoryBankLedger | PgBankLedger, op: Op, clock: { nowMs: number }): Promise<unknown> {
  const bank: AnyBank = leg;
  switch (op.op) {
    case 'fund':
      if (leg instanceof MemoryBankLedger) leg.mint(PARTIES[op.party]!, 'USD', op.amount);
      else await leg.fund(PARTIES[op.party]!, 'USD', op.amount);
      return 'ok';
    case 'prepare': {
      const t = P_TERMS[op.s]!;
      const payer = t.payment.payer;
      const other = payer === 'carol' ? 'bob' : 'carol';
      const id = settlementId(t);
      const a =
        op.auth === 'good' ? authorize(payer, fx.partySecretKeys.get(payer)!, fx.anchor.networkId, id)
        : op.auth === 'none' ? null
        : op.auth === 'wrong-key' ? authorize(payer, fx.partySecretKeys.get(other)!, fx.anchor.networkId, id)
        : authorize(other, fx.partySecretKeys.get(other)!, fx.anchor.networkId, id);
      return bank.prepare(t, a);
    }
    case 'apply':
      return bank.applyReport(P_REPORTS[op.s]![op.r]!);
    case 'reclaim':
      return bank.reclaim(settlementId(P_TERMS[op.s]!));
    case 'advance':
      // Both legs share the clock: advance it once, on the first (memory) run of the op.
      if (leg instanceof MemoryBankLedger) clock.nowMs += op.ms;
      return 'ok';
  }
}
