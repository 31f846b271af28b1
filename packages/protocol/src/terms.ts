import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, EncodeError, Reader, Writer, concatBytes, equalBytes, utf8 } from './bytes.js';

/** The asset leg: tokens held in an escrow contract on a chain. Amount in integer token units. */
export interface AssetLegTerms {
  readonly chainId: bigint; // u64
  readonly escrow: Uint8Array; // 20-byte contract address
  readonly token: string;
  readonly seller: string;
  readonly buyer: string;
  readonly amount: bigint; // u256, > 0
}

/** The payment leg: a hold on a deposit in a bank ledger. Amount in integer minor units. */
export interface PaymentLegTerms {
  readonly bankId: string;
  readonly ledger: string;
  readonly payer: string;
  readonly payee: string;
  readonly currency: string;
  readonly amount: bigint; // u256, > 0
}

/**
 * A settlement's terms (docs/wire-format.md, Terms). Times are u64 milliseconds: Unix time in a real cluster,
 * virtual time (from 0) in the simulator. The settlement id is the digest of `encodeTerms`.
 */
export interface Terms {
  readonly nonce: string;
  readonly asset: AssetLegTerms;
  readonly payment: PaymentLegTerms;
  readonly deadlineMs: number;
  readonly reportWindowMs: number;
  readonly marginMs: number;
}

export type LegName = 'asset' | 'payment';
export const LEG_NAMES: readonly LegName[] = ['asset', 'payment'];

const TERMS_VERSION = 1;
const TERMS_DOMAIN = utf8('tandem/v1/terms');

/** Canonical encoding of terms. Layout in docs/wire-format.md. */
export function encodeTerms(t: Terms): Uint8Array {
  if (t.asset.amount <= 0n || t.payment.amount <= 0n) throw new EncodeError('leg amounts must be positive');
  // validUntil + margin must stay a safe integer: checked here so no derived time overflows.
  if (!Number.isSafeInteger(t.deadlineMs + t.reportWindowMs + t.marginMs)) throw new EncodeError('times overflow');
  const w = new Writer().u8(TERMS_VERSION).string(t.nonce);
  w.u64n(t.asset.chainId).fixed(t.asset.escrow, 20).string(t.asset.token).string(t.asset.seller).string(t.asset.buyer).u256(t.asset.amount);
  w.string(t.payment.bankId).string(t.payment.ledger).string(t.payment.payer).string(t.payment.payee).string(t.payment.currency).u256(t.payment.amount);
  w.u64(t.deadlineMs).u64(t.reportWindowMs).u64(t.marginMs);
  return w.finish();
}

export function readTerms(r: Reader): Terms {
  const at = r.position;
  const version = r.u8('terms.version');
  if (version !== TERMS_VERSION) throw new DecodeError('tag', 'terms.version', at, `unknown version ${version}`);
  const nonce = r.string('terms.nonce');
  const asset: AssetLegTerms = {
    chainId: r.u64n('terms.asset.chainId'),
    escrow: r.fixed(20, 'terms.asset.escrow'),
    token: r.string('terms.asset.token'),
    seller: r.string('terms.asset.seller'),
    buyer: r.string('terms.asset.buyer'),
    amount: r.u256('terms.asset.amount'),
  };
  const payment: PaymentLegTerms = {
    bankId: r.string('terms.payment.bankId'),
    ledger: r.string('terms.payment.ledger'),
    payer: r.string('terms.payment.payer'),
    payee: r.string('terms.payment.payee'),
    currency: r.string('terms.payment.currency'),
    amount: r.u256('terms.payment.amount'),
  };
  const deadlineMs = r.u64('terms.deadlineMs');
  const reportWindowMs = r.u64('terms.reportWindowMs');
  const marginMs = r.u64('terms.marginMs');
  if (asset.amount === 0n) throw new DecodeError('range', 'terms.asset.amount', at, 'must be positive');
  if (payment.amount === 0n) throw new DecodeError('range', 'terms.payment.amount', at, 'must be positive');
  if (!Number.isSafeInteger(deadlineMs + reportWindowMs + marginMs)) throw new DecodeError('range', 'terms', at, 'times overflow');
  return { nonce, asset, payment, deadlineMs, reportWindowMs, marginMs };
}

export function decodeTerms(b: Uint8Array): Terms {
  const r = new Reader(b);
  const t = readTerms(r);
  r.end('terms');
  return t;
}

/**
 * Ids already computed, by terms object: one settlement's terms are hashed by intake, the pool,
 * each leg and every proposal naming it. Terms are values: the first hash freezes the object and
 * its legs (a later field assignment throws) and keeps a copy of the escrow address, the one
 * mutable part, which must still match for the id to be reused. Callers get a copy of the id.
 */
const settlementIds = new WeakMap<Terms, { readonly escrow: Uint8Array; readonly id: Uint8Array }>();

/** The settlement id: SHA-256 over a domain tag and the canonical terms. 32 bytes. */
export function settlementId(t: Terms): Uint8Array {
  const known = settlementIds.get(t);
  if (known !== undefined && equalBytes(known.escrow, t.asset.escrow)) return known.id.slice();
  const id = sha256(concatBytes(TERMS_DOMAIN, encodeTerms(t)));
  Object.freeze(t.asset);
  Object.freeze(t.payment);
  settlementIds.set(Object.freeze(t), { escrow: t.asset.escrow.slice(), id });
  return id.slice();
}

/** validUntil = deadline + reportWindow: the last moment (exclusive) a leg applies a COMMIT. */
export function validUntilMs(t: Terms): number {
  return t.deadlineMs + t.reportWindowMs;
}

/** A party may reclaim at or after validUntil + margin, if no report was applied. */
export function reclaimAtMs(t: Terms): number {
  return validUntilMs(t) + t.marginMs;
}
