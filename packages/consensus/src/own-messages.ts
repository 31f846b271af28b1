import { type SignedProposal, type SignedVote, type VoteStep, assert, equalBytes } from '@tandem/protocol';
import { proposerOf } from './context.js';

function voteKey(round: number, step: VoteStep): string {
  return `${round}:${step}`;
}

/**
 * What this node signed in one settlement: at most one proposal per round and one vote per
 * (round, step), never replaced, also across restarts (they are persisted and restored). That is
 * the slashing protection: a node re-sends what it signed and never signs anything conflicting.
 */
export class OwnMessages {
  private readonly proposals = new Map<number, SignedProposal>();
  private readonly votes = new Map<string, SignedVote>();

  proposal(round: number): SignedProposal | undefined {
    return this.proposals.get(round);
  }

  vote(round: number, step: VoteStep): SignedVote | undefined {
    return this.votes.get(voteKey(round, step));
  }

  addProposal(p: SignedProposal): void {
    assert(!this.proposals.has(p.round), 'one signed proposal per round');
    this.proposals.set(p.round, p);
  }

  addVote(v: SignedVote): void {
    assert(!this.votes.has(voteKey(v.round, v.step)), 'one signed vote per (round, step)');
    this.votes.set(voteKey(v.round, v.step), v);
  }

  /** In signing order (the persisted record keeps it). */
  allProposals(): SignedProposal[] {
    return [...this.proposals.values()];
  }

  /** In signing order (the persisted record keeps it). */
  allVotes(): SignedVote[] {
    return [...this.votes.values()];
  }

  /** Each message sits under its own key, is this node's and is about this settlement. */
  assertConsistent(self: number, n: number, settlementId: Uint8Array): void {
    for (const [round, p] of this.proposals) {
      assert(p.round === round, 'a signed proposal sits under its round');
      assert(p.proposer === self && proposerOf(settlementId, round, n) === self, 'a signed proposal is ours, in a round we propose');
      assert(equalBytes(p.settlementId, settlementId), 'a signed proposal is about this settlement');
    }
    for (const [key, v] of this.votes) {
      assert(voteKey(v.round, v.step) === key, 'a signed vote sits under its (round, step)');
      assert(v.voter === self, 'a signed vote is ours');
      assert((v.partial !== null) === (v.step === 'precommit' && v.value !== null), 'a partial signature rides on a precommit for a value, and only there');
      assert(equalBytes(v.settlementId, settlementId), 'a signed vote is about this settlement');
    }
  }
}
