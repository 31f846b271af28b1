import {
  type Authorization,
  type Entry,
  type LegName,
  type LegState,
  type LegView,
  type LockRecord,
  type Report,
  type ReportV2,
  type Terms,
  type TreeMultiproof,
  assert,
  encodeReport,
  expectedLock,
  toHex,
} from '@tandem/protocol';
import type { ApplyOutcome, BatchLegAdapter, PrepareOutcome, ProvenEntry, ReclaimOutcome, RootOutcome } from './adapter.js';
import { TransientLegError, assertObserveIds } from './adapter.js';
import { type BalanceEntry, conservationProblemOf } from './balances.js';
import type { LegEvent } from './events.js';
import { type LegChecks, type LegOptions, legChecksOf } from './rules/options.js';
import type { SettlementOnLeg } from './rules/record.js';
import { authorizationProblem } from './rules/authorization.js';
import { type PrepareDecision, prepareOnRecord, prepareRefusal, prepareWithFunds, preparedId } from './rules/prepare.js';
import { reportAnchorProblem, reportShapeProblem } from './rules/report.js';
import { type ApplyDecision, processApply } from './rules/apply.js';
import { type VerifiedRoot, processRoot, reportV2Problem, rootOutcomeOf, storedRoot } from './rules/root.js';
import { appliedEntryMarker, entriesCountProblem, entryProofProblem, processEntry } from './rules/entry.js';
import { processBatchRoot, refuseAll } from './rules/batch.js';
import { processReclaim } from './rules/reclaim.js';
import {
  type LegNaming,
  type NewLegEvent,
  LEG_NAMING,
  commitEvent,
  lockEvent,
  mintEvent,
  moveEvent,
  rejectEvent,
  returnEvent,
  unlockedAbortEvent,
} from './rules/moves.js';

/** Fault hooks for the simulator. Each is asked on every call, so faults can start and stop. */
export interface MemoryLegFaults {
  /** The leg durably refuses this prepare (policy): state `rejected`. */
  rejectPrepare?(settlementIdHex: string): boolean;
  /** applyReport (and applyEntries, applyBatch with an entry for this id) throws TransientLegError, changing nothing. */
  failApply?(settlementIdHex: string): boolean;
  /** Every adapter call (prepare, observe, applyReport, reclaim, and the v2 calls) throws TransientLegError. */
  unavailable?(): boolean;
}

export interface MemoryLegOptions<Venue> extends LegOptions<Venue> {
  readonly faults?: MemoryLegFaults;
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

export interface MemoryLegSpec {
  readonly leg: LegName;
  readonly book: ValueBook;
  /** Null when the terms name this leg's venue; else what is wrong. */
  readonly venueProblem: (terms: Terms) => string | null;
  /** The party whose value this leg locks (seller / payer). */
  readonly partyOf: (terms: Terms) => string;
}

/** Bound on the event log: the simulator runs bounded scenarios; more means a runaway loop. */
export const LEG_EVENTS_MAX = 10_000_000;
/** Bound on the roots stored, for the same reason. */
export const LEG_ROOTS_MAX = 10_000_000;

interface SettlementRecord extends SettlementOnLeg {
  state: LegState;
  appliedReport: Uint8Array | null;
  configDigest: Uint8Array | null;
  /** Leg height of this record's last state change. */
  height: number;
  /** Leg time at which the lock was made (finality counts from here). */
  lockedAtMs: number;
}

/**
 * Storage around the leg rules (./rules) for the in-memory asset chain and bank ledger: a map of
 * settlement records, a value book and an append-only event log. Every method completes
 * synchronously (the promises are already settled when returned): the simulator's determinism
 * relies on it.
 */
export class MemoryLeg implements BatchLegAdapter {
  readonly leg: LegName;
  private readonly spec: MemoryLegSpec;
  private readonly naming: LegNaming;
  private readonly checks: LegChecks;
  private readonly nowMs: () => number;
  private readonly faults: MemoryLegFaults;
  private readonly finalityMs: number;
  private readonly logClockMs: () => number;
  private readonly records = new Map<string, SettlementRecord>();
  /** Verified roots: `configDigestHex:rootHex` → count. */
  private readonly roots = new Map<string, number>();
  private readonly minted = new Map<string, bigint>();
  private readonly log: LegEvent[] = [];

  protected constructor(spec: MemoryLegSpec, options: MemoryLegOptions<unknown>) {
    this.checks = legChecksOf(options);
    this.leg = spec.leg;
    this.spec = spec;
    this.naming = LEG_NAMING[spec.leg];
    this.nowMs = options.nowMs;
    this.faults = options.faults ?? {};
    this.finalityMs = options.finalityMs ?? 0;
    this.logClockMs = options.logClockMs ?? options.nowMs;
    if (!Number.isSafeInteger(this.finalityMs) || this.finalityMs < 0) throw new Error('finalityMs must be a non-negative integer');
  }

