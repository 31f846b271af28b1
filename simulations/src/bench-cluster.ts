/**
 * Cluster benchmark: a real 4-node cluster on loopback — one leg host serving the in-memory legs
 * over HTTP and four node processes talking over libp2p, started with
 * `tandem cluster up --legs memory --protocol P`, one cluster per protocol asked (default 1, then
 * 2; the first is the baseline of the closing table's ratios) — measuring
 *
 *   1. decision latency, one settlement at a time: from both legs locked (the later of the leg
 *      host's `lock` and `hold` events) to the first node's `decided` log line, next to a floor
 *      measured in the same run (gossip one-way latency × 4 message delays + one BLS partial sign
 *      + one combine at t = 3 + one BLS verify);
 *   2. decided settlements per wall second at saturation: settlements submitted as fast as the
 *      cluster decides them, with a bounded number in flight, counted over a fixed window.
 *
 * Run with `pnpm bench:cluster` (it builds first). Options for shorter runs while developing:
 * `--protocol 1|2|1,2`, `--intake single|batch|single,batch` (intents one POST each, or one
 * POST /intents/batch per node and poll: default batch; each runs its own saturation windows), `--latency K` (settlements in the latency phase), `--window S` (seconds per
 * saturation window), `--in-flight A,B` and `--in-flight-v2 A,B` (in-flight bounds, one saturation
 * window each), `--keep` (keep the cluster directories and their logs). Prints markdown tables.
 *
 * "Both legs locked" is read from the leg host's own event log (GET /admin/events: the asset leg's
 * `lock` and the payment leg's `hold`, stamped when the leg made the change), not from a node: it
 * is the moment the condition became true, whoever noticed it, so the latency includes the nodes'
 * reading of the legs (an HTTP call after their prepare returns, or the next 100 ms poll). The
 * first node log line that signs an observation of both legs locked is reported beside it, so the
 * detection share can be told apart.
 *
 * Clocks: every process runs on this machine and stamps events with Date.now() (the leg host its
 * leg events, the nodes their log lines), so times from different processes compare directly, to
 * the millisecond the stamps carry. The floor's gossip latency uses performance.now() inside this
 * process.
 *
 * The cluster is started and stopped with @tandem/devnet (the code behind `tandem cluster up` /
 * `down`); everything it started is stopped on every exit path, SIGINT and SIGTERM included. The
 * parts live in bench-cluster/: the phases (latency, saturation), the floor, the log tail, CPU
 * sampling and the rendered tables.
 */
import '@tandem/p2p/polyfill';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_FUNDS, clusterDown, clusterUp } from '@tandem/devnet';
import { machineLines } from './table.js';
import { EXTRA_OUSG, NODES, WARMUP_SETTLEMENTS, percentile } from './bench-cluster/constants.js';
import { FloorSampler } from './bench-cluster/floor.js';
import { latencyPhase } from './bench-cluster/latency.js';
import { LogTail } from './bench-cluster/log-tail.js';
import { type Options, type Protocol, parseOptions } from './bench-cluster/options.js';
import { type ProtocolRun, render } from './bench-cluster/render.js';
import { type SaturationResult, saturationPhase } from './bench-cluster/saturation.js';
import { makeSubmitter } from './bench-cluster/submitter.js';

/** Stops the cluster in `dir` if it is (still) running: every recorded pid, leg host included. */
async function stopCluster(dir: string): Promise<void> {
  if (!existsSync(join(dir, 'state.json'))) return;
  try {
    await clusterDown(dir);
  } catch (e) {
    process.stderr.write(`bench-cluster: stopping the cluster in ${dir} failed (${(e as Error).message}); stop its pids by hand (see ${dir}/state.json)\n`);
  }
}

/** One protocol on its own cluster: latency one at a time, then the saturation windows. */
async function runProtocol(protocol: Protocol, opts: Options, sampler: FloorSampler, dirs: string[]): Promise<ProtocolRun> {
  const dir = mkdtempSync(join(tmpdir(), `tandem-bench-cluster-v${protocol}-`));
  dirs.push(dir);
  process.stderr.write(`bench-cluster: starting a ${NODES}-node protocol-${protocol} cluster in ${dir}\n`);
  const funds = [...DEMO_FUNDS, { leg: 'asset' as const, account: 'alice', unit: 'OUSG', amount: String(EXTRA_OUSG) }];
  const st = await clusterUp(dir, { nodes: String(NODES), legs: 'memory', funds, protocol: String(protocol) });
  try {
    if (st.nodes.length !== NODES) throw new Error(`expected ${NODES} nodes, state.json has ${st.nodes.length}`);
    const sub = makeSubmitter(dir, st);
    const tail = await LogTail.open(st);
    try {
      process.stderr.write(`bench-cluster: protocol ${protocol}: latency phase (${WARMUP_SETTLEMENTS} + ${opts.latencySettlements} settlements)\n`);
      const lat = await latencyPhase(protocol, st, sub, tail, opts.latencySettlements, 0, () => sampler.sample());
      process.stderr.write(`bench-cluster: protocol ${protocol}: latency p50 ${percentile(lat.fromLocked, 50)} ms\n`);
      let seq = WARMUP_SETTLEMENTS + opts.latencySettlements;
      const sat: SaturationResult[] = [];
      for (const intake of opts.intakes) {
        for (const m of protocol === 1 ? opts.inFlight : opts.inFlightV2) {
          process.stderr.write(`bench-cluster: protocol ${protocol}: saturation, at most ${m} in flight, intake ${intake}\n`);
          const r = await saturationPhase(st, sub, tail, intake, m, opts.windowMs, seq);
          seq += r.submitted;
          sat.push(r);
        }
      }
      return { protocol, lat, sat };
    } finally {
      await tail.close();
    }
  } finally {
    await stopCluster(dir);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const sampler = await FloorSampler.start();
  const dirs: string[] = [];
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`bench-cluster: ${sig}: stopping the cluster\n`);
    void Promise.all(dirs.map(stopCluster)).finally(() => {
      process.stderr.write(`bench-cluster: cluster stopped; its directory and logs are kept in ${dirs.join(', ')}\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  try {
    const runs: ProtocolRun[] = [];
    for (const protocol of opts.protocols) runs.push(await runProtocol(protocol, opts, sampler, dirs));
    const floor = sampler.result();
    // Machine lines last: the load average then covers the run.
    process.stdout.write(render(opts, floor, runs, machineLines()));
    ok = true;
  } finally {
    await sampler.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const dir of dirs) {
      if (ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`bench-cluster: cluster directory and logs kept in ${dir}\n`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-cluster: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
