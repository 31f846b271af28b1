/**
 * One case of the simulator benchmark (bench-sim.ts): a fault-free scenario built in code, run once
 * under protocol 1 or 2, timed, checked (every settlement committed, no invariant broken, else an
 * error: a broken run is never reported) and measured — messages, signatures, latency in message
 * delays, heights and batch sizes, and where the wall time goes.
 *
 * Crypto time is split as in the v1 benchmark: verification is measured (a MemoVerifier subclass
 * times every identity / BLS / combine call, memo hits included); signing is estimated, because
 * the simulator builds its signers inside Simulation: signatures are counted from the history and
 * multiplied by the median cost of one signature of the kind the simulator really makes —
 * node:crypto Ed25519 for the nodes and for the parties' two authorizations per intent (both
 * nativeIdentitySigner), and blsSign for partials on fresh messages. The simulator's partials all
 * sign one report digest per height, whose hash-to-G1 blsSign remembers, so the BLS estimate is
 * high by up to the hash's share (~40%) and `rest` low by as much.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { SIGN_DOMAIN } from '@tandem/protocol';
import { blsSign, dealerKeygen, identityKeygen } from '@tandem/crypto';
import type { CombineOutcome } from '@tandem/consensus';
import { nativeIdentitySigner } from '@tandem/node';
import { type BatchingSpec, MemoVerifier, type ProtocolVersion, type Scenario, type ScenarioSettlement, type SimRun, Simulation, buildResult, scenarioV2Params } from '@tandem/sim';
import { median } from './table.js';

/** One-way network latency, fixed (min = max): decision latency / LATENCY_MS = message delays. */
export const LATENCY_MS = 10;
export const SEED = 1;
/** What a settlement carries: the accounts hold enough for all of them (all must commit). */
const ASSET_AMOUNT = 10n;
const PAYMENT_AMOUNT = 100_000n;
/**
 * Terms of every settlement. The deadline is far beyond any fault-free decision (the deadline
 * must never decide ABORT). validUntil = deadline + report window = 40 s; v2's guard entries come
 * at validUntil − commitGuard = 35 s, and a fresh COMMIT may be proposed until then. A burst of
 * 1,000 decides within a few virtual seconds at every n here, so the honest limit (report window
 * ≥ commit guard + the time to decide the open settlements) holds with room to spare.
 */
export const TERMS = Object.freeze({ deadlineAfterMs: 10_000, reportWindowMs: 30_000, marginMs: 10_000 });
/**
 * v2 parameters: the node defaults (defaultV2Params: tick 100 ms, heartbeat and refresh 1 s,
 * batchEntriesMax = min(256, what a proposal of n members fits)), with the commit guard stated
 * here rather than inherited: 5 s, well below the 30 s report window.
 */
export const BATCHING: BatchingSpec = Object.freeze({ commitGuardMs: 5_000 });
/** Party authorizations signed per intent by the simulator's party agents (asset seller, payer). */
const AUTHORIZATIONS_PER_INTENT = 2;
const SIGN_WARMUP_ITERATIONS = 5;
const SIGN_MEASURE_ITERATIONS = 60;
/** About the size of a signed vote or bundle header body; Ed25519 cost hardly depends on it. */
const SIGNED_MESSAGE_BYTES = 200;

/**
 * A MemoVerifier that also accumulates the wall time spent inside its checks, split into calls the
 * memo answered and calls that really verified or combined (the memo's counters moved).
 */
class TimedVerifier extends MemoVerifier {
  elapsedMs = 0;
  memoHitMs = 0;
  calls = 0;

  private timed<T>(check: () => T): T {
    this.calls++;
    const realBefore = this.verifications + this.combinations;
    const t0 = performance.now();
    try {
      return check();
    } finally {
      const dt = performance.now() - t0;
      this.elapsedMs += dt;
      if (this.verifications + this.combinations === realBefore) this.memoHitMs += dt;
    }
  }

  override identity(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return this.timed(() => super.identity(domain, publicKey, message, signature));
  }

  override bls(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return this.timed(() => super.bls(publicKey, message, signature));
  }

