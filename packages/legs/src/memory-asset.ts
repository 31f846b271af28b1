import type { Terms } from '@tandem/protocol';
import type { AssetVenue } from './adapter.js';
import { type BalanceEntry, BalanceTable } from './balances.js';
import { type MemoryLegOptions, type ValueBook, MemoryLeg } from './memory-leg.js';
import { assetVenueProblem } from './rules/venue.js';

/** Token balances plus the escrow contract's holdings: a lock moves tokens into escrow. */
class EscrowBook implements ValueBook {
  private readonly accounts = new BalanceTable();
  private readonly escrow = new Map<string, bigint>();

  available(account: string, token: string): bigint {
    return this.accounts.get(account, token);
  }

  lock(account: string, token: string, amount: bigint): boolean {
    if (this.accounts.get(account, token) < amount) return false;
    this.accounts.add(account, token, -amount);
    this.escrow.set(token, (this.escrow.get(token) ?? 0n) + amount);
    return true;
  }

  settle(_from: string, to: string, token: string, amount: bigint): void {
    this.takeFromEscrow(token, amount);
    this.accounts.add(to, token, amount);
  }

  unlock(from: string, token: string, amount: bigint): void {
    this.takeFromEscrow(token, amount);
    this.accounts.add(from, token, amount);
  }

  credit(account: string, token: string, amount: bigint): void {
    this.accounts.add(account, token, amount);
  }

  lockedTotals(): ReadonlyMap<string, bigint> {
    return this.escrow;
  }

  entries(): BalanceEntry[] {
    return this.accounts.entries();
  }

  problem(): string | null {
    return null; // the escrow is a plain bucket; conservationProblemOf checks it against the locks
  }

  private takeFromEscrow(token: string, amount: bigint): void {
    const held = this.escrow.get(token) ?? 0n;
    if (held < amount) throw new Error(`assertion failed: escrow holds ${held} ${token}, cannot pay out ${amount}`);
    this.escrow.set(token, held - amount);
  }
}

/**
 * An in-memory token chain with one escrow contract (the asset leg). Balances per account per
 * token; a prepare moves the seller's tokens into escrow; COMMIT releases them to the buyer,
 * ABORT and reclaim refund the seller.
 */
export class MemoryAssetChain extends MemoryLeg {
  readonly venue: AssetVenue;

  constructor(options: MemoryLegOptions<AssetVenue>) {
    if (options.venue.escrow.length !== 20) throw new Error('venue.escrow must be a 20-byte address');
    const venue: AssetVenue = { chainId: options.venue.chainId, escrow: options.venue.escrow.slice() };
    super(
      {
        leg: 'asset',
        book: new EscrowBook(),
        partyOf: (t: Terms) => t.asset.seller,
        venueProblem: (t: Terms) => assetVenueProblem(t, venue),
      },
      options,
    );
    this.venue = venue;
  }

  /** Tokens held by the escrow contract. */
  escrowed(token: string): bigint {
    return this.lockedTotal(token);
  }
}
