/**
 * What a scenario is (format v1): the types the loader produces and the simulator, the
 * cluster runner and the checker read, with the loader's bounds and defaults.
 *
 * The loader is in scenario-parse.ts (the fixed sections), scenario-random.ts (the `random:`
 * block's ranges) and scenario-yaml.ts (YAML reading and the value readers); random.ts draws a
 * family's member for a seed.
 */
import { BYZANTINE_BEHAVIOURS_V2, type ByzantineBehaviour, type ByzantineBehaviourV2, type RefusalReason } from '@tandem/node';

export type NodeIndex = number; // 1..n  (YAML names nodes n1..nN)

export interface NetworkSpec {
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly drop: number;
  readonly duplicate: number;
}

export interface ScenarioSettlement {
  readonly id: string; // client nonce
  readonly atMs: number; // intent time
  /** The YAML `deadline`: a duration after `atMs`. The terms' `deadlineMs` is the instant `atMs + deadlineAfterMs`. */
  readonly deadlineAfterMs: number;
  readonly reportWindowMs: number; // a duration after the deadline (default 30s), as in the terms
  readonly marginMs: number; // a duration after the report window (default 10s), as in the terms
  readonly asset: { readonly seller: string; readonly buyer: string; readonly token: string; readonly amount: bigint };
  readonly payment: { readonly payer: string; readonly payee: string; readonly currency: string; readonly amount: bigint };
}

export type LegFailure = 'reject' | 'never-lock' | 'late-lock' | 'apply-error' | 'unavailable';

export type Fault =
  | { readonly kind: 'crash'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex }
  | { readonly kind: 'partition'; readonly atMs: number; readonly untilMs: number | null; readonly groups: readonly (readonly NodeIndex[])[] }
  | { readonly kind: 'isolate'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex }
  | {
      readonly kind: 'leg';
      readonly atMs: number;
      readonly untilMs: number | null;
      readonly settlement: string;
      readonly leg: 'asset' | 'payment';
      readonly fail: LegFailure;
      readonly afterMs: number /* late-lock delay, 0 otherwise */;
      readonly times: number /* apply-error count, 0 otherwise */;
    }
  | ExtraFault;

export type { ByzantineBehaviour };
// Every behaviour the node implements, once (the compiler checks the list is complete): the
// scenario names them, in this order, in messages and when `random:` draws one.
const BYZANTINE_BEHAVIOUR_SET: Readonly<Record<ByzantineBehaviour, true>> = {
  equivocate: true,
  silent: true,
  'lie-locked': true,
  'lie-rejected': true,
  'invalid-partial': true,
  amnesia: true,
  flood: true,
};
export const BYZANTINE_BEHAVIOURS: readonly ByzantineBehaviour[] = Object.freeze(Object.keys(BYZANTINE_BEHAVIOUR_SET) as ByzantineBehaviour[]);

/** Behaviours of protocol 2 only (packages/node, v2/byzantine.ts): a scenario names them only with `protocol: 2`. */
export { BYZANTINE_BEHAVIOURS_V2, type ByzantineBehaviourV2 };
export type ScenarioByzantineBehaviour = ByzantineBehaviour | ByzantineBehaviourV2;

export function isByzantineBehaviourV1(b: ScenarioByzantineBehaviour): b is ByzantineBehaviour {
  return (BYZANTINE_BEHAVIOURS as readonly string[]).includes(b);
}