  override combine(commitments: readonly Uint8Array[], message: Uint8Array, partials: readonly { index: number; signature: Uint8Array }[], t: number): CombineOutcome {
    return this.timed(() => super.combine(commitments, message, partials, t));
  }
}

export interface CaseSpec {
  readonly protocol: ProtocolVersion;
  readonly n: number;
  readonly settlements: number;
  /** Protocol 2: parameters over BATCHING (the lone-settlement row tries a shorter tick). */
  readonly batching?: BatchingSpec;
}

/** K settlements, all intents at virtual 0 ms, fault-free, fixed latency; every one must commit. */
export function benchScenario(c: CaseSpec): Scenario {
  const settlements: ScenarioSettlement[] = Array.from({ length: c.settlements }, (_, i) => ({
    id: `s${i + 1}`,
    atMs: 0,
    ...TERMS,
    asset: { seller: 'alice', buyer: 'bob', token: 'OUSG', amount: ASSET_AMOUNT },
    payment: { payer: 'bob', payee: 'alice', currency: 'USD', amount: PAYMENT_AMOUNT },
  }));
  const total = BigInt(c.settlements);
  return {
    name: `bench-v${c.protocol}-n${c.n}-k${c.settlements}`,
    description: 'fault-free, all settlements at 0 ms, fixed latency',
    seed: SEED,
    nodes: c.n,
    network: { latencyMinMs: LATENCY_MS, latencyMaxMs: LATENCY_MS, drop: 0, duplicate: 0 },
    accounts: {
      asset: new Map([['alice', new Map([['OUSG', ASSET_AMOUNT * total]])]]),
      payment: new Map([['bob', new Map([['USD', PAYMENT_AMOUNT * total]])]]),
    },
    settlements,
    faults: [],
    expect: { outcomes: Object.fromEntries(settlements.map((s) => [s.id, 'commit' as const])), decideWithinMs: null, violations: [] },
    ...(c.protocol === 2 ? { protocol: 2 as const, batching: { ...BATCHING, ...c.batching } } : {}),
  };
}

/** Median ms of one signature of each kind the simulator makes, measured in this process. */
export interface SignCosts {
  readonly nodeEd25519Ms: number;
  readonly authorizationMs: number;
  readonly blsMs: number;
}

