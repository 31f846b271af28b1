import {
  type Authorization,
  type LegState,
  type LegView,
  type LockRecord,
  type Report,
  type Terms,
  SIGN_DOMAIN,
  STRING_BYTES_MAX,
  U256_MAX,
  encodeReport,
  equalBytes,
  expectedLock,
  fromHex,
  reportDigest,
  settlementId,
  toHex,
  utf8,
} from '@tandem/protocol';
import { TANDEM_BLS_DST, blsVerify, identityVerify } from '@tandem/crypto';
import {
  type ApplyOutcome,
  type BankVenue,
  type LegAdapter,
  type LegAnchor,
  type LegEvent,
  type LegEventKind,
  type PrepareOutcome,
  type ReclaimOutcome,
  type SignatureCheck,
  TransientLegError,
} from '@tandem/legs';
import { reportShapeProblem } from '@tandem/leg-host';
import { DEFAULT_SCHEMA, advisoryKey, applySchema, checkSchemaName } from './schema.js';
import { type Row, type Sql, type SqlQueryable, isTransientDbError, openSql } from './sql.js';

export interface PgBankLedgerOptions {
  /** What reports are checked against; its group key is copied into every hold (DESIGN §2.2 item 2). */
  readonly anchor: LegAnchor;
  /** The leg's own clock: COMMIT and reclaim windows use it, and history entries are stamped with it. */
  readonly nowMs: () => number;
  /** Party name → Ed25519 public key: who may authorize a hold. */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** The bank and ledger that terms must name. */
  readonly venue: BankVenue;
  /** An open connection to share (close() leaves it open). Without it, one is opened from databaseUrl / dataDir. */
  readonly sql?: Sql;
  /** `postgres://…`: a real server through a `pg` pool. Absent (and no sql): embedded PGlite. */
  readonly databaseUrl?: string;
  /** PGlite data directory; absent: in memory. */
  readonly dataDir?: string;
  /** Connections in the `pg` pool. */
  readonly poolSize?: number;
  /** The PostgreSQL schema holding this ledger's tables (default `tandem_bank`). */
  readonly schema?: string;
  /** Threshold signature check over reportDigest(report). Default: crypto's blsVerify with TANDEM_BLS_DST. */
  readonly verifyReport?: SignatureCheck;
  /** Authorization check over the settlement id. Default: identityVerify under SIGN_DOMAIN.authorization. */
  readonly verifyAuthorization?: SignatureCheck;
  /**
   * Told about every change of a transfer (a hold placed, posted, voided), after the database
   * transaction that made it committed: for logs and demos (e.g. to print the transfer id a
   * settlement moved). An exception it throws is ignored; the ledger's answer stands.
   */
  readonly onTransfer?: (change: TransferChange) => void;
}

/** One account in one currency. `available = balance - held`. */
export interface AccountBalance {
  readonly account: string;
  readonly currency: string;
  /** Posted balance, holds included. */
  readonly balance: bigint;
  /** Pending debits (holds). */
  readonly held: bigint;
  /** Spendable: what a new hold can take. */
  readonly available: bigint;
}

export type TransferStatus = 'pending' | 'posted' | 'voided';

/** A two-phase transfer: a hold while pending; posted on COMMIT, voided on ABORT or reclaim. */
export interface Transfer {
  readonly id: bigint;
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly status: TransferStatus;
  /** Ledger height of the hold and of its resolution (null while pending). */
  readonly createdSeq: bigint;
  readonly resolvedSeq: bigint | null;
}

/** One committed change of a transfer: what `onTransfer` is told. */
export interface TransferChange {
  /** The settlement the transfer belongs to: lowercase hex of its 32-byte id, as toHex writes it. */
  readonly settlementIdHex: string;
  readonly transferId: bigint;
  /** What happened: `hold` created it (pending); `post`, `void` and `reclaim` resolved it. */
  readonly kind: 'hold' | 'post' | 'void' | 'reclaim';
  /** The transfer's status after the change. */
  readonly status: TransferStatus;
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly currency: string;
  readonly amount: bigint;
  /** The ledger height of the change (its history entry's seq). */
  readonly seq: bigint;
}

/** The leg view plus what only the bank knows: the transfer, the report applied, why it refused. */
export interface BankSettlementView extends LegView {
  readonly transfer: Transfer | null;
  /** encodeReport bytes of the one report applied for this id. */
  readonly appliedReport: Uint8Array | null;
  readonly rejectReason: string | null;
}

/** A history entry: the in-memory legs' event, plus the transfer it concerns. */
export interface BankEvent extends LegEvent {
  readonly transferId?: bigint;
}

/** A caller's mistake (bad account name, amount out of range): the HTTP API answers 400. */
export class BankInputError extends Error {
  override readonly name = 'BankInputError';
}

/** Bound on one history page. */
export const HISTORY_PAGE_MAX = 10_000;

