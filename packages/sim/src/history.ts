import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '@tandem/protocol';
import { type NodeEvent, summarizeMessage, summarizeReport } from '@tandem/node';
import type { Fault } from './scenario.js';
import { type HistoryEntryV2, historyLineV2 } from './history-v2.js';
export { messageSettlementHex, summarizeMessage, summarizeReport } from '@tandem/node';

/** One entry of a run's history: virtual time, the node it concerns (0 = the world), and what happened. */
export type HistoryEntry =
  | { readonly t: number; readonly node: number; readonly type: 'node'; readonly event: NodeEvent }
  | { readonly t: number; readonly node: number; readonly type: 'crash' | 'restart' }
  | { readonly t: number; readonly node: 0; readonly type: 'intent'; readonly settlement: string; readonly settlementIdHex: string }
  /**
   * Real processes only (the cluster runner, the kill test): the intent handed out at the entry
   * above got no answer from `node` (its control API refused the connection or died mid-request:
   * the node was being killed). It may or may not have taken it; the admission check excuses it.
   */
  | { readonly t: number; readonly node: number; readonly type: 'intent-undelivered'; readonly settlementIdHex: string }
  /**
   * A fault starts or ends (describeFault puts it in words). A one-off fault has only a start: a
   * reorg, or a late authorization going out (its late-lock leg fault); `detail` says what it did.
   */
  | { readonly t: number; readonly node: 0; readonly type: 'fault'; readonly fault: Fault; readonly phase: 'start' | 'end'; readonly detail?: string }
  | { readonly t: number; readonly node: 0; readonly type: 'reclaim'; readonly settlement: string; readonly leg: string; readonly outcome: string }
  /**
   * A node-to-node message: sent by `node` at `t` to `to`. `deliverAtMs` is when it arrives, or
   * null when the network lost it (`lost` says why). A message that reaches a node that is down
   * then gets a second entry with `lost: 'receiver down'` at its arrival time.
   */
  | {
      readonly t: number;
      readonly node: number;
      readonly type: 'msg';
      readonly to: number;
      readonly settlementIdHex: string;
      readonly message: Record<string, unknown>;
      readonly deliverAtMs: number | null;
      readonly lost: 'partition' | 'loss' | 'receiver down' | null;
    }
  /** Protocol v2 runs only (history-v2.ts). */
  | HistoryEntryV2;

/** The JSON line of an entry: stable key order, hex for bytes, strings for bigints. */
export function historyLine(e: HistoryEntry): string {
  if (e.type === 'msg') return JSON.stringify({ ...e, settlementIdHex: undefined, s: short(e.settlementIdHex) });
  if (e.type === 'node2' || e.type === 'bundle' || e.type === 'leg2') return historyLineV2(e);
  if (e.type !== 'node') return JSON.stringify(e);
  const ev = e.event;
  let body: Record<string, unknown>;
  switch (ev.type) {
    case 'signed':
      body = { type: 'signed', s: short(ev.settlementIdHex), ...summarizeMessage(ev.message) };
      break;
    case 'decided':
      body = { type: 'decided', s: short(ev.settlementIdHex), ...summarizeReport(ev.report) };
      break;
    case 'evidence':
      body = { type: 'evidence', s: short(ev.settlementIdHex), ...ev.misbehaviour };
      break;
    default:
      body = { ...ev, settlementIdHex: undefined, s: short(ev.settlementIdHex) };
  }
  return JSON.stringify({ t: e.t, node: e.node, ...body });
}

function short(hex: string): string {
  return hex.slice(0, 16);
}

/** Incremental SHA-256 over the history's JSON lines: the run's fingerprint. */
export class HistoryHasher {
  private readonly h = sha256.create();
  private readonly enc = new TextEncoder();

  add(line: string): void {
    this.h.update(this.enc.encode(line + '\n'));
  }

  digestHex(): string {
    return toHex(this.h.digest());
  }
}
