import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bundle, entry, messageV2, reportV2 } from '../../protocol/test/v2-arbitraries.js';
import { type Bundle, type MessageV2, encodeEntry, encodeMessageV2, encodeReportV2 } from '@tandem/protocol';
import type { LegCallV2, LegsV2, NodeEventV2, TransportV2 } from '@tandem/node';
import { decodeHistoryLine, encodeHistoryLine } from '../src/history.js';
import { decodeHistoryLineV2, encodeBundleLine, encodeHistoryLineV2, encodeLegCallLine, parseHistoryV2, recordedPortsV2 } from '../src/history-v2.js';

const sid = 'cd'.repeat(32);
const proof = fc.record({ index: fc.nat(), count: fc.nat(), siblings: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 4 }) });
const outcome = fc.oneof(fc.constant({ kind: 'applied' as const }), fc.constant({ kind: 'duplicate' as const }), fc.record({ kind: fc.constant('refused' as const), reason: fc.string() }));
const legCall: fc.Arbitrary<LegCallV2> = fc.oneof(
  fc.record({ op: fc.constant('root' as const), report: reportV2, outcome: fc.oneof(fc.constant({ kind: 'stored' as const }), fc.record({ kind: fc.constant('refused' as const), reason: fc.string() }), fc.constant(null)) }),
  fc.record({ op: fc.constant('entries' as const), root: fc.uint8Array({ minLength: 32, maxLength: 32 }), items: fc.array(fc.record({ entry, proof }), { maxLength: 3 }), outcomes: fc.option(fc.array(outcome, { maxLength: 3 })) }),
  fc.record({
    op: fc.constant('batch' as const),
    report: reportV2,
    entries: fc.array(entry, { maxLength: 3 }),
    multiproof: fc.record({ indices: fc.array(fc.nat(), { maxLength: 3 }), count: fc.nat(), siblings: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }) }),
    outcomes: fc.option(fc.array(outcome, { maxLength: 3 })),
  }),
);

/** A call with its signed and encoded parts as their bytes: what must survive the file exactly. */
function callBytes(c: LegCallV2): unknown {
  switch (c.op) {
    case 'root':
      return { ...c, report: encodeReportV2(c.report) };
    case 'entries':
      return { ...c, items: c.items.map((i) => ({ ...i, entry: encodeEntry(i.entry) })) };
    case 'batch':
      return { ...c, report: encodeReportV2(c.report), entries: c.entries.map(encodeEntry) };
  }
}

