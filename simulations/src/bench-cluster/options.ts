/** The benchmark's command-line options (for shorter runs while developing). */
import { IN_FLIGHT_DEFAULT, LATENCY_SETTLEMENTS_DEFAULT, WINDOW_MS_DEFAULT } from './constants.js';

export interface Options {
  readonly latencySettlements: number;
  readonly windowMs: number;
  readonly inFlight: readonly number[];
  readonly keep: boolean;
}

function positiveInt(flag: string, v: string | undefined, max: number): number {
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} ${v ?? ''}: expected an integer from 1 to ${max}`);
  return n;
}

export function parseOptions(args: readonly string[]): Options {
  let latencySettlements = LATENCY_SETTLEMENTS_DEFAULT;
  let windowMs = WINDOW_MS_DEFAULT;
  let inFlight: readonly number[] = IN_FLIGHT_DEFAULT;
  let keep = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--latency') latencySettlements = positiveInt(a, args[++i], 1_000);
    else if (a === '--window') windowMs = positiveInt(a, args[++i], 600) * 1_000;
    else if (a === '--in-flight') inFlight = (args[++i] ?? '').split(',').map((x) => positiveInt(a, x, 256));
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown argument ${a} (expected --latency K, --window S, --in-flight A,B, --keep)`);
  }
  return { latencySettlements, windowMs, inFlight, keep };
}
