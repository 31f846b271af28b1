import type { SignedVote, VoteValue } from '@tandem/protocol';

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
