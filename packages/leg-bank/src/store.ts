/**
 * The bank ledger's SQL: every statement the ledger runs, on the tables of one schema (schema.ts).
 * No rule lives here — what to write is decided by the leg rules of @tandem/legs, in ledger.ts.
 *
 * Writers take their locks in one global order — a root row (v2), then the settlements (advisory
 * locks on their ids, several in ascending key order), then account rows sorted by (currency, id),
 * then the ledger head row — so concurrent calls on several connections never deadlock, and a
 * second call for the same id sees what the first committed.
 */
import { type LegState, type LockRecord, fromHex, toHex } from '@tandem/protocol';
import type { NewLegEvent, VerifiedRoot } from '@tandem/legs';
import type { AccountBalance, BankEvent, Transfer } from './model.js';
import { type AccountRow, type SettlementRow, accountBalance, accountRow, big, historyEvent, safeNumber, settlementRow, str, transferOf } from './rows.js';
import { advisoryKey } from './schema.js';
import type { SqlQueryable } from './sql.js';

/** A history entry before it is stamped with its sequence number and time. */
export type NewBankEvent = NewLegEvent & { readonly transferId?: bigint };

export class LedgerStore {
  private readonly head: string;
  private readonly accounts: string;
  private readonly settlements: string;
  private readonly transfers: string;
  private readonly history: string;
  private readonly roots: string;

  /** `schema` must have passed checkSchemaName: it is spliced into the SQL text. */
  constructor(schema: string) {
    const q = (name: string) => `"${schema}".${name}`;
    this.head = q('ledger_head');
    this.accounts = q('accounts');
    this.settlements = q('settlements');
    this.transfers = q('transfers');
    this.history = q('history');
    this.roots = q('roots');
  }

  // -------------------------------------------------------------------------------------------
  // Roots (protocol v2): stored once, never changed, so a count read outside a transaction stays true.

  async rootCount(q: SqlQueryable, configDigest: Uint8Array, root: Uint8Array): Promise<number | null> {
    const rows = await q.query(`SELECT count::text AS count FROM ${this.roots} WHERE config_digest = $1 AND root = $2`, [configDigest, root]);
    return rows[0] === undefined ? null : safeNumber(rows[0].count);
  }

