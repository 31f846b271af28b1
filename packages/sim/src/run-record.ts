/**
 * A finished run as the checker, the result builder and the report read it: the simulator's, or
 * one collected from real processes (`tandem simulate --mode cluster`). Types only, so that the
 * pure readers of a run (checker.ts, result.ts, the report) need not import the simulator.
 */
import type { ClusterConfig, Terms, V2Params } from '@tandem/protocol';
import type { LegEvent } from '@tandem/legs';
import type { HistoryEntry } from './history.js';
import type { Scenario, ScenarioSettlement } from './scenario.js';

/** A scenario settlement with the terms a run gave it and their settlement id (hex). */
export interface SimSettlement {
  readonly spec: ScenarioSettlement;
  readonly terms: Terms;
  readonly idHex: string;
}

/** What the checker reads of a leg: its event log (times on the run's timeline) and its own conservation check. */
export interface LegRecord {
  events(): readonly LegEvent[];
  conservationProblem(): string | null;
}

/**
 * A finished run. Times are ms since the run's start: virtual in the simulator, wall-clock
 * offsets on a cluster.
 */
export interface RunRecord {
  /** The protocol the run used (absent: 1; cluster runs are v1). */
  readonly protocol?: 1 | 2;
  /** Protocol 2: the v2 parameters every node used. */
  readonly v2Params?: V2Params;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly cluster: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly settlements: readonly SimSettlement[];
  readonly history: readonly HistoryEntry[];
  readonly historyHash: string;
  readonly asset: LegRecord;
  readonly payment: LegRecord;
  /** Nodes that are faulty for the liveness assumption (crashed for good). */
  readonly faultyForGood: ReadonlySet<number>;
  /** What `leg`'s own clock read at run time `runMs` (leg clock-skew faults; the epoch on a cluster). */
  readonly legTimeMs: (leg: 'asset' | 'payment', runMs: number) => number;
  /** Byzantine members, and members whose clock was skewed: faulty for the liveness assumption. */
  readonly byzantine: ReadonlySet<number>;
  readonly skewed: ReadonlySet<number>;
  /** Nodes up at the end of the run. */
  readonly upAtEnd: ReadonlySet<number>;
  readonly endMs: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly verifier: { bls(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean };
}
