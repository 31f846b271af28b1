/**
 * The control API over a protocol-2 runtime (NodeRuntimeV2). A settlement's view names the height
 * whose batch decided it, the batch's size and its report v2 (hex of encodeReportV2), so that
 * `tandem settle` can print them and verify the report under the group key:
 *
 *   GET /settlements/:idHex → { protocol: 2, decided, decision, height, batchSize, round, report,
 *                               views, closed, expired, refused, split, stuck, delivered }
 *
 * `delivered` names, per leg, the call of this node that applied the settlement's entry there
 * ({ root, entries: how many entries that call carried }), or null (not applied by this node):
 * what a settlement's share of a settleBatch call's gas is counted from.
 *
 * The v2 runtime forgets a settlement once it is closed on both legs, and keeps decided batches
 * only as long as it needs them. So that a caller following a settlement still sees it closed,
 * `V2Memory` remembers, bounded, what the runtime showed of the newest settlements (the last view
 * each leg answered, the height and decision, closed) and the reports of the newest heights.
 */
import { type LegName, type LegView, type ReportV2, encodeReportV2, toHex } from '@tandem/protocol';
import type { ApplyOutcome, BatchLegAdapter } from '@tandem/legs';
import type { LegsV2, NodeEventV2, NodeRuntimeV2, StorageV2 } from '@tandem/node';
import type { ControlRuntime } from './control.js';

/** Heights whose report is remembered (a report is ~250 bytes). */
const REPORTS_KEPT = 4096;
/** Settlements remembered after the runtime forgot them (each well under 1 kB). */
const SETTLEMENTS_KEPT = 10_000;

/** The call of this node that applied an entry on a leg: its batch root and how many entries it carried. */
export interface Delivered {
  readonly root: string;
  readonly entries: number;
}

interface Remembered {
  height: number | null;
  decision: 'COMMIT' | 'ABORT' | null;
  readonly views: Record<LegName, LegView | null>;
  readonly delivered: Record<LegName, Delivered | null>;
  closed: boolean;
}

/** Inserts into a map that keeps its newest `max` keys (insertion order). */
function keepNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}

export class V2Memory {
  private readonly reports = new Map<number, ReportV2>();
  private readonly settlements = new Map<string, Remembered>();

  /** The runtime's events: decisions and closings. */
  note(e: NodeEventV2): void {
    if (e.type === 'settlement-decided') Object.assign(this.remembered(e.settlementIdHex), { height: e.height, decision: e.decision });
    if (e.type === 'closed') this.remembered(e.settlementIdHex).closed = true;
  }

  /** `storage` as it is, with each decided batch's report remembered as it is persisted or loaded. */
  storage(storage: StorageV2): StorageV2 {
    const keep = (r: ReportV2) => keepNewest(this.reports, r.height, r, REPORTS_KEPT);
    return {
      putIntent: (id, intent) => storage.putIntent(id, intent),
      dropIntent: (id) => storage.dropIntent(id),
      putOwnEntry: (e) => storage.putOwnEntry(e),
      putBundleTime: (t) => storage.putBundleTime(t),
      putHeight: (r) => storage.putHeight(r),
      putDecided: (b) => {
        storage.putDecided(b);
        keep(b.report);
      },
      dropDecidedBelow: (h) => storage.dropDecidedBelow(h),
      commit: () => storage.commit(),
      load: () => {
        const stored = storage.load();
        for (const b of stored.decided) keep(b.report);
        return stored;
      },
    };
  }

  /** `legs` as they are, with each view a leg answers remembered for its settlement. */
  legs(legs: LegsV2): LegsV2 {
    return { asset: this.viewing(legs.asset), payment: this.viewing(legs.payment) };
  }

  report(height: number): ReportV2 | null {
    return this.reports.get(height) ?? null;
  }

  /** What was remembered of a settlement (the runtime may no longer hold it), or null. */
  forgotten(idHex: string): Readonly<Remembered> | null {
    return this.settlements.get(idHex) ?? null;
  }

