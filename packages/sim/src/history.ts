import { sha256 } from '@noble/hashes/sha2.js';
import type { Decision, Message, Report } from '@tandem/protocol';
import { toHex } from '@tandem/protocol';
import type { NodeEvent } from '@tandem/node';

/** One entry of a run's history: virtual time, the node it concerns (0 = the world), and what happened. */
export type HistoryEntry =
  | { readonly t: number; readonly node: number; readonly type: 'node'; readonly event: NodeEvent }
  | { readonly t: number; readonly node: number; readonly type: 'crash' | 'restart' }
  | { readonly t: number; readonly node: 0; readonly type: 'intent'; readonly settlement: string; readonly settlementIdHex: string }
  | { readonly t: number; readonly node: 0; readonly type: 'fault'; readonly what: string; readonly phase: 'start' | 'end' }
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
    };

/** The settlement a wire message is about (hex id). */
export function messageSettlementHex(m: Message, idOfTerms: (t: Extract<Message, { kind: 'terms' }>['terms']) => Uint8Array): string {
  switch (m.kind) {
    case 'terms':
      return toHex(idOfTerms(m.terms));
    case 'observation':
      return toHex(m.observation.settlementId);
    case 'proposal':
      return toHex(m.proposal.settlementId);
    case 'vote':
      return toHex(m.vote.settlementId);
    case 'report':
      return toHex(m.report.settlementId);
  }
}

/** A compact, stable JSON rendering of a wire message (no signatures: they are deterministic anyway). */
export function summarizeMessage(m: Message): Record<string, unknown> {
  switch (m.kind) {
    case 'terms':
      return { kind: 'terms', nonce: m.terms.nonce };
    case 'observation': {
      const o = m.observation;
      return { kind: 'obs', signer: o.signer, deadline: o.deadline, asset: o.asset.state, payment: o.payment.state };
    }
    case 'proposal': {
      const p = m.proposal;
      return { kind: 'proposal', round: p.round, proposer: p.proposer, value: p.value, validRound: p.validRound, evidence: p.evidence.length };
    }
    case 'vote': {
      const v = m.vote;
      return { kind: v.step, round: v.round, voter: v.voter, value: v.value };
    }
    case 'report':
      return { kind: 'report', ...summarizeReport(m.report) };
  }
}

export function summarizeReport(r: Report): { decision: Decision; round: number; signature: string } {
  return { decision: r.decision, round: r.round, signature: toHex(r.signature) };
}

/** The JSON line of an entry: stable key order, hex for bytes, strings for bigints. */
export function historyLine(e: HistoryEntry): string {
  if (e.type === 'msg') return JSON.stringify({ ...e, settlementIdHex: undefined, s: short(e.settlementIdHex) });
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
