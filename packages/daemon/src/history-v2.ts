/**
 * A protocol-2 node's history file: what the simulator's v2 checker reads of a node (history-v2.ts
 * in packages/sim), one JSON line each, in the order they happened at the node:
 *
 *   {"tMs": …, "protocol": 2, "type": "node2", "event": { … }}       a NodeEventV2 (the node's clock
 *                                                                   is the system clock: clockMs = tMs);
 *                                                                   a signed message as {"$hex": encodeMessageV2}
 *   {"tMs": …, "protocol": 2, "type": "bundle", "message": {"$hex": "<encodeMessageV2 of the bundle>"}}
 *                                                                   every bundle the node broadcast, signed, as sent
 *   {"tMs": …, "protocol": 2, "type": "leg2", "leg": "asset", "call": { "op": "root" | "entries" | "batch", … }}
 *                                                                   every v2 leg call the node made, with the leg's
 *                                                                   answer (null outcomes: it threw, no answer; the
 *                                                                   leg may have applied it): reports as {"$hex": encodeReportV2},
 *                                                                   entries as {"$hex": encodeEntry}, proofs and
 *                                                                   outcomes as their fields
 *
 * Bytes are {"$hex"} and bigints {"$big"} (json.ts). Nothing here is secret: NodeEventV2 never
 * carries key material, bundles and reports are what went on the wire or to the legs. Lines are
 * appended as history.ts's (one write each; a torn last line is skipped by the reader).
 */
import { type Bundle, type Entry, type LegName, type MessageV2, type ReportV2, decodeEntry, decodeMessageV2, decodeReportV2, encodeEntry, encodeMessageV2, encodeReportV2 } from '@tandem/protocol';
import { type LegCallV2, type LegsV2, type NodeEventV2, type TransportV2, recordingLegsV2 } from '@tandem/node';
import { type HistoryLines, parseLines } from './history.js';
import { fromJson, toJson } from './json.js';

/** One v2 history line as the simulator's history entry reads it, minus the run's time and node index. */
export type HistoryItemV2 =
  | { readonly type: 'node2'; readonly clockMs: number; readonly event: NodeEventV2 }
  | { readonly type: 'bundle'; readonly bundle: Bundle }
  | { readonly type: 'leg2'; readonly leg: LegName; readonly call: LegCallV2 };

export interface TimedItemV2 {
  /** Wall-clock time of the line, ms since the epoch. */
  readonly tMs: number;
  readonly item: HistoryItemV2;
}

export function encodeHistoryLineV2(tMs: number, e: NodeEventV2): string {
  return toJson({ tMs, protocol: 2, type: 'node2', event: e.type === 'signed' ? { ...e, message: encodeMessageV2(e.message) } : e });
}

export function encodeBundleLine(tMs: number, bundle: Bundle): string {
  return toJson({ tMs, protocol: 2, type: 'bundle', message: encodeMessageV2({ kind: 'bundle', bundle }) });
}

export function encodeLegCallLine(tMs: number, leg: LegName, call: LegCallV2): string {
  return toJson({ tMs, protocol: 2, type: 'leg2', leg, call: encodeCall(call) });
}

function encodeCall(c: LegCallV2): Record<string, unknown> {
  switch (c.op) {
    case 'root':
      return { ...c, report: encodeReportV2(c.report) };
    case 'entries':
      return { ...c, items: c.items.map((i) => ({ entry: encodeEntry(i.entry), proof: i.proof })) };
    case 'batch':
      return { ...c, report: encodeReportV2(c.report), entries: c.entries.map(encodeEntry) };
  }
}

/** The call's fields as written, its report and entries decoded (the rest is JSON already). */
function decodeCall(c: Record<string, unknown>): LegCallV2 {
  let call: Record<string, unknown>;
  switch (c['op']) {
    case 'root':
      call = { ...c, report: decodeReportV2(c['report'] as Uint8Array) };
      break;
    case 'entries':
      call = { ...c, items: (c['items'] as { entry: Uint8Array; proof: unknown }[]).map((i) => ({ entry: decodeEntry(i.entry), proof: i.proof })) };
      break;
    case 'batch':
      call = { ...c, report: decodeReportV2(c['report'] as Uint8Array), entries: (c['entries'] as Uint8Array[]).map((b): Entry => decodeEntry(b)) };
      break;
    default:
      throw new Error(`leg call op ${JSON.stringify(c['op'])}`);
  }
  return call as unknown as LegCallV2;
}

function decodeMessageLine(bytes: unknown): MessageV2 {
  if (!(bytes instanceof Uint8Array)) throw new Error('message: expected {"$hex"}');
  return decodeMessageV2(bytes);
}

/** Decodes one v2 line; throws on anything malformed (or a protocol-1 line). */
export function decodeHistoryLineV2(line: string): TimedItemV2 {
  const o = fromJson<Record<string, unknown>>(line);
  if (o === null || typeof o !== 'object' || typeof o['tMs'] !== 'number' || o['protocol'] !== 2) throw new Error('not a protocol-2 history line');
  const tMs = o['tMs'];
  switch (o['type']) {
    case 'node2': {
      const e = o['event'] as Record<string, unknown> & { type: unknown };
      if (e === null || typeof e !== 'object' || typeof e.type !== 'string') throw new Error('event: expected an object with a type');
      const event = (e.type === 'signed' ? { ...e, message: decodeMessageLine(e['message']) } : e) as unknown as NodeEventV2;
      return { tMs, item: { type: 'node2', clockMs: tMs, event } };
    }
    case 'bundle': {
      const m = decodeMessageLine(o['message']);
      if (m.kind !== 'bundle') throw new Error(`bundle line holds a ${m.kind} message`);
      return { tMs, item: { type: 'bundle', bundle: m.bundle } };
    }
    case 'leg2': {
      const leg = o['leg'];
      if (leg !== 'asset' && leg !== 'payment') throw new Error(`leg ${JSON.stringify(leg)}`);
      return { tMs, item: { type: 'leg2', leg, call: decodeCall(o['call'] as Record<string, unknown>) } };
    }
    default:
      throw new Error(`type ${JSON.stringify(o['type'])}`);
  }
}

/**
 * The runtime's transport and legs with what the history keeps of them: each bundle broadcast
 * (once, whatever the number of peers) and each v2 leg call (answered or not), appended to `history` at
 * the wall-clock time it happened. Without a history file, the ports as they are.
 */
export function recordedPortsV2(history: HistoryLines | null | undefined, transport: TransportV2, legs: LegsV2): { transport: TransportV2; legs: LegsV2 } {
  if (history === null || history === undefined) return { transport, legs };
  return {
    transport: {
      broadcast: (m) => {
        if (m.kind === 'bundle') history.append(encodeBundleLine(Date.now(), m.bundle));
        transport.broadcast(m);
      },
      send: (to, m) => transport.send(to, m),
    },
    // Unanswered calls too: across processes a call whose answer was lost may have been applied.
    legs: recordingLegsV2(legs, (leg, call) => history.append(encodeLegCallLine(Date.now(), leg, call)), true),
  };
}

/** A protocol-2 history file's text: every whole line, in order (a torn last line skipped; see parseHistory). */
export function parseHistoryV2(text: string, file: string): TimedItemV2[] {
  return parseLines(text, file, decodeHistoryLineV2);
}
