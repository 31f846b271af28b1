import type { NodeEvent, NodeEventV2 } from '@tandem/node';
import { eventLevel, summarizeMessage, summarizeReport } from '@tandem/node';
import { type MessageV2, toHex } from '@tandem/protocol';

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

/** A v2 message in a log line: its kind, height and round, and who signed it (no bytes). */
function summarizeMessageV2(m: MessageV2): Record<string, unknown> {
  switch (m.kind) {
    case 'bundle':
      return { kind: 'bundle', signer: m.bundle.header.signer, timeMs: m.bundle.header.timeMs, count: m.bundle.header.count };
    case 'proposal2':
      return { kind: 'proposal', height: m.proposal.height, round: m.proposal.round, proposer: m.proposal.proposer, validRound: m.proposal.validRound, entries: m.proposal.entries.length };
    case 'vote2':
      return { kind: m.vote.step, height: m.vote.height, round: m.vote.round, voter: m.vote.voter, header: m.vote.headerDigest === null ? null : toHex(m.vote.headerDigest).slice(0, 16) };
    case 'decided':
      return { kind: 'decided', height: m.batch.report.height, count: m.batch.report.count };
    case 'catch-up':
      return { kind: 'catch-up', fromHeight: m.fromHeight, count: m.count };
  }
}

/**
 * A protocol-2 node's log line: one per event, `settlement` (16 hex digits) when the event is
 * about one, signed messages summarised, a decided height with its size and root (not its entries).
 */
export function logLineV2(node: string, e: NodeEventV2, nowMs: number): string {
  const base = { t: new Date(nowMs).toISOString(), level: eventLevel(e), node, event: e.type };
  switch (e.type) {
    case 'signed':
      return JSON.stringify({ ...base, ...summarizeMessageV2(e.message) });
    case 'decided-height':
      return JSON.stringify({ ...base, height: e.height, round: e.round, count: e.header.count, root: toHex(e.header.root), timeMs: e.header.timeMs, liveFrom: e.header.liveFrom });
    case 'evidence':
      return JSON.stringify({ ...base, height: e.height, ...e.misbehaviour });
    default: {
      const { type: _type, settlementIdHex, ...rest } = e as NodeEventV2 & { settlementIdHex?: string | null } & Record<string, unknown>;
      return JSON.stringify({ ...base, ...(typeof settlementIdHex === 'string' ? { settlement: settlementIdHex.slice(0, 16) } : {}), ...rest });
    }
  }
}