  // -------------------------------------------------------------------------------------------
  // LegAdapter

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    this.ensureAvailable('prepare');
    const derived = preparedId(terms);
    if (derived.id === null) return derived.outcome;
    const id = derived.id;
    const idHex = toHex(id);
    const existing = this.records.get(idHex);
    if (existing !== undefined) return prepareOnRecord(existing.state);
    const lock = expectedLock(terms, this.leg, id, this.checks.anchor.groupPublicKey);
    const authProblem = authorizationProblem(this.checks, this.spec.partyOf(terms), id, authorization);
    const decision =
      prepareRefusal(authProblem, () => this.termsProblem(terms, idHex)) ?? prepareWithFunds(lock, this.spec.book.available(lock.from, lock.unit));
    return this.writePrepare(decision, idHex, lock);
  }

  async observe(settlementIdBytes: Uint8Array): Promise<LegView> {
    this.ensureAvailable('observe');
    return this.viewOf(settlementIdBytes);
  }

  async observeMany(settlementIds: readonly Uint8Array[]): Promise<readonly LegView[]> {
    assertObserveIds(settlementIds);
    this.ensureAvailable('observeMany');
    return settlementIds.map((id) => this.viewOf(id));
  }

  private viewOf(settlementIdBytes: Uint8Array): LegView {
    const rec = this.records.get(toHex(settlementIdBytes));
    // A lock that is not final yet is not reported: observers count locks at finality only.
    if (rec === undefined || (rec.state === 'locked' && !this.isFinal(rec))) return { state: 'none', finalityHeight: 0n, lock: null };
    return { state: rec.state, finalityHeight: BigInt(rec.height), lock: rec.lock };
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    this.ensureAvailable('applyReport');
    const shape = reportShapeProblem(report);
    if (shape !== null) return { kind: 'refused', reason: shape };
    const idHex = toHex(report.settlementId);
    if (this.faults.failApply?.(idHex) === true) throw new TransientLegError(`${this.leg} leg: transient failure applying a report for ${idHex}`);
    const anchorProblem = reportAnchorProblem(report, this.checks.anchor);
    if (anchorProblem !== null) return { kind: 'refused', reason: anchorProblem };
    // The event carries the time of the check, not of the end of the (slow) signature check: on a
    // loaded host a COMMIT accepted just before validUntil must not look applied after it.
    const checkedAtMs = this.logClockMs();
    const decision = processApply(this.records.get(idHex) ?? null, report, this.nowMs(), this.checks);
    return this.writeApply(decision, idHex, () => encodeReport(report), checkedAtMs);
  }

