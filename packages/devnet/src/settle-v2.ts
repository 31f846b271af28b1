/**
 * What `settle` adds under protocol 2: the settlement was decided in a batch at some height, so it
 * prints the height, the batch's size, its report v2 (checked under the group key: one threshold
 * signature over the batch's Merkle root) and, on the real legs, the settlement's share of the gas
 * of the escrow call that applied it: settleBatch's gasUsed / the entries of that call.
 */
import { TANDEM_BLS_DST, blsVerify } from '@tandem/crypto';
import { type LegName, decodeReportV2, fromHex, reportDigestV2, toHex } from '@tandem/protocol';
import type { Credential } from '@tandem/http';
import { getJson } from './http.js';
import type { ChainTransaction } from './leg-host-log.js';

/** The call of a node that applied the settlement's entry on a leg (the node's control API, protocol 2). */
export interface DeliveredCall {
  readonly root: string;
  readonly entries: number;
}

/** What a protocol-2 node's view adds to a settlement's (GET /settlements/ID). */
export interface BatchView {
  readonly height?: number | null;
  readonly batchSize?: number | null;
  readonly delivered?: Record<LegName, DeliveredCall | null>;
}

/** The report v2 of the settlement's batch as `settle --json` prints it. */
export interface ReportV2Summary {
  readonly decision: 'COMMIT' | 'ABORT';
  readonly height: number;
  readonly round: number;
  readonly count: number;
  readonly root: string;
  readonly timeMs: number;
  readonly signature: string;
  readonly digest: string;
  readonly verified: boolean;
}

/** The batch's report (hex of encodeReportV2), verified under the group key. */
export function checkReportV2(reportHex: string, decision: 'COMMIT' | 'ABORT', groupKey: Uint8Array): ReportV2Summary {
  const report = decodeReportV2(fromHex(reportHex));
  const digest = reportDigestV2(report);
  const verified = blsVerify(groupKey, digest, report.signature, TANDEM_BLS_DST);
  return { decision, height: report.height, round: report.round, count: report.count, root: toHex(report.root), timeMs: report.timeMs, signature: toHex(report.signature), digest: toHex(digest), verified };
}

/** The call that applied the settlement on the asset leg, as whichever node made it saw it (null: none says). */
export async function assetDelivery(urls: readonly string[], control: Credential): Promise<DeliveredCall | null> {
  const views = (await Promise.all(urls.map((u) => getJson(u, control).catch(() => null)))) as (BatchView | null)[];
  return views.map((v) => v?.delivered?.asset ?? null).find((d) => d !== null) ?? null;
}

/** The settlement's share of the gas of the escrow call that applied it, and that call's transaction. */
export interface GasShare {
  readonly gasShare: number;
  readonly entries: number;
  readonly tx: ChainTransaction;
  /** settleBatch transactions logged for this root (more than one: the root went out in several calls; this is the first). */
  readonly callsForRoot: number;
}

/** From the leg host's transactions for the root: settleBatch's gasUsed / the entries of the call that applied the settlement. */
export function gasShareOf(transactions: readonly ChainTransaction[], delivered: DeliveredCall | null): GasShare | null {
  if (delivered === null) return null;
  const calls = transactions.filter((t) => t.call === 'settleBatch' && t.for === delivered.root);
  const tx = calls[0];
  if (tx === undefined || delivered.entries < 1) return null;
  return { gasShare: Math.round(Number(tx.gasUsed) / delivered.entries), entries: delivered.entries, tx, callsForRoot: calls.length };
}

/** The lines `settle` prints about the batch. */
export function batchLines(r: ReportV2Summary, groupKey: Uint8Array, share: GasShare | null): string[] {
  const lines = [
    `batch: height ${r.height}, ${r.count} settlement${r.count === 1 ? '' : 's'}, decided in round ${r.round}; root ${r.root}`,
    `  report v2 signature ${r.signature}`,
    `  verifies under the group key ${toHex(groupKey).slice(0, 16)}…: ${r.verified ? 'VALID' : 'INVALID'}`,
  ];
  if (share !== null) {
    const several = share.callsForRoot > 1 ? ` (the root went out in ${share.callsForRoot} settleBatch calls: the first)` : '';
    lines.push(`  escrow settleBatch: tx ${share.tx.hash}, block ${share.tx.block}, gas ${share.tx.gasUsed} for ${share.entries} entr${share.entries === 1 ? 'y' : 'ies'}: this settlement's share ${share.gasShare}${several}`);
  }
  return lines;
}
