/**
 * The kill test's plan, drawn from its seed alone (the simulator's seeded Rng): the same seed gives
 * the same trades and the same kill schedule — which component is SIGKILLed, when (ms after the
 * run's start), and how long it stays down before its restart.
 *
 * Trades: most are meant to commit; some are refused by the bank (the price is more than the
 * buyer holds: ABORT, the escrow refunds the seller), and in some the seller never authorizes (the
 * bank holds the payment until the deadline: ABORT, the hold is voided, the escrow closes the id).
 * So crashes land on locks, holds, posts, releases, refunds and voids alike.
 */
import { Rng } from '@tandem/sim';

/** What a kill hits: a node process, the leg host (bank and chain with it), or the chain alone. */
export type KillTarget = { readonly kind: 'node'; readonly node: number } | { readonly kind: 'leg-host' } | { readonly kind: 'chain' };

export interface PlannedKill {
  /** When it is due, in ms after the run's start (it waits if the previous victim is not back yet). */
  readonly atMs: number;
  readonly target: KillTarget;
  /** How long the victim stays down before it is restarted (the chain restarts itself at once). */
  readonly downMs: number;
}

export type TradeKind = 'commit' | 'bank-rejects' | 'seller-silent';

export interface PlannedTrade {
  readonly id: string;
  readonly atMs: number;
  readonly kind: TradeKind;
  /** OUSG units (alice sells). */
  readonly assetAmount: bigint;
  /** USD minor units (bob pays). */
  readonly price: bigint;
}

export interface KillPlan {
  readonly seed: number;
  readonly trades: readonly PlannedTrade[];
  readonly kills: readonly PlannedKill[];
}

export interface KillPlanOptions {
  readonly seed: number;
  readonly settlements: number;
  readonly kills: number;
  readonly nodes: number;
  /** Mean gap between two trades. */
  readonly tradeIntervalMs: number;
}

/** Bounds on a plan: a bound on every loop. */
export const KILL_TEST_SETTLEMENTS_MAX = 10_000;
export const KILL_TEST_KILLS_MAX = 1_000;
/** What the bank refuses: more than the buyer's 10^9 opening balance. */
export const UNAFFORDABLE_PRICE = 10n ** 12n;
/** Kills may come until this long after the last trade (while the last ones settle). */
const KILLS_AFTER_LAST_TRADE_MS = 8_000;
const FIRST_KILL_MS = 500;
const DOWN_MS_MAX = 2_000;
const KINDS: readonly KillTarget['kind'][] = ['node', 'leg-host', 'chain'];

export function planKillTest(o: KillPlanOptions): KillPlan {
  if (!Number.isInteger(o.settlements) || o.settlements < 1 || o.settlements > KILL_TEST_SETTLEMENTS_MAX) throw new Error(`settlements must be 1..${KILL_TEST_SETTLEMENTS_MAX}, got ${o.settlements}`);
  if (!Number.isInteger(o.kills) || o.kills < 0 || o.kills > KILL_TEST_KILLS_MAX) throw new Error(`kills must be 0..${KILL_TEST_KILLS_MAX}, got ${o.kills}`);
  const rng = Rng.fromSeed(o.seed);
  const tradeRng = rng.fork('trades');
  const trades: PlannedTrade[] = [];
  for (let i = 0; i < o.settlements; i++) {
    const roll = tradeRng.nextFloat();
    const kind: TradeKind = roll < 0.7 ? 'commit' : roll < 0.85 ? 'bank-rejects' : 'seller-silent';
    trades.push({
      id: `kill-${o.seed}-${i + 1}`,
      atMs: Math.round(i * o.tradeIntervalMs + tradeRng.nextFloat() * (o.tradeIntervalMs / 2)),
      kind,
      assetAmount: BigInt(tradeRng.intBetween(1, 5)),
      price: kind === 'bank-rejects' ? UNAFFORDABLE_PRICE : BigInt(tradeRng.intBetween(1_000, 100_000)),
    });
  }
  const killRng = rng.fork('kills');
  const lastMs = (trades[trades.length - 1]?.atMs ?? 0) + KILLS_AFTER_LAST_TRADE_MS;
  // The first kinds cycle through all three in a seed-chosen order, so even a short run hits each.
  const order = [...KINDS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = killRng.intBetween(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const kills: PlannedKill[] = [];
  for (let i = 0; i < o.kills; i++) {
    const kind = i < KINDS.length ? order[i]! : KINDS[killRng.intBetween(0, KINDS.length - 1)]!;
    const target: KillTarget = kind === 'node' ? { kind, node: killRng.intBetween(1, o.nodes) } : { kind };
    kills.push({ atMs: killRng.intBetween(FIRST_KILL_MS, lastMs), target, downMs: killRng.intBetween(0, DOWN_MS_MAX) });
  }
  // Targets stay in draw order; the times are sorted, so the i-th kill due is the i-th drawn.
  const times = kills.map((k) => k.atMs).sort((a, b) => a - b);
  return { seed: o.seed, trades, kills: kills.map((k, i) => ({ ...k, atMs: times[i]! })) };
}

/** A kill target in words: `n2`, `the leg host`, `the chain`. */
export function describeTarget(t: KillTarget): string {
  return t.kind === 'node' ? `n${t.node}` : t.kind === 'leg-host' ? 'the leg host (bank and chain with it)' : 'the chain (anvil alone)';
}
