/** Shared pieces of the leg-bank tests: keys, fresh ledgers in their own schema, conformance harnesses. */
import { afterEach, expect } from 'vitest';
import { type Terms, settlementId, validUntilMs } from '@tandem/protocol';
import type { BankVenue, LegAdapter, LegAnchor } from '@tandem/legs';
import { type LegHarness, authorize, createLegFixture, signReport } from '@tandem/legs/conformance';
import { type PgBankLedgerOptions, type Sql, PgBankLedger } from '../src/index.js';

export const fx = createLegFixture();
export const BANK_VENUE: BankVenue = { bankId: 'bank-a', ledger: 'deposits' };
export const START_MS = 1_000_000;

let schemas = 0;
/** A schema name no other test (or concurrent test process) uses. */
export function freshSchemaName(label: string): string {
  return `tandem_test_${label}_${process.pid}_${++schemas}`;
}

export interface TestLedger {
  readonly ledger: PgBankLedger;
  readonly clock: { nowMs: number };
  /** Closes the ledger and drops its schema (the shared connection stays open). */
  dispose(): Promise<void>;
}

/** A ledger with its own schema on a shared connection, and a settable clock. */
export async function freshLedger(sql: Sql, label: string, extra: Partial<PgBankLedgerOptions> = {}): Promise<TestLedger> {
  const schema = freshSchemaName(label);
  // A leftover from a crashed run with a reused pid would otherwise hold old rows.
  await sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const clock = { nowMs: START_MS };
  const ledger = await PgBankLedger.open({ anchor: fx.anchor, parties: fx.partyPublicKeys, venue: BANK_VENUE, nowMs: () => clock.nowMs, sql, schema, ...extra });
  return {
    ledger,
    clock,
    dispose: async () => {
      await ledger.close();
      await sql.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** The fixture's anchor for a protocol version. */
export function anchorFor(protocol: 1 | 2): LegAnchor {
  return protocol === 2 ? fx.anchorV2 : fx.anchor;
}

/**
 * Fresh ledgers for one describe block (call it inside the block): after each test every ledger
 * made is checked for conservation and disposed, also after a failure (a real server keeps schemas).
 */
export function ledgersPerTest(getSql: () => Sql, label: string, defaults: Partial<PgBankLedgerOptions> = {}): (extra?: Partial<PgBankLedgerOptions>) => Promise<TestLedger> {
  const open: TestLedger[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) {
      try {
        expect(await l.ledger.conservationProblem()).toBeNull();
      } finally {
        await l.dispose();
      }
    }
  });
  return async (extra = {}) => {
    const l = await freshLedger(getSql(), label, { ...defaults, ...extra });
    open.push(l);
    return l;
  };
}

/** The conformance harness around any payment adapter whose clock, funding and balances the test controls. */
export function paymentHarness(
  adapter: LegAdapter,
  clock: { nowMs: number },
  io: {
    fund(account: string, currency: string, amount: bigint): Promise<unknown>;
    balance(account: string, currency: string): Promise<bigint>;
    conservationProblem?(): Promise<string | null>;
    close(): Promise<void>;
  },
  anchor: LegAnchor = fx.anchor,
): LegHarness {
  return {
    adapter,
    leg: 'payment',
    venue: { leg: 'payment', ...BANK_VENUE },
    unit: 'USD',
    startMs: clock.nowMs,
    anchor,
    dealer: fx.dealer,
    partyKeys: fx.partySecretKeys,
    setNowMs: async (ms: number) => {
      if (ms < clock.nowMs) throw new Error('the suite moved the clock backwards');
      clock.nowMs = ms;
    },
    fund: async (account, unit, amount) => {
      await io.fund(account, unit, amount);
    },
    balance: (account, unit) => io.balance(account, unit),
    ...(io.conservationProblem === undefined ? {} : { conservationProblem: io.conservationProblem }),
    close: io.close,
  };
}

/** The conformance harness of a fresh ledger on `sql` (its own schema), anchored to `protocol`. */
export async function ledgerHarness(sql: Sql, label: string, protocol: 1 | 2): Promise<LegHarness> {
  const { ledger, clock, dispose } = await freshLedger(sql, label, { anchor: anchorFor(protocol) });
  const io = { fund: ledger.fund.bind(ledger), balance: ledger.balance.bind(ledger), conservationProblem: () => ledger.conservationProblem(), close: dispose };
  return paymentHarness(ledger, clock, io, anchorFor(protocol));
}

/** Payment terms on BANK_VENUE: `payer` pays `amount` USD to `payee`. */
export function bankTerms(nonce: string, o: { payer?: string; payee?: string; amount?: bigint } = {}): Terms {
  return {
    nonce,
    asset: { chainId: 1n, escrow: new Uint8Array(20).fill(0xee), token: 'OUSG', seller: o.payee ?? 'bob', buyer: o.payer ?? 'alice', amount: 1n },
    payment: { ...BANK_VENUE, payer: o.payer ?? 'alice', payee: o.payee ?? 'bob', currency: 'USD', amount: o.amount ?? 100n },
    deadlineMs: START_MS + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

export function payerAuth(terms: Terms, party = terms.payment.payer) {
  return authorize(party, fx.partySecretKeys.get(party)!, fx.anchor.networkId, settlementId(terms));
}

export function bankReport(terms: Terms, decision: 'COMMIT' | 'ABORT', round = 0) {
  return signReport(fx.dealer, {
    networkId: fx.anchor.networkId,
    configDigest: fx.anchor.configDigest,
    settlementId: settlementId(terms),
    decision,
    round,
    validUntilMs: validUntilMs(terms),
  });
}