  // -------------------------------------------------------------------------------------------
  // BatchLegAdapter (protocol v2)

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    this.ensureAvailable('submitRoot');
    const problem = reportV2Problem(report, this.checks);
    if (problem !== null) return { kind: 'refused', reason: problem };
    const decision = processRoot(report, this.storedCount(report.root), this.checks);
    if (decision.kind === 'store') this.storeRoot(decision.root);
    return rootOutcomeOf(decision);
  }

  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    this.ensureAvailable('applyEntries');
    const count = entriesCountProblem(items.length);
    if (count !== null) return refuseAll(items.length, count);
    const verified = storedRoot(root, this.storedCount(root), this.checks);
    if ('kind' in verified) return refuseAll(items.length, verified.reason);
    this.ensureApplicable(items.map((i) => i.entry));
    const checkedAtMs = this.logClockMs();
    return items.map((item) => {
      const problem = entryProofProblem(verified, item);
      return problem === null ? this.applyEntry(verified, item.entry, checkedAtMs) : { kind: 'refused', reason: problem };
    });
  }

  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    this.ensureAvailable('applyBatch');
    const decision = processBatchRoot(report, this.storedCount(report.root), entries, multiproof, this.checks);
    if (decision.kind === 'refused') return refuseAll(entries.length, decision.reason);
    this.ensureApplicable(entries);
    if (decision.kind === 'store') this.storeRoot(decision.root);
    const checkedAtMs = this.logClockMs();
    return entries.map((entry) => this.applyEntry(decision.root, entry, checkedAtMs));
  }

  /** The count stored for `root` under the anchor's configuration (the only one this leg accepts), or null. */
  private storedCount(root: Uint8Array): number | null {
    return this.roots.get(`${toHex(this.checks.anchor.configDigest)}:${toHex(root)}`) ?? null;
  }

  private storeRoot(root: VerifiedRoot): void {
    if (this.roots.size >= LEG_ROOTS_MAX) throw new Error(`assertion failed: more than ${LEG_ROOTS_MAX} roots`);
    this.roots.set(`${toHex(root.configDigest)}:${toHex(root.root)}`, root.count);
  }

  /** The failApply fault for a batch: any of its ids failing fails the whole call before anything changes. */
  private ensureApplicable(entries: readonly Entry[]): void {
    for (const e of entries) {
      const idHex = toHex(e.settlementId);
      if (this.faults.failApply?.(idHex) === true) throw new TransientLegError(`${this.leg} leg: transient failure applying an entry for ${idHex}`);
    }
  }

  private applyEntry(root: VerifiedRoot, entry: Entry, checkedAtMs: number): ApplyOutcome {
    const idHex = toHex(entry.settlementId);
    const decision = processEntry(this.records.get(idHex) ?? null, root, entry, this.nowMs(), this.checks.anchor);
    return this.writeApply(decision, idHex, () => appliedEntryMarker(root.root, entry), checkedAtMs);
  }

  /** Carries out an apply decision: moves the value, records the applied marker and logs the event (stamped `checkedAtMs`). */
  private writeApply(decision: ApplyDecision, idHex: string, markerOf: () => Uint8Array, checkedAtMs: number): ApplyOutcome {
    if (decision.kind === 'refused' || decision.kind === 'duplicate') return decision;
    const marker = markerOf();
    const rec = this.records.get(idHex);
    if (decision.kind === 'abort-closed' || decision.kind === 'abort-recorded') {
      const seq = this.append(unlockedAbortEvent(decision.kind, idHex));
      if (rec === undefined) this.records.set(idHex, { state: 'aborted', lock: null, appliedReport: marker, configDigest: null, height: seq, lockedAtMs: this.nowMs() });
      else rec.appliedReport = marker; // state stays 'rejected'; its view does not change
      return { kind: 'applied' };
    }
    assert(rec !== undefined, 'a report applied to a lock has a record');
    const lock = decision.lock;
    if (decision.kind === 'commit') this.spec.book.settle(lock.from, lock.to, lock.unit, lock.amount);
    else this.spec.book.unlock(lock.from, lock.unit, lock.amount);
    rec.state = decision.kind === 'commit' ? 'committed' : 'aborted';
    rec.appliedReport = marker;
    rec.height = this.append(decision.kind === 'commit' ? commitEvent(this.naming, idHex, lock) : returnEvent(this.naming.abort, idHex, lock), checkedAtMs);
    return { kind: 'applied' };
  }

  async reclaim(settlementIdBytes: Uint8Array): Promise<ReclaimOutcome> {
    this.ensureAvailable('reclaim');
    const idHex = toHex(settlementIdBytes);
    const rec = this.records.get(idHex);
    const decision = processReclaim(rec ?? null, this.nowMs());
    if (decision.kind === 'refused') return decision;
    assert(rec !== undefined, 'a reclaimed lock has a record');
    const lock = decision.lock;
    this.spec.book.unlock(lock.from, lock.unit, lock.amount);
    rec.state = 'reclaimed';
    rec.height = this.append(returnEvent('reclaim', idHex, lock));
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
    this.append(moveEvent('reorg', idHex, lock, `unfinalized lock of ${lock.amount} ${lock.unit} of ${lock.from} undone`));
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Ledger inspection for the simulator and tests (these work even while the leg is unavailable)

  /** Credits new value: initial balances. */
  mint(account: string, unit: string, amount: bigint): void {
    if (amount <= 0n) throw new Error(`mint amount must be positive, got ${amount}`);
    this.spec.book.credit(account, unit, amount);
    this.minted.set(unit, (this.minted.get(unit) ?? 0n) + amount);
    this.append(mintEvent(account, unit, amount));
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

  /** Why the leg durably refuses authorized terms before looking at funds: another venue, or its policy. */
  private termsProblem(terms: Terms, idHex: string): string | null {
    return this.spec.venueProblem(terms) ?? (this.faults.rejectPrepare?.(idHex) === true ? 'refused by policy' : null);
  }

  /** Carries out a prepare decision: a durable rejection or a lock is recorded and logged. */
  private writePrepare(decision: PrepareDecision, idHex: string, lock: LockRecord): PrepareOutcome {
    switch (decision.kind) {
      case 'reject': {
        const seq = this.append(rejectEvent(idHex, lock, decision.reason));
        this.records.set(idHex, { state: 'rejected', lock: null, appliedReport: null, configDigest: null, height: seq, lockedAtMs: this.nowMs() });
        return { kind: 'rejected', reason: decision.reason };
      }
      case 'lock': {
        const locked = this.spec.book.lock(lock.from, lock.unit, lock.amount);
        assert(locked, 'funds were checked before locking');
        const seq = this.append(lockEvent(this.naming, idHex, lock));
        this.records.set(idHex, { state: 'locked', lock, appliedReport: null, configDigest: this.checks.anchor.configDigest, height: seq, lockedAtMs: this.nowMs() });
        return { kind: 'locked' };
      }
      default:
        return decision;
    }
  }

  /** Appends an event (stamped `atMs`, default now); returns its sequence number (the new leg height). */
  private append(event: NewLegEvent, atMs = this.logClockMs()): number {
    if (this.log.length >= LEG_EVENTS_MAX) throw new Error(`assertion failed: more than ${LEG_EVENTS_MAX} leg events`);
    const seq = this.log.length + 1;
    this.log.push({ seq, atMs, ...event });
    return seq;
  }
}
