/**
 * The lying-legs behaviours wrap a node's legs: observations lie, writes go through. On protocol v2
 * legs the three batch calls must go through too, and the wrapped leg must be a BatchLegAdapter
 * exactly when the real one is (the runtime asks isBatchLegAdapter).
 */
import { describe, expect, it } from 'vitest';
import { type Entry, reportTreeMultiproof, reportTreeProof, reportTreeRoot, toHex } from '@tandem/protocol';
import { type LegAdapter, MemoryAssetChain, MemoryBankLedger, isBatchLegAdapter } from '@tandem/legs';
import { createLegFixture, signReportV2 } from '@tandem/legs/fixture';
import { type ByzantinePorts, byzantine } from '../src/index.js';

const fx = createLegFixture('node/byzantine-legs');
const NOW_MS = 1_000_000;

function ports(asset: LegAdapter, payment: LegAdapter): ByzantinePorts {
  return {
    transport: { broadcast: () => {}, send: () => {} },
    legs: { asset, payment },
    storage: { put: () => {}, all: () => [], archive: () => {} },
    signer: { sign: () => new Uint8Array(64), partialSign: () => new Uint8Array(48) },
  };
}

const env = {
  self: 1,
  n: 4,
  networkId: fx.anchorV2.networkId,
  configDigest: fx.anchorV2.configDigest,
  groupPublicKey: fx.anchorV2.groupPublicKey,
  termsOf: () => undefined,
  randomBytes: (n: number) => new Uint8Array(n),
  active: () => true,
};

describe('lying legs on protocol v2 legs', () => {
  it('forward submitRoot, applyEntries and applyBatch to the real leg', async () => {
    const options = { anchor: fx.anchorV2, parties: fx.partyPublicKeys, nowMs: () => NOW_MS };
    const asset = new MemoryAssetChain({ ...options, venue: { chainId: 1n, escrow: new Uint8Array(20) } });
    const payment = new MemoryBankLedger({ ...options, venue: { bankId: 'b', ledger: 'l' } });
    const entries: Entry[] = [0, 1].map((k) => ({ settlementId: new Uint8Array(32).fill(k + 1), decision: 'ABORT', validUntilMs: NOW_MS + 60_000 }));
    const report = signReportV2(fx.dealer, { networkId: fx.anchorV2.networkId, configDigest: fx.anchorV2.configDigest, height: 1, round: 0, timeMs: NOW_MS, liveFrom: 1, count: 2, root: reportTreeRoot(entries) });
    for (const behaviour of ['lie-locked', 'lie-rejected'] as const) {
      const { legs } = byzantine(behaviour, ports(asset, payment), env);
      for (const leg of [legs.asset, legs.payment]) {
        if (!isBatchLegAdapter(leg)) throw new Error(`${behaviour}: the wrapped ${leg.leg} leg lost the batch calls`);
        if (behaviour === 'lie-locked') {
          expect(await leg.submitRoot(report)).toEqual({ kind: 'stored' });
          expect(await leg.applyEntries(report.root, [{ entry: entries[0]!, proof: reportTreeProof(entries, 0) }])).toEqual([{ kind: 'applied' }]);
          expect(await leg.applyBatch(report, entries, reportTreeMultiproof(entries, [0, 1]))).toEqual([{ kind: 'duplicate' }, { kind: 'applied' }]);
        } else {
          expect(await leg.submitRoot(report)).toEqual({ kind: 'duplicate' });
        }
      }
    }
    // The writes reached the real legs.
    expect((await payment.observe(entries[1]!.settlementId)).state).toBe('aborted');
    expect(asset.events().map((e) => [e.kind, e.settlementIdHex])).toEqual(entries.map((e) => ['abort-closed', toHex(e.settlementId)]));
  });

  it('leave a leg without the batch calls without them', () => {
    const bank = new MemoryBankLedger({ anchor: fx.anchor, parties: fx.partyPublicKeys, nowMs: () => NOW_MS, venue: { bankId: 'b', ledger: 'l' } });
    const v1Only: LegAdapter = { leg: 'payment', prepare: (t, a) => bank.prepare(t, a), observe: (id) => bank.observe(id), applyReport: (r) => bank.applyReport(r), reclaim: (id) => bank.reclaim(id) };
    const { legs } = byzantine('lie-locked', ports(v1Only, v1Only), env);
    expect(isBatchLegAdapter(legs.payment)).toBe(false);
  });
});