/** Network and clock faults beyond crash/partition/isolate, and Byzantine members (scenarios/README.md). */
export type ExtraFault =
  /** Extra latency on every message to or from `node`. */
  | { readonly kind: 'delay'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex; readonly extraMs: number }
  /** Messages from a node in `from` to a node in `to` are lost (or duplicated) with probability `rate`. */
  | { readonly kind: 'drop' | 'duplicate'; readonly atMs: number; readonly untilMs: number | null; readonly rate: number; readonly from: readonly NodeIndex[]; readonly to: readonly NodeIndex[] }
  /** A node's or a leg's clock runs `skewMs` ahead (negative: behind) of virtual time. */
  | { readonly kind: 'clock-skew'; readonly atMs: number; readonly untilMs: number | null; readonly target: NodeIndex | 'asset' | 'payment'; readonly skewMs: number }
  /** The asset chain drops the settlement's lock if it is not yet final at `atMs`. */
  | { readonly kind: 'reorg'; readonly atMs: number; readonly untilMs: null; readonly settlement: string }
  | { readonly kind: 'byzantine'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex; readonly behaviour: ScenarioByzantineBehaviour };

export type Outcome = 'commit' | 'abort' | 'any';

export interface Expectations {
  readonly outcomes: Readonly<Record<string, Outcome>>;
  readonly decideWithinMs: number | null;
  readonly violations: readonly string[];
  /** Settlements every node the intent reached refuses, with this reason (absent: none expected). */
  readonly refused?: Readonly<Record<string, RefusalReason>>;
}

/** The `admission:` block: node admission parameters for every node (absent keys keep the node's defaults). */
export interface AdmissionSpec {
  readonly openSettlementsMax?: number;
  readonly horizonMaxMs?: number;
  readonly commitGuardMs?: number;
}

/** An inclusive range `[lo, hi]` of a scenario's `random:` block (ms, probability or count). */
export type Range = readonly [lo: number, hi: number];

/** Weights of the prepare outcome drawn per settlement (relative, integers ≥ 0, sum > 0). */
export interface LegWeights {
  readonly none: number;
  readonly reject: number;
  readonly neverLock: number;
  readonly lateLock: number;
}

/**
 * The `random:` block (scenarios/README.md, for `tandem explore`): ranges from which each seed draws fault
 * parameters (random.ts draws them). A section that is absent draws nothing; a network key that
 * is absent keeps the scenario's own value.
 */