const defaultVerifyReport: SignatureCheck = (pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST);
const defaultVerifyAuthorization: SignatureCheck = (pk, msg, sig) => identityVerify(SIGN_DOMAIN.authorization, pk, msg, sig);

const LOCKED: PrepareOutcome = { kind: 'locked' };
const APPLIED: ApplyOutcome = { kind: 'applied' };
const DUPLICATE: ApplyOutcome = { kind: 'duplicate' };

interface SettlementRow {
  readonly state: LegState;
  readonly lock: LockRecord | null;
  readonly appliedReport: Uint8Array | null;
  readonly rejectReason: string | null;
  readonly height: bigint;
}

interface AccountRow {
  readonly balance: bigint;
  readonly held: bigint;
}

type NewEvent = Omit<BankEvent, 'seq' | 'atMs'>;

/** Field shapes checked before anything else, so encoding the report cannot throw (the leg host's check). */
export { reportShapeProblem };

/**
 * The bank payment leg on PostgreSQL (DESIGN §2.2, §2.5), with exactly the rules of the in-memory
 * MemoryBankLedger: a prepare places a hold (a pending transfer counting against the payer's
 * available balance) with the payer's authorization; a COMMIT report posts it to the payee, an
 * ABORT or a reclaim voids it; at most one report per settlement id, verified against the group
 * key stored with the hold.
 *
 * Every call is one transaction. Writers take their locks in one global order — the settlement
 * (an advisory lock on its id), then account rows sorted by (currency, id), then the ledger head
 * row — so concurrent calls on several connections never deadlock, and a second call for the
 * same id sees what the first committed.
 */
export class PgBankLedger implements LegAdapter {
  readonly leg = 'payment' as const;
  readonly venue: BankVenue;
  readonly schema: string;
  private readonly sql: Sql;
  private readonly ownsSql: boolean;
  private readonly anchor: LegAnchor;
  private readonly nowMs: () => number;
  private readonly parties: ReadonlyMap<string, Uint8Array>;
  private readonly verifyReport: SignatureCheck;
  private readonly verifyAuthorization: SignatureCheck;
  private readonly onTransfer: (change: TransferChange) => void;
  private readonly t: Tables;

  private constructor(sql: Sql, ownsSql: boolean, schema: string, options: PgBankLedgerOptions) {
    this.sql = sql;
    this.ownsSql = ownsSql;
    this.schema = schema;
    this.t = tables(schema);
    this.venue = { bankId: options.venue.bankId, ledger: options.venue.ledger };
    // Copies: a caller mutating its arrays later must not move this leg's anchor.
    this.anchor = {
      networkId: options.anchor.networkId.slice(),
      configDigest: options.anchor.configDigest.slice(),
      groupPublicKey: options.anchor.groupPublicKey.slice(),
    };
    this.nowMs = options.nowMs;
    this.parties = options.parties;
    this.verifyReport = options.verifyReport ?? defaultVerifyReport;
    this.verifyAuthorization = options.verifyAuthorization ?? defaultVerifyAuthorization;
    this.onTransfer = options.onTransfer ?? (() => {});
  }

  /** Opens (or shares) the database and applies the schema, idempotently. */
  static async open(options: PgBankLedgerOptions): Promise<PgBankLedger> {
    const a = options.anchor;
    if (a.networkId.length !== 32) throw new Error('anchor.networkId must be 32 bytes');
    if (a.configDigest.length !== 32) throw new Error('anchor.configDigest must be 32 bytes');
    if (a.groupPublicKey.length !== 96) throw new Error('anchor.groupPublicKey must be 96 bytes');
    const schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
    if (options.sql !== undefined && (options.databaseUrl !== undefined || options.dataDir !== undefined)) {
      throw new Error('give either sql or databaseUrl/dataDir, not both');
    }
    const owns = options.sql === undefined;
    let sql: Sql;
    try {
      sql = options.sql ?? (await openSql({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, poolSize: options.poolSize }));
    } catch (e) {
      throw legError('open', e);
    }
    try {
      await applySchema(sql, schema);
    } catch (e) {
      if (owns) await sql.close().catch(() => {});
      throw legError('open', e);
    }
    return new PgBankLedger(sql, owns, schema, options);
  }

  /** Closes the database connection if this ledger opened it. */
  async close(): Promise<void> {
    if (this.ownsSql) await this.sql.close();
  }