describe('protocol-2 history lines', () => {
  it('a signed message keeps its v2 wire bytes, and clockMs is the line time', () => {
    fc.assert(
      fc.property(messageV2, fc.maxSafeNat(), (m, tMs) => {
        const back = decodeHistoryLineV2(encodeHistoryLineV2(tMs, { type: 'signed', height: 3, round: 1, message: m }));
        expect(back.tMs).toBe(tMs);
        if (back.item.type !== 'node2' || back.item.event.type !== 'signed') throw new Error(`decoded a ${back.item.type}`);
        expect(back.item.clockMs).toBe(tMs);
        expect(encodeMessageV2(back.item.event.message)).toEqual(encodeMessageV2(m));
      }),
      { numRuns: 50 },
    );
  });

  it('a broadcast bundle keeps its wire bytes', () => {
    fc.assert(
      fc.property(bundle, (b) => {
        const back = decodeHistoryLineV2(encodeBundleLine(9, b));
        if (back.item.type !== 'bundle') throw new Error(`decoded a ${back.item.type}`);
        expect(encodeMessageV2({ kind: 'bundle', bundle: back.item.bundle })).toEqual(encodeMessageV2({ kind: 'bundle', bundle: b }));
      }),
      { numRuns: 50 },
    );
  });

  it('a leg call keeps its report, entries, proofs and outcomes exactly', () => {
    fc.assert(
      fc.property(legCall, fc.constantFrom('asset' as const, 'payment' as const), (call, leg) => {
        const back = decodeHistoryLineV2(encodeLegCallLine(5, leg, call));
        if (back.item.type !== 'leg2') throw new Error(`decoded a ${back.item.type}`);
        expect(back.item.leg).toBe(leg);
        expect(callBytes(back.item.call)).toEqual(callBytes(call));
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips plain events (a decided height with its entries among them)', () => {
    const events: NodeEventV2[] = [
      { type: 'intent', settlementIdHex: sid, nonce: 's1' },
      { type: 'decided-height', height: 4, round: 0, header: { timeMs: 1_700_000_000_000, liveFrom: 2, count: 1, root: new Uint8Array(32).fill(7) }, entries: [{ settlementId: new Uint8Array(32).fill(0xcd), decision: 'COMMIT', validUntilMs: 1_700_000_060_000 }] },
      { type: 'catch-up', fromHeight: 3, toHeight: 9, jumped: true },
      { type: 'closed', settlementIdHex: sid },
    ];
    for (const e of events) expect(decodeHistoryLineV2(encodeHistoryLineV2(7, e)).item).toEqual({ type: 'node2', clockMs: 7, event: e });
  });

  it('each reader refuses the other protocol\'s lines; a torn last line is skipped', () => {
    const v2 = encodeHistoryLineV2(1, { type: 'closed', settlementIdHex: sid });
    const v1 = encodeHistoryLine(1, { type: 'closed', settlementIdHex: sid });
    expect(() => decodeHistoryLine(v2)).toThrow(/protocol-2/);
    expect(() => decodeHistoryLineV2(v1)).toThrow(/not a protocol-2/);
    expect(parseHistoryV2(`${v2}\n${v2.slice(0, 25)}`, 'h.jsonl')).toHaveLength(1);
    expect(() => parseHistoryV2(`${v1}\n${v2}\n`, 'h.jsonl')).toThrow(/h.jsonl:1: not a history line/);
  });

  it('the recorded ports append each bundle broadcast once and each leg call (unanswered: null outcomes), and pass everything on', async () => {
    const lines: string[] = [];
    const sent: string[] = [];
    const transport: TransportV2 = { broadcast: (m) => sent.push(`all:${m.kind}`), send: (to, m) => sent.push(`${to}:${m.kind}`) };
    const leg = (name: 'asset' | 'payment') =>
      ({
        leg: name,
        submitRoot: async () => ({ kind: 'stored' }),
        applyEntries: async () => [{ kind: 'applied' }],
        applyBatch: async () => {
          throw new Error('no answer within 5000 ms');
        },
      }) as unknown as LegsV2['asset'];
    const ports = recordedPortsV2({ append: (l) => lines.push(l), close: () => {} }, transport, { asset: leg('asset'), payment: leg('payment') });
    const b: Bundle = fc.sample(bundle, { numRuns: 1, seed: 1 })[0]!;
    const vote: MessageV2 = fc.sample(messageV2.filter((m) => m.kind === 'vote2'), { numRuns: 1, seed: 2 })[0]!;
    ports.transport.broadcast({ kind: 'bundle', bundle: b });
    ports.transport.broadcast(vote);
    ports.transport.send(2, { kind: 'bundle', bundle: b });
    const root = new Uint8Array(32).fill(1);
    expect(await ports.legs.payment.applyEntries(root, [])).toEqual([{ kind: 'applied' }]);
    const report = fc.sample(reportV2, { numRuns: 1, seed: 3 })[0]!;
    await expect(ports.legs.asset.applyBatch(report, [], { indices: [], count: 0, siblings: [] })).rejects.toThrow(/no answer/);
    expect(sent).toEqual(['all:bundle', 'all:vote2', '2:bundle']);
    expect(lines.map((l) => decodeHistoryLineV2(l).item.type)).toEqual(['bundle', 'leg2', 'leg2']);
    expect(decodeHistoryLineV2(lines[1]!).item).toEqual({ type: 'leg2', leg: 'payment', call: { op: 'entries', root, items: [], outcomes: [{ kind: 'applied' }] } });
    const lost = decodeHistoryLineV2(lines[2]!).item;
    if (lost.type !== 'leg2' || lost.call.op !== 'batch') throw new Error('expected the batch call');
    expect(lost.call.outcomes).toBeNull();
    expect(encodeReportV2(lost.call.report)).toEqual(encodeReportV2(report));
    expect(recordedPortsV2(null, transport, { asset: leg('asset'), payment: leg('payment') }).transport).toBe(transport);
  });
});
