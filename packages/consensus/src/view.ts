import { type Decision, type Message, type Report, type SignedProposal, type SignedVote, DECISIONS, encodeVoteBody, reportDigest } from '@tandem/protocol';
import { type NodeContext, proposerOf } from './context.js';
import { reportBodyFor } from './auth.js';
import type { EvidencePool } from './evidence.js';
import type { OwnMessages } from './own-messages.js';
import type { AlgorithmPorts, AlgorithmView } from './rules.js';
import type { VoteKeeper } from './votes.js';
import type { MachineWire } from './machine.js';
import type { Effect } from './types.js';

/**
 * v1 votes name their value by the decision (a member can sign at most three values: COMMIT,
 * ABORT, nil) and travel as `vote` and `proposal` messages.
 */
export const SETTLEMENT_WIRE: MachineWire<Decision, SignedVote, SignedProposal, Effect, Message> = {
  keeping: { keyOf: (v) => v.value, valuesPerVoterMax: 3 },
  voteMessage: (vote) => ({ kind: 'vote', vote }),
  proposalMessage: (proposal) => ({ kind: 'proposal', proposal }),
  voteBody: encodeVoteBody,
  asEffect: (e) => e,
};

/**
 * One instance as the rules of Algorithm 1 and the invariants see it: its variables at this moment
 * and the keeping they are decided from. The instance builds it and alone changes its state; the
 * rules only read (opening a round's record on first use, as the instance would).
 */
export interface InstanceView extends AlgorithmView<Decision, SignedVote, SignedProposal, Report> {
  readonly ctx: NodeContext;
  readonly settlementId: Uint8Array;
  readonly validUntilMs: number;
  readonly report: Report | null;
  /** The report's signature was verified where the decision was taken (never once per step). */
  readonly reportVerified: boolean;
  readonly evidence: EvidencePool;
  readonly votes: VoteKeeper<SignedVote, SignedProposal>;
  readonly own: OwnMessages<SignedProposal, SignedVote>;
}

/** The parts of the view that differ between protocol versions. */
export type SettlementPorts = AlgorithmPorts<Decision, SignedVote, SignedProposal, Report>;

/**
 * v1's answers to the rules: valid(v) from the evidence pool, a proposer rotation per settlement,
 * getValue() COMMIT if valid else ABORT if valid, values checked in DECISIONS order, no filter.
 */
export function settlementPorts(ctx: NodeContext, settlementId: Uint8Array, validUntilMs: number, evidence: EvidencePool, own: OwnMessages<SignedProposal, SignedVote>): SettlementPorts {
  return {
    canStart: () => evidence.isValid('COMMIT') || evidence.isValid('ABORT'),
    mayPropose: (round) => ctx.self === proposerOf(settlementId, round, ctx.n) && own.proposal(round) === undefined,
    getValue: () => (evidence.isValid('COMMIT') ? 'COMMIT' : evidence.isValid('ABORT') ? 'ABORT' : null),
    proposalOf: (p) => p,
    isValid: (v) => evidence.isValid(v),
    freshAllowed: () => true,
    candidates: () => DECISIONS,
    combine: (round, v, partials) => {
      const body = reportBodyFor(ctx, settlementId, validUntilMs, v, round);
      const out = ctx.verifier.combine(ctx.cluster.commitments, reportDigest(body), partials, ctx.q);
      return out.ok ? { ok: true, report: { ...body, signature: out.signature } } : { ok: false, bad: out.bad };
    },
  };
}
