/**
 * The protocol v2 leg rules as pure functions: root acceptance, proofs and entry application,
 * with a signature check that records what it was asked (no real cryptography: the conformance
 * suites run them with real signatures through every leg).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Entry, type LockRecord, type ReportV2, equalBytes, reportDigestV2, reportTreeMultiproof, reportTreeProof, reportTreeRoot } from '@tandem/protocol';
import {
  type LegAnchor, type LegChecks, type SettlementOnLeg, V1_REPORT_ON_V2_LEG, V2_ON_V1_LEG, appliedEntryMarker, entryProofProblem, legChecksOf,
  processBatchRoot, processEntry, processRoot, reportAnchorProblem, reportV2Problem, storedRoot,
} from '../src/index.js';
import { testLock } from './lock-record.js';

const NETWORK = new Uint8Array(32).fill(3);
const CONFIG = new Uint8Array(32).fill(4);
const OTHER_CONFIG = new Uint8Array(32).fill(6);
const KEY = new Uint8Array(96).fill(1);
const GOOD_SIGNATURE = new Uint8Array(48).fill(5);
const VALID_UNTIL_MS = 40_000;
const ANCHOR: LegAnchor = { networkId: NETWORK, configDigest: CONFIG, groupPublicKey: KEY, protocol: 2 };

function id(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

const LOCK: LockRecord = testLock(id(20), KEY, VALID_UNTIL_MS, 50_000);
const locked: SettlementOnLeg = { state: 'locked', lock: LOCK, appliedReport: null, configDigest: CONFIG };

/** Checks whose signature verifies exactly GOOD_SIGNATURE, counting the verifications and keeping the messages. */
function checksOf(protocol: 1 | 2 = 2): LegChecks & { readonly messages: Uint8Array[] } {
  const messages: Uint8Array[] = [];
  const checks = legChecksOf({
    anchor: { ...ANCHOR, protocol },
    nowMs: () => 0,
    parties: new Map(),
    venue: null,
    verifyReport: (pk, msg, sig) => {
      messages.push(msg);
      return equalBytes(pk, KEY) && equalBytes(sig, GOOD_SIGNATURE);
    },
  });
  return { ...checks, messages };
}

function entries(): Entry[] {
  return [
    { settlementId: id(10), decision: 'ABORT', validUntilMs: VALID_UNTIL_MS },
    { settlementId: id(20), decision: 'COMMIT', validUntilMs: VALID_UNTIL_MS },
    { settlementId: id(30), decision: 'COMMIT', validUntilMs: VALID_UNTIL_MS },
  ];
}

function reportOf(es: readonly Entry[], o: Partial<ReportV2> = {}): ReportV2 {
  return { networkId: NETWORK, configDigest: CONFIG, height: 5, round: 0, timeMs: 1_000, liveFrom: 2, count: es.length, root: reportTreeRoot(es), signature: GOOD_SIGNATURE, ...o };
}

describe('root acceptance', () => {
  it('checks the anchors and the shape before anything else', () => {
    const r = reportOf(entries());
    expect(reportV2Problem(r, checksOf())).toBeNull();
    expect(reportV2Problem(r, checksOf(1))).toBe(V2_ON_V1_LEG);
    expect(reportV2Problem({ ...r, networkId: id(9) }, checksOf())).toBe('report is for another network');
    expect(reportV2Problem({ ...r, configDigest: OTHER_CONFIG }, checksOf())).toBe('report is for another configuration');
    expect(reportV2Problem({ ...r, root: new Uint8Array(31) }, checksOf())).toMatch(/malformed report v2/);
    expect(reportV2Problem({ ...r, count: 0 }, checksOf())).toMatch(/count/);
    expect(reportV2Problem({ ...r, liveFrom: 6 }, checksOf())).toMatch(/liveFrom/);
    expect(reportV2Problem({ ...r, signature: new Uint8Array(47) }, checksOf())).toMatch(/signature/);
  });

  it('refuses v1 reports on a v2 leg', () => {
    const v1 = { networkId: NETWORK, configDigest: CONFIG, settlementId: id(1), decision: 'ABORT' as const, round: 0, validUntilMs: 1, signature: GOOD_SIGNATURE };
    expect(reportAnchorProblem(v1, ANCHOR)).toBe(V1_REPORT_ON_V2_LEG);
    expect(reportAnchorProblem(v1, { ...ANCHOR, protocol: 1 })).toBeNull();
  });

  it("stores a root whose signature verifies over reportDigestV2, under the anchor's configuration; a stored one is a duplicate without a signature check", () => {
    const checks = checksOf();
    const r = reportOf(entries());
    expect(processRoot(r, null, checks)).toEqual({ kind: 'store', root: { configDigest: CONFIG, root: r.root, count: 3 } });
    expect(checks.messages).toEqual([reportDigestV2(r)]);
    expect(processRoot({ ...r, signature: new Uint8Array(48) }, null, checks)).toEqual({ kind: 'refused', reason: 'report v2 signature does not verify' });
    expect(processRoot({ ...r, signature: new Uint8Array(48) }, 3, checks).kind).toBe('duplicate');
    expect(processRoot(r, 4, checks)).toEqual({ kind: 'refused', reason: 'root is stored with count 4, this report says 3' });
    expect(checks.messages).toHaveLength(2);
  });

  it('finds a stored root for applyEntries, or refuses', () => {
    const root = reportTreeRoot(entries());
    expect(storedRoot(root, 3, checksOf())).toEqual({ configDigest: CONFIG, root, count: 3 });
    expect(storedRoot(root, null, checksOf())).toEqual({ kind: 'refused', reason: 'unknown root: submit its report first' });
    expect(storedRoot(root, 3, checksOf(1))).toEqual({ kind: 'refused', reason: V2_ON_V1_LEG });
    expect(storedRoot(root.subarray(1), 3, checksOf()).kind).toBe('refused');
  });

  it('checks a batch multiproof before the signature, and nothing is stored on a refusal', () => {
    const checks = checksOf();
    const es = entries();
    const r = reportOf(es);
    const proof = reportTreeMultiproof(es, [0, 2]);
    expect(processBatchRoot(r, null, [es[0]!, es[2]!], proof, checks).kind).toBe('store');
    expect(processBatchRoot(r, 3, [es[0]!, es[2]!], proof, checks).kind).toBe('duplicate');
    expect(processBatchRoot(r, null, [es[2]!, es[0]!], proof, checks)).toEqual({ kind: 'refused', reason: 'multiproof does not verify under the root' });
    expect(processBatchRoot(r, null, [es[0]!, es[2]!], { ...proof, count: 4 }, checks).kind).toBe('refused');
    expect(processBatchRoot(r, null, [], proof, checks).kind).toBe('refused');
    expect(checks.messages).toHaveLength(1);
  });
});

