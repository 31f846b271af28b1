import {
  type Authorization,
  type LegName,
  type LegState,
  type LegView,
  type LockRecord,
  type Report,
  type Terms,
  SIGN_DOMAIN,
  encodeReport,
  equalBytes,
  expectedLock,
  reportDigest,
  settlementId,
  toHex,
} from '@tandem/protocol';
import { TANDEM_BLS_DST, blsVerify, identityVerify } from '@tandem/crypto';
import type { ApplyOutcome, LegAdapter, LegAnchor, PrepareOutcome, ReclaimOutcome } from './adapter.js';
import { TransientLegError, reportShapeProblem } from './adapter.js';
import { type BalanceEntry, conservationProblemOf } from './balances.js';
import type { LegEvent, LegEventKind } from './events.js';

/** (public key, message, signature) → valid? Injectable so a simulator can memoize it. */
export type SignatureCheck = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** Fault hooks for the simulator. Each is asked on every call, so faults can start and stop. */
export interface MemoryLegFaults {
  /** The leg durably refuses this prepare (policy): state `rejected`. */
  rejectPrepare?(settlementIdHex: string): boolean;
  /** applyReport throws TransientLegError for this id (and changes nothing). */
  failApply?(settlementIdHex: string): boolean;
  /** Every adapter call (prepare, observe, applyReport, reclaim) throws TransientLegError. */
  unavailable?(): boolean;
}

export interface MemoryLegOptions<Venue> {
  readonly anchor: LegAnchor;
  /** The leg's own clock (virtual in the simulator): COMMIT and reclaim windows use it. */
  readonly nowMs: () => number;
  /** Party name → Ed25519 public key: who may authorize a prepare. */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  readonly venue: Venue;
  readonly faults?: MemoryLegFaults;
  /** Threshold signature check; the message is reportDigest(report). Default: crypto's blsVerify with TANDEM_BLS_DST. */
  readonly verifyReport?: SignatureCheck;
  /** Authorization check; the message is the settlement id. Default: identityVerify under SIGN_DOMAIN.authorization. */
  readonly verifyAuthorization?: SignatureCheck;
  /**
   * How long a lock takes to become final (a chain's confirmation depth, in ms of the leg's clock).
   * Until then `observe` shows the settlement as `none`, and `reorg` can undo the lock. Default 0.
   */
  readonly finalityMs?: number;
  /**
   * The clock that timestamps the event log. Default: `nowMs`. A simulator whose leg clock is
   * skewed passes its true (virtual) clock here, so logs of different legs share one timeline.
   */
  readonly logClockMs?: () => number;
}

/**
 * How value is held. The asset chain moves tokens into an escrow account; the bank keeps them in
 * the payer's account as a pending debit that counts against the available balance.
 */
export interface ValueBook {
  /** Spendable balance. */
  available(account: string, unit: string): bigint;
  /** Locks `amount` of the account's spendable value; false (and nothing changes) if it does not cover it. */
  lock(account: string, unit: string, amount: bigint): boolean;
  /** A locked amount goes to `to` (COMMIT). */
  settle(from: string, to: string, unit: string, amount: bigint): void;
  /** A locked amount goes back to its owner (ABORT or reclaim). */
  unlock(from: string, unit: string, amount: bigint): void;
  credit(account: string, unit: string, amount: bigint): void;
  /** Value locked per unit. */
  lockedTotals(): ReadonlyMap<string, bigint>;
  entries(): BalanceEntry[];
  /** Invariants internal to the book (e.g. no overdraft); null when all hold. */
  problem(): string | null;
}

/** Leg-specific names for the same three value moves. */
export interface LegNaming {
  readonly lock: 'lock' | 'hold';
  readonly commit: 'release' | 'post';
  readonly abort: 'refund' | 'void';
}

export interface MemoryLegSpec {
  readonly leg: LegName;
  readonly naming: LegNaming;
  readonly book: ValueBook;
  /** Null when the terms name this leg's venue; else what is wrong. */
  readonly venueProblem: (terms: Terms) => string | null;
  /** The party whose value this leg locks (seller / payer). */
  readonly partyOf: (terms: Terms) => string;
}

