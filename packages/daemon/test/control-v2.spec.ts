/**
 * The control API's view of a protocol-2 node (control-v2.ts), over a stand-in runtime: a
 * settlement the runtime still holds shows its height, batch size and report v2; one it forgot once
 * closed is still shown, closed, with the last views its legs answered and the call that applied
 * it; and the v2 log lines summarise (a decided height by its size and root, not its entries).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { BatchLegAdapter } from '@tandem/legs';
import type { NodeRuntimeV2, SettlementStatusV2, StorageV2 } from '@tandem/node';
import { type LegView, decodeReportV2, fromHex, toHex } from '@tandem/protocol';
import { decidedBatch } from '../../protocol/test/v2-arbitraries.js';
import { V2Memory, controlOfV2 } from '../src/control-v2.js';
import { logLineV2 } from '../src/log.js';

const [batch] = fc.sample(decidedBatch, { seed: 21, numRuns: 1 });
const ID = toHex(batch!.entries[0]!.settlementId);
const committed: LegView = { state: 'committed', finalityHeight: 9n, lock: null };

/** A leg that answers `committed` and applies whatever it is given. */
function leg(name: 'asset' | 'payment'): BatchLegAdapter {
  return {
    leg: name,
    prepare: async () => ({ kind: 'locked' }) as never,
    observe: async () => committed,
    applyReport: async () => ({ kind: 'applied' }),
    reclaim: async () => ({ kind: 'reclaimed' }) as never,
    submitRoot: async () => ({ kind: 'stored' }),
    applyEntries: async (_root, items) => items.map(() => ({ kind: 'applied' as const })),
    applyBatch: async (_report, entries) => entries.map(() => ({ kind: 'applied' as const })),
  };
}

describe('the control API over a v2 node', () => {
  it('shows a held settlement with its height, batch size and report; a forgotten one still, closed, with the call that applied it', async () => {
    const memory = new V2Memory();
    const stored: unknown[] = [];
    const storage = memory.storage({ putDecided: (b: unknown) => stored.push(b), load: () => ({ decided: [] }) } as unknown as StorageV2);
    storage.putDecided(batch!);
    expect(stored).toEqual([batch]);
    const legs = memory.legs({ asset: leg('asset'), payment: leg('payment') });
    await legs.asset.observe(batch!.entries[0]!.settlementId);
    await legs.asset.applyBatch(batch!.report, batch!.entries, { indices: batch!.entries.map((_, k) => k), count: batch!.entries.length, siblings: [] });
    let held: SettlementStatusV2 | null = { refused: false, decided: { height: batch!.report.height, decision: 'COMMIT' }, expired: false, closed: false, views: { asset: committed, payment: null } };
    const runtime = { settlementStatus: () => held, decisions: () => [], submit: () => null } as unknown as NodeRuntimeV2;
    const control = controlOfV2(runtime, memory);
    const live = control.settlement(ID)!;
    expect(live).toMatchObject({ protocol: 2, decided: true, decision: 'COMMIT', height: batch!.report.height, batchSize: batch!.report.count, round: batch!.report.round, closed: false });
    expect(decodeReportV2(fromHex(live['report'] as string))).toEqual(batch!.report);
    expect(live['delivered']).toEqual({ asset: { root: toHex(batch!.report.root), entries: batch!.entries.length }, payment: null });
    // The runtime closes and forgets it: the events and the last views are what is left.
    memory.note({ type: 'settlement-decided', settlementIdHex: ID, height: batch!.report.height, decision: 'COMMIT' });
    memory.note({ type: 'closed', settlementIdHex: ID });
    held = null;
    expect(control.settlement(ID)).toMatchObject({ decided: true, decision: 'COMMIT', height: batch!.report.height, batchSize: batch!.report.count, closed: true, views: { asset: committed, payment: null } });
    expect(control.settlement('ee'.repeat(32))).toBeNull();
  });

  it('logs a decided height by its size and root, a signed vote by its height, round and step', () => {
    const r = batch!.report;
    const decided = JSON.parse(logLineV2('n1', { type: 'decided-height', height: r.height, round: r.round, header: { timeMs: r.timeMs, liveFrom: r.liveFrom, count: r.count, root: r.root }, entries: batch!.entries }, 0)) as Record<string, unknown>;
    expect(decided).toEqual({ t: '1970-01-01T00:00:00.000Z', level: 'info', node: 'n1', event: 'decided-height', height: r.height, round: r.round, count: r.count, root: toHex(r.root), timeMs: r.timeMs, liveFrom: r.liveFrom });
    const closed = JSON.parse(logLineV2('n1', { type: 'closed', settlementIdHex: ID }, 0)) as Record<string, unknown>;
    expect(closed).toEqual({ t: '1970-01-01T00:00:00.000Z', level: 'info', node: 'n1', event: 'closed', settlement: ID.slice(0, 16) });
  });
});
