/** Phase 1: decision latency, one settlement at a time. */
import type { ClusterState } from '@tandem/devnet';
import { quorum } from '@tandem/protocol';
import { NODES, SETTLEMENT_TIMEOUT_MS, WARMUP_SETTLEMENTS } from './constants.js';
import { type CpuPerSettlement, cpuPer, cpuSample } from './cpu.js';
import { bothLockedTimes } from './lock-times.js';
import { type LogTail, waitUntil } from './log-tail.js';
import type { Protocol } from './options.js';
import type { Submitter } from './submitter.js';

export interface Timed {
  readonly idHex: string;
  readonly submittedMs: number;
}

export interface LatencyResult {
  readonly k: number;
  readonly fromLocked: number[];
  readonly fromObserved: number[];
  readonly fromSubmit: number[];
  /** Settlements not decided in round 0 (a timeout on the path). */
  readonly laterRounds: number;
  /** Where the time goes, per settlement decided in round 0: consecutive stretches between first events. */
  readonly segments: { readonly name: string; readonly ms: number[] }[];
  /** CPU per settlement over the K measured ones, each from intent to closed on every node. */
  readonly cpu: CpuPerSettlement;
}

/** Submits one settlement and waits until it is decided and closed on every node. */
export async function settleAlone(sub: Submitter, tail: LogTail, seq: number): Promise<Timed> {
  const intent = sub.make(seq);
  tail.expect(intent.idHex);
  const submittedMs = Date.now();
  const { accepted, problems } = await sub.submitAll([intent], 'single')[0]!;
  if (accepted !== NODES) throw new Error(`settlement ${seq}: only ${accepted} of ${NODES} nodes took the intent (${problems.join('; ')})`);
  const tr = tail.trace(intent.idHex);
  await waitUntil(`settlement ${seq} to be decided and closed on every node`, SETTLEMENT_TIMEOUT_MS, tail, () => tr.decidedMs !== null && tr.closedBy.size === NODES);
  if (tr.decision !== 'COMMIT') throw new Error(`settlement ${seq} decided ${tr.decision}: the benchmark would measure a broken path`);
  return { idHex: intent.idHex, submittedMs };
}

/**
 * The stretches between consecutive marks of a settlement decided in round 0 (each mark read from
 * the nodes' `signed` lines: the first observation and proposal, and the moment the q-th node
 * signed its prevote / precommit, i.e. when a quorum of them existed), and what each holds.
 */
export const SEGMENTS = [
  { name: 'both legs locked → first observation of both locked', holds: "a node's prepare answer, its read of both legs (HTTP), observation signed" },
  { name: '→ proposal (round 0)', holds: '1 message delay (the proposer needs f + 1 = 2 observations), round start persisted, proposal signed and persisted' },
  { name: '→ q-th prevote signed', holds: '1 message delay (the proposal), proposal and its evidence verified, prevote signed and persisted' },
  { name: '→ q-th precommit signed', holds: '1 message delay (q prevotes), partial signed, precommit persisted' },
  { name: '→ first report', holds: '1 message delay (q precommits), combine and verify, decision persisted' },
] as const;

/**
 * `between` runs after each measured settlement, with the cluster idle (the floor's sampling); the
 * CPU it costs this process is left out of the per-settlement CPU.
 */
export async function latencyPhase(protocol: Protocol, st: ClusterState, sub: Submitter, tail: LogTail, k: number, seq0: number, between: () => Promise<void>): Promise<LatencyResult> {
  for (let i = 0; i < WARMUP_SETTLEMENTS; i++) await settleAlone(sub, tail, seq0 + i);
  const runs: Timed[] = [];
  const cpu0 = cpuSample(st);
  let betweenCpuMs = 0;
  for (let i = 0; i < k; i++) {
    runs.push(await settleAlone(sub, tail, seq0 + WARMUP_SETTLEMENTS + i));
    const u0 = process.cpuUsage();
    await between();
    const u = process.cpuUsage(u0);
    betweenCpuMs += (u.user + u.system) / 1000;
  }
  const cpu1 = cpuSample(st);
  const cpu = cpuPer(cpu0, { ...cpu1, benchMs: cpu1.benchMs - betweenCpuMs }, k);
  const locked = await bothLockedTimes(st.legHost.url, sub.credentials.admin);
  const segments = SEGMENTS.map((x) => ({ name: x.name, ms: [] as number[] }));
  const out = { k, fromLocked: [] as number[], fromObserved: [] as number[], fromSubmit: [] as number[], laterRounds: 0, segments, cpu };
  const q = quorum(NODES);
  const qth = (xs: readonly number[]) => (xs.length >= q ? [...xs].sort((a, b) => a - b)[q - 1]! : null);
  for (const r of runs) {
    const tr = tail.trace(r.idHex);
    const lockedMs = locked.get(r.idHex);
    if (lockedMs === undefined || tr.decidedMs === null) throw new Error(`settlement ${r.idHex}: a lock event or the decision is missing`);
    // Protocol 2 signs bundles, not one observation per settlement: no observation mark, no stretches.
    if (protocol === 1 && tr.bothLockedObservedMs === null) throw new Error(`settlement ${r.idHex}: no signed observation of both legs locked`);
    out.fromLocked.push(tr.decidedMs - lockedMs);
    if (tr.bothLockedObservedMs !== null) out.fromObserved.push(tr.decidedMs - tr.bothLockedObservedMs);
    out.fromSubmit.push(tr.decidedMs - r.submittedMs);
    if (tr.round !== 0) out.laterRounds++;
    const marks = [lockedMs, tr.bothLockedObservedMs, tr.round0.proposalMs, qth(tr.round0.prevoteMs), qth(tr.round0.precommitMs), tr.decidedMs];
    if (tr.round === 0 && marks.every((m) => m !== null)) {
      SEGMENTS.forEach((_, j) => segments[j]!.ms.push(marks[j + 1]! - marks[j]!));
    }
  }
  return out;
}
