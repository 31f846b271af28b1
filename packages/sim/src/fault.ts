/**
 * What a scenario fault does at a given time, as pure functions of the fault list (the one
 * reading of a fault's window and of clock skew, shared by the simulator and the link faults a
 * cluster runner pushes to its nodes), and the one way a fault is put in words.
 */
import { formatDurationMs } from './duration.js';
import type { Fault, NodeIndex } from './scenario.js';

/** Is `f` in force at run time `tMs`? From `at` (inclusive) to `until` (exclusive), or for good. */
export function faultActive(f: Fault, tMs: number): boolean {
  return tMs >= f.atMs && (f.untilMs === null || tMs < f.untilMs);
}

/** The clock offset of a node or a leg at run time `tMs`: the sum of the clock-skew faults in force. */
export function clockSkewMs(faults: readonly Fault[], target: NodeIndex | 'asset' | 'payment', tMs: number): number {
  let skew = 0;
  for (const f of faults) if (f.kind === 'clock-skew' && f.target === target && faultActive(f, tMs)) skew += f.skewMs;
  return skew;
}

/** A fault in a few words, for people (reports, logs, refusals): `partition n1,n2 | n3,n4`, `s1 payment apply-error (2 times)`. */
export function describeFault(f: Fault): string {
  const nodes = (xs: readonly NodeIndex[]) => xs.map((x) => `n${x}`).join(',');
  switch (f.kind) {
    case 'crash':
    case 'isolate':
      return `${f.kind} n${f.node}`;
    case 'partition':
      return `partition ${f.groups.map(nodes).join(' | ')}`;
    case 'delay':
      return `delay n${f.node} +${formatDurationMs(f.extraMs)}`;
    case 'drop':
    case 'duplicate':
      return `${f.kind} ${f.rate} from ${nodes(f.from)} to ${nodes(f.to)}`;
    case 'clock-skew':
      return `clock-skew ${typeof f.target === 'number' ? `n${f.target}` : f.target} ${f.skewMs < 0 ? '-' : '+'}${formatDurationMs(Math.abs(f.skewMs))}`;
    case 'reorg':
      return `reorg ${f.settlement}`;
    case 'byzantine':
      return `byzantine n${f.node} ${f.behaviour}`;
    case 'leg': {
      const how = f.fail === 'late-lock' ? ` (after ${formatDurationMs(f.afterMs)})` : f.fail === 'apply-error' ? ` (${f.times} time${f.times === 1 ? '' : 's'})` : '';
      return `${f.settlement} ${f.leg} ${f.fail}${how}`;
    }
  }
}
