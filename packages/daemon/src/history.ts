/**
 * A node's full-fidelity event history, one JSON line per NodeEvent, for cluster-mode scenarios:
 * the runner collects every node's file and hands the events to the same checker the simulator
 * uses. Unlike the log (summaries for people), a line keeps what the checker re-verifies: signed
 * messages and reports as their canonical wire bytes. Nothing here is secret (NodeEvent never
 * carries key material).
 *
 *   {"tMs": 1732490000123, "event": { "type": "signed", "settlementIdHex": "…", "message": {"$hex": "<encodeMessage>"} } }
 *   {"tMs": …, "event": { "type": "decided", "settlementIdHex": "…", "report": {"$hex": "<encodeReport>"} } }
 *   other events: their fields, bytes as {"$hex"} and bigints as {"$big"} (json.ts)
 *
 * A protocol-2 node writes the v2 lines of history-v2.ts (each with "protocol": 2) to the same
 * kind of file; this reader refuses them, parseHistoryV2 reads them.
 *
 * Lines are appended with one write each (O_APPEND): a SIGKILLed node leaves whole lines behind, at
 * worst a torn last one, which the reader skips.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { decodeMessage, decodeReport, encodeMessage, encodeReport } from '@tandem/protocol';
import type { NodeEvent } from '@tandem/node';
import { fromJson, toJson } from './json.js';

export interface TimedEvent {
  /** Wall-clock time of the event, ms since the epoch. */
  readonly tMs: number;
  readonly event: NodeEvent;
}

export function encodeHistoryLine(tMs: number, e: NodeEvent): string {
  let event: Record<string, unknown>;
  switch (e.type) {
    case 'signed':
      event = { ...e, message: encodeMessage(e.message) };
      break;
    case 'decided':
      event = { ...e, report: encodeReport(e.report) };
      break;
    default:
      event = { ...e };
  }
  return toJson({ tMs, event });
}

/** Decodes one line; throws on anything malformed (the caller decides whether to skip it). */
export function decodeHistoryLine(line: string): TimedEvent {
  const o = fromJson<{ tMs: unknown; protocol?: unknown; event: Record<string, unknown> & { type: unknown } }>(line);
  if (o.protocol !== undefined) throw new Error(`a protocol-${String(o.protocol)} line (history-v2.ts reads protocol 2)`);
  if (typeof o.tMs !== 'number' || o.event === null || typeof o.event !== 'object' || typeof o.event.type !== 'string') throw new Error('not a history line');
  const e = o.event;
  if (e.type === 'signed') return { tMs: o.tMs, event: { ...e, message: decodeMessage(e['message'] as Uint8Array) } as NodeEvent };
  if (e.type === 'decided') return { tMs: o.tMs, event: { ...e, report: decodeReport(e['report'] as Uint8Array) } as NodeEvent };
  return { tMs: o.tMs, event: e as unknown as NodeEvent };
}

/**
 * Reads a history file's text: every whole, well-formed line, in order. A torn last line (the
 * process was killed mid-write) is skipped; a malformed line elsewhere is an error naming it.
 */
export function parseHistory(text: string, file: string): TimedEvent[] {
  return parseLines(text, file, decodeHistoryLine);
}

/** `parseHistory` with any line decoder (protocol 2: history-v2.ts). */
export function parseLines<T>(text: string, file: string, decode: (line: string) => T): T[] {
  const lines = text.split('\n');
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    try {
      out.push(decode(line));
    } catch (e) {
      const last = i === lines.length - 1; // no newline after it: a torn write
      if (!last) throw new Error(`${file}:${i + 1}: not a history line (${(e as Error).message})`);
    }
  }
  return out;
}

export interface HistoryWriter {
  write(tMs: number, e: NodeEvent): void;
  close(): void;
}

/** A history file opened for appending whole lines (created if missing, mode 0600). */
export interface HistoryLines {
  append(line: string): void;
  close(): void;
}

export function openHistoryLines(file: string): HistoryLines {
  const fd = openSync(file, 'a', 0o600);
  let open = true;
  return {
    append: (line) => {
      if (open) writeSync(fd, line + '\n');
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Appends each event as one line to `file` (created if missing, mode 0600). */
export function openHistory(file: string): HistoryWriter {
  const lines = openHistoryLines(file);
  return { write: (tMs, e) => lines.append(encodeHistoryLine(tMs, e)), close: () => lines.close() };
}
