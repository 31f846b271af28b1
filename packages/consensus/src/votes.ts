import type { SignedProposal, SignedVote, VoteStep, VoteValue } from '@tandem/protocol';

function key(value: VoteValue): string {
  return value ?? 'nil';
}

/**
 * One step's votes in one round. Every distinct value a member signed is kept (at most three:
 * COMMIT, ABORT, nil), not only its first vote: a polka is "q members signed a prevote for v", and
 * counting an equivocator for each value it signed is safe — two polkas for different values
 * would need q + q - n ≥ f + 1 common signers, so at least one correct member would have
 * equivocated. Keeping only first votes instead lets an equivocator hide a valid proof of lock
 * from some correct nodes and stall rounds.
 */
export class VoteSet {
  private readonly byVoter = new Map<number, Map<string, SignedVote>>();

  /** Distinct members with at least one vote here. */
  get voters(): number {
    return this.byVoter.size;
  }

  get(voter: number, value: VoteValue): SignedVote | undefined {
    return this.byVoter.get(voter)?.get(key(value));
  }

  /** A vote this member already cast here, for any value (for equivocation reports). */
  anyOf(voter: number): SignedVote | undefined {
    const m = this.byVoter.get(voter);
    return m === undefined ? undefined : m.values().next().value;
  }

  /** Adds an authenticated vote; 'conflict' when the member had signed another value here. */
  add(v: SignedVote): 'new' | 'duplicate' | 'conflict' {
    let m = this.byVoter.get(v.voter);
    if (m === undefined) this.byVoter.set(v.voter, (m = new Map()));
    if (m.has(key(v.value))) return 'duplicate';
    const conflict = m.size > 0;
    m.set(key(v.value), v);
    return conflict ? 'conflict' : 'new';
  }

  count(value: VoteValue): number {
    let c = 0;
    for (const m of this.byVoter.values()) if (m.has(key(value))) c++;
    return c;
  }

  /** The votes for `value`, one per member, by member index. */
  votesFor(value: VoteValue): SignedVote[] {
    const out: SignedVote[] = [];
    for (const m of this.byVoter.values()) {
      const v = m.get(key(value));
      if (v !== undefined) out.push(v);
    }
    return out.sort((a, b) => a.voter - b.voter);
  }
}

/**
 * What one round brought in: its votes, its proposal, the members heard from in it, and the flags
 * of Algorithm 1's "for the first time" rules (L34, L36, L47), which fire once per round.
 */
export interface RoundVotes {
  readonly prevotes: VoteSet;
  readonly precommits: VoteSet;
  proposal: SignedProposal | null;
  /** Members from which some message of this round was received (the f+1 round-skip rule, L55). */
  readonly senders: Set<number>;
  /** Members whose precommit partial failed a combine: excluded from later combines. */
  readonly badPartials: Set<number>;
  prevoteTimeoutScheduled: boolean;
  precommitTimeoutScheduled: boolean;
  polkaHandled: boolean;
}

function newRound(): RoundVotes {
  return {
    prevotes: new VoteSet(),
    precommits: new VoteSet(),
    proposal: null,
    senders: new Set(),
    badPartials: new Set(),
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    polkaHandled: false,
  };
}

/**
 * The votes of one settlement, round by round. Rounds are kept in the order first seen, and that
 * order matters: the decide rule scans them in it. Callers bound the rounds they open (votes and
 * proposals beyond the round window are dropped before they get here).
 */
export class VoteKeeper {
  private readonly rounds = new Map<number, RoundVotes>();

  /** The record of `round`, opened on first use. */
  at(round: number): RoundVotes {
    let rv = this.rounds.get(round);
    if (rv === undefined) {
      rv = newRound();
      this.rounds.set(round, rv);
    }
    return rv;
  }

  /** Every round opened so far, in the order first seen. */
  all(): IterableIterator<[number, RoundVotes]> {
    return this.rounds.entries();
  }

  /** The prevotes or precommits of `round`. */
  setOf(round: number, step: VoteStep): VoteSet {
    const rv = this.at(round);
    return step === 'prevote' ? rv.prevotes : rv.precommits;
  }

  /** Records an already-authenticated vote (own votes, a persisted polka). */
  record(v: SignedVote): void {
    this.setOf(v.round, v.step).add(v);
  }

  noteSender(round: number, member: number): void {
    this.at(round).senders.add(member);
  }
}
