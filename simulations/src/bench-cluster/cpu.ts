/** CPU time of the cluster's processes (Linux /proc), to say what a decided settlement costs. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ClusterState } from '@tandem/devnet';

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
function clockTicksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(r.stdout?.trim());
  return Number.isInteger(v) && v > 0 ? v : 100; // 100 on every Linux this runs on
}

const TICKS_PER_S = clockTicksPerSecond();

/** User + system CPU ms of a process so far, or null where /proc is unavailable. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is [0], utime [11], stime [12].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return null;
  }
}

export interface CpuSample {
  readonly nodesMs: number | null;
  readonly legHostMs: number | null;
  /** This process (the submitter and log reader) shares the cores too. */
  readonly benchMs: number;
}

export function cpuSample(st: ClusterState): CpuSample {
  const nodes = st.nodes.map((n) => processCpuMs(n.pid));
  const u = process.cpuUsage();
  return {
    nodesMs: nodes.every((x) => x !== null) ? nodes.reduce<number>((a, x) => a + x!, 0) : null,
    legHostMs: processCpuMs(st.legHost.pid),
    benchMs: (u.user + u.system) / 1000,
  };
}

/** CPU ms per settlement between two samples, per process group. */
export interface CpuPerSettlement {
  readonly nodesMs: number | null;
  readonly legHostMs: number | null;
  readonly benchMs: number;
}

export function cpuPer(a: CpuSample, b: CpuSample, settlements: number): CpuPerSettlement {
  const per = (x: number | null, y: number | null) => (x === null || y === null || settlements === 0 ? null : (y - x) / settlements);
  return { nodesMs: per(a.nodesMs, b.nodesMs), legHostMs: per(a.legHostMs, b.legHostMs), benchMs: settlements === 0 ? 0 : (b.benchMs - a.benchMs) / settlements };
}

export function cpuText(c: CpuPerSettlement): string {
  const f = (x: number | null) => (x === null ? '?' : x.toFixed(0));
  return `${f(c.nodesMs)} / ${f(c.legHostMs)} / ${f(c.benchMs)}`;
}