/** Median ms of one call, each call on a different message (no caching anywhere can help). */
function medianCallMs(call: (i: number) => unknown): number {
  for (let i = 0; i < SIGN_WARMUP_ITERATIONS; i++) call(i);
  const samples: number[] = [];
  for (let i = 0; i < SIGN_MEASURE_ITERATIONS; i++) {
    const t0 = performance.now();
    call(SIGN_WARMUP_ITERATIONS + i);
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

export function measureSignCosts(): SignCosts {
  const identity = identityKeygen(randomBytes);
  const native = nativeIdentitySigner(identity.secretKey);
  const share = dealerKeygen(4, 3, randomBytes).shares[0]!;
  const message = (i: number, bytes: number) => {
    const m = new Uint8Array(bytes);
    new DataView(m.buffer).setUint32(0, i);
    return m;
  };
  return {
    nodeEd25519Ms: medianCallMs((i) => native.sign(SIGN_DOMAIN.vote, message(i, SIGNED_MESSAGE_BYTES))),
    // An authorization signs (network id, settlement id): 64 bytes, natively as the simulator's parties do.
    authorizationMs: medianCallMs((i) => native.sign(SIGN_DOMAIN.authorization, message(i, 64))),
    // Nodes BLS-sign a 32-byte report digest.
    blsMs: medianCallMs((i) => blsSign(share.secret, message(i, 32))),
  };
}

export interface SignatureCounts {
  /** Ed25519 by the nodes: v1 observations, proposals, votes; v2 bundles, proposals, votes. */
  readonly nodeEd25519: number;
  /** Ed25519 by the parties (node:crypto): two per intent. */
  readonly authorizations: number;
  /** BLS partials: one per precommit for a value (v1) or a header (v2). */
  readonly bls: number;
}

function countSignatures(run: SimRun): SignatureCounts {
  let nodeEd25519 = 0;
  let authorizations = 0;
  let bls = 0;
  for (const e of run.history) {
    if (e.type === 'intent') authorizations += AUTHORIZATIONS_PER_INTENT;
    if (e.type === 'node' && e.event.type === 'signed') {
      nodeEd25519++;
      const m = e.event.message;
      if (m.kind === 'vote' && m.vote.partial !== null) bls++;
    }
    if (e.type === 'node2' && e.event.type === 'bundle-signed') nodeEd25519++;
    if (e.type === 'node2' && e.event.type === 'signed') {
      nodeEd25519++;
      const m = e.event.message;
      if (m.kind === 'vote2' && m.vote.partial !== null) bls++;
    }
  }
  return { nodeEd25519, authorizations, bls };
}

export interface CaseResult extends CaseSpec {
  readonly setupMs: number;
  readonly runMs: number;
  readonly verifyMs: number;
  readonly memoHitMs: number;
  readonly verifierCalls: number;
  readonly verifications: number;
  readonly combinations: number;
  readonly messages: number;
  readonly latencyP50Delays: number;
  readonly latencyP99Delays: number;
  readonly signatures: SignatureCounts;
  readonly signCosts: SignCosts;
  /** Estimated wall ms of signing: nodes' Ed25519, parties' authorizations, BLS partials. */
  readonly signMs: { readonly nodeEd25519: number; readonly authorizations: number; readonly bls: number };
  readonly virtualMs: number;
  /** Protocol 2 only (null under 1): heights decided and the batch size distribution. */
  readonly heights: number | null;
  readonly batchEntriesMax: number | null;
  readonly heightLatencyP50Delays: number | null;
  /** The v2 parameters the nodes ran (null under 1). */
  readonly tickMs: number | null;
  readonly batchEntriesLimit: number | null;
}

/** Runs one case; throws unless every settlement committed and every invariant held. */
export async function runCase(c: CaseSpec, sign: SignCosts): Promise<CaseResult> {
  const scenario = benchScenario(c);
  const verifier = new TimedVerifier();
  const setupStart = performance.now();
  const sim = new Simulation(scenario, { seed: SEED, verifier });
  const runStart = performance.now();
  const run = await sim.run();
  const runEnd = performance.now();
  // Snapshot before buildResult: the checker verifies reports through the same verifier.
  const { elapsedMs: verifyMs, memoHitMs, calls: verifierCalls, verifications, combinations } = verifier;

  const result = buildResult(run);
  const broken = result.invariants.filter((i) => i.ok === false).map((i) => i.name);
  const notCommitted = result.settlements.filter((s) => s.decision !== 'commit' || s.decidedAtMs === null).map((s) => s.id);
  const refused = result.metrics.refused.count;
  if (!result.ok || broken.length > 0 || notCommitted.length > 0 || refused > 0) {
    const list = (xs: readonly string[]) => (xs.length === 0 ? 'none' : `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ` and ${xs.length - 5} more` : ''}`);
    throw new Error(`bench-sim: protocol ${c.protocol}, n = ${c.n}, ${c.settlements} settlements did not run fault-free (broken: ${list(broken)}; not committed: ${list(notCommitted)}; refused: ${refused})`);
  }
  const signatures = countSignatures(run);
  const m = result.metrics;
  const params = scenarioV2Params(scenario);
  return {
    ...c,
    setupMs: runStart - setupStart,
    runMs: runEnd - runStart,
    verifyMs,
    memoHitMs,
    verifierCalls,
    verifications,
    combinations,
    messages: run.messagesSent,
    latencyP50Delays: m.decisionLatencyMs.p50 / LATENCY_MS,
    latencyP99Delays: m.decisionLatencyMs.p99 / LATENCY_MS,
    signatures,
    signCosts: sign,
    signMs: {
      nodeEd25519: signatures.nodeEd25519 * sign.nodeEd25519Ms,
      authorizations: signatures.authorizations * sign.authorizationMs,
      bls: signatures.bls * sign.blsMs,
    },
    virtualMs: m.virtualMs,
    heights: m.heights ?? null,
    batchEntriesMax: m.batchEntries?.max ?? null,
    heightLatencyP50Delays: m.heightLatencyMs === undefined ? null : m.heightLatencyMs.p50 / LATENCY_MS,
    tickMs: params?.tickMs ?? null,
    batchEntriesLimit: params?.batchEntriesMax ?? null,
  };
}
