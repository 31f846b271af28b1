import type { Decision, Message, Report } from '@tandem/protocol';
import { toHex } from '@tandem/protocol';

/**
 * Compact, stable renderings of wire messages for histories and logs: no signatures or other
 * bytes beyond what a reader needs (and never key material).
 */
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

