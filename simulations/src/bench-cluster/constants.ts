/** The cluster benchmark's fixed parameters and small helpers. */

export const NODES = 4;
/**
 * Message delays from both legs locked to the first report (docs/protocol.md, "Consensus"):
 * observations (the round's proposer needs f + 1 = 2 signed observations, its own and one
 * received), the proposal, the prevotes and the precommits; the first node holding q precommits
 * combines and verifies. Reading the legs is an HTTP call, not a message delay, and is not in it.
 */
export const MESSAGE_DELAYS = 4;
/**
 * Durable writes on that path (consensus/src/instance.ts persists before the effects that follow):
 * the proposer's round start and proposal, a prevote, a precommit, and the decision itself.
 */
export const WRITE_AHEAD_ON_PATH = 5;
/** Unreported settlements first: the nodes' JIT and first-use costs (the very first one took round 1). */
export const WARMUP_SETTLEMENTS = 3;
export const LATENCY_SETTLEMENTS_DEFAULT = 30;
export const IN_FLIGHT_DEFAULT = [1, 2, 4, 8] as const;
/** Protocol 2 batches what is in flight: its bounds go far higher. */
export const IN_FLIGHT_V2_DEFAULT = [8, 64, 512] as const;
export const WINDOW_MS_DEFAULT = 20_000;
/** Before each counting window the pipeline fills: decisions in the ramp are not counted. */
export const RAMP_MS = 3_000;
/** Time for both legs to lock, in the terms: far above any latency here, so no deadline decides. */
export const DEADLINE_MS = 30_000;
export const REPORT_WINDOW_MS = 30_000;
export const MARGIN_MS = 10_000;
/** One settlement, alone on the cluster, must be decided and closed on every node within this. */
export const SETTLEMENT_TIMEOUT_MS = 30_000;
/** After a saturation window: time for what is still in flight to be decided and closed. */
export const DRAIN_TIMEOUT_MS = 90_000;
export const TAIL_POLL_MS = 25;
export const READ_BYTES_MAX = 4 * 1024 * 1024;
/** Extra tokens for alice (the demo funding is 1,000 OUSG; every settlement here moves 1). */
export const EXTRA_OUSG = 1_000_000;
/** Floor sampling: warm-up rounds before the cluster starts, then one sample after each measured settlement. */
export const FLOOR_WARMUP_ROUNDS = 5;
export const GOSSIP_PROBES_PER_SAMPLE = 8;
export const GOSSIP_GAP_MS = 5;
export const GOSSIP_WAIT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile (as the simulator's metrics): the smallest sample with ≥ p % at or below it. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('percentile of an empty sample');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** An error with its cause (fetch reports "fetch failed" and puts the socket error in `cause`). */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause === undefined ? `${e.name} ${e.message}` : `${e.name} ${e.message} (${errorText(e.cause)})`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