  // -------------------------------------------------------------------------------------------
  // LegAdapter

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    let id: Uint8Array;
    try {
      id = settlementId(terms);
    } catch (e) {
      // No id can be derived, so there is nothing to record the refusal under.
      return { kind: 'rejected', reason: `terms do not encode: ${errorText(e)}` };
    }
    // Signature work before the transaction: no lock is held while it runs.
    const authProblem = this.authorizationProblem(terms, id, authorization);
    const lock = expectedLock(terms, this.leg, id, this.anchor.groupPublicKey);
    const refusal = this.termsProblem(terms, lock);
    return this.runTelling('prepare', async (tx, tell) => {
      await this.lockSettlement(tx, id);
      const rec = await this.readSettlement(tx, id);
      if (rec !== null) return rec.state === 'locked' ? LOCKED : { kind: 'closed', reason: `settlement is ${rec.state} on this leg` };
      // Authorization first: without it the leg must not act at all, not even to reject.
      if (authProblem !== null) return { kind: 'unauthorized', reason: authProblem };
      if (refusal !== null) return this.recordRejection(tx, id, lock, refusal);
      const accounts = await this.lockAccounts(tx, lock.unit, [lock.from, lock.to]);
      const payer = accounts.get(lock.from);
      const available = payer === undefined ? 0n : payer.balance - payer.held;
      if (available < lock.amount) {
        return this.recordRejection(tx, id, lock, `insufficient funds: ${lock.from} has ${available} ${lock.unit} available, needs ${lock.amount}`);
      }
      // The payee's account is created with the hold, so the transfer's credit side exists. A new
      // row can only be contended by another insert of the same key, which holds no lock we need.
      if (!accounts.has(lock.to)) await tx.query(`INSERT INTO ${this.t.accounts} (id, currency) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [lock.to, lock.unit]);
      const seq = await this.nextSeq(tx);
      await tx.query(`UPDATE ${this.t.accounts} SET held = held + $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, lock.amount.toString()]);
      await tx.query(
        `INSERT INTO ${this.t.settlements} (settlement_id, state, payer, payee, currency, amount, venue, valid_until_ms, reclaim_at_ms, group_public_key, height)
         VALUES ($1, 'locked', $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [id, lock.from, lock.to, lock.unit, lock.amount.toString(), lock.venue, lock.validUntilMs, lock.reclaimAtMs, lock.groupPublicKey, seq.toString()],
      );
      const transferId = await this.insertTransfer(tx, id, lock, seq);
      await this.insertHistory(tx, seq, { ...moveEvent('hold', id, lock, `${lock.amount} ${lock.unit} of ${lock.from} locked until ${lock.validUntilMs} ms`), transferId });
      tell(transferChange('hold', 'pending', id, transferId, lock, seq));
      return LOCKED;
    });
  }

  async observe(settlementIdBytes: Uint8Array): Promise<LegView> {
    const rec = await this.guard('observe', () => this.readSettlement(this.sql, settlementIdBytes));
    if (rec === null) return { state: 'none', finalityHeight: 0n, lock: null };
    return { state: rec.state, finalityHeight: rec.height, lock: rec.lock };
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    const shape = reportShapeProblem(report);
    if (shape !== null) return refused(shape);
    if (!equalBytes(report.networkId, this.anchor.networkId)) return refused('report is for another network');
    if (!equalBytes(report.configDigest, this.anchor.configDigest)) return refused('report is for another configuration');
    const encoded = encodeReport(report);
    const id = report.settlementId;
    return this.runTelling('applyReport', async (tx, tell) => {
      await this.lockSettlement(tx, id);
      const rec = await this.readSettlement(tx, id);
      if (rec?.appliedReport != null) return equalBytes(rec.appliedReport, encoded) ? DUPLICATE : refused('another report was already applied');
      switch (rec?.state ?? 'none') {
        case 'none':
          return this.applyToUnlocked(tx, id, null, report, encoded);
        case 'rejected':
          return this.applyToUnlocked(tx, id, rec, report, encoded);
        case 'locked':
          return this.applyToLocked(tx, id, rec!, report, encoded, tell);
        case 'reclaimed':
          return refused('value was reclaimed: reports are refused');
        case 'committed':
        case 'aborted':
          throw new Error(`assertion failed: ${rec!.state} without an applied report`);
      }
    });
  }

  async reclaim(settlementIdBytes: Uint8Array): Promise<ReclaimOutcome> {
    return this.runTelling('reclaim', async (tx, tell) => {
      await this.lockSettlement(tx, settlementIdBytes);
      const rec = await this.readSettlement(tx, settlementIdBytes);
      if (rec === null || rec.state !== 'locked' || rec.lock === null) return refused(`nothing to reclaim: settlement is ${rec?.state ?? 'none'}`);
      const lock = rec.lock;
      const nowMs = this.nowMs();
      if (nowMs < lock.reclaimAtMs) return refused(`too early: now ${nowMs} ms < reclaim time ${lock.reclaimAtMs} ms`);
      await this.lockAccounts(tx, lock.unit, [lock.from]);
      const seq = await this.nextSeq(tx);
      const transferId = await this.release(tx, settlementIdBytes, lock, 'voided', seq);
      await this.setState(tx, settlementIdBytes, 'reclaimed', null, seq);
      await this.insertHistory(tx, seq, { ...moveEvent('reclaim', settlementIdBytes, lock, `${lock.amount} ${lock.unit} back to ${lock.from}`), transferId });
      tell(transferChange('reclaim', 'voided', settlementIdBytes, transferId, lock, seq));
      return { kind: 'reclaimed' };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Accounts, balances, history

  /** Opens an account (idempotent): balance 0. */
  async createAccount(account: string, currency: string): Promise<AccountBalance> {
    checkName('account', account);
    checkName('currency', currency);
    await this.guard('createAccount', () => this.sql.query(`INSERT INTO ${this.t.accounts} (id, currency) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [account, currency]));
    return this.account(account, currency);
  }

  /** Credits new money to an account (a deposit from outside the ledger), creating it if needed. */
  async fund(account: string, currency: string, amount: bigint): Promise<AccountBalance> {
    checkName('account', account);
    checkName('currency', currency);
    if (typeof amount !== 'bigint' || amount <= 0n || amount > U256_MAX) throw new BankInputError(`amount must be an integer in 1..2^256-1, got ${String(amount)}`);
    await this.run('fund', async (tx) => {
      // One account row, then the head: the global lock order.
      await tx.query(
        `INSERT INTO ${this.t.accounts} AS a (id, currency, balance) VALUES ($1, $2, $3)
         ON CONFLICT (id, currency) DO UPDATE SET balance = a.balance + EXCLUDED.balance`,
        [account, currency, amount.toString()],
      );
      const seq = await this.nextSeq(tx);
      await this.insertHistory(tx, seq, { kind: 'mint', account, unit: currency, amount, detail: `${amount} ${currency} to ${account}` });
    });
    return this.account(account, currency);
  }

  /** One account's balances; zeros for an account that does not exist. */
  async account(account: string, currency: string): Promise<AccountBalance> {
    const rows = await this.guard('account', () =>
      this.sql.query(`SELECT balance::text AS balance, held::text AS held FROM ${this.t.accounts} WHERE id = $1 AND currency = $2`, [account, currency]),
    );
    const row = rows[0];
    return accountBalance(account, currency, row === undefined ? { balance: 0n, held: 0n } : accountRow(row));
  }

  /** Spendable balance (holds excluded), as MemoryBankLedger.balance. */
  async balance(account: string, currency: string): Promise<bigint> {
    return (await this.account(account, currency)).available;
  }

  /** Every account, sorted by account then currency. */
  async accounts(): Promise<AccountBalance[]> {
    const rows = await this.guard('accounts', () =>
      this.sql.query(`SELECT id, currency, balance::text AS balance, held::text AS held FROM ${this.t.accounts} ORDER BY id COLLATE "C", currency COLLATE "C"`),
    );
    return rows.map((r) => accountBalance(str(r.id), str(r.currency), accountRow(r)));
  }

  /** The ledger height: the sequence of the last history entry (0 before any). */
  async height(): Promise<bigint> {
    const rows = await this.guard('height', () => this.sql.query(`SELECT height::text AS height FROM ${this.t.head}`));
    return big(rows[0]?.height ?? '0');
  }

  /** History entries with seq > afterSeq, oldest first, at most `limit`. */
  async history(options: { readonly afterSeq?: bigint; readonly limit?: number } = {}): Promise<BankEvent[]> {
    const afterSeq = options.afterSeq ?? 0n;
    const limit = options.limit ?? 1000;
    if (afterSeq < 0n) throw new BankInputError('afterSeq must not be negative');
    if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE_MAX) throw new BankInputError(`limit must be 1..${HISTORY_PAGE_MAX}`);
    const rows = await this.guard('history', () =>
      this.sql.query(
        `SELECT seq::text AS seq, at_ms::text AS at_ms, kind, settlement_id, account, counterparty, currency, amount::text AS amount, transfer_id::text AS transfer_id, detail
         FROM ${this.t.history} h WHERE h.seq > $1 ORDER BY h.seq LIMIT $2`, // h.seq: the bigint column, not the text alias
        [afterSeq.toString(), limit],
      ),
    );
    return rows.map(historyEvent);
  }

  /** Everything the bank knows about one settlement id (state `none` and nulls if nothing). */
  async settlement(settlementIdBytes: Uint8Array): Promise<BankSettlementView> {
    return this.guard('settlement', async () => {
      const rec = await this.readSettlement(this.sql, settlementIdBytes);
      if (rec === null) return { state: 'none', finalityHeight: 0n, lock: null, transfer: null, appliedReport: null, rejectReason: null };
      const rows = await this.sql.query(
        `SELECT id::text AS id, debit_account, credit_account, currency, amount::text AS amount, status, created_seq::text AS created_seq, resolved_seq::text AS resolved_seq
         FROM ${this.t.transfers} WHERE settlement_id = $1`,
        [settlementIdBytes],
      );
      const tr = rows[0];
      return {
        state: rec.state,
        finalityHeight: rec.height,
        lock: rec.lock,
        transfer: tr === undefined ? null : transferOf(tr),
        appliedReport: rec.appliedReport,
        rejectReason: rec.rejectReason,
      };
    });
  }

  /**
   * Cross-checks the tables (what a bank's reconciliation would): money is conserved per
   * currency, every account's `held` is the sum of its pending transfers, open holds and locked
   * settlements match one to one, and the history is gapless. Null when all hold.
   */
  async conservationProblem(): Promise<string | null> {
    return this.guard('conservationProblem', async () => {
      const t = this.t;
      const money = await this.sql.query(
        `SELECT c.currency, c.total::text AS total, coalesce(m.minted, 0)::text AS minted
         FROM (SELECT currency, sum(balance) AS total FROM ${t.accounts} GROUP BY currency) c
         LEFT JOIN (SELECT currency, sum(amount) AS minted FROM ${t.history} WHERE kind = 'mint' GROUP BY currency) m USING (currency)
         WHERE c.total <> coalesce(m.minted, 0)`,
      );
      if (money[0] !== undefined) return `${str(money[0].currency)}: balances sum to ${str(money[0].total)}, funded ${str(money[0].minted)}`;
      const held = await this.sql.query(
        `SELECT a.id, a.currency, a.held::text AS held, coalesce(p.pending, 0)::text AS pending FROM ${t.accounts} a
         LEFT JOIN (SELECT debit_account, currency, sum(amount) AS pending FROM ${t.transfers} WHERE status = 'pending' GROUP BY debit_account, currency) p
           ON p.debit_account = a.id AND p.currency = a.currency
         WHERE a.held <> coalesce(p.pending, 0) OR a.held > a.balance`,
      );
      if (held[0] !== undefined) return `${str(held[0].id)} ${str(held[0].currency)}: held ${str(held[0].held)}, pending transfers ${str(held[0].pending)}`;
      const mismatched = await this.sql.query(
        `SELECT s.state, t.status FROM ${t.settlements} s LEFT JOIN ${t.transfers} t USING (settlement_id)
         WHERE (s.payer IS NULL) <> (t.id IS NULL)
            OR (t.id IS NOT NULL AND (t.debit_account <> s.payer OR t.credit_account <> s.payee OR t.currency <> s.currency OR t.amount <> s.amount
                OR t.status <> CASE s.state WHEN 'locked' THEN 'pending' WHEN 'committed' THEN 'posted' ELSE 'voided' END))`,
      );
      if (mismatched[0] !== undefined) return `a settlement ${str(mismatched[0].state)} has a transfer ${String(mismatched[0].status ?? 'missing')}`;
      const gaps = await this.sql.query(
        `SELECT (SELECT count(*) FROM ${t.history})::text AS n, (SELECT coalesce(max(seq), 0) FROM ${t.history})::text AS top, (SELECT height FROM ${t.head})::text AS height`,
      );
      const g = gaps[0]!;
      if (str(g.n) !== str(g.top) || str(g.top) !== str(g.height)) return `history has ${str(g.n)} entries up to seq ${str(g.top)}, head at ${str(g.height)}`;
      return null;
    });
  }

  // -------------------------------------------------------------------------------------------

  /** One transaction; database outages become TransientLegError (nothing was changed). */
  private async run<T>(operation: string, fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.guard(operation, () => this.sql.transaction(fn));
  }

  /**
   * One transaction whose transfer changes are told to `onTransfer` once it has committed: a
   * change rolled back (by an error, or a driver retrying the body) is never told.
   */
  private async runTelling<T>(operation: string, fn: (tx: SqlQueryable, tell: (c: TransferChange) => void) => Promise<T>): Promise<T> {
    let changes: TransferChange[] = [];
    const result = await this.run(operation, (tx) => {
      changes = []; // a retried body starts over
      return fn(tx, (c) => changes.push(c));
    });
    for (const c of changes) {
      try {
        this.onTransfer(c);
      } catch {
        // An observer's failure must not turn a committed change into an error for the caller.
      }
    }
    return result;
  }

  private async guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw legError(operation, e);
    }
  }

  private authorizationProblem(terms: Terms, id: Uint8Array, authorization: Authorization | null): string | null {
    const party = terms.payment.payer;
    if (authorization === null) return `no authorization from ${party}`;
    if (authorization.party !== party) return `authorization is by ${authorization.party}, this leg needs ${party}`;
    const key = this.parties.get(party);
    if (key === undefined) return `unknown party ${party}`;
    if (!safeVerify(this.verifyAuthorization, key, id, authorization.signature)) return `bad authorization signature from ${party}`;
    return null;
  }

  /** Why authorized terms are refused before looking at funds, or null. */
  private termsProblem(terms: Terms, lock: LockRecord): string | null {
    const p = terms.payment;
    if (p.bankId !== this.venue.bankId || p.ledger !== this.venue.ledger) {
      return `terms name ledger ${p.bankId}/${p.ledger}, this leg is ${this.venue.bankId}/${this.venue.ledger}`;
    }
    // PostgreSQL text cannot hold NUL: such an account cannot exist here.
    if ([lock.from, lock.to, lock.unit].some((s) => s.includes('\u0000'))) return 'terms name an account or currency containing a NUL character';
    return null;
  }

  /** Serializes every call about one settlement id for the rest of the transaction. */
  private async lockSettlement(tx: SqlQueryable, id: Uint8Array): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [advisoryKey(id)]);
  }

  private async readSettlement(q: SqlQueryable, id: Uint8Array): Promise<SettlementRow | null> {
    const rows = await q.query(
      `SELECT state, payer, payee, currency, amount::text AS amount, venue, valid_until_ms::text AS valid_until_ms, reclaim_at_ms::text AS reclaim_at_ms,
              group_public_key, reject_reason, applied_report, height::text AS height
       FROM ${this.t.settlements} WHERE settlement_id = $1`,
      [id],
    );
    const r = rows[0];
    if (r === undefined) return null;
    const lock: LockRecord | null =
      r.payer === null
        ? null
        : {
            settlementId: id.slice(),
            amount: big(r.amount),
            from: str(r.payer),
            to: str(r.payee),
            unit: str(r.currency),
            venue: str(r.venue),
            validUntilMs: safeNumber(r.valid_until_ms),
            reclaimAtMs: safeNumber(r.reclaim_at_ms),
            groupPublicKey: bytes(r.group_public_key),
          };
    return {
      state: legState(r.state),
      lock,
      appliedReport: r.applied_report === null ? null : bytes(r.applied_report),
      rejectReason: r.reject_reason === null ? null : str(r.reject_reason),
      height: big(r.height),
    };
  }

  /** Locks the existing rows of these accounts in (currency, id) order; missing ones are absent from the map. */
  private async lockAccounts(tx: SqlQueryable, currency: string, ids: readonly string[]): Promise<Map<string, AccountRow>> {
    const rows = await tx.query(
      `SELECT id, balance::text AS balance, held::text AS held FROM ${this.t.accounts}
       WHERE currency = $1 AND id = ANY($2::text[]) ORDER BY id COLLATE "C" FOR UPDATE`,
      [currency, [...new Set(ids)]],
    );
    return new Map(rows.map((r) => [str(r.id), accountRow(r)]));
  }

  /** Takes the next ledger height. Last in the lock order; held until commit, so heights are gapless. */
  private async nextSeq(tx: SqlQueryable): Promise<bigint> {
    const rows = await tx.query(`UPDATE ${this.t.head} SET height = height + 1 RETURNING height::text AS height`);
    if (rows[0] === undefined) throw new Error('assertion failed: the ledger head row is missing');
    return big(rows[0].height);
  }

  private async insertHistory(tx: SqlQueryable, seq: bigint, e: NewEvent): Promise<void> {
    // A name with NUL cannot be stored (it was refused for that reason): leave the column empty.
    const text = (s: string | undefined) => (s === undefined || s.includes('\u0000') ? null : s);
    await tx.query(
      `INSERT INTO ${this.t.history} (seq, at_ms, kind, settlement_id, account, counterparty, currency, amount, transfer_id, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        seq.toString(),
        this.nowMs(),
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

  private async insertTransfer(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, seq: bigint): Promise<bigint> {
    const rows = await tx.query(
      `INSERT INTO ${this.t.transfers} (settlement_id, debit_account, credit_account, currency, amount, status, created_seq)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id::text AS id`,
      [id, lock.from, lock.to, lock.unit, lock.amount.toString(), seq.toString()],
    );
    return big(rows[0]?.id);
  }

  private async recordRejection(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, reason: string): Promise<PrepareOutcome> {
    const seq = await this.nextSeq(tx);
    await tx.query(`INSERT INTO ${this.t.settlements} (settlement_id, state, reject_reason, height) VALUES ($1, 'rejected', $2, $3)`, [id, reason, seq.toString()]);
    await this.insertHistory(tx, seq, { kind: 'reject', settlementIdHex: toHex(id), account: lock.from, detail: reason });
    return { kind: 'rejected', reason };
  }

  /**
   * An ABORT for an id with no lock: it verifies against the anchor's key (there is no stored
   * one). On a never-locked id it closes the id; on a rejected id it is recorded only.
   */
  private async applyToUnlocked(tx: SqlQueryable, id: Uint8Array, rec: SettlementRow | null, report: Report, encoded: Uint8Array): Promise<ApplyOutcome> {
    if (report.decision !== 'ABORT') return refused('COMMIT refused: nothing is locked for this settlement');
    if (!this.reportVerifies(this.anchor.groupPublicKey, report)) return refused('report signature does not verify');
    const seq = await this.nextSeq(tx);
    if (rec === null) {
      await tx.query(`INSERT INTO ${this.t.settlements} (settlement_id, state, applied_report, height) VALUES ($1, 'aborted', $2, $3)`, [id, encoded, seq.toString()]);
      await this.insertHistory(tx, seq, { kind: 'abort-closed', settlementIdHex: toHex(id), detail: 'ABORT before any lock: id closed' });
    } else {
      // The state stays 'rejected' and its view (height included) does not change.
      await tx.query(`UPDATE ${this.t.settlements} SET applied_report = $2 WHERE settlement_id = $1`, [id, encoded]);
      await this.insertHistory(tx, seq, { kind: 'abort-recorded', settlementIdHex: toHex(id), detail: 'ABORT recorded on a rejected id' });
    }
    return APPLIED;
  }

  private async applyToLocked(tx: SqlQueryable, id: Uint8Array, rec: SettlementRow, report: Report, encoded: Uint8Array, tell: (c: TransferChange) => void): Promise<ApplyOutcome> {
    const lock = rec.lock;
    if (lock === null) throw new Error('assertion failed: locked without a lock record');
    if (report.validUntilMs !== lock.validUntilMs) return refused(`report validUntil ${report.validUntilMs} ms != lock's ${lock.validUntilMs} ms`);
    const nowMs = this.nowMs();
    if (report.decision === 'COMMIT' && nowMs >= lock.validUntilMs) return refused(`COMMIT expired: now ${nowMs} ms >= validUntil ${lock.validUntilMs} ms`);
    // The key stored with the hold, never one named by the report.
    if (!this.reportVerifies(lock.groupPublicKey, report)) return refused('report signature does not verify');
    await this.lockAccounts(tx, lock.unit, [lock.from, lock.to]);
    const seq = await this.nextSeq(tx);
    if (report.decision === 'COMMIT') {
      const transferId = await this.release(tx, id, lock, 'posted', seq);
      await this.setState(tx, id, 'committed', encoded, seq);
      await this.insertHistory(tx, seq, { ...moveEvent('post', id, lock, `${lock.amount} ${lock.unit} from ${lock.from} to ${lock.to}`), counterparty: lock.to, transferId });
      tell(transferChange('post', 'posted', id, transferId, lock, seq));
    } else {
      const transferId = await this.release(tx, id, lock, 'voided', seq);
      await this.setState(tx, id, 'aborted', encoded, seq);
      await this.insertHistory(tx, seq, { ...moveEvent('void', id, lock, `${lock.amount} ${lock.unit} back to ${lock.from}`), transferId });
      tell(transferChange('void', 'voided', id, transferId, lock, seq));
    }
    return APPLIED;
  }

  /** Resolves the pending transfer (posted moves the money to the payee, voided drops the hold); returns its id. */
  private async release(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, status: 'posted' | 'voided', seq: bigint): Promise<bigint> {
    const amount = lock.amount.toString();
    const a = this.t.accounts;
    if (status === 'posted') {
      await tx.query(`UPDATE ${a} SET held = held - $3, balance = balance - $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, amount]);
      await tx.query(`UPDATE ${a} SET balance = balance + $3 WHERE id = $1 AND currency = $2`, [lock.to, lock.unit, amount]);
    } else {
      await tx.query(`UPDATE ${a} SET held = held - $3 WHERE id = $1 AND currency = $2`, [lock.from, lock.unit, amount]);
    }
    const rows = await tx.query(
      `UPDATE ${this.t.transfers} SET status = $2, resolved_seq = $3 WHERE settlement_id = $1 AND status = 'pending' RETURNING id::text AS id`,
      [id, status, seq.toString()],
    );
    if (rows.length !== 1) throw new Error('assertion failed: a locked settlement without a pending transfer');
    return big(rows[0]!.id);
  }

  private async setState(tx: SqlQueryable, id: Uint8Array, state: LegState, appliedReport: Uint8Array | null, seq: bigint): Promise<void> {
    await tx.query(`UPDATE ${this.t.settlements} SET state = $2, applied_report = $3, height = $4 WHERE settlement_id = $1`, [id, state, appliedReport, seq.toString()]);
  }

  private reportVerifies(groupPublicKey: Uint8Array, report: Report): boolean {
    return safeVerify(this.verifyReport, groupPublicKey, reportDigest(report), report.signature);
  }
}

// ---------------------------------------------------------------------------------------------

interface Tables {
  readonly head: string;
  readonly accounts: string;
  readonly settlements: string;
  readonly transfers: string;
  readonly history: string;
}

function tables(schema: string): Tables {
  const q = (name: string) => `"${schema}".${name}`;
  return { head: q('ledger_head'), accounts: q('accounts'), settlements: q('settlements'), transfers: q('transfers'), history: q('history') };
}

function legError(operation: string, e: unknown): Error {
  if (e instanceof TransientLegError) return e;
  if (isTransientDbError(e)) return new TransientLegError(`bank ledger unavailable (${operation}): ${errorText(e)}`);
  return e instanceof Error ? e : new Error(String(e));
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function refused(reason: string): { readonly kind: 'refused'; readonly reason: string } {
  return { kind: 'refused', reason };
}

/** A malformed point or signature is a failed verification, never an exception. */
function safeVerify(check: SignatureCheck, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return check(publicKey, message, signature) === true;
  } catch {
    return false;
  }
}

/** Account and currency names: non-empty UTF-8 up to the protocol's string bound, no NUL. */
function checkName(what: string, s: string): void {
  if (typeof s !== 'string' || s === '') throw new BankInputError(`${what} must be a non-empty string`);
  if (s.includes('\u0000')) throw new BankInputError(`${what} must not contain NUL`);
  try {
    encodeURIComponent(s); // throws URIError on a lone surrogate, which has no UTF-8 form
  } catch {
    throw new BankInputError(`${what} is not valid Unicode`);
  }
  if (utf8(s).length > STRING_BYTES_MAX) throw new BankInputError(`${what} is longer than ${STRING_BYTES_MAX} UTF-8 bytes`);
}

function transferChange(kind: TransferChange['kind'], status: TransferStatus, id: Uint8Array, transferId: bigint, lock: LockRecord, seq: bigint): TransferChange {
  return { settlementIdHex: toHex(id), transferId, kind, status, debitAccount: lock.from, creditAccount: lock.to, currency: lock.unit, amount: lock.amount, seq };
}

function moveEvent(kind: LegEventKind, id: Uint8Array, lock: LockRecord, detail: string): NewEvent {
  return { kind, settlementIdHex: toHex(id), account: lock.from, unit: lock.unit, amount: lock.amount, detail };
}

function accountBalance(account: string, currency: string, r: AccountRow): AccountBalance {
  return { account, currency, balance: r.balance, held: r.held, available: r.balance - r.held };
}

function accountRow(r: Row): AccountRow {
  return { balance: big(r.balance), held: big(r.held) };
}

const LEG_STATES: readonly LegState[] = ['locked', 'rejected', 'committed', 'aborted', 'reclaimed'];
function legState(v: unknown): LegState {
  const s = str(v);
  if (!(LEG_STATES as readonly string[]).includes(s)) throw new Error(`assertion failed: unknown settlement state ${s}`);
  return s as LegState;
}

const TRANSFER_STATUSES: readonly TransferStatus[] = ['pending', 'posted', 'voided'];
function transferOf(r: Row): Transfer {
  const status = str(r.status);
  if (!(TRANSFER_STATUSES as readonly string[]).includes(status)) throw new Error(`assertion failed: unknown transfer status ${status}`);
  return {
    id: big(r.id),
    debitAccount: str(r.debit_account),
    creditAccount: str(r.credit_account),
    currency: str(r.currency),
    amount: big(r.amount),
    status: status as TransferStatus,
    createdSeq: big(r.created_seq),
    resolvedSeq: r.resolved_seq === null ? null : big(r.resolved_seq),
  };
}

const EVENT_KINDS: readonly LegEventKind[] = ['mint', 'hold', 'reject', 'post', 'void', 'reclaim', 'abort-closed', 'abort-recorded'];
function historyEvent(r: Row): BankEvent {
  const kind = str(r.kind);
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw new Error(`assertion failed: unknown history kind ${kind}`);
  const optional = {
    ...(r.settlement_id === null ? {} : { settlementIdHex: toHex(bytes(r.settlement_id)) }),
    ...(r.account === null ? {} : { account: str(r.account) }),
    ...(r.counterparty === null ? {} : { counterparty: str(r.counterparty) }),
    ...(r.currency === null ? {} : { unit: str(r.currency) }),
    ...(r.amount === null ? {} : { amount: big(r.amount) }),
    ...(r.transfer_id === null ? {} : { transferId: big(r.transfer_id) }),
  };
  return { seq: safeNumber(r.seq), atMs: safeNumber(r.at_ms), kind: kind as LegEventKind, ...optional, detail: str(r.detail) };
}

// Column decoding. Numeric columns are selected as ::text, so both drivers hand back strings.

function str(v: unknown): string {
  if (typeof v !== 'string') throw new Error(`assertion failed: expected a text column, got ${typeof v}`);
  return v;
}

function big(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  throw new Error(`assertion failed: expected an integer column, got ${String(v)}`);
}

function safeNumber(v: unknown): number {
  const n = big(v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`assertion failed: ${n} is not a safe integer`);
  return Number(n);
}

/** bytea: PGlite returns Uint8Array, pg a Buffer; both become a plain Uint8Array copy. */
function bytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new Error('assertion failed: expected a bytea column');
}
