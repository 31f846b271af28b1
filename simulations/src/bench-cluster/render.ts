/** The benchmark's output: markdown tables with the floor, latencies and saturation rows. */
import { encodeMessage, quorum } from '@tandem/protocol';
import { markdownTable } from '../table.js';
import { DRAIN_TIMEOUT_MS, MESSAGE_DELAYS, NODES, RAMP_MS, WARMUP_SETTLEMENTS, WRITE_AHEAD_ON_PATH, percentile } from './constants.js';
import { cpuText } from './cpu.js';
import { type Floor, probe } from './floor.js';
import { type LatencyResult, SEGMENTS } from './latency.js';
import type { Options, Protocol } from './options.js';
import type { SaturationResult } from './saturation.js';

const fmt = (ms: number, digits = 0) => ms.toFixed(digits);

/** One protocol's cluster: its latency phase and saturation windows. */
export interface ProtocolRun {
  readonly protocol: Protocol;
  readonly lat: LatencyResult;
  readonly sat: readonly SaturationResult[];
}

const peakOf = (sat: readonly SaturationResult[]) => sat.reduce<SaturationResult | null>((best, r) => (best === null || r.perSecond > best.perSecond ? r : best), null);

/** Every protocol's section, then (with two) each against the first, measured in the same run. */
export function render(opts: Options, floor: Floor, runs: readonly ProtocolRun[], machine: readonly string[]): string {
  const base = runs[0]!;
  const ratio = (x: number, b: number) => (b > 0 ? `${(x / b).toFixed(2)}×` : '–');
  const summary =
    runs.length < 2
      ? []
      : [
          `## Protocol ${runs.map((r) => r.protocol).join(' vs ')}: each against protocol ${base.protocol}, measured in this run`,
          '',
          ...markdownTable(
            [
              { header: 'protocol', align: 'right' },
              { header: 'latency p50 ms (locked → report)', align: 'right' },
              { header: `× protocol ${base.protocol}`, align: 'right' },
              { header: 'peak decided / wall s', align: 'right' },
              { header: `× protocol ${base.protocol}`, align: 'right' },
              { header: 'at in-flight bound (intake)', align: 'right' },
            ],
            runs.map((r) => {
              const p = peakOf(r.sat);
              const bp = peakOf(base.sat);
              const l50 = percentile(r.lat.fromLocked, 50);
              return [String(r.protocol), fmt(l50), ratio(l50, percentile(base.lat.fromLocked, 50)), p === null ? '–' : p.perSecond.toFixed(2), p === null || bp === null ? '–' : ratio(p.perSecond, bp.perSecond), p === null ? '–' : `${p.inFlightMax} (${p.intake})`];
            }),
          ),
          '',
        ];
  return [`# Tandem cluster benchmark (${NODES} nodes, loopback, in-memory legs)`, '', ...machine, '', ...runs.flatMap((r) => section(opts, floor, r)), ...summary].join('\n');
}

