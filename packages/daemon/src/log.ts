import type { NodeEvent } from '@tandem/node';
import { eventLevel, summarizeMessage, summarizeReport } from '@tandem/node';

/**
 * Structured JSON logs, one line per event. Built from NodeEvents, which carry no key material;
 * messages are summarised (kind, round, value), reports by decision, round and public signature.
 * `level` is "error" for what needs an operator (a stuck or split settlement), else "info".
 */
export function logLine(node: string, e: NodeEvent, nowMs: number): string {
  const base = { t: new Date(nowMs).toISOString(), level: eventLevel(e), node, event: e.type, settlement: e.settlementIdHex.slice(0, 16) };
  switch (e.type) {
    case 'signed':
      return JSON.stringify({ ...base, ...summarizeMessage(e.message) });
    case 'decided':
      return JSON.stringify({ ...base, ...summarizeReport(e.report) });
    case 'evidence':
      return JSON.stringify({ ...base, ...e.misbehaviour });
    default: {
      const { settlementIdHex: _omit, type: _type, ...rest } = e as NodeEvent & Record<string, unknown>;
      return JSON.stringify({ ...base, ...rest });
    }
  }
}
