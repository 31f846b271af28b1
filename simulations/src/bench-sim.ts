/**
 * Simulator benchmark: protocol v2 (batches) beside protocol v1 in the same run. Run with
 * `pnpm bench:sim` (the full run, by hand: about 15 minutes here, n = 100 most of it) or
 * `pnpm bench:sim --quick` (under a minute); `--json` prints the rows instead of markdown tables. Options: bench-sim-options.ts.
 *
 * Under v2, a burst of 1,000 settlements whose intents all arrive at virtual 0 ms, at
 * n = 4, 7, 10, 31 and 100; under v1, a baseline of 50 settlements (also all at 0 ms) at
 * n = 4, 7, 10 and 31, reported per settlement so the two compare; and a lone settlement at
 * n = 4 under both (and under v2 with a tick of one message delay), for latency. Every run is fault-free with a one-way latency of exactly
 * LATENCY_MS (latency / LATENCY_MS = message delays), must commit every settlement and break no
 * invariant, or the benchmark stops with an error (bench-sim-run.ts). The wall time is that of
 * `Simulation.run()` only (key generation and the post-run check are not timed).
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { type CaseResult, type CaseSpec, LATENCY_MS, SEED, TERMS, BATCHING, measureSignCosts, runCase } from './bench-sim-run.js';
import { type Options, V1_N_MAX, parseOptions } from './bench-sim-options.js';
import { machineLines, markdownTable } from './table.js';

/**
 * The n = 100 burst holds more than Node's default heap (about 4 GB here: it ran out at 4.0 GB):
 * a run that includes it re-runs itself with this much heap, in MB.
 */
const HEAP_MB_N100 = 12_288;

/** A small run first, not reported, so the first row does not pay for JIT warm-up. */
const WARMUP_CASES: readonly CaseSpec[] = [
  { protocol: 1, n: 4, settlements: 3 },
  { protocol: 2, n: 4, settlements: 20 },
];
/** The lone-settlement rows: n = 4, one settlement, under v1, v2, and v2 with a tick of one message delay. */
const LONE_N = 4;
const LONE_CASES: readonly (CaseSpec & { readonly label: string })[] = [
  { label: 'lone settlement', protocol: 1, n: LONE_N, settlements: 1 },
  { label: 'lone settlement', protocol: 2, n: LONE_N, settlements: 1 },
  { label: `lone settlement, tick ${LATENCY_MS} ms`, protocol: 2, n: LONE_N, settlements: 1, batching: { tickMs: LATENCY_MS } },
];

interface Row {
  readonly label: string;
  readonly r: CaseResult;
  /** Settlements per wall second as a ratio to v1 at the same n in this run, or null (no v1 there). */
  readonly timesV1: number | null;
}

/** The run with the median wall time (repeats is odd, so it is one of the runs). */
async function medianRun(c: CaseSpec, repeats: number): Promise<CaseResult> {
  const runs: CaseResult[] = [];
  for (let i = 0; i < repeats; i++) runs.push(await runCase(c, measureSignCosts()));
  runs.sort((a, b) => a.runMs - b.runMs);
  return runs[runs.length >> 1]!;
}

const perSecond = (r: CaseResult) => r.settlements / (r.runMs / 1_000);
const fixed = (x: number, digits: number) => x.toFixed(digits);

async function measure(opts: Options, progress: (what: string) => void): Promise<Row[]> {
  for (const c of WARMUP_CASES) await runCase(c, measureSignCosts());
  const rows: Row[] = [];
  const v1 = new Map<number, CaseResult>();
  for (const n of opts.n.filter((x) => x <= V1_N_MAX)) {
    const r = await medianRun({ protocol: 1, n, settlements: opts.v1Settlements }, opts.repeats);
    v1.set(n, r);
    rows.push({ label: `v1 baseline`, r, timesV1: 1 });
    progress(`v1 n = ${n}`);
  }
  for (const n of opts.n) {
    const r = await medianRun({ protocol: 2, n, settlements: opts.burst }, opts.repeats);
    const base = v1.get(n);
    rows.push({ label: 'v2 burst', r, timesV1: base === undefined ? null : perSecond(r) / perSecond(base) });
    progress(`v2 n = ${n}`);
  }
  for (const c of LONE_CASES) rows.push({ label: c.label, r: await medianRun(c, opts.repeats), timesV1: null });
  progress('lone settlements');
  return rows;
}

function mainTable(rows: readonly Row[]): string[] {
  return markdownTable(
    [
      { header: 'case', align: 'left' },
      { header: 'protocol', align: 'right' },
      { header: 'n', align: 'right' },
      { header: 'settlements', align: 'right' },
      { header: 'settlements / wall s', align: 'right' },
      { header: '× v1 at n', align: 'right' },
      { header: 'messages / settlement', align: 'right' },
      { header: 'signatures / settlement: Ed25519 nodes + parties / BLS partials', align: 'right' },
      { header: 'latency p50 / p99 (message delays)', align: 'right' },
      { header: 'heights', align: 'right' },
      { header: 'mean / max batch', align: 'right' },
    ],
    rows.map(({ label, r, timesV1 }) => {
      const k = r.settlements;
      const s = r.signatures;
      return [
        label,
        String(r.protocol),
        String(r.n),
        String(k),
        fixed(perSecond(r), 1),
        timesV1 === null ? '–' : fixed(timesV1, 1),
        fixed(r.messages / k, 1),
        `${fixed(s.nodeEd25519 / k, 2)} + ${fixed(s.authorizations / k, 0)} / ${fixed(s.bls / k, 3)}`,
        `${fixed(r.latencyP50Delays, 1)} / ${fixed(r.latencyP99Delays, 1)}`,
        r.heights === null ? '–' : String(r.heights),
        r.heights === null ? '–' : `${fixed(k / r.heights, 1)} / ${r.batchEntriesMax}`,
      ];
    }),
  );
}

