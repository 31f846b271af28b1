import { type VoteStep, assert } from '@tandem/protocol';

function voteKey(round: number, step: VoteStep): string {
  return `${round}:${step}`;
}

/**
 * What this node signed in one instance (a settlement in v1, a height in v2): at most one proposal
 * per round and one vote per (round, step), never replaced, also across restarts (they are
 * persisted and restored). That is the slashing protection: a node re-sends what it signed and
 * never signs anything conflicting.
 */
export class OwnMessages<P extends { readonly round: number }, V extends { readonly round: number; readonly step: VoteStep }> {
  private readonly proposals = new Map<number, P>();
  private readonly votes = new Map<string, V>();

  proposal(round: number): P | undefined {
    return this.proposals.get(round);
  }

  vote(round: number, step: VoteStep): V | undefined {
    return this.votes.get(voteKey(round, step));
  }

  addProposal(p: P): void {
    assert(!this.proposals.has(p.round), 'one signed proposal per round');
    this.proposals.set(p.round, p);
  }

  addVote(v: V): void {
    assert(!this.votes.has(voteKey(v.round, v.step)), 'one signed vote per (round, step)');
    this.votes.set(voteKey(v.round, v.step), v);
  }

  /**
   * What a resend re-broadcasts: this node's proposal, prevote and precommit of `round`, and its
   * precommit of the previous round. The last one is beyond the resends docs/protocol.md's
   * Delivery lists first (reading 14), but without it a lost precommit can deadlock: a node that
   * moved on stops resending round r, while a node left in round r waits forever for the q
   * precommits that would start its precommit timeout, and fewer than f+1 nodes ahead cannot pull
   * it forward (found by explore, seed 625 of explore-lock-race; docs/protocol.md, reading 14).
   */
  resendable(round: number): { readonly proposal: P | undefined; readonly votes: V[] } {
    const votes: V[] = [];
    if (round < 0) return { proposal: undefined, votes };
    for (const step of ['prevote', 'precommit'] as const) {
      const v = this.vote(round, step);
      if (v) votes.push(v);
    }
    const previous = round > 0 ? this.vote(round - 1, 'precommit') : undefined;
    if (previous) votes.push(previous);
    return { proposal: this.proposal(round), votes };
  }

  /** In signing order (the persisted record keeps it). */
  allProposals(): P[] {
    return [...this.proposals.values()];
  }

  /** In signing order (the persisted record keeps it). */
  allVotes(): V[] {
    return [...this.votes.values()];
  }

  /** Each message sits under its own key; the checks assert what else holds of each (per version). */
  assertConsistent(checkProposal: (p: P) => void, checkVote: (v: V) => void): void {
    for (const [round, p] of this.proposals) {
      assert(p.round === round, 'a signed proposal sits under its round');
      checkProposal(p);
    }
    for (const [key, v] of this.votes) {
      assert(voteKey(v.round, v.step) === key, 'a signed vote sits under its (round, step)');
      checkVote(v);
    }
  }
}
