/**
 * What the conformance suites (./conformance.ts, ./conformance-v2.ts) share: the harness an
 * adapter's spec builds, and a per-test session that makes terms, authorizations and reports and
 * checks conservation.
 */
import { expect } from 'vitest';
import {
  type Authorization,
  type Decision,
  type LegName,
  type LegView,
  type Report,
  type Terms,
  settlementId,
  validUntilMs,
} from '@tandem/protocol';
import type { AssetVenue, BankVenue, LegAdapter, LegAnchor } from './adapter.js';
import { type Dealer, CONFORMANCE_PARTIES, authorize, createLegFixture, signReport } from './fixture.js';

/** The venue terms must name for this leg. */
export type HarnessVenue = ({ readonly leg: 'asset' } & AssetVenue) | ({ readonly leg: 'payment' } & BankVenue);

export interface LegHarness {
  readonly adapter: LegAdapter;
  readonly leg: LegName;
  readonly venue: HarnessVenue;
  /** The token (asset) or currency (payment) the suite funds and settles. */
  readonly unit: string;
  /** The leg clock when the harness was made; the suite only moves it forward from here. */
  readonly startMs: number;
  /** The anchor the leg was built with: groupPublicKey must be groupPublicKey(dealer.commitments). */
  readonly anchor: LegAnchor;
  /** A 3-of-4 dealer whose shares sign the suite's reports. */
  readonly dealer: Dealer;
  /** Party name → Ed25519 secret key, for CONFORMANCE_PARTIES; the leg knows their public keys. */
  readonly partyKeys: ReadonlyMap<string, Uint8Array>;
  /** Moves the leg's clock to `ms` (never backwards). */
  setNowMs(ms: number): Promise<void>;
  fund(account: string, unit: string, amount: bigint): Promise<void>;
  /** Spendable balance (for a bank: available, holds excluded). */
  balance(account: string, unit: string): Promise<bigint>;
  /** The leg's own conservation check, when it has one. */
  conservationProblem?(): Promise<string | null>;
  close(): Promise<void>;
}

export const FUNDS = 1000n;
export const AMOUNT = 100n;
const DEADLINE_AFTER_START_MS = 10_000;
const REPORT_WINDOW_MS = 30_000;
const MARGIN_MS = 10_000;
/** Whole seconds, so legs with second-resolution clocks (EVM blocks) see the same ordering. */
export const BEFORE_MS = 1_000;

let otherDealerCache: Dealer | null = null;
/** Another dealer's 3-of-4 shares: a signer set the leg must not accept. */
export function otherDealer(): Dealer {
  otherDealerCache ??= createLegFixture('tandem/legs/conformance/other-dealer').dealer;
  return otherDealerCache;
}

interface TermsOptions {
  readonly amount?: bigint;
  readonly from?: string;
  readonly to?: string;
  readonly venue?: HarnessVenue;
}

interface ReportOptions {
  readonly round?: number;
  readonly validUntilMs?: number;
  readonly networkId?: Uint8Array;
  readonly configDigest?: Uint8Array;
  readonly dealer?: Dealer;
  readonly indices?: readonly number[];
}

/** Per-test state: the harness and every settlement the test made (for the conservation check). */
export class Session {
  readonly terms: Terms[] = [];
  funded = 0n;

  constructor(readonly h: LegHarness) {}

  makeTerms(nonce: string, o: TermsOptions = {}): Terms {
    const venue = o.venue ?? this.h.venue;
    const from = o.from ?? 'alice';
    const to = o.to ?? 'bob';
    const amount = o.amount ?? AMOUNT;
    const fillerAsset = { chainId: 1n, escrow: new Uint8Array(20).fill(0xee), token: 'FILLER', seller: to, buyer: from, amount: 1n };
    const fillerPayment = { bankId: 'filler-bank', ledger: 'filler', payer: to, payee: from, currency: 'FILLER', amount: 1n };
    const t: Terms = {
      nonce: `${nonce}@${this.h.startMs}`,
      asset: venue.leg === 'asset' ? { chainId: venue.chainId, escrow: venue.escrow, token: this.h.unit, seller: from, buyer: to, amount } : fillerAsset,
      payment: venue.leg === 'payment' ? { bankId: venue.bankId, ledger: venue.ledger, payer: from, payee: to, currency: this.h.unit, amount } : fillerPayment,
      deadlineMs: this.h.startMs + DEADLINE_AFTER_START_MS,
      reportWindowMs: REPORT_WINDOW_MS,
      marginMs: MARGIN_MS,
    };
    this.terms.push(t);
    return t;
  }

  auth(terms: Terms, party = 'alice', signer = party): Authorization {
    const key = this.h.partyKeys.get(signer);
    if (key === undefined) throw new Error(`harness has no key for ${signer}`);
    return authorize(party, key, this.h.anchor.networkId, settlementId(terms));
  }

  report(terms: Terms, decision: Decision, o: ReportOptions = {}): Report {
    const body = {
      networkId: o.networkId ?? this.h.anchor.networkId,
      configDigest: o.configDigest ?? this.h.anchor.configDigest,
      settlementId: settlementId(terms),
      decision,
      round: o.round ?? 0,
      validUntilMs: o.validUntilMs ?? validUntilMs(terms),
    };
    return signReport(o.dealer ?? this.h.dealer, body, o.indices);
  }

  async fund(account: string, amount: bigint): Promise<void> {
    await this.h.fund(account, this.h.unit, amount);
    this.funded += amount;
  }

  async view(terms: Terms): Promise<LegView> {
    return this.h.adapter.observe(settlementId(terms));
  }

  async balance(account: string): Promise<bigint> {
    return this.h.balance(account, this.h.unit);
  }

  async lockOf(terms: Terms): Promise<void> {
    expect(await this.h.adapter.prepare(terms, this.auth(terms))).toEqual({ kind: 'locked' });
  }

  async expectState(terms: Terms, state: LegView['state']): Promise<LegView> {
    const v = await this.view(terms);
    expect(v.state).toBe(state);
    return v;
  }

  /** Balances of every party plus value still locked equal everything funded. */
  async expectConserved(): Promise<void> {
    let sum = 0n;
    for (const p of CONFORMANCE_PARTIES) {
      const b = await this.balance(p);
      expect(b >= 0n, `${p} has a negative balance ${b}`).toBe(true);
      sum += b;
    }
    for (const t of this.terms) {
      const v = await this.view(t);
      if (v.state === 'locked' && v.lock !== null) sum += v.lock.amount;
    }
    expect(sum).toBe(this.funded);
    if (this.h.conservationProblem !== undefined) expect(await this.h.conservationProblem()).toBeNull();
  }
}