/** Bound on the event log: the simulator runs bounded scenarios; more means a runaway loop. */
export const LEG_EVENTS_MAX = 10_000_000;

interface SettlementRecord {
  state: LegState;
  lock: LockRecord | null;
  /** Hex of the encoded report applied here: at most one per id. */
  appliedReportHex: string | null;
  /** Leg height of this record's last state change. */
  height: number;
  /** Leg time at which the lock was made (finality counts from here). */
  lockedAtMs: number;
}

const defaultVerifyReport: SignatureCheck = (pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST);
const defaultVerifyAuthorization: SignatureCheck = (pk, msg, sig) => identityVerify(SIGN_DOMAIN.authorization, pk, msg, sig);

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The escrow logic shared by the in-memory asset chain and bank ledger (DESIGN §2.2, §2.5):
 * idempotent authorized prepare, one report per id checked against the key stored in the lock,
 * COMMIT only before validUntil, reclaim only after the reclaim time. Every method completes
 * synchronously (the promises are already settled when returned): the simulator's determinism
 * relies on it.
 */
export class MemoryLeg implements LegAdapter {
  readonly leg: LegName;
  private readonly spec: MemoryLegSpec;
  private readonly anchor: LegAnchor;
  private readonly nowMs: () => number;
  private readonly parties: ReadonlyMap<string, Uint8Array>;
  private readonly faults: MemoryLegFaults;
  private readonly verifyReport: SignatureCheck;
  private readonly verifyAuthorization: SignatureCheck;
  private readonly finalityMs: number;
  private readonly logClockMs: () => number;
  private readonly records = new Map<string, SettlementRecord>();
  private readonly minted = new Map<string, bigint>();
  private readonly log: LegEvent[] = [];

  protected constructor(spec: MemoryLegSpec, options: MemoryLegOptions<unknown>) {
    if (options.anchor.networkId.length !== 32) throw new Error('anchor.networkId must be 32 bytes');
    if (options.anchor.configDigest.length !== 32) throw new Error('anchor.configDigest must be 32 bytes');
    if (options.anchor.groupPublicKey.length !== 96) throw new Error('anchor.groupPublicKey must be 96 bytes');
    this.leg = spec.leg;
    this.spec = spec;
    // Copies: a caller mutating its arrays later must not move this leg's anchor.
    this.anchor = {
      networkId: options.anchor.networkId.slice(),
      configDigest: options.anchor.configDigest.slice(),
      groupPublicKey: options.anchor.groupPublicKey.slice(),
    };
    this.nowMs = options.nowMs;
    this.parties = options.parties;
    this.faults = options.faults ?? {};
    this.verifyReport = options.verifyReport ?? defaultVerifyReport;
    this.verifyAuthorization = options.verifyAuthorization ?? defaultVerifyAuthorization;
    this.finalityMs = options.finalityMs ?? 0;
    this.logClockMs = options.logClockMs ?? options.nowMs;
    if (!Number.isSafeInteger(this.finalityMs) || this.finalityMs < 0) throw new Error('finalityMs must be a non-negative integer');
  }

