/** Following the nodes' logs (JSON lines, one file per node): when each settlement reached each step. */
import { type FileHandle, open } from 'node:fs/promises';
import type { ClusterState } from '@tandem/devnet';
import { READ_BYTES_MAX, TAIL_POLL_MS, isRecord, sleep } from './constants.js';

export interface Trace {
  /**
   * Earliest decision line over all nodes (ms since the epoch: protocol 1's `decided`, protocol
   * 2's `settlement-decided`), its decision and round (under 2, the round its height decided in).
   */
  decidedMs: number | null;
  decision: string | null;
  round: number | null;
  /** Protocol 2: the height that decided it. */
  height: number | null;
  /** Earliest signed (non-deadline) observation showing both legs locked. */
  bothLockedObservedMs: number | null;
  /** Round 0: the earliest signed proposal, and when each node signed its prevote / precommit for a value (not nil). */
  readonly round0: { proposalMs: number | null; readonly prevoteMs: number[]; readonly precommitMs: number[] };
  readonly closedBy: Set<string>;
}

export class LogTail {
  private readonly traces = new Map<string, Trace>();
  /** Protocol 2: the round each height decided in, from the `decided-height` lines (logged before its settlements'). */
  private readonly heightRounds = new Map<number, number>();

  private constructor(private readonly files: { readonly node: string; readonly fh: FileHandle; offset: number; rest: Buffer }[]) {}

  static async open(st: ClusterState): Promise<LogTail> {
    const files = [];
    for (const n of st.nodes) files.push({ node: n.id, fh: await open(n.log, 'r'), offset: 0, rest: Buffer.alloc(0) });
    return new LogTail(files);
  }

  /** Only settlements registered here are traced (the logs hold a 16-hex-digit id prefix). */
  expect(idHex: string): void {
    this.traces.set(idHex.slice(0, 16), { decidedMs: null, decision: null, round: null, height: null, bothLockedObservedMs: null, round0: { proposalMs: null, prevoteMs: [], precommitMs: [] }, closedBy: new Set() });
  }

  trace(idHex: string): Trace {
    const t = this.traces.get(idHex.slice(0, 16));
    if (t === undefined) throw new Error(`settlement ${idHex} was never registered`);
    return t;
  }

  async poll(): Promise<void> {
    for (const f of this.files) {
      const size = (await f.fh.stat()).size;
      if (size <= f.offset) continue;
      const buf = Buffer.alloc(Math.min(size - f.offset, READ_BYTES_MAX));
      const { bytesRead } = await f.fh.read(buf, 0, buf.length, f.offset);
      f.offset += bytesRead;
      const text = Buffer.concat([f.rest, buf.subarray(0, bytesRead)]);
      const end = text.lastIndexOf(0x0a);
      f.rest = Buffer.from(text.subarray(end + 1)); // a partial last line waits for its end
      if (end >= 0) for (const line of text.subarray(0, end).toString('utf8').split('\n')) this.take(f.node, line);
    }
  }

  async close(): Promise<void> {
    for (const f of this.files) await f.fh.close();
  }

  private take(node: string, line: string): void {
    if (line.length === 0 || line[0] !== '{') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return; // not one of the node's JSON lines (e.g. a stack trace)
    }
    if (!isRecord(e) || typeof e['t'] !== 'string') return;
    if (e['event'] === 'decided-height' && typeof e['height'] === 'number' && typeof e['round'] === 'number') this.heightRounds.set(e['height'], e['round']);
    if (typeof e['settlement'] !== 'string') return;
    const tr = this.traces.get(e['settlement']);
    if (tr === undefined) return;
    const atMs = Date.parse(e['t']);
    const v2 = e['event'] === 'settlement-decided';
    if ((e['event'] === 'decided' || v2) && (tr.decidedMs === null || atMs < tr.decidedMs)) {
      tr.decidedMs = atMs;
      tr.decision = typeof e['decision'] === 'string' ? e['decision'] : null;
      tr.height = v2 && typeof e['height'] === 'number' ? e['height'] : null;
      tr.round = v2 ? (tr.height === null ? null : (this.heightRounds.get(tr.height) ?? null)) : typeof e['round'] === 'number' ? e['round'] : null;
    } else if (e['event'] === 'signed' && e['kind'] === 'obs' && e['deadline'] === false && e['asset'] === 'locked' && e['payment'] === 'locked') {
      if (tr.bothLockedObservedMs === null || atMs < tr.bothLockedObservedMs) tr.bothLockedObservedMs = atMs;
    } else if (e['event'] === 'signed' && e['round'] === 0 && e['value'] !== null) {
      // A node logs `signed` once per message it signs (resends are not re-signed), so one line per node and step.
      if (e['kind'] === 'proposal' && (tr.round0.proposalMs === null || atMs < tr.round0.proposalMs)) tr.round0.proposalMs = atMs;
      else if (e['kind'] === 'prevote') tr.round0.prevoteMs.push(atMs);
      else if (e['kind'] === 'precommit') tr.round0.precommitMs.push(atMs);
    } else if (e['event'] === 'closed') {
      tr.closedBy.add(node);
    }
  }
}

export async function waitUntil(what: string, timeoutMs: number, tail: LogTail, done: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await tail.poll();
    if (done()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(TAIL_POLL_MS);
  }
}