export interface RandomSpec {
  /** Lets the drawn crashes and isolations exceed f (the liveness assumption); off by default. */
  readonly allowBeyondF: boolean;
  readonly network: {
    readonly latencyMinMs: Range | null;
    readonly latencyMaxMs: Range | null;
    readonly drop: Range | null;
    readonly duplicate: Range | null;
  } | null;
  readonly crash: {
    readonly nodes: readonly NodeIndex[]; // candidates, distinct, in file order
    readonly count: Range; // distinct nodes crashed per seed
    readonly atMs: Range;
    readonly downForMs: Range;
    readonly restart: number; // probability each drawn crash restarts after downFor (else for good)
  } | null;
  readonly partition: {
    readonly count: Range;
    readonly groups: Range; // number of groups of each drawn split
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  readonly isolate: {
    readonly nodes: readonly NodeIndex[];
    readonly count: Range;
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  /** Loss windows: each drawn sender's messages to every node are lost at a drawn rate (`{ drop, from }`). */
  readonly drop: {
    readonly nodes: readonly NodeIndex[]; // candidate senders, distinct, in file order
    readonly count: Range; // distinct senders per seed
    readonly rate: Range; // loss probability, 0 < lo ≤ hi < 1
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  readonly byzantine: {
    readonly nodes: readonly NodeIndex[];
    readonly count: Range; // distinct Byzantine members per seed, each for the whole run
    readonly behaviours: readonly ScenarioByzantineBehaviour[]; // drawn uniformly per member
  } | null;
  readonly legs: {
    readonly settlements: readonly string[]; // ids, in scenario order
    readonly legs: readonly ('asset' | 'payment')[];
    readonly weights: LegWeights;
    readonly afterMs: Range | null; // late-lock delay from the settlement's `at`; set iff lateLock > 0
  } | null;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly nodes: number;
  readonly network: NetworkSpec;
  readonly accounts: {
    readonly asset: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
    readonly payment: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
  };
  readonly settlements: readonly ScenarioSettlement[];
  readonly faults: readonly Fault[];
  readonly expect: Expectations;
  /**
   * The `random:` block, or null (absent: scenarios built in code need not set it). A scenario
   * with one is a family: drawScenario(scenario, seed) picks the member a seed runs.
   */
  readonly random?: RandomSpec | null;
  /** The `admission:` block, or absent (the nodes' defaults). */
  readonly admission?: AdmissionSpec;
  /** `protocol:` 1 (one instance per settlement) or 2 (batches); absent means 1. */
  readonly protocol?: ProtocolVersion;
  /** The `batching:` block (protocol 2 only), or absent (the v2 defaults). */
  readonly batching?: BatchingSpec;
}

export type ProtocolVersion = 1 | 2;

/**
 * The `batching:` block: protocol v2 parameters for every node (absent keys keep the defaults;
 * `admission:` sets openSettlementsMax, horizonMax and commitGuard under v2 as under v1).
 */
export interface BatchingSpec {
  readonly tickMs?: number;
  readonly heartbeatMs?: number;
  readonly refreshMs?: number;
  readonly commitGuardMs?: number;
  readonly skewMaxMs?: number;
  readonly bundleEntriesMax?: number;
  readonly batchEntriesMax?: number;
  readonly legBatchEntriesMax?: number;
  readonly catchUpBatchesMax?: number;
}

/** The invariant names of docs/results.md that `expect.violations` may list. */
export const INVARIANT_NAMES: readonly string[] = Object.freeze([
  'agreement',
  'decide-once',
  'validity',
  'report-soundness',
  'one-decision-per-settlement',
  'no-equivocation',
  'commit-justified',
  'termination',
  'non-triviality',
  'all-or-nothing-a',
  'all-or-nothing-b',
  'legs-move-on-reports',
  'no-double-execution',
  'conservation',
  'ledgers-match-reports',
  'admission',
  // Protocol v2 (batches): judged only on runs of protocol 2.
  'height-agreement',
  'one-batch-per-settlement',
  'batch-validity',
  'heights-in-order',
  'proof-soundness',
  'commit-guard',
]);

/** Bounds on what one scenario may ask for (TIGER_STYLE: a bound on everything). */
export const SCENARIO_NODES_MAX = 100;
export const SCENARIO_SETTLEMENTS_MAX = 10_000;
export const SCENARIO_FAULTS_MAX = 1_000;
export const SCENARIO_ACCOUNTS_MAX = 10_000; // parties per ledger
export const SCENARIO_TIME_MAX_MS = 24 * 3_600_000; // any absolute virtual time in the file
export const SCENARIO_TEXT_CHARS_MAX = 4 * 1024 * 1024;
export const SETTLEMENT_ID_BYTES_MAX = 64;
export const APPLY_ERROR_TIMES_MAX = 1_000;
/** Bounds on what one seed may draw from a `random:` block. */
export const RANDOM_PARTITIONS_MAX = 16;
export const RANDOM_WEIGHT_MAX = 1_000_000;
/** Bound on `admission.openSettlementsMax` (the node's default is 5,000). */
export const ADMISSION_OPEN_SETTLEMENTS_MAX = 1_000_000;

/** Defaults of format v1 (scenarios/README.md) and of this loader. */
export const SCENARIO_DEFAULTS = Object.freeze({
  seed: 1,
  latencyMinMs: 1,
  latencyMaxMs: 10,
  reportWindowMs: 30_000,
  marginMs: 10_000,
});

/**
 * A scenario file that cannot be used. `message` is `${file}: ${keyPath}: ${problem}; expected
 * ${expected}`; the CLI prints it and exits 2. For YAML syntax errors `keyPath` is `line N`.
 */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly file: string;
  readonly keyPath: string;
  readonly problem: string;
  readonly expected: string;

  constructor(file: string, keyPath: string, problem: string, expected: string) {
    super(`${file}: ${keyPath}: ${problem}; expected ${expected}`);
    this.file = file;
    this.keyPath = keyPath;
    this.problem = problem;
    this.expected = expected;
  }
}

