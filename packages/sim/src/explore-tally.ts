/**
 * The counts of a seed exploration and how parts of one add up. A sweep may be cut into parts —
 * chunks run on worker threads, shards run on other machines — and the parts may finish in any
 * order; adding them in any order gives the same result as one sequential run, because every
 * count is a sum, rounds are kept as a histogram, and failures are kept sorted by seed (the first
 * EXPLORE_FAILURES_KEPT_MAX of a part hold every one of the sweep's first that falls in it).
 */

/** Bound on the seeds of one exploration (a typo of a few zeros must not run for a week). */
export const EXPLORE_SEEDS_MAX = 10_000_000;
/** Failures kept with their details; past it only counted (`failuresOmitted`). */
export const EXPLORE_FAILURES_KEPT_MAX = 1_000;
/** Bound on the shards of one sweep (a CI matrix or an indexed Job, not one shard per seed). */
export const EXPLORE_SHARDS_MAX = 10_000;

export interface ExploreFailure {
  readonly seed: number;
  /** The names of the invariants broken (not listed in `expect.violations`), then unmet expectations. */
  readonly violations: string[];
  /** The same failures, each with the checker's detail. */
  readonly details: string[];
  /** The command that replays this run: `tandem simulate FILE --seed S`. */
  readonly replay: string;
}

export interface ExploreResult {
  readonly runs: number;
  /** The first EXPLORE_FAILURES_KEPT_MAX failing seeds, in seed order. */
  readonly failures: ExploreFailure[];
  /** Failing seeds beyond those kept in `failures` (0 unless something is badly broken). */
  readonly failuresOmitted: number;
  /** Runs in which some settlement had both COMMIT and ABORT valid at some point. */
  readonly bothValid: number;
  /** Settlements over all runs, by the decision reached (`none`: no decision). */
  readonly decisions: { readonly commit: number; readonly abort: number; readonly none: number };
  /** Over every decision of every run: the round it was decided in. */
  readonly roundsP50: number;
  readonly roundsP99: number;
  /** [round, decisions in that round], by round: lets separate explorations be merged. */
  readonly roundsHistogram: readonly (readonly [round: number, count: number])[];
  /** Wall time of the whole exploration (not part of any run's history). */
  readonly elapsedMs: number;
}

/** One slice of a sweep: the seeds whose index (seed − from) is `index` modulo `count`. */
export interface ExploreShard {
  readonly index: number;
  readonly count: number;
}

/**
 * The seeds of a sweep: from..from+seeds−1, or only one shard's share of them. Shards interleave
 * (index mod count) rather than cut contiguous ranges so that each gets a fair share of whatever
 * makes some seeds slower than others.
 */
export class ExploreSeeds {
  /** How many seeds this selection runs. */
  readonly runs: number;

  constructor(
    readonly from: number,
    readonly seeds: number,
    readonly shard: ExploreShard = { index: 0, count: 1 },
  ) {
    if (!Number.isSafeInteger(seeds) || seeds < 1 || seeds > EXPLORE_SEEDS_MAX) throw new RangeError(`seeds: expected an integer 1..${EXPLORE_SEEDS_MAX}, got ${seeds}`);
    // Compared by subtraction: `from + seeds - 1` itself could round back into the safe range.
    if (!Number.isSafeInteger(from) || from < 0 || from > Number.MAX_SAFE_INTEGER - (seeds - 1)) {
      throw new RangeError(`from: expected a non-negative integer with from + seeds - 1 ≤ ${Number.MAX_SAFE_INTEGER}, got ${from}`);
    }
    const { index, count } = shard;
    if (!Number.isSafeInteger(count) || count < 1 || count > EXPLORE_SHARDS_MAX) throw new RangeError(`shard: expected a count 1..${EXPLORE_SHARDS_MAX}, got ${count}`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new RangeError(`shard: expected an index 0..${count - 1}, got ${index}`);
    this.runs = index < seeds ? Math.ceil((seeds - index) / count) : 0;
  }

  /** The k-th seed of this selection (0 ≤ k < runs). */
  seedAt(k: number): number {
    if (!Number.isSafeInteger(k) || k < 0 || k >= this.runs) throw new RangeError(`seed index ${k} outside 0..${this.runs - 1}`);
    return this.from + this.shard.index + k * this.shard.count;
  }
}

/** What one seed's run adds to the counts. */
export interface SeedOutcome {
  readonly bothValid: boolean;
  readonly decisions: readonly ('commit' | 'abort' | null)[];
  readonly rounds: readonly number[];
  /** Set when the run is not ok. */
  readonly failure: ExploreFailure | null;
}

/** Sums of an exploration, added to seed by seed or part by part, in any order. */
export class ExploreTally {
  private runs = 0;
  private bothValid = 0;
  private failuresOmitted = 0;
  private failures: ExploreFailure[] = [];
  private readonly decisions = { commit: 0, abort: 0, none: 0 };
  private readonly rounds = new RoundHistogram();

