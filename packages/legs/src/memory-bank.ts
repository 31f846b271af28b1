import type { Terms } from '@tandem/protocol';
import type { BankVenue } from './adapter.js';
import { type BalanceEntry, BalanceTable } from './balances.js';
import { type MemoryLegOptions, type ValueBook, MemoryLeg } from './memory-leg.js';
import { bankVenueProblem } from './rules/venue.js';

/**
 * Two-phase transfers as in TigerBeetle: a hold is a pending debit that stays in the payer's
 * posted balance but counts against its available balance; post moves it, void drops it.
 * No overdraft ever: pending debits never exceed the posted balance.
 */
class HoldBook implements ValueBook {
  private readonly posted = new BalanceTable();
  private readonly pending = new BalanceTable();

  available(account: string, currency: string): bigint {
    return this.posted.get(account, currency) - this.pending.get(account, currency);
  }

  lock(account: string, currency: string, amount: bigint): boolean {
    if (this.available(account, currency) < amount) return false;
    this.pending.add(account, currency, amount);
    return true;
  }

  settle(from: string, to: string, currency: string, amount: bigint): void {
    this.pending.add(from, currency, -amount);
    this.posted.add(from, currency, -amount);
    this.posted.add(to, currency, amount);
  }

  unlock(from: string, currency: string, amount: bigint): void {
    this.pending.add(from, currency, -amount);
  }

  credit(account: string, currency: string, amount: bigint): void {
    this.posted.add(account, currency, amount);
  }

  ledgerBalance(account: string, currency: string): bigint {
    return this.posted.get(account, currency);
  }

  heldBy(account: string, currency: string): bigint {
    return this.pending.get(account, currency);
  }

  lockedTotals(): ReadonlyMap<string, bigint> {
    return this.pending.totals();
  }

  entries(): BalanceEntry[] {
    return this.posted.entries().map((e) => ({ ...e, amount: e.amount - this.pending.get(e.account, e.unit) }));
  }

  problem(): string | null {
    for (const e of this.pending.entries()) {
      const posted = this.posted.get(e.account, e.unit);
      if (e.amount > posted) return `overdraft: ${e.account} has ${e.amount} ${e.unit} on hold but ${posted} posted`;
    }
    return null;
  }
}

/**
 * An in-memory bank ledger (the payment leg): accounts per currency; a prepare places a hold on
 * the payer's funds; COMMIT posts it to the payee, ABORT and reclaim void it.
 */
export class MemoryBankLedger extends MemoryLeg {
  readonly venue: BankVenue;
  private readonly holds: HoldBook;

  constructor(options: MemoryLegOptions<BankVenue>) {
    const venue: BankVenue = { bankId: options.venue.bankId, ledger: options.venue.ledger };
    const book = new HoldBook();
    super(
      {
        leg: 'payment',
        book,
        partyOf: (t: Terms) => t.payment.payer,
        venueProblem: (t: Terms) => bankVenueProblem(t, venue),
      },
      options,
    );
    this.venue = venue;
    this.holds = book;
  }

  /** Posted balance, holds included (balance() is the available one, holds excluded). */
  ledgerBalance(account: string, currency: string): bigint {
    return this.holds.ledgerBalance(account, currency);
  }

  /** Pending debits (holds) on one account. */
  held(account: string, currency: string): bigint {
    return this.holds.heldBy(account, currency);
  }
}
