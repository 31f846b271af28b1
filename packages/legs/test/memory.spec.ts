import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type Decision,
  type LegName,
  type Report,
  type Terms,
  authorizationMessage,
  equalBytes,
  expectedLock,
  reportDigest,
  settlementId,
  toHex,
  validUntilMs,
  reclaimAtMs,
  SIGN_DOMAIN,
} from '@tandem/protocol';
import { TANDEM_BLS_DST, blsVerify, identityVerify } from '@tandem/crypto';
import {
  type AssetVenue,
  type BankVenue,
  type LegAnchor,
  type MemoryLegOptions,
  type SignatureCheck,
  MemoryAssetChain,
  MemoryBankLedger,
  TransientLegError,
  conservationProblemOf,
} from '@tandem/legs';
import { type LegHarness, authorize, createLegFixture, legConformance, signReport } from '@tandem/legs/conformance';

const fx = createLegFixture();
const otherFx = createLegFixture('memory-spec/other-dealer');
const ASSET_VENUE: AssetVenue = { chainId: 31337n, escrow: new Uint8Array(20).fill(0xab) };
const BANK_VENUE: BankVenue = { bankId: 'bank-a', ledger: 'deposits' };
const START_MS = 1_000_000;

type AnyMemoryLeg = MemoryAssetChain | MemoryBankLedger;

interface LegKind {
  readonly leg: LegName;
  readonly unit: string;
  make(o: Omit<MemoryLegOptions<unknown>, 'venue'>): AnyMemoryLeg;
}

const KINDS: readonly LegKind[] = [
  { leg: 'asset', unit: 'OUSG', make: (o) => new MemoryAssetChain({ ...o, venue: ASSET_VENUE }) },
  { leg: 'payment', unit: 'USD', make: (o) => new MemoryBankLedger({ ...o, venue: BANK_VENUE }) },
];

/** A leg with a settable virtual clock. */
function makeLeg(kind: LegKind, extra: Partial<Omit<MemoryLegOptions<unknown>, 'venue' | 'nowMs'>> = {}, startMs = START_MS) {
  const clock = { nowMs: startMs };
  const leg = kind.make({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => clock.nowMs, ...extra });
  return { leg, clock };
}

function harness(kind: LegKind, protocol: 1 | 2 = 1): Promise<LegHarness> {
  const anchor = protocol === 2 ? fx.anchorV2 : fx.anchor;
  const { leg, clock } = makeLeg(kind, { anchor });
  const venue = kind.leg === 'asset' ? ({ leg: 'asset', ...ASSET_VENUE } as const) : ({ leg: 'payment', ...BANK_VENUE } as const);
  return Promise.resolve({
    adapter: leg,
    leg: kind.leg,
    venue,
    unit: kind.unit,
    startMs: START_MS,
    anchor,
    dealer: fx.dealer,
    partyKeys: fx.partySecretKeys,
    setNowMs: async (ms: number) => {
      if (ms < clock.nowMs) throw new Error('the suite moved the clock backwards');
      clock.nowMs = ms;
    },
    fund: async (account: string, unit: string, amount: bigint) => leg.mint(account, unit, amount),
    balance: async (account: string, unit: string) => leg.balance(account, unit),
    conservationProblem: async () => leg.conservationProblem(),
    close: async () => {},
  });
}

legConformance('MemoryAssetChain', (protocol) => harness(KINDS[0]!, protocol), { v2: true });
legConformance('MemoryBankLedger', (protocol) => harness(KINDS[1]!, protocol), { v2: true });