  // -------------------------------------------------------------------------------------------
  // LegAdapter

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    this.ensureAvailable('prepare');
    let id: Uint8Array;
    try {
      id = settlementId(terms);
    } catch (e) {
      // No id can be derived, so there is nothing to record the refusal under.
      return { kind: 'rejected', reason: `terms do not encode: ${errorText(e)}` };
    }
    const idHex = toHex(id);
    const existing = this.records.get(idHex);
    if (existing !== undefined) {
      return existing.state === 'locked' ? { kind: 'locked' } : { kind: 'closed', reason: `settlement is ${existing.state} on this leg` };
    }
    // Authorization first: without it the leg must not act at all, not even to reject.
    const authProblem = this.authorizationProblem(terms, id, authorization);
    if (authProblem !== null) return { kind: 'unauthorized', reason: authProblem };
    const lock = expectedLock(terms, this.leg, id, this.anchor.groupPublicKey);
    const refusal = this.refusalReason(terms, idHex, lock);
    if (refusal !== null) {
      const seq = this.append({ kind: 'reject', settlementIdHex: idHex, account: lock.from, detail: refusal });
      this.records.set(idHex, { state: 'rejected', lock: null, appliedReportHex: null, height: seq, lockedAtMs: this.nowMs() });
      return { kind: 'rejected', reason: refusal };
    }
    const locked = this.spec.book.lock(lock.from, lock.unit, lock.amount);
    if (!locked) throw new Error('assertion failed: funds were checked before locking');
    const seq = this.append(this.moveEvent(this.spec.naming.lock, idHex, lock, `${lock.amount} ${lock.unit} of ${lock.from} locked until ${lock.validUntilMs} ms`));
    this.records.set(idHex, { state: 'locked', lock, appliedReportHex: null, height: seq, lockedAtMs: this.nowMs() });
    return { kind: 'locked' };
  }

  async observe(settlementIdBytes: Uint8Array): Promise<LegView> {
    this.ensureAvailable('observe');
    const rec = this.records.get(toHex(settlementIdBytes));
    // A lock that is not final yet is not reported: observers count locks at finality only.
    if (rec === undefined || (rec.state === 'locked' && !this.isFinal(rec))) return { state: 'none', finalityHeight: 0n, lock: null };
    return { state: rec.state, finalityHeight: BigInt(rec.height), lock: rec.lock };
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    this.ensureAvailable('applyReport');
    const shape = reportShapeProblem(report);
    if (shape !== null) return refused(shape);
    const idHex = toHex(report.settlementId);
    if (this.faults.failApply?.(idHex) === true) throw new TransientLegError(`${this.leg} leg: transient failure applying a report for ${idHex}`);
    if (!equalBytes(report.networkId, this.anchor.networkId)) return refused('report is for another network');
    if (!equalBytes(report.configDigest, this.anchor.configDigest)) return refused('report is for another configuration');
    const rec = this.records.get(idHex);
    if (rec?.appliedReportHex != null) {
      return rec.appliedReportHex === toHex(encodeReport(report)) ? { kind: 'duplicate' } : refused('another report was already applied');
    }
    switch (rec?.state ?? 'none') {
      case 'none':
        return this.applyToUnlocked(idHex, report, 'abort-closed');
      case 'rejected':
        return this.applyToUnlocked(idHex, report, 'abort-recorded');
      case 'locked':
        return this.applyToLocked(idHex, rec!, report);
      case 'reclaimed':
        return refused('value was reclaimed: reports are refused');
      case 'committed':
      case 'aborted':
        throw new Error(`assertion failed: ${rec!.state} without an applied report`);
    }
  }

  async reclaim(settlementIdBytes: Uint8Array): Promise<ReclaimOutcome> {
    this.ensureAvailable('reclaim');
    const idHex = toHex(settlementIdBytes);
    const rec = this.records.get(idHex);
    if (rec === undefined || rec.state !== 'locked' || rec.lock === null) return refused(`nothing to reclaim: settlement is ${rec?.state ?? 'none'}`);
    const nowMs = this.nowMs();
    if (nowMs < rec.lock.reclaimAtMs) return refused(`too early: now ${nowMs} ms < reclaim time ${rec.lock.reclaimAtMs} ms`);
    const lock = rec.lock;
    this.spec.book.unlock(lock.from, lock.unit, lock.amount);
    rec.state = 'reclaimed';
    rec.height = this.append(this.moveEvent('reclaim', idHex, lock, `${lock.amount} ${lock.unit} back to ${lock.from}`));
    return { kind: 'reclaimed' };
  }

  private isFinal(rec: SettlementRecord): boolean {
    return this.nowMs() >= rec.lockedAtMs + this.finalityMs;
  }

  /**
   * A chain reorganisation that drops the settlement's lock if it is not final yet: the value goes
   * back to the party and the id is free (a later prepare may lock again). Returns whether
   * anything was undone. Simulator fault only.
   */
  reorg(idHex: string): boolean {
    const rec = this.records.get(idHex);
    if (rec === undefined || rec.state !== 'locked' || rec.lock === null || this.isFinal(rec)) return false;
    const lock = rec.lock;
    this.spec.book.unlock(lock.from, lock.unit, lock.amount);
    this.records.delete(idHex);
    this.append(this.moveEvent('reorg', idHex, lock, `unfinalized lock of ${lock.amount} ${lock.unit} of ${lock.from} undone`));
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Ledger inspection for the simulator and tests (these work even while the leg is unavailable)

  /** Credits new value: initial balances. */
  mint(account: string, unit: string, amount: bigint): void {
    if (amount <= 0n) throw new Error(`mint amount must be positive, got ${amount}`);
    this.spec.book.credit(account, unit, amount);
    this.minted.set(unit, (this.minted.get(unit) ?? 0n) + amount);
    this.append({ kind: 'mint', account, unit, amount, detail: `${amount} ${unit} to ${account}` });
  }

  /** Spendable balance: what the account could lock now. */
  balance(account: string, unit: string): bigint {
    return this.spec.book.available(account, unit);
  }

  /** Spendable balances of every account ever touched, sorted by account then unit. */
  balances(): readonly BalanceEntry[] {
    return this.spec.book.entries();
  }

  /** Value locked (in escrow / on hold) per unit. */
  lockedTotal(unit: string): bigint {
    return this.spec.book.lockedTotals().get(unit) ?? 0n;
  }

  /** The leg's height: block height / ledger sequence, one per event. */
  height(): bigint {
    return BigInt(this.log.length);
  }

  events(): readonly LegEvent[] {
    return this.log;
  }

  conservationProblem(): string | null {
    const lockedByRecords = new Map<string, bigint>();
    for (const rec of this.records.values()) {
      if (rec.state === 'locked' && rec.lock !== null) lockedByRecords.set(rec.lock.unit, (lockedByRecords.get(rec.lock.unit) ?? 0n) + rec.lock.amount);
    }
    const problem = conservationProblemOf({
      minted: this.minted,
      balances: this.spec.book.entries(),
      locked: this.spec.book.lockedTotals(),
      lockedByRecords,
    });
    return problem ?? this.spec.book.problem();
  }

  // -------------------------------------------------------------------------------------------

  private ensureAvailable(operation: string): void {
    if (this.faults.unavailable?.() === true) throw new TransientLegError(`${this.leg} leg unavailable (${operation})`);
  }

  private authorizationProblem(terms: Terms, id: Uint8Array, authorization: Authorization | null): string | null {
    const party = this.spec.partyOf(terms);
    if (authorization === null) return `no authorization from ${party}`;
    if (authorization.party !== party) return `authorization is by ${authorization.party}, this leg needs ${party}`;
    const key = this.parties.get(party);
    if (key === undefined) return `unknown party ${party}`;
    if (!this.safeVerify(this.verifyAuthorization, key, id, authorization.signature)) return `bad authorization signature from ${party}`;
    return null;
  }

  /** Why the leg durably refuses an authorized prepare, or null if it can lock. */
  private refusalReason(terms: Terms, idHex: string, lock: LockRecord): string | null {
    const venue = this.spec.venueProblem(terms);
    if (venue !== null) return venue;
    if (this.faults.rejectPrepare?.(idHex) === true) return 'refused by policy';
    const available = this.spec.book.available(lock.from, lock.unit);
    if (available < lock.amount) return `insufficient funds: ${lock.from} has ${available} ${lock.unit} available, needs ${lock.amount}`;
    return null;
  }

  /**
   * An ABORT for an id with no lock: it verifies against the anchor's key (there is no stored
   * one). On a never-locked id it closes the id; on a rejected id it is recorded only.
   */
  private applyToUnlocked(idHex: string, report: Report, kind: 'abort-closed' | 'abort-recorded'): ApplyOutcome {
    if (report.decision !== 'ABORT') return refused('COMMIT refused: nothing is locked for this settlement');
    if (!this.reportVerifies(this.anchor.groupPublicKey, report)) return refused('report signature does not verify');
    const reportHex = toHex(encodeReport(report));
    const existing = this.records.get(idHex);
    const seq = this.append({ kind, settlementIdHex: idHex, detail: kind === 'abort-closed' ? 'ABORT before any lock: id closed' : 'ABORT recorded on a rejected id' });
    if (existing === undefined) this.records.set(idHex, { state: 'aborted', lock: null, appliedReportHex: reportHex, height: seq, lockedAtMs: this.nowMs() });
    else existing.appliedReportHex = reportHex; // state stays 'rejected'; its view does not change
    return { kind: 'applied' };
  }

  private applyToLocked(idHex: string, rec: SettlementRecord, report: Report): ApplyOutcome {
    const lock = rec.lock;
    if (lock === null) throw new Error('assertion failed: locked without a lock record');
    if (report.validUntilMs !== lock.validUntilMs) return refused(`report validUntil ${report.validUntilMs} ms != lock's ${lock.validUntilMs} ms`);
    const nowMs = this.nowMs();
    // The event carries the time of this check, not of the end of the (slow) signature check: on
    // a loaded host a COMMIT accepted just before validUntil must not look applied after it.
    const checkedAtMs = this.logClockMs();
    if (report.decision === 'COMMIT' && nowMs >= lock.validUntilMs) return refused(`COMMIT expired: now ${nowMs} ms >= validUntil ${lock.validUntilMs} ms`);
    // The key stored at lock time, never one named by the report.
    if (!this.reportVerifies(lock.groupPublicKey, report)) return refused('report signature does not verify');
    let event: Omit<LegEvent, 'seq' | 'atMs'>;
    if (report.decision === 'COMMIT') {
      this.spec.book.settle(lock.from, lock.to, lock.unit, lock.amount);
      rec.state = 'committed';
      event = this.moveEvent(this.spec.naming.commit, idHex, lock, `${lock.amount} ${lock.unit} from ${lock.from} to ${lock.to}`);
    } else {
      this.spec.book.unlock(lock.from, lock.unit, lock.amount);
      rec.state = 'aborted';
      event = this.moveEvent(this.spec.naming.abort, idHex, lock, `${lock.amount} ${lock.unit} back to ${lock.from}`);
    }
    rec.appliedReportHex = toHex(encodeReport(report));
    rec.height = this.append(event, checkedAtMs);
    return { kind: 'applied' };
  }

  private reportVerifies(groupPublicKey: Uint8Array, report: Report): boolean {
    return this.safeVerify(this.verifyReport, groupPublicKey, reportDigest(report), report.signature);
  }

  /** A malformed point or signature is a failed verification, never an exception. */
  private safeVerify(check: SignatureCheck, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return check(publicKey, message, signature) === true;
    } catch {
      return false;
    }
  }

  private moveEvent(kind: LegEventKind, idHex: string, lock: LockRecord, detail: string): Omit<LegEvent, 'seq' | 'atMs'> {
    const to = kind === this.spec.naming.commit ? { counterparty: lock.to } : {};
    return { kind, settlementIdHex: idHex, account: lock.from, unit: lock.unit, amount: lock.amount, ...to, detail };
  }

  /** Appends an event (stamped `atMs`, default now); returns its sequence number (the new leg height). */
  private append(event: Omit<LegEvent, 'seq' | 'atMs'>, atMs = this.logClockMs()): number {
    if (this.log.length >= LEG_EVENTS_MAX) throw new Error(`assertion failed: more than ${LEG_EVENTS_MAX} leg events`);
    const seq = this.log.length + 1;
    this.log.push({ seq, atMs, ...event });
    return seq;
  }
}

function refused(reason: string): { readonly kind: 'refused'; readonly reason: string } {
  return { kind: 'refused', reason };
}

