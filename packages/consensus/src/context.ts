import {
  type ClusterConfig,
  configDigest as computeConfigDigest,
  faultsTolerated,
  quorum,
  assert,
} from '@tandem/protocol';

/** Timeouts of one-shot Tendermint, in ms: timeout(r) = min(base + r·delta, cap). */
export interface ConsensusParams {
  readonly timeoutProposeMs: number;
  readonly timeoutPrevoteMs: number;
  readonly timeoutPrecommitMs: number;
  readonly timeoutDeltaMs: number;
  readonly timeoutCapMs: number;
  /** Votes for rounds further than this ahead of the current round are dropped (bounds memory). */
  readonly roundWindow: number;
  /**
   * A deliberate bug, for checking that the checker and `tandem explore` catch a broken build:
   * 'ignore-lock' prevotes for any valid proposal whatever the node is locked on. Never set it
   * outside such a test. scenarios/explore-lock-race-adversarial.yaml breaks agreement with it on
   * about 40 % of seeds (packages/sim/test/mutation.spec.ts; docs/protocol.md, "Mutation testing").
   * 'skip-prefix-check' (protocol v2 only) makes the node's decided chain answer that no settlement
   * was decided before, so valid_h skips V3 and the chain appends a batch repeating one
   * (packages/node/src/v2/mutation.ts): with a `replay-entry` proposer a settlement is decided twice.
   */
  readonly mutationForTesting?: 'ignore-lock' | 'skip-prefix-check';
}

export const DEFAULT_PARAMS: ConsensusParams = {
  timeoutProposeMs: 300,
  timeoutPrevoteMs: 150,
  timeoutPrecommitMs: 150,
  timeoutDeltaMs: 150,
  timeoutCapMs: 5_000,
  roundWindow: 64,
};

export type Step = 'propose' | 'prevote' | 'precommit';

export function timeoutMs(params: ConsensusParams, step: Step, round: number): number {
  const base = step === 'propose' ? params.timeoutProposeMs : step === 'prevote' ? params.timeoutPrevoteMs : params.timeoutPrecommitMs;
  return Math.min(base + round * params.timeoutDeltaMs, params.timeoutCapMs);
}

/** Result of combining partial signatures (same shape as @tandem/crypto's combineVerified). */
export type CombineOutcome =
  | { readonly ok: true; readonly signature: Uint8Array; readonly used: readonly number[] }
  | { readonly ok: false; readonly bad: readonly number[]; readonly good: readonly number[] };

/**
 * Signature checks, injected so the simulator can memoize them across simulated nodes (they are
 * pure, so memoizing keeps runs deterministic). Every function must be pure.
 */
export interface Verifier {
  identity(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** BLS min-sig verification under Tandem's DST. */
  bls(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  combine(commitments: readonly Uint8Array[], message: Uint8Array, partials: readonly { index: number; signature: Uint8Array }[], t: number): CombineOutcome;
}

/** This node's signing keys, behind an interface so no key material sits in consensus state. */
export interface Signer {
  sign(domain: string, message: Uint8Array): Uint8Array;
  /** BLS partial signature with this node's share, under Tandem's DST. */
  partialSign(message: Uint8Array): Uint8Array;
}

/** Everything an instance needs that is shared by all settlements of one node. */
export interface NodeContext {
  readonly cluster: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly n: number;
  readonly f: number;
  readonly q: number;
  readonly self: number; // member index 1..n
  readonly groupPublicKey: Uint8Array;
  readonly params: ConsensusParams;
  readonly signer: Signer;
  readonly verifier: Verifier;
}

export function makeContext(cluster: ClusterConfig, self: number, signer: Signer, verifier: Verifier, params: ConsensusParams = DEFAULT_PARAMS): NodeContext {
  assert(self >= 1 && self <= cluster.n, 'self is a member index');
  assert(cluster.t === quorum(cluster.n), 'threshold t equals the quorum q');
  return {
    cluster,
    configDigest: computeConfigDigest(cluster),
    n: cluster.n,
    f: faultsTolerated(cluster.n),
    q: quorum(cluster.n),
    self,
    groupPublicKey: cluster.commitments[0]!,
    params,
    signer,
    verifier,
  };
}

/** The proposer of `round`: a rotation whose starting point differs per settlement. */
export function proposerOf(settlementId: Uint8Array, round: number, n: number): number {
  const start = ((settlementId[0]! << 24) | (settlementId[1]! << 16) | (settlementId[2]! << 8) | settlementId[3]!) >>> 0;
  return ((start + round) % n) + 1;
}