  addSeed(outcome: SeedOutcome): void {
    this.runs++;
    if (outcome.bothValid) this.bothValid++;
    for (const d of outcome.decisions) this.decisions[d ?? 'none']++;
    for (const r of outcome.rounds) this.rounds.add(r);
    if (outcome.failure !== null) this.keepFailures([outcome.failure]);
  }

  addPart(part: ExploreResult): void {
    this.runs += part.runs;
    this.bothValid += part.bothValid;
    this.failuresOmitted += part.failuresOmitted;
    this.decisions.commit += part.decisions.commit;
    this.decisions.abort += part.decisions.abort;
    this.decisions.none += part.decisions.none;
    for (const [round, count] of part.roundsHistogram) this.rounds.add(round, count);
    this.keepFailures(part.failures);
  }

  /** Failures so far, kept or only counted (for progress). */
  get failed(): number {
    return this.failures.length + this.failuresOmitted;
  }

  result(elapsedMs: number): ExploreResult {
    return {
      runs: this.runs,
      failures: [...this.failures],
      failuresOmitted: this.failuresOmitted,
      bothValid: this.bothValid,
      decisions: { ...this.decisions },
      roundsP50: this.rounds.percentile(50),
      roundsP99: this.rounds.percentile(99),
      roundsHistogram: this.rounds.entries(),
      elapsedMs,
    };
  }

  /** Keeps the lowest seeds up to the bound; counts the rest. */
  private keepFailures(more: readonly ExploreFailure[]): void {
    const start = Math.max(0, this.failures.length - 1);
    this.failures.push(...more);
    // Sorting only when a part arrived out of seed order: a sequential run appends in order.
    let inOrder = true;
    for (let i = start + 1; i < this.failures.length && inOrder; i++) inOrder = this.failures[i - 1]!.seed < this.failures[i]!.seed;
    if (!inOrder) this.failures.sort((a, b) => a.seed - b.seed);
    if (this.failures.length > EXPLORE_FAILURES_KEPT_MAX) {
      this.failuresOmitted += this.failures.length - EXPLORE_FAILURES_KEPT_MAX;
      this.failures.length = EXPLORE_FAILURES_KEPT_MAX;
    }
  }
}

/**
 * Rounds of decisions as counts per round: memory bounded by the highest round, not by the number
 * of decisions. Percentiles follow result.ts's `percentile` (nearest rank).
 */
export class RoundHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;

  add(round: number, count = 1): void {
    if (!Number.isSafeInteger(round) || round < 0 || !Number.isSafeInteger(count) || count < 1) throw new RangeError(`bad round ${round} × ${count}`);
    this.counts.set(round, (this.counts.get(round) ?? 0) + count);
    this.total += count;
  }

  entries(): [round: number, count: number][] {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** The nearest-rank percentile; 0 when empty (as `percentile([])`). */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(0, Math.min(this.total - 1, Math.ceil((p / 100) * this.total) - 1));
    let seen = 0;
    for (const round of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(round)!;
      if (seen > rank) return round;
    }
    throw new Error('unreachable: rank beyond the total');
  }
}
