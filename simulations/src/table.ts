/**
 * Helpers shared by the benchmarks (bench-crypto, bench-sim): a median, a markdown table renderer
 * and the machine description every recorded table carries, so figures from different runs and
 * machines can be told apart.
 */
import os from 'node:os';

/** Median of a non-empty sample (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty sample');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Column {
  readonly header: string;
  /** Numbers are right-aligned so their digits line up in a rendered table. */
  readonly align: 'left' | 'right';
}

/** The lines of a markdown table; every row must have one cell per column. */
export function markdownTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) throw new RangeError(`table row ${i} has ${row.length} cells for ${columns.length} columns`);
  }
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(columns.map((c) => c.header)), line(columns.map((c) => (c.align === 'right' ? '---:' : '---'))), ...rows.map(line)];
}

/**
 * Date, Node version, CPU model, core count and load average, as markdown lines ending in two
 * spaces (a line break). The load average says how much other work shared the cores.
 */
export function machineLines(): string[] {
  const cpus = os.cpus();
  const cpu = cpus[0]?.model ?? 'unknown CPU';
  return [
    `date: ${new Date().toISOString()}  `,
    `node: ${process.version}  `,
    `cpu: ${cpu} (${cpus.length} logical cores; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')})  `,
  ];
}