  private remembered(idHex: string): Remembered {
    let r = this.settlements.get(idHex);
    if (r === undefined) {
      r = { height: null, decision: null, views: { asset: null, payment: null }, delivered: { asset: null, payment: null }, closed: false };
      keepNewest(this.settlements, idHex, r, SETTLEMENTS_KEPT);
    }
    return r;
  }

  private viewing(leg: BatchLegAdapter): BatchLegAdapter {
    return {
      leg: leg.leg,
      prepare: (terms, authorization) => leg.prepare(terms, authorization),
      observe: async (id) => {
        const view = await leg.observe(id);
        this.remembered(toHex(id)).views[leg.leg] = view;
        return view;
      },
      observeMany: async (ids) => {
        const views = await leg.observeMany(ids);
        views.forEach((view, k) => (this.remembered(toHex(ids[k]!)).views[leg.leg] = view));
        return views;
      },
      applyReport: (report) => leg.applyReport(report),
      reclaim: (id) => leg.reclaim(id),
      submitRoot: (report) => leg.submitRoot(report),
      applyEntries: async (root, items) => this.applied(leg.leg, root, items.map((i) => i.entry.settlementId), await leg.applyEntries(root, items)),
      applyBatch: async (report, entries, multiproof) => this.applied(leg.leg, report.root, entries.map((e) => e.settlementId), await leg.applyBatch(report, entries, multiproof)),
    };
  }

  /** Notes which entries a call applied (for their gas share), and passes its outcomes on. */
  private applied(leg: LegName, root: Uint8Array, ids: readonly Uint8Array[], outcomes: readonly ApplyOutcome[]): readonly ApplyOutcome[] {
    outcomes.forEach((o, k) => {
      const id = ids[k];
      if (o.kind === 'applied' && id !== undefined) this.remembered(toHex(id)).delivered[leg] = { root: toHex(root), entries: ids.length };
    });
    return outcomes;
  }
}

/** The control API's view of a protocol-2 runtime (and of what `memory` kept of what it forgot). */
export function controlOfV2(runtime: NodeRuntimeV2, memory: V2Memory): ControlRuntime {
  const view = (idHex: string, s: { height: number | null; decision: 'COMMIT' | 'ABORT' | null; views: Record<LegName, LegView | null>; closed: boolean; expired: boolean; refused: boolean; split: boolean; stuck: boolean }) => {
    const delivered = memory.forgotten(idHex)?.delivered ?? { asset: null, payment: null };
    const report = s.height === null ? null : memory.report(s.height);
    return {
      protocol: 2,
      id: idHex,
      decided: s.decision !== null,
      decision: s.decision,
      height: s.height,
      batchSize: report?.count ?? null,
      round: report?.round ?? null,
      report: report === null ? null : toHex(encodeReportV2(report)),
      views: s.views,
      closed: s.closed,
      expired: s.expired,
      refused: s.refused,
      split: s.split,
      stuck: s.stuck,
      delivered,
    };
  };
  return {
    submit: (terms, auths) => runtime.submit(terms, auths),
    submitMany: (intents) => runtime.submitMany(intents),
    settlements: () =>
      runtime.decisions().map((d) => ({ id: d.settlementIdHex, decided: d.decision !== null, height: d.height, decision: d.decision, expired: d.expired, refused: d.refused, split: d.split, stuck: d.stuck })),
    settlement: (idHex) => {
      const st = runtime.settlementStatus(idHex);
      if (st !== null) return view(idHex, { height: st.decided?.height ?? null, decision: st.decided?.decision ?? null, views: st.views, closed: st.closed, expired: st.expired, refused: st.refused, split: st.split, stuck: st.stuck });
      const gone = memory.forgotten(idHex);
      return gone === null ? null : view(idHex, { height: gone.height, decision: gone.decision, views: gone.views, closed: gone.closed, expired: false, refused: false, split: false, stuck: false });
    },
  };
}
