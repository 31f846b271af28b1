/** One account's spendable balance in one unit (token or currency). */
export interface BalanceEntry {
  readonly account: string;
  readonly unit: string;
  readonly amount: bigint;
}

/**
 * Amounts per (account, unit), never negative: a change that would go below zero is a bug in the
 * caller (every caller checks funds first), so it throws instead of clamping.
 */
export class BalanceTable {
  private readonly byAccount = new Map<string, Map<string, bigint>>();

  get(account: string, unit: string): bigint {
    return this.byAccount.get(account)?.get(unit) ?? 0n;
  }

  add(account: string, unit: string, delta: bigint): void {
    const next = this.get(account, unit) + delta;
    if (next < 0n) throw new Error(`assertion failed: ${account} would hold ${next} ${unit}`);
    let units = this.byAccount.get(account);
    if (units === undefined) {
      units = new Map();
      this.byAccount.set(account, units);
    }
    units.set(unit, next);
  }

  /** Every (account, unit) ever touched, sorted by account then unit (deterministic order). */
  entries(): BalanceEntry[] {
    const out: BalanceEntry[] = [];
    for (const [account, units] of this.byAccount) {
      for (const [unit, amount] of units) out.push({ account, unit, amount });
    }
    return out.sort(compareEntries);
  }

  /** Sum over all accounts, per unit. */
  totals(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const units of this.byAccount.values()) {
      for (const [unit, amount] of units) out.set(unit, (out.get(unit) ?? 0n) + amount);
    }
    return out;
  }
}

function compareEntries(a: BalanceEntry, b: BalanceEntry): number {
  if (a.account !== b.account) return a.account < b.account ? -1 : 1;
  if (a.unit !== b.unit) return a.unit < b.unit ? -1 : 1;
  return 0;
}

export interface ConservationInput {
  /** Total ever minted, per unit. */
  readonly minted: ReadonlyMap<string, bigint>;
  /** Spendable balances. */
  readonly balances: readonly BalanceEntry[];
  /** Value in escrow / on hold per unit, as the book holds it. */
  readonly locked: ReadonlyMap<string, bigint>;
  /** Value in escrow / on hold per unit, as the settlement records say it should be. */
  readonly lockedByRecords: ReadonlyMap<string, bigint>;
}

/**
 * Conservation (the checker's `conservation` invariant, docs/results.md): for every unit,
 * spendable balances plus locked value equal what was minted, no amount is negative, and the
 * book's locked value matches the settlements in state `locked`. Returns the first problem found,
 * or null.
 */
export function conservationProblemOf(input: ConservationInput): string | null {
  const spendable = new Map<string, bigint>();
  for (const e of input.balances) {
    if (e.amount < 0n) return `negative balance: ${e.account} holds ${e.amount} ${e.unit}`;
    spendable.set(e.unit, (spendable.get(e.unit) ?? 0n) + e.amount);
  }
  const units = new Set([...input.minted.keys(), ...spendable.keys(), ...input.locked.keys(), ...input.lockedByRecords.keys()]);
  for (const unit of [...units].sort()) {
    const minted = input.minted.get(unit) ?? 0n;
    const locked = input.locked.get(unit) ?? 0n;
    const expectedLocked = input.lockedByRecords.get(unit) ?? 0n;
    const free = spendable.get(unit) ?? 0n;
    if (locked < 0n) return `negative locked amount: ${locked} ${unit}`;
    if (locked !== expectedLocked) return `${locked} ${unit} locked, but open locks add up to ${expectedLocked}`;
    if (free + locked !== minted) return `${unit}: balances ${free} + locked ${locked} != minted ${minted}`;
  }
  return null;
}
