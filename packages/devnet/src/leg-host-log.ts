/**
 * The real leg host's log (DIR/logs/leghost.log) read back per settlement: every escrow
 * transaction (`evm-transaction`) and bank transfer change (`bank-transfer`) the real legs logged
 * for one settlement id (lowercase hex without 0x), as `settle` prints them. Under protocol 2 the
 * escrow's submitRoot and settleBatch transactions are logged under the batch's root, so a root
 * may be given too: its transactions are the settlement's as well.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** An escrow transaction the real leg host logged for this settlement (`evm-transaction`). */
export interface ChainTransaction {
  readonly call: string;
  /** The settlement id, or (submitRoot, settleBatch) the batch root it was logged under. */
  readonly for: string;
  readonly hash: string;
  readonly block: string;
  readonly gasUsed: string;
}

/** A change of this settlement's bank transfer the real leg host logged (`bank-transfer`). */
export interface BankTransfer {
  readonly transferId: string;
  /** hold (pending), post (posted), void or reclaim (voided). */
  readonly kind: string;
  readonly status: string;
}

/** The leg host's log lines about one settlement, as the real legs write them (see real-legs.ts). */
export function settlementLogLines(logText: string, idHex: string, rootHex?: string): { transactions: ChainTransaction[]; bankTransfers: BankTransfer[] } {
  const transactions: ChainTransaction[] = [];
  const bankTransfers: BankTransfer[] = [];
  for (const line of logText.split('\n')) {
    // A cheap filter first: the log holds every settlement's lines.
    if (!line.includes(idHex) && (rootHex === undefined || !line.includes(rootHex))) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a partial last line, or not ours
    }
    const byRoot = rootHex !== undefined && e['settlement'] === rootHex;
    if (e['settlement'] !== idHex && !byRoot) continue;
    if (e['event'] === 'evm-transaction' && e['status'] === 'success') {
      transactions.push({ call: String(e['call']), for: String(e['settlement']), hash: String(e['hash']), block: String(e['block']), gasUsed: String(e['gasUsed']) });
    } else if (e['event'] === 'bank-transfer') {
      bankTransfers.push({ transferId: String(e['transferId']), kind: String(e['kind']), status: String(e['status']) });
    }
  }
  return { transactions, bankTransfers };
}

/** How long to wait for the leg host's log lines after the settlement closed: a receipt may land a poll later. */
const LOG_LINES_WAIT_MS = 3_000;

/**
 * This settlement's transactions and transfer changes from DIR/logs/leghost.log, once they are
 * all there: the settle transaction when the asset leg was settled by a report, the posting when
 * the payment leg committed. (A node can see a leg settled a moment before the leg host has
 * logged the receipt that settled it.) Under protocol 2, `rootHex` names the batch root: the
 * asset leg was settled by a settleBatch (or settle) logged under it.
 */
export async function awaitLogLines(logs: string, idHex: string, assetState: string, paymentState: string, rootHex?: string): Promise<ReturnType<typeof settlementLogLines>> {
  const until = Date.now() + LOG_LINES_WAIT_MS;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(join(logs, 'leghost.log'), 'utf8');
    } catch {
      // no log (yet): nothing found
    }
    const found = settlementLogLines(text, idHex, rootHex);
    const settled = !['committed', 'aborted'].includes(assetState) || found.transactions.some((t) => t.call === 'settle' || t.call === 'settleBatch');
    const posted = paymentState !== 'committed' || found.bankTransfers.some((b) => b.status === 'posted');
    if ((settled && posted) || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