function section(opts: Options, floor: Floor, run: ProtocolRun): string[] {
  const { lat, sat } = run;
  const p50 = percentile(lat.fromLocked, 50);
  // The floor counts from both legs locked; against the intent (which adds the prepares) it means nothing.
  const latencyRow = (what: string, xs: readonly number[], againstFloor: boolean) => [
    what,
    String(xs.length),
    fmt(percentile(xs, 50)),
    fmt(percentile(xs, 99)),
    fmt(Math.min(...xs)),
    againstFloor ? (percentile(xs, 50) / floor.totalMs).toFixed(1) : '–',
  ];
  const peak = peakOf(sat);
  return [
    `## Protocol ${run.protocol}`,
    '',
    `method: one cluster (tandem cluster up --legs memory --protocol ${run.protocol}); ${WARMUP_SETTLEMENTS} unreported warm-up settlements, then K = ${lat.k} one at a time, each decided and closed on every node before the next; every settlement moves 1 OUSG against 1 USD; times from the leg host's lock/hold events and the nodes' log lines (one machine clock, ms stamps); the floor is sampled in this process after each of the K settlements, with the cluster idle  `,
    '',
    ...markdownTable(
      [
        { header: 'latency (one settlement at a time)', align: 'left' },
        { header: 'settlements', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'min ms', align: 'right' },
        { header: 'p50 / floor', align: 'right' },
      ],
      [
        latencyRow('both legs locked → first report (decided)', lat.fromLocked, true),
        ...(lat.fromObserved.length > 0 ? [latencyRow('first observation of both locked → first report', lat.fromObserved, true)] : []),
        latencyRow('intent posted → first report', lat.fromSubmit, false),
      ],
    ),
    '',
    `decided in a round after 0: ${lat.laterRounds} of ${lat.k}; ratio of the headline p50 to the floor: ${(p50 / floor.totalMs).toFixed(1)}  `,
    `CPU ms per settlement, intent to closed on every node (4 nodes / leg host / this process): ${cpuText(lat.cpu)}  `,
    '',
    ...(run.protocol === 1
      ? markdownTable(
          [
            { header: `where the time goes (${lat.segments[0]!.ms.length} settlements decided in round 0; medians do not add up exactly)`, align: 'left' },
            { header: 'p50 ms', align: 'right' },
            { header: 'p99 ms', align: 'right' },
            { header: 'what the stretch holds', align: 'left' },
          ],
          lat.segments.map((x, j) => [x.name, x.ms.length > 0 ? fmt(percentile(x.ms, 50)) : '–', x.ms.length > 0 ? fmt(percentile(x.ms, 99)) : '–', SEGMENTS[j]!.holds]),
        )
      : ['(protocol 2 signs bundles and votes per height, not per settlement: the logs hold no per-settlement marks between both legs locked and the decision)']),
    '',
    ...markdownTable(
      [
        { header: `floor component (this process, ${floor.cryptoSamples} samples between settlements)`, align: 'left' },
        { header: 'ms (median)', align: 'right' },
        { header: 'in floor', align: 'right' },
      ],
      [
        [`gossip one-way latency, 2 libp2p hosts (${floor.gossipSamples} probes, ${encodeMessage(probe(0)).length} B each)`, fmt(floor.gossipMs, 2), `× ${MESSAGE_DELAYS} = ${fmt(MESSAGE_DELAYS * floor.gossipMs, 2)}`],
        ['BLS partial sign (32-byte digest)', fmt(floor.partialSignMs, 2), fmt(floor.partialSignMs, 2)],
        [`combine t = ${quorum(NODES)}`, fmt(floor.combineMs, 2), fmt(floor.combineMs, 2)],
        ['BLS verify of the combined signature', fmt(floor.verifyMs, 2), fmt(floor.verifyMs, 2)],
        ['**floor**', '', `**${fmt(floor.totalMs, 2)}**`],
        ['Ed25519 sign (each observation, proposal, vote; not in floor)', fmt(floor.ed25519SignMs, 2), '–'],
        ['Ed25519 verify (each message received; not in floor)', fmt(floor.ed25519VerifyMs, 2), '–'],
        [`write-ahead put, fsync'd (round start, proposal, votes, decision: ${WRITE_AHEAD_ON_PATH} on the path; not in floor)`, fmt(floor.writeAheadMs, 2), '–'],
      ],
    ),
    '',
    `saturation: per row, intents posted to all ${NODES} nodes whenever fewer than the bound are undecided (intake single: one POST /intents per intent and node; batch: one POST /intents/batch per node and poll); decisions counted over a ${opts.windowMs / 1000} s window after a ${RAMP_MS / 1000} s ramp; then a drain of up to ${DRAIN_TIMEOUT_MS / 1000} s  `,
    '',
    ...markdownTable(
      [
        { header: 'intake', align: 'left' },
        { header: 'in-flight bound', align: 'right' },
        { header: 'mean in flight', align: 'right' },
        { header: 'submitted', align: 'right' },
        { header: 'decided in window', align: 'right' },
        { header: 'decided / wall s', align: 'right' },
        { header: 'latency p50 / p99 ms (locked → report)', align: 'right' },
        { header: 'decided after round 0', align: 'right' },
        { header: 'CPU ms / decided (4 nodes / leg host / this process)', align: 'right' },
        { header: 'most decided, not yet closed', align: 'right' },
        { header: 'commit / abort / undecided', align: 'right' },
        { header: 'not closed after drain', align: 'right' },
        { header: 'intents refused', align: 'right' },
      ],
      sat.map((r) => [
        r.intake,
        String(r.inFlightMax),
        r.inFlightMean.toFixed(1),
        String(r.submitted),
        String(r.decidedInWindow),
        r.perSecond.toFixed(2),
        r.latencyFromLocked.length > 0 ? `${fmt(percentile(r.latencyFromLocked, 50))} / ${fmt(percentile(r.latencyFromLocked, 99))}` : '–',
        String(r.laterRounds),
        cpuText(r.cpu),
        String(r.closingMax),
        `${r.commits} / ${r.aborts} / ${r.undecided}`,
        String(r.notClosed),
        String(r.refused),
      ]),
    ),
    '',
    peak === null ? '' : `peak: ${peak.perSecond.toFixed(2)} decided settlements / wall s with at most ${peak.inFlightMax} in flight, intake ${peak.intake}  `,
    '',
  ];
}
