/** Phase 2: decided settlements per wall second with a bounded number in flight. */
import type { ClusterState } from '@tandem/devnet';
import { DRAIN_TIMEOUT_MS, NODES, RAMP_MS, TAIL_POLL_MS, sleep } from './constants.js';
import { type CpuPerSettlement, type CpuSample, cpuPer, cpuSample } from './cpu.js';
import type { Timed } from './latency.js';
import { bothLockedTimes } from './lock-times.js';
import type { LogTail } from './log-tail.js';
import type { Intake, Intent, Submission, Submitter } from './submitter.js';

export interface SaturationResult {
  readonly intake: Intake;
  readonly inFlightMax: number;
  readonly submitted: number;
  readonly decidedInWindow: number;
  readonly perSecond: number;
  /** Mean of the in-flight count (submitted, not yet decided) at each poll in the window, before the refill. */
  readonly inFlightMean: number;
  /** Most settlements decided but not yet closed on every node at once (delivery backlog). */
  readonly closingMax: number;
  readonly commits: number;
  readonly aborts: number;
  readonly undecided: number;
  readonly notClosed: number;
  readonly refused: number;
  readonly latencyFromLocked: number[];
  /** Decided in the window but not in round 0. */
  readonly laterRounds: number;
  /** CPU over the window per settlement decided in it. */
  readonly cpu: CpuPerSettlement;
}

export async function saturationPhase(st: ClusterState, sub: Submitter, tail: LogTail, intake: Intake, inFlightMax: number, windowMs: number, seq0: number): Promise<SaturationResult> {
  const started: Timed[] = [];
  const pending = new Set<string>(); // submitted, not yet decided
  const closing = new Set<string>(); // decided, not yet closed on every node that took it
  const takenBy = new Map<string, ReadonlySet<string>>(); // the nodes that took each intent, once answered
  const submissions: Promise<Submission>[] = [];
  let closingMax = 0;
  const inFlightSamples: number[] = [];
  const t0 = Date.now();
  const windowStart = t0 + RAMP_MS;
  const windowEnd = windowStart + windowMs;
  const settle = () => {
    for (const id of pending) {
      if (tail.trace(id).decidedMs !== null) {
        pending.delete(id);
        closing.add(id);
      }
    }
    for (const id of closing) {
      const taken = takenBy.get(id);
      const closedBy = tail.trace(id).closedBy;
      if (taken !== undefined && [...taken].every((node) => closedBy.has(node))) closing.delete(id);
    }
    closingMax = Math.max(closingMax, closing.size);
  };
  let cpuStart: CpuSample | null = null;
  while (Date.now() < windowEnd) {
    await tail.poll();
    settle();
    if (cpuStart === null && Date.now() >= windowStart) cpuStart = cpuSample(st);
    // Sampled before the refill: how many were still undecided when this poll came round.
    if (Date.now() >= windowStart) inFlightSamples.push(pending.size);
    // Not awaited: a settlement is in flight from the moment its intent is posted.
    const refill: Intent[] = [];
    while (pending.size < inFlightMax) {
      const intent = sub.make(seq0 + started.length);
      tail.expect(intent.idHex);
      pending.add(intent.idHex);
      started.push({ idHex: intent.idHex, submittedMs: Date.now() });
      refill.push(intent);
    }
    sub.submitAll(refill, intake).forEach((p, k) =>
      submissions.push(
        p.then((s) => {
          takenBy.set(refill[k]!.idHex, new Set(s.acceptedBy));
          return s;
        }),
      ),
    );
    await sleep(TAIL_POLL_MS);
  }
  const cpuEnd = cpuSample(st);
  const accepted = await Promise.all(submissions);
  // The table counts refusals; their reasons go to stderr (each distinct one once, a few at most).
  const reasons = [...new Set(accepted.flatMap((a) => a.problems.map((p) => p.replace(/^n\d+: /, ''))))];
  for (const r of reasons.slice(0, 5)) process.stderr.write(`bench-cluster: an intent was refused: ${r}\n`);
  const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < drainUntil && (pending.size > 0 || closing.size > 0)) {
    await tail.poll();
    settle();
    await sleep(TAIL_POLL_MS);
  }
  const locked = await bothLockedTimes(st.legHost.url, sub.credentials.admin);
  let decidedInWindow = 0;
  let commits = 0;
  let aborts = 0;
  let laterRounds = 0;
  const latencyFromLocked: number[] = [];
  for (const r of started) {
    const tr = tail.trace(r.idHex);
    if (tr.decision === 'COMMIT') commits++;
    else if (tr.decision === 'ABORT') aborts++;
    if (tr.decidedMs !== null && tr.decidedMs >= windowStart && tr.decidedMs < windowEnd) {
      decidedInWindow++;
      if (tr.round !== 0) laterRounds++;
      const lockedMs = locked.get(r.idHex);
      if (lockedMs !== undefined) latencyFromLocked.push(tr.decidedMs - lockedMs);
    }
  }
  return {
    intake,
    inFlightMax,
    submitted: started.length,
    decidedInWindow,
    perSecond: decidedInWindow / (windowMs / 1000),
    inFlightMean: inFlightSamples.length > 0 ? inFlightSamples.reduce((s, x) => s + x, 0) / inFlightSamples.length : 0,
    closingMax,
    commits,
    aborts,
    undecided: pending.size,
    notClosed: closing.size,
    refused: accepted.filter((a) => a.accepted !== NODES).length,
    latencyFromLocked,
    laterRounds,
    cpu: cpuPer(cpuStart ?? cpuEnd, cpuEnd, decidedInWindow),
  };
}
