/**
 * The protocol v2 part of the conformance suite (run by `legConformance(name, makeHarness, { v2:
 * true })`): roots verified once, entries by proof or multiproof, each applied by the same rules
 * as a v1 report. Every test builds real batches (the protocol package's report tree) and signs
 * real reports v2 with the fixture's dealer.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Decision,
  type Entry,
  type ReportBodyV2,
  type ReportV2,
  type Terms,
  type TreeMultiproof,
  compareIds,
  reclaimAtMs,
  reportTreeMultiproof,
  reportTreeProof,
  reportTreeRoot,
  settlementId,
  validUntilMs,
} from '@tandem/protocol';
import { type ApplyOutcome, type BatchLegAdapter, OBSERVE_IDS_MAX, type ProvenEntry, isBatchLegAdapter } from './adapter.js';
import { type Dealer, signReportV2 } from './fixture.js';
import { type LegHarness, AMOUNT, BEFORE_MS, FUNDS, Session, otherDealer } from './conformance-harness.js';

const APPLIED: ApplyOutcome = { kind: 'applied' };
const DUPLICATE: ApplyOutcome = { kind: 'duplicate' };

interface BatchOptions {
  readonly height?: number;
  readonly round?: number;
  readonly networkId?: Uint8Array;
  readonly configDigest?: Uint8Array;
  readonly dealer?: Dealer;
  readonly indices?: readonly number[];
}

/** A decided batch as a leg receives it: its entries (ascending ids) and the signed report v2. */
interface SignedBatch {
  readonly entries: readonly Entry[];
  readonly report: ReportV2;
}

/** The v2 session: the v1 helpers plus batches, proofs and the batch adapter. */
class SessionV2 extends Session {
  readonly a: BatchLegAdapter;
  private heights = 0;

  constructor(h: LegHarness) {
    super(h);
    if (!isBatchLegAdapter(h.adapter)) throw new Error('the v2 suite needs a BatchLegAdapter (submitRoot, applyEntries, applyBatch, observeMany)');
    this.a = h.adapter;
  }

  entry(terms: Terms, decision: Decision, validUntil = validUntilMs(terms)): Entry {
    return { settlementId: settlementId(terms), decision, validUntilMs: validUntil };
  }

  /** Sorts the entries as a batch lists them and signs the report of a fresh height over their root. */
  batch(entries: readonly Entry[], o: BatchOptions = {}): SignedBatch {
    const sorted = [...entries].sort((x, y) => compareIds(x.settlementId, y.settlementId));
    const height = o.height ?? ++this.heights;
    const body: ReportBodyV2 = {
      networkId: o.networkId ?? this.h.anchor.networkId,
      configDigest: o.configDigest ?? this.h.anchor.configDigest,
      height,
      round: o.round ?? 0,
      timeMs: this.h.startMs,
      liveFrom: height,
      count: sorted.length,
      root: reportTreeRoot(sorted),
    };
    return { entries: sorted, report: signReportV2(o.dealer ?? this.h.dealer, body, o.indices) };
  }

  /** The entry for `terms` in `b` with its proof. */
  proven(b: SignedBatch, terms: Terms): ProvenEntry {
    const index = this.indexOf(b, terms);
    return { entry: b.entries[index]!, proof: reportTreeProof(b.entries, index) };
  }

  indexOf(b: SignedBatch, terms: Terms): number {
    const id = settlementId(terms);
    const index = b.entries.findIndex((e) => compareIds(e.settlementId, id) === 0);
    if (index < 0) throw new Error('the batch has no entry for these terms');
    return index;
  }

  /** The entries of `b` at `indices` (default: all) and their multiproof. */
  part(b: SignedBatch, indices: readonly number[] = b.entries.map((_, i) => i)): { entries: Entry[]; multiproof: TreeMultiproof } {
    return { entries: indices.map((i) => b.entries[i]!), multiproof: reportTreeMultiproof(b.entries, indices) };
  }

  async submitted(b: SignedBatch): Promise<SignedBatch> {
    expect(await this.a.submitRoot(b.report)).toEqual({ kind: 'stored' });
    return b;
  }

  async applyOne(b: SignedBatch, item: ProvenEntry): Promise<ApplyOutcome> {
    const outcomes = await this.a.applyEntries(b.report.root, [item]);
    expect(outcomes).toHaveLength(1);
    return outcomes[0]!;
  }

