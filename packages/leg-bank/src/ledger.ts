import { type Authorization, type Entry, type LegView, type LockRecord, type Report, type ReportV2, type Terms, type TreeMultiproof, U256_MAX, assert, encodeReport, expectedLock, toHex } from '@tandem/protocol';
import {
  type ApplyDecision,
  assertObserveIds,
  type ApplyOutcome,
  type BankVenue,
  type BatchLegAdapter,
  type LegChecks,
  type LegOptions,
  type PrepareOutcome,
  type ProvenEntry,
  type ReclaimOutcome,
  type RootOutcome,
  type VerifiedRoot,
  LEG_NAMING,
  TransientLegError,
  appliedEntryMarker,
  authorizationProblem,
  bankVenueProblem,
  entriesCountProblem,
  entryProofProblem,
  commitEvent,
  legChecksOf,
  lockEvent,
  mintEvent,
  prepareOnRecord,
  prepareRefusal,
  prepareWithFunds,
  preparedId,
  processApply,
  processBatchRoot,
  processEntry,
  processReclaim,
  processRoot,
  refuseAll,
  refused,
  rejectEvent,
  reportAnchorProblem,
  reportShapeProblem,
  reportV2Problem,
  returnEvent,
  rootOutcomeOf,
  storedRoot,
  unlockedAbortEvent,
} from '@tandem/legs';
import {
  type AccountBalance,
  type BankEvent,
  type BankSettlementView,
  type TransferChange,
  type TransferStatus,
  BankInputError,
  HISTORY_PAGE_MAX,
  checkName,
} from './model.js';
import { type SettlementRow, accountBalance } from './rows.js';
import { DEFAULT_SCHEMA, applySchema, checkSchemaName } from './schema.js';
import { type Sql, type SqlQueryable, isTransientDbError, openSql } from './sql.js';
import { LedgerStore } from './store.js';

export interface PgBankLedgerOptions extends LegOptions<BankVenue> {
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
  /**
   * Told about every change of a transfer (a hold placed, posted, voided), after the database
   * transaction that made it committed: for logs and demos (e.g. to print the transfer id a
   * settlement moved). An exception it throws is ignored; the ledger's answer stands.
   */
  readonly onTransfer?: (change: TransferChange) => void;
}

const NAMING = LEG_NAMING.payment;
const LOCKED: PrepareOutcome = { kind: 'locked' };
const APPLIED: ApplyOutcome = { kind: 'applied' };

type Tell = (change: TransferChange) => void;

/**
 * The bank payment leg on PostgreSQL: storage around the leg rules of @tandem/legs, which the
 * in-memory MemoryBankLedger shares. A prepare places a hold (a pending transfer counting
 * against the payer's available balance) with the payer's authorization; a COMMIT report posts
 * it to the payee, an ABORT or a reclaim voids it; at most one report per settlement id,
 * verified against the group key stored with the hold. Under protocol 2 a report's root is
 * verified once (roots table), then entries by proof, many per transaction.
 *
 * Every call is one transaction, taking its locks in the order store.ts describes. History
 * entries are stamped with the leg's clock (`nowMs`).
 */
export class PgBankLedger implements BatchLegAdapter {
  readonly leg = 'payment' as const;
  readonly venue: BankVenue;
  readonly schema: string;
  private readonly sql: Sql;
  private readonly ownsSql: boolean;
  private readonly checks: LegChecks;
  private readonly nowMs: () => number;
  private readonly onTransfer: Tell;
  private readonly store: LedgerStore;

  private constructor(sql: Sql, ownsSql: boolean, schema: string, checks: LegChecks, options: PgBankLedgerOptions) {
    this.sql = sql;
    this.ownsSql = ownsSql;
    this.schema = schema;
    this.store = new LedgerStore(schema);
    this.venue = { bankId: options.venue.bankId, ledger: options.venue.ledger };
    this.checks = checks;
    this.nowMs = options.nowMs;
    this.onTransfer = options.onTransfer ?? (() => {});
  }