  /** Stores a verified root; false if it was stored already (by a concurrent call). */
  async insertRoot(tx: SqlQueryable, root: VerifiedRoot, atMs: number): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO ${this.roots} (config_digest, root, count, stored_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING count`,
      [root.configDigest, root.root, root.count, atMs],
    );
    return rows.length === 1;
  }

  // -------------------------------------------------------------------------------------------
  // Settlements

  /** Serializes every call about one settlement id for the rest of the transaction. */
  async lockSettlement(tx: SqlQueryable, id: Uint8Array): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(id)]);
  }

  /** lockSettlement for several ids, in ascending key order (the lock order), each once. */
  async lockSettlements(tx: SqlQueryable, ids: readonly Uint8Array[]): Promise<void> {
    const keys = [...new Set(ids.map(advisoryKey))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    for (const key of keys) await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [key]);
  }

  async readSettlement(q: SqlQueryable, id: Uint8Array): Promise<SettlementRow | null> {
    const rows = await q.query(
      `SELECT state, payer, payee, currency, amount::text AS amount, venue, valid_until_ms::text AS valid_until_ms, reclaim_at_ms::text AS reclaim_at_ms,
              group_public_key, config_digest, reject_reason, applied_report, height::text AS height
       FROM ${this.settlements} WHERE settlement_id = $1`,
      [id],
    );
    const r = rows[0];
    return r === undefined ? null : settlementRow(id, r);
  }

  /** Many settlements in one query: the rows found, by id hex (absent ids are not in the map). */
  async readSettlements(q: SqlQueryable, ids: readonly Uint8Array[]): Promise<Map<string, SettlementRow>> {
    const out = new Map<string, SettlementRow>();
    if (ids.length === 0) return out;
    // Hex text travels the same way through pg and PGlite; decoded back to bytea, the index is used.
    const rows = await q.query(
      `SELECT settlement_id, state, payer, payee, currency, amount::text AS amount, venue, valid_until_ms::text AS valid_until_ms, reclaim_at_ms::text AS reclaim_at_ms,
              group_public_key, config_digest, reject_reason, applied_report, height::text AS height
       FROM ${this.settlements} WHERE settlement_id IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`,
      [ids.map((id) => toHex(id))],
    );
    for (const r of rows) {
      const id = new Uint8Array(r['settlement_id'] as Uint8Array);
      out.set(toHex(id), settlementRow(id, r));
    }
    return out;
  }

  private async insertLocked(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, configDigest: Uint8Array, seq: bigint): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.settlements} (settlement_id, state, payer, payee, currency, amount, venue, valid_until_ms, reclaim_at_ms, group_public_key, config_digest, height)
       VALUES ($1, 'locked', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [id, lock.from, lock.to, lock.unit, lock.amount.toString(), lock.venue, lock.validUntilMs, lock.reclaimAtMs, lock.groupPublicKey, configDigest, seq.toString()],
    );
  }

  async insertRejected(tx: SqlQueryable, id: Uint8Array, reason: string, seq: bigint): Promise<void> {
    await tx.query(`INSERT INTO ${this.settlements} (settlement_id, state, reject_reason, height) VALUES ($1, 'rejected', $2, $3)`, [id, reason, seq.toString()]);
  }

  /** An ABORT that closed an id which never locked. */
  async insertAborted(tx: SqlQueryable, id: Uint8Array, appliedReport: Uint8Array, seq: bigint): Promise<void> {
    await tx.query(`INSERT INTO ${this.settlements} (settlement_id, state, applied_report, height) VALUES ($1, 'aborted', $2, $3)`, [id, appliedReport, seq.toString()]);
  }

  /** Records the report only: the state and its view (height included) do not change. */
  async setAppliedReport(tx: SqlQueryable, id: Uint8Array, appliedReport: Uint8Array): Promise<void> {
    await tx.query(`UPDATE ${this.settlements} SET applied_report = $2 WHERE settlement_id = $1`, [id, appliedReport]);
  }

  async setState(tx: SqlQueryable, id: Uint8Array, state: LegState, appliedReport: Uint8Array | null, seq: bigint): Promise<void> {
    await tx.query(`UPDATE ${this.settlements} SET state = $2, applied_report = $3, height = $4 WHERE settlement_id = $1`, [id, state, appliedReport, seq.toString()]);
  }

  // -------------------------------------------------------------------------------------------
  // Accounts and transfers

  /** Opens an account (idempotent). A new row can only be contended by another insert of the same key. */
  async createAccount(q: SqlQueryable, account: string, currency: string): Promise<void> {
    await q.query(`INSERT INTO ${this.accounts} (id, currency) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [account, currency]);
  }

  /** Credits an account, creating it if needed. */
  async credit(tx: SqlQueryable, account: string, currency: string, amount: bigint): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.accounts} AS a (id, currency, balance) VALUES ($1, $2, $3)
       ON CONFLICT (id, currency) DO UPDATE SET balance = a.balance + EXCLUDED.balance`,
      [account, currency, amount.toString()],
    );
  }

  /** Locks the existing rows of these accounts in (currency, id) order; missing ones are absent from the map. */
  async lockAccounts(tx: SqlQueryable, currency: string, ids: readonly string[]): Promise<Map<string, AccountRow>> {
    const rows = await tx.query(
      `SELECT id, balance::text AS balance, held::text AS held FROM ${this.accounts}
       WHERE currency = $1 AND id = ANY($2::text[]) ORDER BY id COLLATE "C" FOR UPDATE`,
      [currency, [...new Set(ids)]],
    );
    return new Map(rows.map((r) => [str(r.id), accountRow(r)]));
  }

  async readAccount(q: SqlQueryable, account: string, currency: string): Promise<AccountRow | null> {
    const rows = await q.query(`SELECT balance::text AS balance, held::text AS held FROM ${this.accounts} WHERE id = $1 AND currency = $2`, [account, currency]);
    return rows[0] === undefined ? null : accountRow(rows[0]);
  }

  /** Every account, sorted by account then currency. */
  async listAccounts(q: SqlQueryable): Promise<AccountBalance[]> {
    const rows = await q.query(`SELECT id, currency, balance::text AS balance, held::text AS held FROM ${this.accounts} ORDER BY id COLLATE "C", currency COLLATE "C"`);
    return rows.map((r) => accountBalance(str(r.id), str(r.currency), accountRow(r)));
  }

  /** Places the hold (made under `configDigest`): the payer's `held` grows and a pending transfer is created; returns its id. */
  async hold(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, configDigest: Uint8Array, seq: bigint): Promise<bigint> {
    await tx.query(`UPDATE ${this.accounts} SET held = held + $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, lock.amount.toString()]);
    await this.insertLocked(tx, id, lock, configDigest, seq);
    const rows = await tx.query(
      `INSERT INTO ${this.transfers} (settlement_id, debit_account, credit_account, currency, amount, status, created_seq)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id::text AS id`,
      [id, lock.from, lock.to, lock.unit, lock.amount.toString(), seq.toString()],
    );
    return big(rows[0]?.id);
  }

  /** Resolves the pending transfer (posted moves the money to the payee, voided drops the hold); returns its id. */
  async resolve(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, status: 'posted' | 'voided', seq: bigint): Promise<bigint> {
    const amount = lock.amount.toString();
    const a = this.accounts;
    if (status === 'posted') {
      await tx.query(`UPDATE ${a} SET held = held - $3, balance = balance - $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, amount]);
      await tx.query(`UPDATE ${a} SET balance = balance + $3 WHERE id = $1 AND currency = $2`, [lock.to, lock.unit, amount]);
    } else {
      await tx.query(`UPDATE ${a} SET held = held - $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, amount]);
    }
    const rows = await tx.query(
      `UPDATE ${this.transfers} SET status = $2, resolved_seq = $3 WHERE settlement_id = $1 AND status = 'pending' RETURNING id::text AS id`,
      [id, status, seq.toString()],
    );
    if (rows.length !== 1) throw new Error('assertion failed: a locked settlement without a pending transfer');
    return big(rows[0]!.id);
  }

  async transferOf(q: SqlQueryable, id: Uint8Array): Promise<Transfer | null> {
    const rows = await q.query(
      `SELECT id::text AS id, debit_account, credit_account, currency, amount::text AS amount, status, created_seq::text AS created_seq, resolved_seq::text AS resolved_seq
       FROM ${this.transfers} WHERE settlement_id = $1`,
      [id],
    );
    return rows[0] === undefined ? null : transferOf(rows[0]);
  }

  // -------------------------------------------------------------------------------------------
  // Height and history

  /** Takes the next ledger height. Last in the lock order; held until commit, so heights are gapless. */
  async nextSeq(tx: SqlQueryable): Promise<bigint> {
    const rows = await tx.query(`UPDATE ${this.head} SET height = height + 1 RETURNING height::text AS height`);
    if (rows[0] === undefined) throw new Error('assertion failed: the ledger head row is missing');
    return big(rows[0].height);
  }

  async height(q: SqlQueryable): Promise<bigint> {
    const rows = await q.query(`SELECT height::text AS height FROM ${this.head}`);
    return big(rows[0]?.height ?? '0');
  }

  async insertHistory(tx: SqlQueryable, seq: bigint, atMs: number, e: NewBankEvent): Promise<void> {
    // A name with NUL cannot be stored (it was refused for that reason): leave the column empty.
    const text = (s: string | undefined) => (s === undefined || s.includes('\u0000') ? null : s);
    await tx.query(
      `INSERT INTO ${this.history} (seq, at_ms, kind, settlement_id, account, counterparty, currency, amount, transfer_id, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        seq.toString(),
        atMs,
        e.kind,
        e.settlementIdHex === undefined ? null : fromHex(e.settlementIdHex),
        text(e.account),
        text(e.counterparty),
        text(e.unit),
        e.amount?.toString() ?? null,
        e.transferId?.toString() ?? null,
        e.detail,
      ],
    );
  }

  /** History entries with seq > afterSeq, oldest first, at most `limit`. */
  async historyPage(q: SqlQueryable, afterSeq: bigint, limit: number): Promise<BankEvent[]> {
    const rows = await q.query(
      `SELECT seq::text AS seq, at_ms::text AS at_ms, kind, settlement_id, account, counterparty, currency, amount::text AS amount, transfer_id::text AS transfer_id, detail
       FROM ${this.history} h WHERE h.seq > $1 ORDER BY h.seq LIMIT $2`, // h.seq: the bigint column, not the text alias
      [afterSeq.toString(), limit],
    );
    return rows.map(historyEvent);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Cross-checks the tables (what a bank's reconciliation would): money is conserved per
   * currency, every account's `held` is the sum of its pending transfers, open holds and locked
   * settlements match one to one, and the history is gapless. Null when all hold.
   */
  async conservationProblem(q: SqlQueryable): Promise<string | null> {
    const money = await q.query(
      `SELECT c.currency, c.total::text AS total, coalesce(m.minted, 0)::text AS minted
       FROM (SELECT currency, sum(balance) AS total FROM ${this.accounts} GROUP BY currency) c
       LEFT JOIN (SELECT currency, sum(amount) AS minted FROM ${this.history} WHERE kind = 'mint' GROUP BY currency) m USING (currency)
       WHERE c.total <> coalesce(m.minted, 0)`,
    );
    if (money[0] !== undefined) return `${str(money[0].currency)}: balances sum to ${str(money[0].total)}, funded ${str(money[0].minted)}`;
    const held = await q.query(
      `SELECT a.id, a.currency, a.held::text AS held, coalesce(p.pending, 0)::text AS pending FROM ${this.accounts} a
       LEFT JOIN (SELECT debit_account, currency, sum(amount) AS pending FROM ${this.transfers} WHERE status = 'pending' GROUP BY debit_account, currency) p
         ON p.debit_account = a.id AND p.currency = a.currency
       WHERE a.held <> coalesce(p.pending, 0) OR a.held > a.balance`,
    );
    if (held[0] !== undefined) return `${str(held[0].id)} ${str(held[0].currency)}: held ${str(held[0].held)}, pending transfers ${str(held[0].pending)}`;
    const mismatched = await q.query(
      `SELECT s.state, t.status FROM ${this.settlements} s LEFT JOIN ${this.transfers} t USING (settlement_id)
       WHERE (s.payer IS NULL) <> (t.id IS NULL)
          OR (t.id IS NOT NULL AND (t.debit_account <> s.payer OR t.credit_account <> s.payee OR t.currency <> s.currency OR t.amount <> s.amount
              OR t.status <> CASE s.state WHEN 'locked' THEN 'pending' WHEN 'committed' THEN 'posted' ELSE 'voided' END))`,
    );
    if (mismatched[0] !== undefined) return `a settlement ${str(mismatched[0].state)} has a transfer ${String(mismatched[0].status ?? 'missing')}`;
    const gaps = await q.query(
      `SELECT (SELECT count(*) FROM ${this.history})::text AS n, (SELECT coalesce(max(seq), 0) FROM ${this.history})::text AS top, (SELECT height FROM ${this.head})::text AS height`,
    );
    const g = gaps[0]!;
    if (str(g.n) !== str(g.top) || str(g.top) !== str(g.height)) return `history has ${str(g.n)} entries up to seq ${str(g.top)}, head at ${str(g.height)}`;
    return null;
  }
}
