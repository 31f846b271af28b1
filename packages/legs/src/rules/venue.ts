import { type Terms, equalBytes, toHex } from '@tandem/protocol';
import type { AssetVenue, BankVenue } from '../adapter.js';

function assetVenueLabel(v: AssetVenue): string {
  return `chain ${v.chainId} escrow 0x${toHex(v.escrow)}`;
}

/** Null when the terms name this chain and escrow; else what is wrong. */
export function assetVenueProblem(terms: Terms, venue: AssetVenue): string | null {
  const a = terms.asset;
  return a.chainId === venue.chainId && equalBytes(a.escrow, venue.escrow) ? null : `terms name ${assetVenueLabel(a)}, this leg is ${assetVenueLabel(venue)}`;
}

/** Null when the terms name this bank and ledger; else what is wrong. */
export function bankVenueProblem(terms: Terms, venue: BankVenue): string | null {
  const p = terms.payment;
  return p.bankId === venue.bankId && p.ledger === venue.ledger ? null : `terms name ledger ${p.bankId}/${p.ledger}, this leg is ${venue.bankId}/${venue.ledger}`;
}
