/** The simulator benchmark's command-line options (subsets and shorter runs while developing). */

/** Committee sizes of the full run; protocol 1 runs only up to V1_N_MAX (v1 at n = 100 takes hours). */
export const N_ALL: readonly number[] = [4, 7, 10, 31, 100];
export const V1_N_MAX = 31;
/** The burst under v2 and the v1 baseline (reported per settlement). */
export const BURST_DEFAULT = 1_000;
export const V1_SETTLEMENTS_DEFAULT = 50;
/** `--quick`: n = 4 and 10, the full burst, a v1 baseline of 10 — under a minute here. */
const QUICK = { n: [4, 10], burst: BURST_DEFAULT, v1Settlements: 10 } as const;
const SETTLEMENTS_MAX = 10_000;
const REPEATS_MAX = 9;

export interface Options {
  readonly n: readonly number[];
  readonly burst: number;
  readonly v1Settlements: number;
  /** Runs per case; the row is the run with the median wall time. */
  readonly repeats: number;
  readonly json: boolean;
}

const USAGE = 'expected --n 4,31 (from 4, 7, 10, 31, 100), --quick, --burst K, --v1 K, --repeats R (odd), --json';

function positiveInt(flag: string, v: string | undefined, max: number): number {
  const x = v === undefined ? NaN : Number(v);
  if (!Number.isInteger(x) || x < 1 || x > max) throw new Error(`bench-sim: ${flag} ${v ?? ''}: expected an integer from 1 to ${max}`);
  return x;
}

function committeeSizes(v: string | undefined): number[] {
  const sizes = (v ?? '').split(',').map((x) => positiveInt('--n', x, 100));
  const unknown = sizes.filter((x) => !N_ALL.includes(x));
  if (unknown.length > 0) throw new Error(`bench-sim: --n ${v}: ${unknown.join(', ')} not among ${N_ALL.join(', ')}`);
  return N_ALL.filter((x) => sizes.includes(x));
}

export function parseOptions(args: readonly string[]): Options {
  const quick = args.includes('--quick');
  let n: readonly number[] = quick ? QUICK.n : N_ALL;
  let burst: number = quick ? QUICK.burst : BURST_DEFAULT;
  let v1Settlements: number = quick ? QUICK.v1Settlements : V1_SETTLEMENTS_DEFAULT;
  let repeats = 1;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--quick') continue;
    else if (a === '--n') n = committeeSizes(args[++i]);
    else if (a === '--burst') burst = positiveInt(a, args[++i], SETTLEMENTS_MAX);
    else if (a === '--v1') v1Settlements = positiveInt(a, args[++i], SETTLEMENTS_MAX);
    else if (a === '--repeats') repeats = positiveInt(a, args[++i], REPEATS_MAX);
    else if (a === '--json') json = true;
    else throw new Error(`bench-sim: unknown argument ${a} (${USAGE})`);
  }
  if (repeats % 2 === 0) throw new Error(`bench-sim: --repeats ${repeats}: must be odd (the row is the median run)`);
  return { n, burst, v1Settlements, repeats, json };
}