describe('entries', () => {
  const es = entries();
  const root = { configDigest: CONFIG, root: reportTreeRoot(es), count: 3 };

  it('needs a proof under the root with its count and index', () => {
    expect(entryProofProblem(root, { entry: es[1]!, proof: reportTreeProof(es, 1) })).toBeNull();
    expect(entryProofProblem(root, { entry: es[1]!, proof: reportTreeProof(es, 2) })).toBe('proof does not verify under the root');
    expect(entryProofProblem(root, { entry: es[1]!, proof: { ...reportTreeProof(es, 1), count: 2 } })).toBe("proof is for a batch of 2 entries, the root's has 3");
    expect(entryProofProblem(root, { entry: { ...es[1]!, settlementId: new Uint8Array(31) }, proof: reportTreeProof(es, 1) })).toMatch(/malformed entry/);
  });

  it('a proof of one index never carries another entry of the batch (any batch, any pair of indices)', () => {
    const arbEntry = fc.record({ settlementId: fc.uint8Array({ minLength: 32, maxLength: 32 }), decision: fc.constantFrom('COMMIT' as const, 'ABORT' as const), validUntilMs: fc.nat() });
    fc.assert(
      fc.property(fc.array(arbEntry, { minLength: 2, maxLength: 12 }), fc.nat(), fc.nat(), (batch, a, b) => {
        const i = a % batch.length;
        const j = b % batch.length;
        const r = { configDigest: CONFIG, root: reportTreeRoot(batch), count: batch.length };
        const same = equalBytes(appliedEntryMarker(r.root, batch[i]!), appliedEntryMarker(r.root, batch[j]!));
        expect(entryProofProblem(r, { entry: batch[j]!, proof: reportTreeProof(batch, i) }) === null).toBe(same);
      }),
      { numRuns: 100 },
    );
  });

  it('applies by the v1 rules, authentic for a lock made under the root configuration', () => {
    expect(processEntry(locked, root, es[1]!, VALID_UNTIL_MS - 1, ANCHOR)).toEqual({ kind: 'commit', lock: LOCK });
    expect(processEntry(locked, root, es[1]!, VALID_UNTIL_MS, ANCHOR).kind).toBe('refused');
    expect(processEntry(locked, root, { ...es[1]!, validUntilMs: VALID_UNTIL_MS + 1 }, 0, ANCHOR).kind).toBe('refused');
    const elsewhere = { ...locked, configDigest: OTHER_CONFIG };
    expect(processEntry(elsewhere, root, es[1]!, 0, ANCHOR)).toEqual({ kind: 'refused', reason: 'root is not stored under the configuration the lock was made under' });
    expect(processEntry({ ...locked, configDigest: null }, root, es[1]!, 0, ANCHOR).kind).toBe('refused');
    // Nothing locked: an ABORT closes the id when the root is the anchor's.
    expect(processEntry(null, root, es[0]!, 0, ANCHOR)).toEqual({ kind: 'abort-closed' });
    expect(processEntry(null, { ...root, configDigest: OTHER_CONFIG }, es[0]!, 0, ANCHOR).kind).toBe('refused');
  });

  it('marks the application per settlement: the same entry under the same root is a duplicate, anything else refused', () => {
    const applied = { ...locked, state: 'committed' as const, appliedReport: appliedEntryMarker(root.root, es[1]!) };
    expect(processEntry(applied, root, es[1]!, 0, ANCHOR)).toEqual({ kind: 'duplicate' });
    expect(processEntry(applied, root, { ...es[1]!, decision: 'ABORT' }, 0, ANCHOR)).toEqual({ kind: 'refused', reason: 'another report was already applied' });
    expect(processEntry(applied, { ...root, root: id(99) }, es[1]!, 0, ANCHOR).kind).toBe('refused');
    expect(processEntry({ ...locked, state: 'reclaimed' }, root, es[1]!, 0, ANCHOR).kind).toBe('refused');
  });
});
