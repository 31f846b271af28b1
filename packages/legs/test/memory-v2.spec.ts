/**
 * The in-memory legs under protocol v2, beyond the conformance suite: the simulator's fault hooks
 * on the batch calls, and the event log a batch writes.
 */
import { describe, expect, it } from 'vitest';
import { type Entry, type Terms, compareIds, reportTreeMultiproof, reportTreeRoot, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { type BankVenue, MemoryBankLedger, TransientLegError } from '@tandem/legs';
import { authorize, createLegFixture, signReportV2 } from '@tandem/legs/fixture';

const fx = createLegFixture();
const VENUE: BankVenue = { bankId: 'bank-a', ledger: 'deposits' };
const START_MS = 1_000_000;

function terms(nonce: string): Terms {
  return {
    nonce,
    asset: { chainId: 1n, escrow: new Uint8Array(20).fill(0xee), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1n },
    payment: { ...VENUE, payer: 'bob', payee: 'alice', currency: 'USD', amount: 100n },
    deadlineMs: START_MS + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

/** A bank with bob funded and two settlements locked, the given faults, and a batch deciding both. */
async function setUp(faults: { failApply?: (idHex: string) => boolean; unavailable?: () => boolean } = {}) {
  const bank = new MemoryBankLedger({ anchor: fx.anchorV2, parties: fx.partyPublicKeys, nowMs: () => START_MS, venue: VENUE, faults });
  bank.mint('bob', 'USD', 1_000n);
  const ts = [terms('a'), terms('b')];
  for (const t of ts) expect(await bank.prepare(t, authorize('bob', fx.partySecretKeys.get('bob')!, fx.anchorV2.networkId, settlementId(t)))).toEqual({ kind: 'locked' });
  const entries: Entry[] = ts.map((t, k) => ({ settlementId: settlementId(t), decision: k === 0 ? 'COMMIT' : 'ABORT', validUntilMs: validUntilMs(t) }));
  entries.sort((x, y) => compareIds(x.settlementId, y.settlementId));
  const root = reportTreeRoot(entries);
  const report = signReportV2(fx.dealer, { networkId: fx.anchorV2.networkId, configDigest: fx.anchorV2.configDigest, height: 1, round: 0, timeMs: START_MS, liveFrom: 1, count: 2, root });
  return { bank, ts, entries, report, multiproof: reportTreeMultiproof(entries, [0, 1]) };
}

describe('MemoryLeg under protocol v2', () => {
  it('a batch with an entry whose apply fails transiently throws and changes nothing, root included', async () => {
    const failing = new Set<string>();
    const { bank, ts, entries, report, multiproof } = await setUp({ failApply: (idHex) => failing.has(idHex) });
    failing.add(toHex(settlementId(ts[1]!)));
    const before = bank.events().length;
    await expect(bank.applyBatch(report, entries, multiproof)).rejects.toBeInstanceOf(TransientLegError);
    expect(bank.events()).toHaveLength(before);
    for (const t of ts) expect((await bank.observe(settlementId(t))).state).toBe('locked');
    // The root was not stored on the way: entries under it are refused until it is.
    expect((await bank.applyEntries(report.root, [{ entry: entries[0]!, proof: { index: 0, count: 2, siblings: multiproof.siblings } }]))[0]!.kind).toBe('refused');
    failing.clear();
    expect(await bank.applyBatch(report, entries, multiproof)).toEqual([{ kind: 'applied' }, { kind: 'applied' }]);
  });

  it('every batch call throws TransientLegError while the leg is unavailable', async () => {
    let down = false;
    const { bank, entries, report, multiproof } = await setUp({ unavailable: () => down });
    down = true;
    await expect(bank.submitRoot(report)).rejects.toBeInstanceOf(TransientLegError);
    await expect(bank.applyEntries(report.root, [])).rejects.toBeInstanceOf(TransientLegError);
    await expect(bank.applyBatch(report, entries, multiproof)).rejects.toBeInstanceOf(TransientLegError);
    down = false;
    expect(await bank.submitRoot(report)).toEqual({ kind: 'stored' });
  });

  it('logs one event per applied entry, in batch order, with the moves of a v1 report', async () => {
    const { bank, entries, report, multiproof } = await setUp();
    const before = bank.events().length;
    await bank.applyBatch(report, entries, multiproof);
    const logged = bank.events().slice(before);
    expect(logged.map((e) => e.settlementIdHex)).toEqual(entries.map((e) => toHex(e.settlementId)));
    expect(logged.map((e) => e.kind)).toEqual(entries.map((e) => (e.decision === 'COMMIT' ? 'post' : 'void')));
    expect(bank.conservationProblem()).toBeNull();
  });
});
