import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { message } from '../../protocol/test/arbitraries.js';
import { encodeMessage, encodeReport } from '@tandem/protocol';
import type { NodeEvent } from '@tandem/node';
import { decodeHistoryLine, encodeHistoryLine, parseHistory } from '../src/history.js';

const sid = 'ab'.repeat(32);
const report = {
  networkId: new Uint8Array(32).fill(1),
  configDigest: new Uint8Array(32).fill(2),
  settlementId: new Uint8Array(32).fill(0xab),
  decision: 'COMMIT' as const,
  round: 1,
  validUntilMs: 1_700_000_000_000,
  signature: new Uint8Array(48).fill(3),
};

describe('node history lines', () => {
  it('round-trips a decided report byte for byte', () => {
    const e: NodeEvent = { type: 'decided', settlementIdHex: sid, report };
    const back = decodeHistoryLine(encodeHistoryLine(42, e));
    expect(back.tMs).toBe(42);
    expect(back.event.type).toBe('decided');
    if (back.event.type !== 'decided') throw new Error('unreachable');
    expect(encodeReport(back.event.report)).toEqual(encodeReport(report));
  });

  it('round-trips plain events', () => {
    const events: NodeEvent[] = [
      { type: 'intent', settlementIdHex: sid, nonce: 's1' },
      { type: 'prepare', settlementIdHex: sid, leg: 'asset', outcome: 'locked' },
      { type: 'round', settlementIdHex: sid, round: 2 },
      { type: 'closed', settlementIdHex: sid },
    ];
    for (const e of events) expect(decodeHistoryLine(encodeHistoryLine(7, e)).event).toEqual(e);
  });

  it('skips a torn last line but names a malformed line elsewhere', () => {
    const good = encodeHistoryLine(1, { type: 'closed', settlementIdHex: sid });
    expect(parseHistory(`${good}\n${good.slice(0, 20)}`, 'h.jsonl')).toHaveLength(1);
    expect(() => parseHistory(`${good.slice(0, 20)}\n${good}\n`, 'h.jsonl')).toThrow(/h.jsonl:1: not a history line/);
    expect(parseHistory('', 'h.jsonl')).toEqual([]);
  });

  it('a signed message keeps its wire bytes (any message)', () => {
    fc.assert(
      fc.property(message, fc.maxSafeNat(), (m, tMs) => {
        const back = decodeHistoryLine(encodeHistoryLine(tMs, { type: 'signed', settlementIdHex: sid, message: m }));
        if (back.event.type !== 'signed') throw new Error(`decoded a ${back.event.type}`);
        expect(back.tMs).toBe(tMs);
        expect(encodeMessage(back.event.message)).toEqual(encodeMessage(m));
      }),
      { numRuns: 50 },
    );
  });
});
