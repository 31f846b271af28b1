import type { RunResult } from '@tandem/sim';

/** Pads cells to a plain-text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

function mark(ok: boolean | null): string {
  return ok === null ? 'unknown' : ok ? 'ok' : 'BROKEN';
}

/** The human-readable summary of a run: settlements, invariants, expectations, verdict. */
export function renderSummary(r: RunResult): string {
  let out = `scenario ${r.scenario}, seed ${r.seed}: ${r.ok ? 'OK' : 'NOT OK'}\n\n`;
  out += table(
    ['settlement', 'decision', 'decided at', 'round', 'asset', 'payment'],
    r.settlements.map((s) => [s.id, (s.decision ?? '-') + (s.expired ? ' (expired)' : ''), s.decidedAtMs === null ? '-' : `${s.decidedAtMs} ms`, s.round === undefined ? '-' : String(s.round), s.asset, s.payment]),
  );
  out += '\n' + table(['invariant', 'verdict', 'detail'], r.invariants.map((i) => [i.name, mark(i.ok), i.detail]));
  if (r.expectations.length > 0) out += '\n' + table(['expectation', 'verdict', 'detail'], r.expectations.map((e) => [e.what, mark(e.ok), e.detail]));
  if (r.evidence.length > 0) out += `\nevidence of misbehaviour recorded: ${r.evidence.length}\n`;
  out += `\nmessages ${r.metrics.messages}, decision latency p50 ${r.metrics.decisionLatencyMs.p50} ms / p99 ${r.metrics.decisionLatencyMs.p99} ms, run time ${r.metrics.virtualMs} ms\n`;
  out += `history hash ${r.historyHash}\n`;
  return out;
}