  /** Opens (or shares) the database and applies the schema, idempotently. */
  static async open(options: PgBankLedgerOptions): Promise<PgBankLedger> {
    const checks = legChecksOf(options);
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
    return new PgBankLedger(sql, owns, schema, checks, options);
  }

  /** Closes the database connection if this ledger opened it. */
  async close(): Promise<void> {
    if (this.ownsSql) await this.sql.close();
  }

  // -------------------------------------------------------------------------------------------
  // LegAdapter

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    const derived = preparedId(terms);
    if (derived.id === null) return derived.outcome;
    const id = derived.id;
    // Signature work before the transaction: no lock is held while it runs.
    const authProblem = authorizationProblem(this.checks, terms.payment.payer, id, authorization);
    const lock = expectedLock(terms, this.leg, id, this.checks.anchor.groupPublicKey);
    const termsProblem = this.termsProblem(terms, lock);
    return this.runTelling('prepare', async (tx, tell) => {
      await this.store.lockSettlement(tx, id);
      const rec = await this.store.readSettlement(tx, id);
      if (rec !== null) return prepareOnRecord(rec.state);
      const refusal = prepareRefusal(authProblem, () => termsProblem);
      if (refusal !== null) return refusal.kind === 'reject' ? this.recordRejection(tx, id, lock, refusal.reason) : refusal;
      const accounts = await this.store.lockAccounts(tx, lock.unit, [lock.from, lock.to]);
      const payer = accounts.get(lock.from);
      const decision = prepareWithFunds(lock, payer === undefined ? 0n : payer.balance - payer.held);
      if (decision.kind === 'reject') return this.recordRejection(tx, id, lock, decision.reason);
      // The payee's account is created with the hold, so the transfer's credit side exists.
      if (!accounts.has(lock.to)) await this.store.createAccount(tx, lock.to, lock.unit);
      const seq = await this.store.nextSeq(tx);
      const transferId = await this.store.hold(tx, id, lock, this.checks.anchor.configDigest, seq);
      await this.store.insertHistory(tx, seq, this.nowMs(), { ...lockEvent(NAMING, toHex(id), lock), transferId });
      tell(transferChange('hold', 'pending', id, transferId, lock, seq));
      return LOCKED;
    });
  }

  async observe(settlementIdBytes: Uint8Array): Promise<LegView> {
    const rec = await this.guard('observe', () => this.store.readSettlement(this.sql, settlementIdBytes));
    if (rec === null) return { state: 'none', finalityHeight: 0n, lock: null };
    return { state: rec.state, finalityHeight: rec.height, lock: rec.lock };
  }

  /** One query for all of them. */
  async observeMany(settlementIds: readonly Uint8Array[]): Promise<readonly LegView[]> {
    assertObserveIds(settlementIds);
    const rows = await this.guard('observeMany', () => this.store.readSettlements(this.sql, settlementIds));
    return settlementIds.map((id) => {
      const rec = rows.get(toHex(id));
      return rec === undefined ? { state: 'none', finalityHeight: 0n, lock: null } : { state: rec.state, finalityHeight: rec.height, lock: rec.lock };
    });
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    const problem = reportShapeProblem(report) ?? reportAnchorProblem(report, this.checks.anchor);
    if (problem !== null) return refused(problem);
    const id = report.settlementId;
    return this.runTelling('applyReport', async (tx, tell) => {
      await this.store.lockSettlement(tx, id);
      const decision = processApply(await this.store.readSettlement(tx, id), report, this.nowMs(), this.checks);
      if (decision.kind === 'commit' || decision.kind === 'abort') await this.store.lockAccounts(tx, decision.lock.unit, [decision.lock.from, decision.lock.to]);
      return this.writeApply(tx, id, decision, () => encodeReport(report), tell);
    });
  }

  // -------------------------------------------------------------------------------------------
  // BatchLegAdapter (protocol v2)

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    const problem = reportV2Problem(report, this.checks);
    if (problem !== null) return refused(problem);
    // The signature is checked outside any transaction: a stored root never changes.
    const decision = processRoot(report, await this.rootCount(report.root), this.checks);
    if (decision.kind !== 'store') return rootOutcomeOf(decision);
    const inserted = await this.run('submitRoot', (tx) => this.store.insertRoot(tx, decision.root, this.nowMs()));
    return inserted ? { kind: 'stored' } : { kind: 'duplicate' };
  }

  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    const count = entriesCountProblem(items.length);
    if (count !== null) return refuseAll(items.length, count);
    const verified = storedRoot(root, root.length === 32 ? await this.rootCount(root) : null, this.checks);
    if ('kind' in verified) return refuseAll(items.length, verified.reason);
    const problems = items.map((item) => entryProofProblem(verified, item));
    const proven = items.filter((_, k) => problems[k] === null).map((item) => item.entry);
    const applied = proven.length === 0 ? [] : await this.runTelling('applyEntries', (tx, tell) => this.applyProven(tx, verified, proven, tell));
    assert(applied.length === proven.length, 'one outcome per proven entry');
    let next = 0;
    return problems.map((problem) => (problem === null ? applied[next++]! : refused(problem)));
  }

  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    const stored = reportV2Problem(report, this.checks) === null ? await this.rootCount(report.root) : null;
    const decision = processBatchRoot(report, stored, entries, multiproof, this.checks);
    if (decision.kind === 'refused') return refuseAll(entries.length, decision.reason);
    return this.runTelling('applyBatch', async (tx, tell) => {
      if (decision.kind === 'store') await this.store.insertRoot(tx, decision.root, this.nowMs());
      return this.applyProven(tx, decision.root, entries, tell);
    });
  }

  private async rootCount(root: Uint8Array): Promise<number | null> {
    return this.guard('rootCount', () => this.store.rootCount(this.sql, this.checks.anchor.configDigest, root));
  }

  /**
   * Applies entries proven under `root`, in order, in the caller's transaction. Locks in the
   * global order: every settlement first, then every account a lock of theirs moves, then (per
   * write) the ledger head.
   */
  private async applyProven(tx: SqlQueryable, root: VerifiedRoot, entries: readonly Entry[], tell: Tell): Promise<ApplyOutcome[]> {
    await this.store.lockSettlements(tx, entries.map((e) => e.settlementId));
    const records: (SettlementRow | null)[] = [];
    for (const e of entries) records.push(await this.store.readSettlement(tx, e.settlementId));
    const byCurrency = new Map<string, string[]>();
    for (const rec of records) if (rec?.lock != null) byCurrency.set(rec.lock.unit, [...(byCurrency.get(rec.lock.unit) ?? []), rec.lock.from, rec.lock.to]);
    for (const currency of [...byCurrency.keys()].sort()) await this.store.lockAccounts(tx, currency, byCurrency.get(currency)!);
    const outcomes: ApplyOutcome[] = [];
    const seen = new Set<string>();
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[k]!;
      const idHex = toHex(entry.settlementId);
      // An id met before in this call was maybe written since: read it again.
      const rec = seen.has(idHex) ? await this.store.readSettlement(tx, entry.settlementId) : records[k]!;
      seen.add(idHex);
      const decision = processEntry(rec, root, entry, this.nowMs(), this.checks.anchor);
      outcomes.push(await this.writeApply(tx, entry.settlementId, decision, () => appliedEntryMarker(root.root, entry), tell));
    }
    assert(outcomes.length === entries.length, 'one outcome per entry');
    return outcomes;
  }

  /** Carries out an apply decision (accounts already locked): the value moves, the applied marker is stored, history written. */
  private async writeApply(tx: SqlQueryable, id: Uint8Array, decision: ApplyDecision, markerOf: () => Uint8Array, tell: Tell): Promise<ApplyOutcome> {
    const idHex = toHex(id);
    switch (decision.kind) {
      case 'refused':
      case 'duplicate':
        return decision;
      case 'abort-closed': {
        const seq = await this.store.nextSeq(tx);
        await this.store.insertAborted(tx, id, markerOf(), seq);
        await this.store.insertHistory(tx, seq, this.nowMs(), unlockedAbortEvent(decision.kind, idHex));
        return APPLIED;
      }
      case 'abort-recorded': {
        const seq = await this.store.nextSeq(tx);
        await this.store.setAppliedReport(tx, id, markerOf());
        await this.store.insertHistory(tx, seq, this.nowMs(), unlockedAbortEvent(decision.kind, idHex));
        return APPLIED;
      }
      case 'commit':
      case 'abort':
        await this.resolveHold(tx, id, decision.kind === 'commit', decision.lock, markerOf(), tell);
        return APPLIED;
    }
  }

  async reclaim(settlementIdBytes: Uint8Array): Promise<ReclaimOutcome> {
    return this.runTelling('reclaim', async (tx, tell) => {
      await this.store.lockSettlement(tx, settlementIdBytes);
      const rec = await this.store.readSettlement(tx, settlementIdBytes);
      const decision = processReclaim(rec, this.nowMs());
      if (decision.kind === 'refused') return decision;
      const lock = decision.lock;
      await this.store.lockAccounts(tx, lock.unit, [lock.from]);
      const seq = await this.store.nextSeq(tx);
      const transferId = await this.store.resolve(tx, settlementIdBytes, lock, 'voided', seq);
      await this.store.setState(tx, settlementIdBytes, 'reclaimed', null, seq);
      await this.store.insertHistory(tx, seq, this.nowMs(), { ...returnEvent('reclaim', toHex(settlementIdBytes), lock), transferId });
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
    await this.guard('createAccount', () => this.store.createAccount(this.sql, account, currency));
    return this.account(account, currency);
  }

  /** Credits new money to an account (a deposit from outside the ledger), creating it if needed. */
  async fund(account: string, currency: string, amount: bigint): Promise<AccountBalance> {
    checkName('account', account);
    checkName('currency', currency);
    if (typeof amount !== 'bigint' || amount <= 0n || amount > U256_MAX) throw new BankInputError(`amount must be an integer in 1..2^256-1, got ${String(amount)}`);
    await this.run('fund', async (tx) => {
      // One account row, then the head: the global lock order.
      const before = (await this.store.lockAccounts(tx, currency, [account])).get(account)?.balance ?? 0n;
      // A balance is a u256 like every amount in terms: more could never be paid out of it.
      if (before + amount > U256_MAX) throw new BankInputError(`amount: the balance of ${account} would pass 2^256-1`);
      await this.store.credit(tx, account, currency, amount);
      const seq = await this.store.nextSeq(tx);
      await this.store.insertHistory(tx, seq, this.nowMs(), mintEvent(account, currency, amount));
    });
    return this.account(account, currency);
  }

  /** One account's balances; zeros for an account that does not exist. */
  async account(account: string, currency: string): Promise<AccountBalance> {
    checkName('account', account);
    checkName('currency', currency);
    const row = await this.guard('account', () => this.store.readAccount(this.sql, account, currency));
    return accountBalance(account, currency, row ?? { balance: 0n, held: 0n });
  }

  /** Spendable balance (holds excluded), as MemoryBankLedger.balance. */
  async balance(account: string, currency: string): Promise<bigint> {
    return (await this.account(account, currency)).available;
  }

  /** Every account, sorted by account then currency. */
  async accounts(): Promise<AccountBalance[]> {
    return this.guard('accounts', () => this.store.listAccounts(this.sql));
  }

  /** The ledger height: the sequence of the last history entry (0 before any). */
  async height(): Promise<bigint> {
    return this.guard('height', () => this.store.height(this.sql));
  }

  /** History entries with seq > afterSeq, oldest first, at most `limit`. */
  async history(options: { readonly afterSeq?: bigint; readonly limit?: number } = {}): Promise<BankEvent[]> {
    const afterSeq = options.afterSeq ?? 0n;
    const limit = options.limit ?? 1000;
    if (afterSeq < 0n) throw new BankInputError('afterSeq must not be negative');
    if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE_MAX) throw new BankInputError(`limit must be 1..${HISTORY_PAGE_MAX}`);
    return this.guard('history', () => this.store.historyPage(this.sql, afterSeq, limit));
  }

  /** Everything the bank knows about one settlement id (state `none` and nulls if nothing). */
  async settlement(settlementIdBytes: Uint8Array): Promise<BankSettlementView> {
    return this.guard('settlement', async () => {
      const rec = await this.store.readSettlement(this.sql, settlementIdBytes);
      if (rec === null) return { state: 'none', finalityHeight: 0n, lock: null, transfer: null, appliedReport: null, rejectReason: null };
      const transfer = await this.store.transferOf(this.sql, settlementIdBytes);
      return { state: rec.state, finalityHeight: rec.height, lock: rec.lock, transfer, appliedReport: rec.appliedReport, rejectReason: rec.rejectReason };
    });
  }

  /** The tables' reconciliation (store.ts): null when money is conserved and the records agree. */
  async conservationProblem(): Promise<string | null> {
    return this.guard('conservationProblem', () => this.store.conservationProblem(this.sql));
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
  private async runTelling<T>(operation: string, fn: (tx: SqlQueryable, tell: Tell) => Promise<T>): Promise<T> {
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

  /** Why authorized terms are refused before looking at funds, or null. */
  private termsProblem(terms: Terms, lock: LockRecord): string | null {
    const venue = bankVenueProblem(terms, this.venue);
    if (venue !== null) return venue;
    // PostgreSQL text cannot hold NUL: such an account cannot exist here.
    if ([lock.from, lock.to, lock.unit].some((s) => s.includes('\u0000'))) return 'terms name an account or currency containing a NUL character';
    return null;
  }

  /** COMMIT posts the hold to the payee, ABORT voids it (accounts already locked); the applied marker is stored with the new state. */
  private async resolveHold(tx: SqlQueryable, id: Uint8Array, commit: boolean, lock: LockRecord, encoded: Uint8Array, tell: Tell): Promise<void> {
    const seq = await this.store.nextSeq(tx);
    const transferId = await this.store.resolve(tx, id, lock, commit ? 'posted' : 'voided', seq);
    await this.store.setState(tx, id, commit ? 'committed' : 'aborted', encoded, seq);
    const idHex = toHex(id);
    const event = commit ? commitEvent(NAMING, idHex, lock) : returnEvent(NAMING.abort, idHex, lock);
    await this.store.insertHistory(tx, seq, this.nowMs(), { ...event, transferId });
    tell(transferChange(commit ? 'post' : 'void', commit ? 'posted' : 'voided', id, transferId, lock, seq));
  }

  private async recordRejection(tx: SqlQueryable, id: Uint8Array, lock: LockRecord, reason: string): Promise<PrepareOutcome> {
    const seq = await this.store.nextSeq(tx);
    await this.store.insertRejected(tx, id, reason, seq);
    await this.store.insertHistory(tx, seq, this.nowMs(), rejectEvent(toHex(id), lock, reason));
    return { kind: 'rejected', reason };
  }
}

function legError(operation: string, e: unknown): Error {
  if (e instanceof TransientLegError) return e;
  // The database's own text (which may quote tables, queries or values) is kept as the cause, not
  // put in the message that HTTP APIs pass on; the SQLSTATE or errno code says enough to callers.
  if (isTransientDbError(e)) return Object.assign(new TransientLegError(`bank ledger unavailable (${operation}${codeText(e)})`), { cause: e });
  return e instanceof Error ? e : new Error(String(e));
}

function codeText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? `, ${code}` : '';
}

function transferChange(kind: TransferChange['kind'], status: TransferStatus, id: Uint8Array, transferId: bigint, lock: LockRecord, seq: bigint): TransferChange {
  return { settlementIdHex: toHex(id), transferId, kind, status, debitAccount: lock.from, creditAccount: lock.to, currency: lock.unit, amount: lock.amount, seq };
}