/** Where the wall time goes, per settlement: verification measured, signing estimated, the rest. */
function timeTable(rows: readonly Row[]): string[] {
  return markdownTable(
    [
      { header: 'case', align: 'left' },
      { header: 'protocol', align: 'right' },
      { header: 'n', align: 'right' },
      { header: 'wall ms / settlement', align: 'right' },
      { header: 'verify ms (real verifications / settlement)', align: 'right' },
      { header: 'sign ms*: nodes Ed25519 / party authorizations / BLS', align: 'right' },
      { header: 'rest ms', align: 'right' },
      { header: 'key generation ms', align: 'right' },
      { header: 'virtual ms at end', align: 'right' },
    ],
    rows.map(({ label, r }) => {
      const k = r.settlements;
      const sign = r.signMs.nodeEd25519 + r.signMs.authorizations + r.signMs.bls;
      return [
        label,
        String(r.protocol),
        String(r.n),
        fixed(r.runMs / k, 2),
        `${fixed(r.verifyMs / k, 2)} (${fixed(r.verifications / k, 1)})`,
        `${fixed(r.signMs.nodeEd25519 / k, 2)} / ${fixed(r.signMs.authorizations / k, 2)} / ${fixed(r.signMs.bls / k, 2)}`,
        fixed((r.runMs - r.verifyMs - sign) / k, 2),
        fixed(r.setupMs, 0),
        String(r.virtualMs),
      ];
    }),
  );
}

function signCostLine(rows: readonly Row[]): string {
  const c = rows[0]!.r.signCosts;
  return (
    `*sign is estimated: signatures counted from the history × the median cost of one, measured before each run (first run's: ` +
    `node Ed25519 via node:crypto ${fixed(c.nodeEd25519Ms, 3)} ms, party authorization via node:crypto ` +
    `${fixed(c.authorizationMs, 3)} ms, BLS partial on a fresh message ${fixed(c.blsMs, 2)} ms; the simulator's partials share one ` +
    `digest per height, whose hash-to-G1 is remembered, so BLS is overestimated). rest = wall − verify − sign: runtime, consensus, ` +
    'encoding, hashing (Merkle trees, ids), the event queue, legs, garbage collection; only good to the accuracy of the estimate.  '
  );
}

/** Re-runs this script with HEAP_MB_N100 of heap when n = 100 is asked for and the heap is smaller; null when not needed. */
function withLargerHeap(opts: Options): number | null {
  const rerun = 'TANDEM_BENCH_SIM_RERUN';
  if (!opts.n.includes(100) || process.env[rerun] === '1' || getHeapStatistics().heap_size_limit >= HEAP_MB_N100 * 1024 * 1024) return null;
  const args = [...process.execArgv, `--max-old-space-size=${HEAP_MB_N100}`, process.argv[1]!, ...process.argv.slice(2)];
  const child = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, [rerun]: '1' } });
  return child.status ?? 1;
}

async function main(): Promise<void> {
  let opts: Options;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const status = withLargerHeap(opts);
  if (status !== null) {
    process.exitCode = status;
    return;
  }
  const startMs = performance.now();
  const machine = machineLines();
  let rows: Row[];
  try {
    rows = await measure(opts, (what) => process.stderr.write(`bench-sim: ${what} done (${fixed((performance.now() - startMs) / 1_000, 0)} s so far)\n`));
  } catch (e) {
    // A broken run (bench-sim-run.ts says which): nothing is reported. Anything else is a bug: its stack helps.
    if (!(e instanceof Error) || !e.message.startsWith('bench-sim:')) throw e;
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(rows.map(({ label, r, timesV1 }) => ({ case: label, ...r, settlementsPerWallS: perSecond(r), timesV1 })), null, 2)}\n`);
    return;
  }
  const lines = [
    '# Tandem simulator benchmark: protocol v2 beside v1',
    '',
    ...machine,
    `method: fault-free runs, every intent at virtual 0 ms, one-way latency exactly ${LATENCY_MS} ms, seed ${SEED}, one core; ` +
      `terms: deadline ${TERMS.deadlineAfterMs} ms, report window ${TERMS.reportWindowMs} ms, margin ${TERMS.marginMs} ms; ` +
      `v2: node defaults with commitGuard ${BATCHING.commitGuardMs} ms; per row the median-wall-time of ${opts.repeats} run(s); wall time of Simulation.run() only  `,
    '',
    ...mainTable(rows),
    '',
    'latency: from the intent to the first node’s decision, in one-way message delays (virtual ms / ' +
      `${LATENCY_MS}). signatures: Ed25519 by the nodes (v1: observations, proposals, votes; v2: bundles, proposals, votes) + ` +
      'the parties’ two authorizations per intent / BLS partials (one per precommit for a value or a batch).  ',
    '',
    ...timeTable(rows),
    '',
    signCostLine(rows),
    '',
    `total benchmark time: ${fixed((performance.now() - startMs) / 1_000, 0)} s`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

await main();
