import type { VoteStep } from '@tandem/protocol';

/**
 * What the keeping of votes needs of a signed vote, in either protocol version. A vote names its
 * value by a key: v1 the decision, v2 the batch header digest in hex; null is nil.
 */
export interface VoteLike {
  readonly voter: number;
  readonly round: number;
  readonly step: VoteStep;
  /** The BLS partial a precommit for a value carries (null otherwise). */
  readonly partial: Uint8Array | null;
}

/** A value's key in the keeping: the decision (v1) or the header digest in hex (v2); null is nil. */
export type ValueKey = string | null;

function key(value: ValueKey): string {
  return value ?? 'nil';
}

/** How votes of one protocol version are kept: the value key of a vote, and a bound per member. */
export interface VoteKeeping<Vt extends VoteLike> {
  readonly keyOf: (v: Vt) => ValueKey;
  /**
   * Distinct values kept per member and step in a round. v1 has three values at most (COMMIT,
   * ABORT, nil); v2 values are headers, so a Byzantine member could sign without end: past the
   * bound its further values are reported as conflicts and not kept.
   */
  readonly valuesPerVoterMax: number;
}

/**
 * One step's votes in one round. Every distinct value a member signed is kept (up to the bound),
 * not only its first vote: a polka is "q members signed a prevote for v", and counting an
 * equivocator for each value it signed is safe — two polkas for different values would need
 * q + q - n ≥ f + 1 common signers, so at least one correct member would have equivocated. Keeping
 * only first votes instead lets an equivocator hide a valid proof of lock from some correct nodes
 * and stall rounds.
 */
export class VoteSet<Vt extends VoteLike> {
  private readonly byVoter = new Map<number, Map<string, Vt>>();

  constructor(private readonly keeping: VoteKeeping<Vt>) {}

  /** Distinct members with at least one vote here. */
  get voters(): number {
    return this.byVoter.size;
  }

  get(voter: number, value: ValueKey): Vt | undefined {
    return this.byVoter.get(voter)?.get(key(value));
  }

  /** A vote this member already cast here, for any value (for equivocation reports). */
  anyOf(voter: number): Vt | undefined {
    const m = this.byVoter.get(voter);
    return m === undefined ? undefined : m.values().next().value;
  }

  /**
   * Adds an authenticated vote; 'conflict' when the member had signed another value here. `force`
   * keeps it past the per-member bound: votes of a proof of lock, bounded by the proposals taken.
   */
  add(v: Vt, force = false): 'new' | 'duplicate' | 'conflict' {
    let m = this.byVoter.get(v.voter);
    if (m === undefined) this.byVoter.set(v.voter, (m = new Map()));
    const k = key(this.keeping.keyOf(v));
    if (m.has(k)) return 'duplicate';
    const conflict = m.size > 0;
    if (!force && m.size >= this.keeping.valuesPerVoterMax) return 'conflict';
    m.set(k, v);
    return conflict ? 'conflict' : 'new';
  }

  count(value: ValueKey): number {
    let c = 0;
    for (const m of this.byVoter.values()) if (m.has(key(value))) c++;
    return c;
  }

  /** The votes for `value`, one per member, by member index. */
  votesFor(value: ValueKey): Vt[] {
    const out: Vt[] = [];
    for (const m of this.byVoter.values()) {
      const v = m.get(key(value));
      if (v !== undefined) out.push(v);
    }
    return out.sort((a, b) => a.voter - b.voter);
  }

  /** The non-nil values voted for here, each once, in ascending key order. */
  values(): string[] {
    const out = new Set<string>();
    for (const m of this.byVoter.values()) for (const v of m.values()) {
      const k = this.keeping.keyOf(v);
      if (k !== null) out.add(k);
    }
    return [...out].sort();
  }
}

/**
 * What one round brought in: its votes, its proposal, the members heard from in it, and the flags
 * of Algorithm 1's "for the first time" rules (L34, L36, L47), which fire once per round.
 */
export interface RoundVotes<Vt extends VoteLike, Pr> {
  readonly prevotes: VoteSet<Vt>;
  readonly precommits: VoteSet<Vt>;
  proposal: Pr | null;
  /** Members from which some message of this round was received (the f+1 round-skip rule, L55). */
  readonly senders: Set<number>;
  /** Members whose precommit partial failed a combine: excluded from later combines. */
  readonly badPartials: Set<number>;
  prevoteTimeoutScheduled: boolean;
  precommitTimeoutScheduled: boolean;
  polkaHandled: boolean;
}

/**
 * The votes of one instance (a settlement in v1, a height in v2), round by round. Rounds are kept
 * in the order first seen, and that order matters: the decide rule scans them in it. Callers bound
 * the rounds they open (votes and proposals beyond the round window are dropped before they get here).
 */
export class VoteKeeper<Vt extends VoteLike, Pr> {
  private readonly rounds = new Map<number, RoundVotes<Vt, Pr>>();

  constructor(private readonly keeping: VoteKeeping<Vt>) {}

  /** The record of `round`, opened on first use. */
  at(round: number): RoundVotes<Vt, Pr> {
    let rv = this.rounds.get(round);
    if (rv === undefined) {
      rv = {
        prevotes: new VoteSet(this.keeping),
        precommits: new VoteSet(this.keeping),
        proposal: null,
        senders: new Set(),
        badPartials: new Set(),
        prevoteTimeoutScheduled: false,
        precommitTimeoutScheduled: false,
        polkaHandled: false,
      };
      this.rounds.set(round, rv);
    }
    return rv;
  }

  /** Every round opened so far, in the order first seen. */
  all(): IterableIterator<[number, RoundVotes<Vt, Pr>]> {
    return this.rounds.entries();
  }

  /** The prevotes or precommits of `round`. */
  setOf(round: number, step: VoteStep): VoteSet<Vt> {
    const rv = this.at(round);
    return step === 'prevote' ? rv.prevotes : rv.precommits;
  }

  /** Records an already-authenticated vote (own votes, a persisted polka). */
  record(v: Vt, force = false): void {
    this.setOf(v.round, v.step).add(v, force);
  }

  noteSender(round: number, member: number): void {
    this.at(round).senders.add(member);
  }
}
