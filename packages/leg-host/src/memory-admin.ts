/**
 * LegAdmin for the in-memory legs: minting, balances and event logs straight from the legs, and
 * run-time faults through the legs' `MemoryLegFaults` hooks (which the legs ask on every call, so
 * a fault set here takes effect on the next request).
 */
import { type LegName, U256_MAX, toHex } from '@tandem/protocol';
import type { MemoryLeg, MemoryLegFaults } from '@tandem/legs';
import { type LegAdmin, type LegBalances, type LegEventsPage, type LegFault, type LegFaultState, AdminInputError } from './admin.js';

/** Bound on settlements with a fault at once, per leg: a runaway runner must not grow the host without bound. */
export const FAULTED_SETTLEMENTS_MAX = 10_000;

/** The faults of one in-memory leg, settable at run time. */
export class MemoryFaultBoard {
  private readonly rejected = new Set<string>();
  private readonly failApplyLeft = new Map<string, number>();
  private unavailableUntilMs: number | null = null;

  /** `nowMs` is the leg's clock: an outage ends when it reaches `untilMs`. */
  constructor(private readonly nowMs: () => number) {}

  /** The hooks to build the leg with. */
  hooks(): MemoryLegFaults {
    return {
      rejectPrepare: (idHex) => this.rejected.has(idHex),
      failApply: (idHex) => this.takeApplyFailure(idHex),
      unavailable: () => this.unavailableUntilMs !== null && this.nowMs() < this.unavailableUntilMs,
    };
  }

  set(fault: LegFault): void {
    switch (fault.kind) {
      case 'reject-prepare': {
        const idHex = toHex(fault.settlementId);
        if (!this.rejected.has(idHex)) this.ensureRoom(this.rejected.size, 'reject-prepare');
        this.rejected.add(idHex);
        return;
      }
      case 'fail-apply': {
        const idHex = toHex(fault.settlementId);
        if (!this.failApplyLeft.has(idHex)) this.ensureRoom(this.failApplyLeft.size, 'fail-apply');
        this.failApplyLeft.set(idHex, fault.times); // replaces any count left: the runner states the total
        return;
      }
      case 'unavailable':
        this.unavailableUntilMs = fault.untilMs;
        return;
      case 'clear':
        this.rejected.clear();
        this.failApplyLeft.clear();
        this.unavailableUntilMs = null;
        return;
    }
  }

  state(): LegFaultState {
    // An outage whose time has passed is reported as over.
    const until = this.unavailableUntilMs !== null && this.nowMs() < this.unavailableUntilMs ? this.unavailableUntilMs : null;
    return {
      rejectPrepare: [...this.rejected].sort(),
      failApply: [...this.failApplyLeft].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([settlementId, timesLeft]) => ({ settlementId, timesLeft })),
      unavailableUntilMs: until,
    };
  }

  private takeApplyFailure(idHex: string): boolean {
    const left = this.failApplyLeft.get(idHex);
    if (left === undefined) return false;
    // Dropped at zero so the map holds only live faults.
    if (left <= 1) this.failApplyLeft.delete(idHex);
    else this.failApplyLeft.set(idHex, left - 1);
    return true;
  }

  private ensureRoom(size: number, kind: string): void {
    if (size >= FAULTED_SETTLEMENTS_MAX) throw new AdminInputError('settlementId', `at most ${FAULTED_SETTLEMENTS_MAX} settlements may have a ${kind} fault at once (clear first)`);
  }
}

/** One served in-memory leg and its fault board (the leg must have been built with `board.hooks()`). */
export interface MemoryLegEntry {
  readonly leg: MemoryLeg;
  readonly faults: MemoryFaultBoard;
}

export class MemoryLegAdmin implements LegAdmin {
  constructor(private readonly legs: Partial<Record<LegName, MemoryLegEntry>>) {
    for (const [name, entry] of Object.entries(legs)) {
      if (entry !== undefined && entry.leg.leg !== name) throw new Error(`the ${name} entry holds a ${entry.leg.leg} leg`);
    }
  }

  async mint(leg: LegName, account: string, unit: string, amount: bigint): Promise<void> {
    if (amount <= 0n) throw new AdminInputError('amount', 'must be positive');
    const l = this.entry(leg).leg;
    // Like a token's total supply, the value of a unit stays a u256: no balance can pass what terms can name.
    const total = l.balances().reduce((sum, b) => (b.unit === unit ? sum + b.amount : sum), l.lockedTotal(unit));
    if (total + amount > U256_MAX) throw new AdminInputError('amount', `the ${leg} leg's total of ${unit} would pass 2^256-1`);
    l.mint(account, unit, amount);
  }

  async balances(leg: LegName): Promise<LegBalances> {
    const l = this.entry(leg).leg;
    return { balances: l.balances(), height: l.height(), conservationProblem: l.conservationProblem() };
  }

  async events(leg: LegName, sinceSeq: number, limit: number): Promise<LegEventsPage> {
    const log = this.entry(leg).leg.events();
    // seq is the 1-based position in the append-only log, so events after `sinceSeq` start at index sinceSeq.
    return { events: log.slice(sinceSeq, sinceSeq + limit), height: log.length };
  }

  async setFault(leg: LegName, fault: LegFault): Promise<LegFaultState> {
    const board = this.entry(leg).faults;
    board.set(fault);
    return board.state();
  }

  async faults(leg: LegName): Promise<LegFaultState> {
    return this.entry(leg).faults.state();
  }

  private entry(leg: LegName): MemoryLegEntry {
    const e = this.legs[leg];
    if (e === undefined) throw new AdminInputError('leg', `this host does not serve the ${leg} leg`);
    return e;
  }
}
