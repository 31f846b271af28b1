/** The benchmark's command-line options (for shorter runs while developing). */
import type { Intake } from './submitter.js';
import { IN_FLIGHT_DEFAULT, IN_FLIGHT_V2_DEFAULT, LATENCY_SETTLEMENTS_DEFAULT, WINDOW_MS_DEFAULT } from './constants.js';

export type Protocol = 1 | 2;

export interface Options {
  readonly latencySettlements: number;
  readonly windowMs: number;
  /** In-flight bounds of protocol 1's saturation windows, and of protocol 2's. */
  readonly inFlight: readonly number[];
  readonly inFlightV2: readonly number[];
  /** Each runs on its own cluster, in this order; the first is the baseline of the ratios. */
  readonly protocols: readonly Protocol[];
  readonly keep: boolean;
  /** How intents reach the nodes in the saturation windows; each runs on every protocol's cluster, in this order. */
  readonly intakes: readonly Intake[];
}

/** The largest in-flight bound (a v2 node admits openSettlementsMax = 5,000 by default). */
export const IN_FLIGHT_MAX = 5_000;

const USAGE = 'expected --protocol 1|2|1,2, --intake single|batch|single,batch, --latency K, --window S, --in-flight A,B, --in-flight-v2 A,B, --keep';

function positiveInt(flag: string, v: string | undefined, max: number): number {
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} ${v ?? ''}: expected an integer from 1 to ${max}`);
  return n;
}

function protocolList(v: string | undefined): Protocol[] {
  const list = (v ?? '').split(',');
  if (list.some((x) => x !== '1' && x !== '2') || new Set(list).size !== list.length) throw new Error(`--protocol ${v ?? ''}: expected 1, 2 or 1,2`);
  return list.map((x) => Number(x) as Protocol);
}

function intakeList(v: string | undefined): Intake[] {
  const list = (v ?? '').split(',');
  if (list.some((x) => x !== 'single' && x !== 'batch') || new Set(list).size !== list.length) throw new Error(`--intake ${v ?? ''}: expected single, batch or single,batch`);
  return list as Intake[];
}

export function parseOptions(args: readonly string[]): Options {
  let latencySettlements = LATENCY_SETTLEMENTS_DEFAULT;
  let windowMs = WINDOW_MS_DEFAULT;
  let inFlight: readonly number[] = IN_FLIGHT_DEFAULT;
  let inFlightV2: readonly number[] = IN_FLIGHT_V2_DEFAULT;
  let protocols: readonly Protocol[] = [1, 2];
  let keep = false;
  let intakes: readonly Intake[] = ['batch'];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--latency') latencySettlements = positiveInt(a, args[++i], 1_000);
    else if (a === '--window') windowMs = positiveInt(a, args[++i], 600) * 1_000;
    else if (a === '--in-flight') inFlight = (args[++i] ?? '').split(',').map((x) => positiveInt(a, x, IN_FLIGHT_MAX));
    else if (a === '--in-flight-v2') inFlightV2 = (args[++i] ?? '').split(',').map((x) => positiveInt(a, x, IN_FLIGHT_MAX));
    else if (a === '--protocol') protocols = protocolList(args[++i]);
    else if (a === '--intake') intakes = intakeList(args[++i]);
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown argument ${a} (${USAGE})`);
  }
  return { latencySettlements, windowMs, inFlight, inFlightV2, protocols, keep, intakes };
}