  async applyAll(b: SignedBatch): Promise<readonly ApplyOutcome[]> {
    const { entries, multiproof } = this.part(b);
    return this.a.applyBatch(b.report, entries, multiproof);
  }
}

function refusedAll(outcomes: readonly ApplyOutcome[], n: number, reason?: RegExp): void {
  expect(outcomes).toHaveLength(n);
  for (const o of outcomes) {
    expect(o.kind).toBe('refused');
    if (reason !== undefined && o.kind === 'refused') expect(o.reason).toMatch(reason);
  }
}

export function legConformanceV2(name: string, makeHarness: (protocol: 1 | 2) => Promise<LegHarness>): void {
  describe(`leg conformance v2: ${name}`, () => {
    let s: SessionV2;

    beforeEach(async () => {
      const h = await makeHarness(2);
      expect(h.anchor.protocol).toBe(2);
      expect(h.adapter.leg).toBe(h.leg);
      s = new SessionV2(h);
      await s.fund('alice', FUNDS);
    });

    afterEach(async () => {
      await s.expectConserved();
      await s.h.close();
    });

    describe('submitRoot', () => {
      it('stores a root once (idempotent); its entries then apply by proof', async () => {
        const t = s.makeTerms('root');
        await s.lockOf(t);
        const b = s.batch([s.entry(t, 'COMMIT')]);
        expect(await s.a.submitRoot(b.report)).toEqual({ kind: 'stored' });
        expect(await s.a.submitRoot(b.report)).toEqual({ kind: 'duplicate' });
        expect(await s.applyOne(b, s.proven(b, t))).toEqual(APPLIED);
        expect(await s.a.submitRoot(b.report)).toEqual({ kind: 'duplicate' });
        await s.expectState(t, 'committed');
        expect(await s.balance('bob')).toBe(AMOUNT);
      });

      it('refuses roots signed under another configuration or network, or not by the committee', async () => {
        const t = s.makeTerms('root-forgeries');
        await s.lockOf(t);
        const entries = [s.entry(t, 'COMMIT')];
        const good = s.batch(entries);
        const flipped = good.report.signature.slice();
        flipped[47]! ^= 1;
        const otherHeight = s.batch(entries, { height: good.report.height + 1 });
        const forgeries: readonly [string, ReportV2][] = [
          ['another configuration digest', s.batch(entries, { configDigest: new Uint8Array(32).fill(9) }).report],
          ['another network', s.batch(entries, { networkId: new Uint8Array(32).fill(7) }).report],
          ['a flipped signature bit', { ...good.report, signature: flipped }],
          ['another dealer (wrong signer set)', s.batch(entries, { dealer: otherDealer() }).report],
          ['only 2 of the 3 partials needed', s.batch(entries, { indices: [1, 2] }).report],
          ["another height's signature on this body", { ...good.report, signature: otherHeight.report.signature }],
          ['a tampered round', { ...good.report, round: 1 }],
          ['a tampered count', { ...good.report, count: 2 }],
          ['an empty signature', { ...good.report, signature: new Uint8Array(0) }],
          ['a count of 0', { ...good.report, count: 0 }],
        ];
        for (const [what, report] of forgeries) {
          expect((await s.a.submitRoot(report)).kind, what).toBe('refused');
          // Nothing was stored: the root is unknown, and the entry is refused under it.
          expect((await s.applyOne(good, s.proven(good, t))).kind, what).toBe('refused');
          await s.expectState(t, 'locked');
        }
        await s.submitted(good);
        expect(await s.applyOne(good, s.proven(good, t))).toEqual(APPLIED);
      });

      it('refuses v1 reports on a v2 leg, and roots on a v1 leg', async () => {
        const t = s.makeTerms('versions');
        await s.lockOf(t);
        expect((await s.h.adapter.applyReport(s.report(t, 'COMMIT'))).kind).toBe('refused');
        await s.expectState(t, 'locked');
        const v1 = await makeHarness(1);
        try {
          expect(v1.anchor.protocol ?? 1).toBe(1);
          if (!isBatchLegAdapter(v1.adapter)) throw new Error('the v1 leg of the v2 suite must be a BatchLegAdapter too');
          const b = s.batch([s.entry(t, 'ABORT')], { configDigest: v1.anchor.configDigest });
          const { entries, multiproof } = s.part(b);
          expect((await v1.adapter.submitRoot(b.report)).kind).toBe('refused');
          refusedAll(await v1.adapter.applyBatch(b.report, entries, multiproof), 1);
          refusedAll(await v1.adapter.applyEntries(b.report.root, [s.proven(b, t)]), 1);
        } finally {
          await v1.close();
        }
      });
    });

    describe('entries by proof', () => {
      it('refuses an unknown root, a proof for another index or another batch size, and a tampered entry', async () => {
        const [t, u, w] = [s.makeTerms('proof-a'), s.makeTerms('proof-b'), s.makeTerms('proof-c')];
        for (const x of [t, u, w]) await s.lockOf(x);
        const b = s.batch([s.entry(t, 'COMMIT'), s.entry(u, 'COMMIT'), s.entry(w, 'COMMIT')]);
        const item = s.proven(b, t);
        // Not submitted yet.
        refusedAll(await s.a.applyEntries(b.report.root, [item]), 1, /unknown root/);
        await s.submitted(b);
        const i = s.indexOf(b, t);
        const other = (i + 1) % 3;
        const e = item.entry;
        const cases: readonly [string, ProvenEntry][] = [
          ['the proof of another index', { entry: e, proof: reportTreeProof(b.entries, other) }],
          ['the right siblings under another index', { entry: e, proof: { ...item.proof, index: other } }],
          ['the proof claiming another batch size', { entry: e, proof: { ...item.proof, count: 2 } }],
          ['a proof with a sibling missing', { entry: e, proof: { ...item.proof, siblings: item.proof.siblings.slice(1) } }],
          ['a tampered decision', { ...item, entry: { ...e, decision: 'ABORT' } }],
          ['a tampered validUntil', { ...item, entry: { ...e, validUntilMs: e.validUntilMs + BEFORE_MS } }],
          ['a tampered id', { ...item, entry: { ...e, settlementId: settlementId(s.makeTerms('proof-tampered')) } }],
        ];
        for (const [what, bad] of cases) {
          expect((await s.applyOne(b, bad)).kind, what).toBe('refused');
          await s.expectState(t, 'locked');
        }
        // The entry under a root it is not in (another stored batch).
        const b2 = await s.submitted(s.batch([s.entry(u, 'COMMIT'), s.entry(w, 'COMMIT')]));
        refusedAll(await s.a.applyEntries(b2.report.root, [item]), 1, /proof/);
        expect(await s.balance('alice')).toBe(FUNDS - 3n * AMOUNT);
        // The genuine items still apply, in one call.
        expect(await s.a.applyEntries(b.report.root, [item, s.proven(b, u), s.proven(b, w)])).toEqual([APPLIED, APPLIED, APPLIED]);
        expect(await s.balance('bob')).toBe(3n * AMOUNT);
      });

      it('answers a replayed entry as a duplicate and changes nothing', async () => {
        const t = s.makeTerms('replay');
        await s.lockOf(t);
        const b = await s.submitted(s.batch([s.entry(t, 'COMMIT')]));
        const item = s.proven(b, t);
        expect(await s.a.applyEntries(b.report.root, [item, item])).toEqual([APPLIED, DUPLICATE]);
        const h1 = (await s.view(t)).finalityHeight;
        expect(await s.applyOne(b, item)).toEqual(DUPLICATE);
        expect(await s.applyAll(b)).toEqual([DUPLICATE]);
        // The other decision for the same settlement, in another batch: refused.
        const abort = await s.submitted(s.batch([s.entry(t, 'ABORT')]));
        expect((await s.applyOne(abort, s.proven(abort, t))).kind).toBe('refused');
        const v = await s.expectState(t, 'committed');
        expect(v.finalityHeight).toBe(h1);
        expect(await s.balance('bob')).toBe(AMOUNT);
      });

      it('refuses a COMMIT at validUntil and after; an ABORT still applies', async () => {
        const t = s.makeTerms('late');
        await s.lockOf(t);
        const b = await s.submitted(s.batch([s.entry(t, 'COMMIT')]));
        await s.h.setNowMs(validUntilMs(t));
        expect((await s.applyOne(b, s.proven(b, t))).kind).toBe('refused');
        await s.h.setNowMs(validUntilMs(t) + BEFORE_MS);
        expect((await s.applyAll(b))[0]!.kind).toBe('refused');
        await s.expectState(t, 'locked');
        expect(await s.balance('bob')).toBe(0n);
        const abort = await s.submitted(s.batch([s.entry(t, 'ABORT')]));
        expect(await s.applyOne(abort, s.proven(abort, t))).toEqual(APPLIED);
        await s.expectState(t, 'aborted');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it("refuses a COMMIT whose validUntil is not the lock's", async () => {
        const t = s.makeTerms('valid-until');
        await s.lockOf(t);
        const b = await s.submitted(s.batch([s.entry(t, 'COMMIT', validUntilMs(t) + BEFORE_MS)]));
        const outcome = await s.applyOne(b, s.proven(b, t));
        expect(outcome.kind).toBe('refused');
        await s.expectState(t, 'locked');
        expect(await s.balance('alice')).toBe(FUNDS - AMOUNT);
      });

      it('closes a never-locked id with an ABORT (a later lock is refused), records one on a rejected id', async () => {
        const t = s.makeTerms('abort-first');
        const r = s.makeTerms('abort-rejected', { amount: FUNDS + 1n });
        expect((await s.h.adapter.prepare(r, s.auth(r))).kind).toBe('rejected');
        const never = s.makeTerms('commit-never-locked');
        const b = await s.submitted(s.batch([s.entry(t, 'ABORT'), s.entry(r, 'ABORT'), s.entry(never, 'COMMIT')]));
        const outcomes = await s.a.applyEntries(b.report.root, [s.proven(b, t), s.proven(b, r), s.proven(b, never)]);
        expect(outcomes.slice(0, 2)).toEqual([APPLIED, APPLIED]);
        expect(outcomes[2]!.kind).toBe('refused');
        const v = await s.expectState(t, 'aborted');
        expect(v.lock).toBeNull();
        await s.expectState(r, 'rejected');
        await s.expectState(never, 'none');
        expect((await s.h.adapter.prepare(t, s.auth(t))).kind).toBe('closed');
        expect(await s.balance('alice')).toBe(FUNDS);
      });

      it('refuses every entry once the value was reclaimed', async () => {
        const t = s.makeTerms('reclaimed');
        await s.lockOf(t);
        const b = await s.submitted(s.batch([s.entry(t, 'ABORT')]));
        await s.h.setNowMs(reclaimAtMs(t));
        expect(await s.h.adapter.reclaim(settlementId(t))).toEqual({ kind: 'reclaimed' });
        expect((await s.applyOne(b, s.proven(b, t))).kind).toBe('refused');
        expect((await s.applyAll(b))[0]!.kind).toBe('refused');
        await s.expectState(t, 'reclaimed');
        expect(await s.balance('alice')).toBe(FUNDS);
      });
    });

    describe('observeMany', () => {
      it('shows each id as observe does, in order: locked, rejected, committed, aborted, unknown, repeated', async () => {
        const locked = s.makeTerms('many-locked');
        const rejected = s.makeTerms('many-rejected', { amount: FUNDS + 1n });
        const committed = s.makeTerms('many-committed');
        const aborted = s.makeTerms('many-aborted');
        const unknown = s.makeTerms('many-unknown');
        await s.lockOf(locked);
        expect((await s.h.adapter.prepare(rejected, s.auth(rejected))).kind).toBe('rejected');
        await s.lockOf(committed);
        await s.lockOf(aborted);
        const b = await s.submitted(s.batch([s.entry(committed, 'COMMIT'), s.entry(aborted, 'ABORT')]));
        expect(await s.applyAll(b)).toEqual([APPLIED, APPLIED]);
        const order = [unknown, committed, locked, rejected, aborted, locked];
        const many = await s.a.observeMany(order.map((t) => settlementId(t)));
        const each = [];
        for (const t of order) each.push(await s.h.adapter.observe(settlementId(t)));
        expect(many).toEqual(each);
        expect(many.map((v) => v.state)).toEqual(['none', 'committed', 'locked', 'rejected', 'aborted', 'locked']);
        expect(await s.a.observeMany([])).toEqual([]);
      });

      it(`refuses more than ${OBSERVE_IDS_MAX} ids, or an id that is not 32 bytes (a caller's bug, not a leg failure)`, async () => {
        const id = settlementId(s.makeTerms('many-bound'));
        await expect(s.a.observeMany(Array.from({ length: OBSERVE_IDS_MAX + 1 }, () => id))).rejects.toThrow(RangeError);
        await expect(s.a.observeMany([id.subarray(0, 31)])).rejects.toThrow(RangeError);
        expect(await s.a.observeMany(Array.from({ length: OBSERVE_IDS_MAX }, () => id))).toHaveLength(OBSERVE_IDS_MAX);
      });
    });

    describe('applyBatch', () => {
      it('authenticates the root once and applies each entry; a refused entry is skipped with its reason', async () => {
        const [c, a, late, gone] = [s.makeTerms('batch-commit'), s.makeTerms('batch-abort'), s.makeTerms('batch-mismatch'), s.makeTerms('batch-unlocked')];
        for (const x of [c, a, late]) await s.lockOf(x);
        const b = s.batch([s.entry(c, 'COMMIT'), s.entry(a, 'ABORT'), s.entry(late, 'COMMIT', validUntilMs(late) - BEFORE_MS), s.entry(gone, 'COMMIT')]);
        const outcomes = await s.applyAll(b);
        expect(outcomes).toHaveLength(4);
        expect(outcomes[s.indexOf(b, c)]).toEqual(APPLIED);
        expect(outcomes[s.indexOf(b, a)]).toEqual(APPLIED);
        expect(outcomes[s.indexOf(b, late)]!.kind).toBe('refused');
        expect(outcomes[s.indexOf(b, gone)]!.kind).toBe('refused');
        await s.expectState(c, 'committed');
        await s.expectState(a, 'aborted');
        await s.expectState(late, 'locked');
        await s.expectState(gone, 'none');
        expect(await s.balance('bob')).toBe(AMOUNT);
        expect(await s.balance('alice')).toBe(FUNDS - 2n * AMOUNT);
        // The root was stored by the batch call: submitting it again is a duplicate.
        expect(await s.a.submitRoot(b.report)).toEqual({ kind: 'duplicate' });
        expect(await s.applyAll(b)).toEqual(outcomes.map((o) => (o.kind === 'applied' ? DUPLICATE : o)));
      });

      it('applies part of a batch under a root stored before', async () => {
        const [t, u] = [s.makeTerms('part-a'), s.makeTerms('part-b')];
        for (const x of [t, u]) await s.lockOf(x);
        const b = await s.submitted(s.batch([s.entry(t, 'COMMIT'), s.entry(u, 'ABORT')]));
        const { entries, multiproof } = s.part(b, [s.indexOf(b, u)]);
        expect(await s.a.applyBatch(b.report, entries, multiproof)).toEqual([APPLIED]);
        await s.expectState(t, 'locked');
        await s.expectState(u, 'aborted');
      });

      it('refuses the whole call, storing nothing, for a bad root, report or multiproof', async () => {
        const [t, u] = [s.makeTerms('bad-batch-a'), s.makeTerms('bad-batch-b')];
        for (const x of [t, u]) await s.lockOf(x);
        const b = s.batch([s.entry(t, 'COMMIT'), s.entry(u, 'COMMIT')]);
        const { entries, multiproof } = s.part(b);
        const flipped = b.report.signature.slice();
        flipped[0]! ^= 1;
        const swapped = [entries[1]!, entries[0]!];
        const cases: readonly [string, ReportV2, readonly Entry[], TreeMultiproof][] = [
          ['a bad signature', { ...b.report, signature: flipped }, entries, multiproof],
          ['another configuration', s.batch(b.entries, { configDigest: new Uint8Array(32).fill(9) }).report, entries, multiproof],
          ['a tampered entry', b.report, [{ ...entries[0]!, decision: 'ABORT' }, entries[1]!], multiproof],
          ['reordered entries', b.report, swapped, multiproof],
          ['an entry left out', b.report, [entries[0]!], multiproof],
          ['the multiproof of another batch size', b.report, entries, { ...multiproof, count: 3 }],
          ['a report for another root', s.batch([s.entry(t, 'ABORT')]).report, entries, multiproof],
        ];
        for (const [what, report, es, proof] of cases) {
          refusedAll(await s.a.applyBatch(report, es, proof), es.length);
          expect((await s.view(t)).state, what).toBe('locked');
          expect((await s.view(u)).state, what).toBe('locked');
        }
        // Nothing was stored on the way.
        refusedAll(await s.a.applyEntries(b.report.root, [s.proven(b, t)]), 1, /unknown root/);
        expect(await s.applyAll(b)).toEqual([APPLIED, APPLIED]);
        expect(await s.balance('bob')).toBe(2n * AMOUNT);
      });
    });
  });
}