/** Terms whose asset leg is on ASSET_VENUE and payment leg on BANK_VENUE, so one report serves both legs. */
function dvpTerms(nonce: string, o: { seller?: string; buyer?: string; payer?: string; payee?: string; amount?: bigint; deadlineMs?: number } = {}): Terms {
  const seller = o.seller ?? 'alice';
  const buyer = o.buyer ?? 'bob';
  const amount = o.amount ?? 100n;
  return {
    nonce,
    asset: { ...ASSET_VENUE, token: 'OUSG', seller, buyer, amount },
    payment: { ...BANK_VENUE, payer: o.payer ?? buyer, payee: o.payee ?? seller, currency: 'USD', amount },
    deadlineMs: o.deadlineMs ?? START_MS + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

function report(terms: Terms, decision: Decision, round = 0, dealer = fx.dealer): Report {
  const body = { networkId: fx.anchor.networkId, configDigest: fx.anchor.configDigest, settlementId: settlementId(terms), decision, round, validUntilMs: validUntilMs(terms) };
  return signReport(dealer, body);
}

/** The party whose value the given leg locks for these terms. */
function payer(kind: LegKind, t: Terms): string {
  return kind.leg === 'asset' ? t.asset.seller : t.payment.payer;
}

function auth(kind: LegKind, t: Terms) {
  const party = payer(kind, t);
  return authorize(party, fx.partySecretKeys.get(party)!, fx.anchor.networkId, settlementId(t));
}

/** (pk, msg, sig) → bool, cached: as the simulator shares verifications across simulated nodes. */
function memoized(check: SignatureCheck): SignatureCheck & { calls: number } {
  const cache = new Map<string, boolean>();
  const f = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
    const key = `${toHex(pk)}/${toHex(msg)}/${toHex(sig)}`;
    let hit = cache.get(key);
    if (hit === undefined) {
      f.calls++;
      hit = check(pk, msg, sig);
      cache.set(key, hit);
    }
    return hit;
  };
  f.calls = 0;
  return f;
}

const verifyReportMemo = memoized((pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST));
const verifyAuthMemo = memoized((pk, msg, sig) => identityVerify(SIGN_DOMAIN.authorization, pk, msg, sig));

// Reports shared by the tests below (signing is ~2 ms per partial: sign once per file).
const T_MAIN = dvpTerms('main');
const COMMIT_MAIN = report(T_MAIN, 'COMMIT');
const ABORT_MAIN = report(T_MAIN, 'ABORT');

for (const kind of KINDS) {
  const memo = { verifyReport: verifyReportMemo, verifyAuthorization: verifyAuthMemo };
  const from = payer(kind, T_MAIN);
  const to = kind.leg === 'asset' ? T_MAIN.asset.buyer : T_MAIN.payment.payee;

  describe(`${kind.leg} memory leg`, () => {
    it('applies a COMMIT 1 ms before validUntil and refuses it at validUntil (millisecond resolution)', async () => {
      for (const [atMs, want] of [[validUntilMs(T_MAIN) - 1, 'applied'], [validUntilMs(T_MAIN), 'refused']] as const) {
        const { leg, clock } = makeLeg(kind, memo);
        leg.mint(from, kind.unit, 100n);
        expect((await leg.prepare(T_MAIN, auth(kind, T_MAIN))).kind).toBe('locked');
        clock.nowMs = atMs;
        expect((await leg.applyReport(COMMIT_MAIN)).kind).toBe(want);
      }
    });

    it('refuses a reclaim 1 ms before the reclaim time and allows it at the reclaim time', async () => {
      const { leg, clock } = makeLeg(kind, memo);
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      clock.nowMs = reclaimAtMs(T_MAIN) - 1;
      expect((await leg.reclaim(settlementId(T_MAIN))).kind).toBe('refused');
      expect(leg.balance(from, kind.unit)).toBe(0n);
      clock.nowMs = reclaimAtMs(T_MAIN);
      expect(await leg.reclaim(settlementId(T_MAIN))).toEqual({ kind: 'reclaimed' });
      expect(leg.balance(from, kind.unit)).toBe(100n);
    });

    it('completes every call synchronously: the effect is visible before the promise is awaited', async () => {
      const { leg } = makeLeg(kind, memo);
      leg.mint(from, kind.unit, 100n);
      const pending = leg.prepare(T_MAIN, auth(kind, T_MAIN));
      expect(leg.balance(from, kind.unit)).toBe(0n);
      const applying = leg.applyReport(COMMIT_MAIN);
      expect(leg.balance(to, kind.unit)).toBe(100n);
      expect(await pending).toEqual({ kind: 'locked' });
      expect(await applying).toEqual({ kind: 'applied' });
    });

    it('rejectPrepare: durable policy rejection, then closed', async () => {
      const target = toHex(settlementId(T_MAIN));
      const asked: string[] = [];
      const { leg } = makeLeg(kind, { ...memo, faults: { rejectPrepare: (id) => (asked.push(id), id === target) } });
      leg.mint(from, kind.unit, 1000n);
      const out = await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      expect(out.kind).toBe('rejected');
      expect((await leg.observe(settlementId(T_MAIN))).state).toBe('rejected');
      expect((await leg.prepare(T_MAIN, auth(kind, T_MAIN))).kind).toBe('closed');
      // Another settlement is unaffected.
      const other = dvpTerms('other');
      expect((await leg.prepare(other, auth(kind, other))).kind).toBe('locked');
      expect(asked).toEqual([target, toHex(settlementId(other))]);
      // An unauthorized prepare is refused before policy is even asked.
      const third = dvpTerms('third');
      expect((await leg.prepare(third, null)).kind).toBe('unauthorized');
      expect(asked).toHaveLength(2);
      expect(leg.conservationProblem()).toBeNull();
    });

    it('failApply: throws TransientLegError and changes nothing until the fault clears', async () => {
      let failing = true;
      const { leg } = makeLeg(kind, { ...memo, faults: { failApply: () => failing } });
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      const before = { view: await leg.observe(settlementId(T_MAIN)), events: leg.events().length, balances: leg.balances() };
      for (let i = 0; i < 3; i++) await expect(leg.applyReport(COMMIT_MAIN)).rejects.toBeInstanceOf(TransientLegError);
      expect(await leg.observe(settlementId(T_MAIN))).toEqual(before.view);
      expect(leg.events()).toHaveLength(before.events);
      expect(leg.balances()).toEqual(before.balances);
      failing = false;
      expect(await leg.applyReport(COMMIT_MAIN)).toEqual({ kind: 'applied' });
      expect(leg.balance(to, kind.unit)).toBe(100n);
    });

    it('unavailable: every adapter call throws TransientLegError; ledger reads still work', async () => {
      let down = false;
      const { leg, clock } = makeLeg(kind, { ...memo, faults: { unavailable: () => down } });
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      down = true;
      const t2 = dvpTerms('while-down');
      clock.nowMs = reclaimAtMs(T_MAIN);
      await expect(leg.prepare(t2, auth(kind, t2))).rejects.toBeInstanceOf(TransientLegError);
      await expect(leg.observe(settlementId(T_MAIN))).rejects.toBeInstanceOf(TransientLegError);
      await expect(leg.applyReport(ABORT_MAIN)).rejects.toBeInstanceOf(TransientLegError);
      await expect(leg.reclaim(settlementId(T_MAIN))).rejects.toBeInstanceOf(TransientLegError);
      expect(leg.balance(from, kind.unit)).toBe(0n);
      expect(leg.lockedTotal(kind.unit)).toBe(100n);
      down = false;
      expect((await leg.observe(settlementId(T_MAIN))).state).toBe('locked');
      expect((await leg.observe(settlementId(t2))).state).toBe('none');
      expect(await leg.reclaim(settlementId(T_MAIN))).toEqual({ kind: 'reclaimed' });
      expect(leg.balance(from, kind.unit)).toBe(100n);
    });

    it('verifies reports under the key stored in the lock and authorizations over the anchor network id and the settlement id', async () => {
      const reportCalls: { pk: Uint8Array; msg: Uint8Array }[] = [];
      const authCalls: { pk: Uint8Array; msg: Uint8Array }[] = [];
      const { leg } = makeLeg(kind, {
        verifyReport: (pk, msg) => (reportCalls.push({ pk, msg }), true),
        verifyAuthorization: (pk, msg) => (authCalls.push({ pk, msg }), true),
      });
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, { party: from, signature: new Uint8Array(64) });
      expect(authCalls).toHaveLength(1);
      expect(equalBytes(authCalls[0]!.pk, fx.partyPublicKeys.get(from)!)).toBe(true);
      expect(equalBytes(authCalls[0]!.msg, authorizationMessage(fx.anchor.networkId, settlementId(T_MAIN)))).toBe(true);
      expect(await leg.applyReport(COMMIT_MAIN)).toEqual({ kind: 'applied' });
      expect(reportCalls).toHaveLength(1);
      expect(equalBytes(reportCalls[0]!.pk, fx.anchor.groupPublicKey)).toBe(true);
      expect(equalBytes(reportCalls[0]!.msg, reportDigest(COMMIT_MAIN))).toBe(true);
    });

    it('a throwing verifier counts as a failed verification', async () => {
      const { leg } = makeLeg(kind, {
        verifyReport: () => {
          throw new Error('bad point');
        },
        verifyAuthorization: () => {
          throw new Error('bad key');
        },
      });
      leg.mint(from, kind.unit, 100n);
      expect((await leg.prepare(T_MAIN, auth(kind, T_MAIN))).kind).toBe('unauthorized');
      expect((await leg.applyReport(ABORT_MAIN)).kind).toBe('refused');
      expect((await leg.observe(settlementId(T_MAIN))).state).toBe('none');
    });

    it('keeps an append-only event log with the leg-specific names and heights', async () => {
      const { leg, clock } = makeLeg(kind, memo);
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      clock.nowMs += 5;
      await leg.applyReport(COMMIT_MAIN);
      const tRejected = dvpTerms('too-big', { amount: 1000n });
      await leg.prepare(tRejected, auth(kind, tRejected));
      await leg.applyReport(report(tRejected, 'ABORT'));
      const tAborted = dvpTerms('aborted-first');
      await leg.applyReport(report(tAborted, 'ABORT'));
      const names = kind.leg === 'asset' ? ['lock', 'release'] : ['hold', 'post'];
      expect(leg.events().map((e) => e.kind)).toEqual(['mint', ...names, 'reject', 'abort-recorded', 'abort-closed']);
      expect(leg.events().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(leg.height()).toBe(6n);
      const commit = leg.events()[2]!;
      expect(commit).toMatchObject({ atMs: START_MS + 5, account: from, counterparty: to, unit: kind.unit, amount: 100n, settlementIdHex: toHex(settlementId(T_MAIN)) });
      expect((await leg.observe(settlementId(T_MAIN))).finalityHeight).toBe(3n);
      // The ABORT recorded on the rejected id leaves its view (and height) as they were.
      expect((await leg.observe(settlementId(tRejected))).finalityHeight).toBe(4n);
      expect((await leg.observe(settlementId(tAborted))).finalityHeight).toBe(6n);
    });

    it('records refund / void and reclaim events', async () => {
      const { leg, clock } = makeLeg(kind, memo);
      leg.mint(from, kind.unit, 300n);
      const tReclaim = dvpTerms('to-reclaim');
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      await leg.prepare(tReclaim, auth(kind, tReclaim));
      await leg.applyReport(ABORT_MAIN);
      clock.nowMs = reclaimAtMs(tReclaim);
      await leg.reclaim(settlementId(tReclaim));
      const lockName = kind.leg === 'asset' ? 'lock' : 'hold';
      const abortName = kind.leg === 'asset' ? 'refund' : 'void';
      expect(leg.events().map((e) => e.kind)).toEqual(['mint', lockName, lockName, abortName, 'reclaim']);
      expect(leg.balance(from, kind.unit)).toBe(300n);
      expect(leg.conservationProblem()).toBeNull();
    });

    it('refuses to be built with a malformed anchor', () => {
      const bad: LegAnchor = { ...fx.anchor, groupPublicKey: new Uint8Array(48) };
      expect(() => kind.make({ anchor: bad, parties: fx.partyPublicKeys, nowMs: () => 0 })).toThrow(/groupPublicKey/);
    });

    it('copies the anchor: mutating the caller’s bytes later changes nothing', async () => {
      const anchor = { networkId: fx.anchor.networkId.slice(), configDigest: fx.anchor.configDigest.slice(), groupPublicKey: fx.anchor.groupPublicKey.slice() };
      const leg = kind.make({ anchor, parties: fx.partyPublicKeys, nowMs: () => START_MS, ...memo });
      leg.mint(from, kind.unit, 100n);
      await leg.prepare(T_MAIN, auth(kind, T_MAIN));
      anchor.groupPublicKey.set(otherFx.anchor.groupPublicKey);
      anchor.networkId.fill(0);
      expect(await leg.applyReport(COMMIT_MAIN)).toEqual({ kind: 'applied' });
    });
  });
}

describe('MemoryBankLedger holds', () => {
  it('count against the available balance, never overdraw, and post / void move the ledger balance', async () => {
    const { leg } = makeLeg(KINDS[1]!, { verifyReport: verifyReportMemo, verifyAuthorization: verifyAuthMemo });
    const bank = leg as MemoryBankLedger;
    bank.mint('bob', 'USD', 150n);
    const t1 = dvpTerms('hold-1', { amount: 100n });
    const t2 = dvpTerms('hold-2', { amount: 100n });
    const t3 = dvpTerms('hold-3', { amount: 50n });
    expect((await bank.prepare(t1, auth(KINDS[1]!, t1))).kind).toBe('locked');
    expect(bank.balance('bob', 'USD')).toBe(50n);
    expect(bank.ledgerBalance('bob', 'USD')).toBe(150n);
    expect(bank.held('bob', 'USD')).toBe(100n);
    // 100 more would overdraw the available 50 even though 150 is posted.
    expect((await bank.prepare(t2, auth(KINDS[1]!, t2))).kind).toBe('rejected');
    expect((await bank.prepare(t3, auth(KINDS[1]!, t3))).kind).toBe('locked');
    expect(bank.balance('bob', 'USD')).toBe(0n);
    expect(await bank.applyReport(report(t1, 'COMMIT'))).toEqual({ kind: 'applied' });
    expect(bank.ledgerBalance('bob', 'USD')).toBe(50n);
    expect(bank.ledgerBalance('alice', 'USD')).toBe(100n);
    expect(await bank.applyReport(report(t3, 'ABORT'))).toEqual({ kind: 'applied' });
    expect(bank.held('bob', 'USD')).toBe(0n);
    expect(bank.balance('bob', 'USD')).toBe(50n);
    expect(bank.balances()).toEqual([
      { account: 'alice', unit: 'USD', amount: 100n },
      { account: 'bob', unit: 'USD', amount: 50n },
    ]);
    expect(bank.conservationProblem()).toBeNull();
  });
});

describe('MemoryAssetChain escrow', () => {
  it('moves tokens into escrow on lock and out on release', async () => {
    const { leg } = makeLeg(KINDS[0]!, { verifyReport: verifyReportMemo, verifyAuthorization: verifyAuthMemo });
    const chain = leg as MemoryAssetChain;
    chain.mint('alice', 'OUSG', 100n);
    await chain.prepare(T_MAIN, auth(KINDS[0]!, T_MAIN));
    expect(chain.escrowed('OUSG')).toBe(100n);
    expect(chain.balance('alice', 'OUSG')).toBe(0n);
    await chain.applyReport(COMMIT_MAIN);
    expect(chain.escrowed('OUSG')).toBe(0n);
    expect(chain.balances()).toEqual([
      { account: 'alice', unit: 'OUSG', amount: 0n },
      { account: 'bob', unit: 'OUSG', amount: 100n },
    ]);
  });

  it('refuses an escrow address that is not 20 bytes', () => {
    expect(() => new MemoryAssetChain({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => 0, venue: { chainId: 1n, escrow: new Uint8Array(19) } })).toThrow(/20-byte/);
  });
});

describe('conservationProblemOf', () => {
  const ok = {
    minted: new Map([['USD', 100n]]),
    balances: [
      { account: 'a', unit: 'USD', amount: 30n },
      { account: 'b', unit: 'USD', amount: 20n },
    ],
    locked: new Map([['USD', 50n]]),
    lockedByRecords: new Map([['USD', 50n]]),
  };

  it('accepts balances plus locked value equal to what was minted', () => {
    expect(conservationProblemOf(ok)).toBeNull();
  });

  it('finds created or destroyed value', () => {
    expect(conservationProblemOf({ ...ok, minted: new Map([['USD', 101n]]) })).toMatch(/!= minted/);
    expect(conservationProblemOf({ ...ok, balances: [...ok.balances, { account: 'c', unit: 'EUR', amount: 1n }] })).toMatch(/EUR/);
  });

  it('finds a negative balance', () => {
    expect(conservationProblemOf({ ...ok, balances: [{ account: 'a', unit: 'USD', amount: -1n }] })).toMatch(/negative balance/);
  });

  it('finds locked value that no open lock accounts for', () => {
    expect(conservationProblemOf({ ...ok, lockedByRecords: new Map([['USD', 40n]]) })).toMatch(/open locks/);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random operation sequences against a reference model.

/** Settlements over both legs. Amounts and funds are chosen so some prepares lack funds. */
const P_TERMS: readonly Terms[] = [
  dvpTerms('p0', { seller: 'alice', buyer: 'bob', amount: 60n }),
  dvpTerms('p1', { seller: 'alice', buyer: 'bob', amount: 50n }),
  dvpTerms('p2', { seller: 'bob', buyer: 'alice', amount: 30n }),
  dvpTerms('p3', { seller: 'carol', buyer: 'bob', payer: 'carol', payee: 'alice', amount: 10n }), // carol holds nothing
];
const P_FUNDS: Readonly<Record<LegName, readonly [string, string, bigint][]>> = {
  asset: [['alice', 'OUSG', 100n], ['bob', 'OUSG', 30n]],
  payment: [['bob', 'USD', 100n], ['alice', 'USD', 30n]],
};
/** Per settlement: COMMIT r0, COMMIT r1, ABORT r0, ABORT r1, and the same two decisions from another dealer. */
const P_REPORTS: readonly (readonly { report: Report; decision: Decision; genuine: boolean }[])[] = P_TERMS.map((t) => [
  { report: report(t, 'COMMIT', 0), decision: 'COMMIT', genuine: true },
  { report: report(t, 'COMMIT', 1), decision: 'COMMIT', genuine: true },
  { report: report(t, 'ABORT', 0), decision: 'ABORT', genuine: true },
  { report: report(t, 'ABORT', 1), decision: 'ABORT', genuine: true },
  { report: report(t, 'COMMIT', 0, otherFx.dealer), decision: 'COMMIT', genuine: false },
  { report: report(t, 'ABORT', 0, otherFx.dealer), decision: 'ABORT', genuine: false },
]);

type Op =
  | { readonly op: 'prepare'; readonly s: number; readonly auth: 'good' | 'none' | 'wrong-key' | 'wrong-party' }
  | { readonly op: 'apply'; readonly s: number; readonly r: number }
  | { readonly op: 'reclaim'; readonly s: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'outage'; readonly down: boolean };

const sArb = fc.integer({ min: 0, max: P_TERMS.length - 1 });
const authArb = fc.constantFrom('good' as const, 'good' as const, 'none' as const, 'wrong-key' as const, 'wrong-party' as const);
// Genuine round-0 reports are drawn twice as often, so the same report often arrives twice (duplicates).
const reportArb = fc.constantFrom(0, 0, 1, 2, 2, 3, 4, 5);
// The leg is down a quarter of the times an outage op toggles it.
const downArb = fc.constantFrom(false, false, false, true);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('prepare' as const), s: sArb, auth: authArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('apply' as const), s: sArb, r: reportArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reclaim' as const), s: sArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 1, 999, 10_000, 20_000, 40_000) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('outage' as const), down: downArb }) },
);

type ModelState = 'none' | 'locked' | 'rejected' | 'committed' | 'aborted' | 'reclaimed';
interface ModelSettlement {
  state: ModelState;
  applied: number | null; // index into P_REPORTS[s]
}

/** The reference model: the leg rules (the package README's rules table) written as plainly as possible. */
class Model {
  readonly settlements: ModelSettlement[] = P_TERMS.map(() => ({ state: 'none', applied: null }));
  readonly balances = new Map<string, bigint>();
  nowMs = START_MS;
  down = false;

  constructor(readonly kind: LegKind) {
    for (const [account, , amount] of P_FUNDS[kind.leg]) this.balances.set(account, amount);
  }

  private lockOf(s: number) {
    return expectedLock(P_TERMS[s]!, this.kind.leg, settlementId(P_TERMS[s]!), fx.anchor.groupPublicKey);
  }

  private move(account: string, delta: bigint): void {
    this.balances.set(account, (this.balances.get(account) ?? 0n) + delta);
  }

  prepare(s: number, authKind: string): string {
    const m = this.settlements[s]!;
    if (m.state === 'locked') return 'locked';
    if (m.state !== 'none') return 'closed';
    if (authKind !== 'good') return 'unauthorized';
    const lock = this.lockOf(s);
    if ((this.balances.get(lock.from) ?? 0n) < lock.amount) {
      m.state = 'rejected';
      return 'rejected';
    }
    this.move(lock.from, -lock.amount);
    m.state = 'locked';
    return 'locked';
  }

  apply(s: number, r: number): string {
    const m = this.settlements[s]!;
    const rep = P_REPORTS[s]![r]!;
    if (m.applied !== null) return m.applied === r ? 'duplicate' : 'refused';
    if (!rep.genuine || m.state === 'reclaimed') return 'refused';
    if (m.state === 'none' || m.state === 'rejected') {
      if (rep.decision === 'COMMIT') return 'refused';
      if (m.state === 'none') m.state = 'aborted';
      m.applied = r;
      return 'applied';
    }
    const lock = this.lockOf(s);
    if (rep.decision === 'COMMIT') {
      if (this.nowMs >= lock.validUntilMs) return 'refused';
      this.move(lock.to, lock.amount);
      m.state = 'committed';
    } else {
      this.move(lock.from, lock.amount);
      m.state = 'aborted';
    }
    m.applied = r;
    return 'applied';
  }

  reclaim(s: number): string {
    const m = this.settlements[s]!;
    const lock = this.lockOf(s);
    if (m.state !== 'locked' || this.nowMs < lock.reclaimAtMs) return 'refused';
    this.move(lock.from, lock.amount);
    m.state = 'reclaimed';
    return 'reclaimed';
  }
}

async function runOp(leg: AnyMemoryLeg, kind: LegKind, op: Op, setNow: (ms: number) => void, setDown: (d: boolean) => void): Promise<string> {
  try {
    switch (op.op) {
      case 'prepare': {
        const t = P_TERMS[op.s]!;
        const party = payer(kind, t);
        const id = settlementId(t);
        // Someone other than the payer: signs as the payer (wrong key) or as itself (wrong party).
        const other = party === 'carol' ? 'bob' : 'carol';
        const a =
          op.auth === 'good' ? authorize(party, fx.partySecretKeys.get(party)!, fx.anchor.networkId, id)
          : op.auth === 'none' ? null
          : op.auth === 'wrong-key' ? authorize(party, fx.partySecretKeys.get(other)!, fx.anchor.networkId, id)
          : authorize(other, fx.partySecretKeys.get(other)!, fx.anchor.networkId, id);
        return (await leg.prepare(t, a)).kind;
      }
      case 'apply':
        return (await leg.applyReport(P_REPORTS[op.s]![op.r]!.report)).kind;
      case 'reclaim':
        return (await leg.reclaim(settlementId(P_TERMS[op.s]!))).kind;
      case 'advance':
        setNow(op.ms);
        return 'ok';
      case 'outage':
        setDown(op.down);
        return 'ok';
    }
  } catch (e) {
    if (e instanceof TransientLegError) return 'transient';
    throw e;
  }
}

function snapshot(leg: AnyMemoryLeg): string {
  return JSON.stringify(leg.balances(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}

describe('property: random operation sequences', () => {
  const propReportMemo = memoized((pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST));
  for (const kind of KINDS) {
    it(`${kind.leg}: match the model, conserve value, apply at most one report per id, move nothing on refusal`, async () => {
      const seen = new Map<string, number>(); // outcome → count over all runs: the generator must reach every outcome
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
          const model = new Model(kind);
          let down = false;
          const { leg, clock } = makeLeg(kind, { verifyReport: propReportMemo, verifyAuthorization: verifyAuthMemo, faults: { unavailable: () => down } });
          for (const [account, unit, amount] of P_FUNDS[kind.leg]) leg.mint(account, unit, amount);
          const appliedPerId = new Map<number, number>();
          for (const op of ops) {
            const before = snapshot(leg);
            const got = await runOp(leg, kind, op, (ms) => (clock.nowMs += ms), (d) => (down = d));
            let want: string;
            if (op.op === 'advance') {
              model.nowMs += op.ms;
              want = 'ok';
            } else if (op.op === 'outage') {
              model.down = op.down;
              want = 'ok';
            } else if (model.down) want = 'transient';
            else if (op.op === 'prepare') want = model.prepare(op.s, op.auth);
            else if (op.op === 'apply') want = model.apply(op.s, op.r);
            else want = model.reclaim(op.s);
            expect(got, JSON.stringify(op)).toBe(want);
            seen.set(`${op.op}:${got}`, (seen.get(`${op.op}:${got}`) ?? 0) + 1);
            expect(leg.conservationProblem()).toBeNull();
            if (['unauthorized', 'rejected', 'closed', 'refused', 'duplicate', 'transient', 'ok'].includes(got)) expect(snapshot(leg)).toBe(before);
            if (got === 'applied' && op.op === 'apply') appliedPerId.set(op.s, (appliedPerId.get(op.s) ?? 0) + 1);
            for (const n of appliedPerId.values()) expect(n).toBeLessThanOrEqual(1);
          }
          // The leg's balances and states equal the model's at the end.
          for (const [account, amount] of model.balances) expect(leg.balance(account, kind.unit)).toBe(amount);
          down = false;
          for (let s = 0; s < P_TERMS.length; s++) expect((await leg.observe(settlementId(P_TERMS[s]!))).state).toBe(model.settlements[s]!.state);
        }),
        { numRuns: 200 },
      );
      for (const outcome of ['prepare:locked', 'prepare:unauthorized', 'prepare:rejected', 'prepare:closed', 'apply:applied', 'apply:duplicate', 'apply:refused', 'reclaim:reclaimed', 'reclaim:refused']) {
        expect(seen.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
      }
      // Memoization kept BLS work bounded: at most one real verification per distinct report.
      expect(propReportMemo.calls).toBeLessThanOrEqual(P_REPORTS.flat().length);
    });
  }
});
