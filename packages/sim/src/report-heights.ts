/**
 * The run report's heights table (protocol 2): per decided height, when it was decided, in which
 * round, its batch size and decisions, its time and liveFrom. Empty for a protocol-1 run.
 */
import { decidedChain, gatherV2 } from './check-v2-facts.js';
import type { RunRecord } from './run-record.js';

export function renderHeights(run: RunRecord): string {
  if (run.protocol !== 2) return '';
  const chain = decidedChain(gatherV2(run), (node) => !run.byzantine.has(node));
  const rows = [...chain.values()]
    .sort((a, b) => a.height - b.height)
    .map((d) => {
      const commits = d.entries.filter((e) => e.decision === 'COMMIT').length;
      return `<tr><td class="num">${d.height}</td><td class="num">${d.t}</td><td class="num">${d.round}</td><td class="num">${d.header.count}</td><td class="num">${commits}</td><td class="num">${d.header.count - commits}</td><td class="num">${d.header.timeMs}</td><td class="num">${d.header.liveFrom}</td></tr>`;
    })
    .join('');
  const body = rows === '' ? '<tr><td colspan="8">no height was decided</td></tr>' : rows;
  return `<h2>Heights</h2>
<table id="heights"><thead><tr><th>height</th><th>decided at (ms)</th><th>round</th><th>batch size</th><th>commit</th><th>abort</th><th>batch time (ms)</th><th>liveFrom</th></tr></thead><tbody>${body}</tbody></table>`;
}
