/**
 * `tandem settle`: submits one DvP settlement to a running cluster and follows it live — both legs
 * prepared, observed, decided in round r, the report delivered and applied on each leg — then
 * prints the report and verifies it under the cluster's group key.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TANDEM_BLS_DST, blsVerify, identitySign } from '@tandem/crypto';
import { loadClusterFile } from '@tandem/daemon';
import { type Terms, SIGN_DOMAIN, decodeReport, encodeTerms, fromHex, reportDigest, settlementId, toHex } from '@tandem/protocol';
import { parseDurationMs } from '@tandem/sim';
import { UsageError } from '../errors.js';
import { DEFAULT_CLUSTER_DIR, clusterPaths, readState } from '../cluster-dir.js';
import type { RegisterCommand } from './index.js';
import { getJson, postJson } from './cluster.js';

/** One settlement to submit, as the flags give it. */
export interface SettleRequest {
  readonly dir: string;
  readonly seller: string;
  readonly buyer: string;
  /** AMOUNT:TOKEN, e.g. 100:OUSG. */
  readonly asset: string;
  /** AMOUNT:CURRENCY in minor units, e.g. 10000000:USD. */
  readonly price: string;
  /** A duration with a unit, e.g. 30s. */
  readonly deadline: string;
}

interface SettleOptions extends SettleRequest {
  json?: boolean;
}

/** "100:OUSG" → [100n, "OUSG"]. */
function amountAndUnit(flag: string, v: string): [bigint, string] {
  const m = /^([1-9]\d*):([A-Za-z][A-Za-z0-9._-]{0,31})$/.exec(v);
  if (!m) throw new UsageError(`${flag} '${v}': expected AMOUNT:UNIT with a positive integer amount, e.g. 100:OUSG`);
  return [BigInt(m[1]!), m[2]!];
}

interface NodeView {
  decided: boolean;
  decision: 'COMMIT' | 'ABORT' | null;
  round: number | null;
  report: string | null;
  views: { asset: { state: string } | null; payment: { state: string } | null };
  closed: boolean;
}

/** How `settle` names each leg's final state (in its text and in `asset.state` / `payment.state` of its JSON). */
export const LEG_NAMES_AFTER: Record<'asset' | 'payment', Record<string, string>> = {
  asset: { committed: 'released to the buyer', aborted: 'refunded to the seller', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'locked' },
  payment: { committed: 'posted to the payee', aborted: 'voided', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'held' },
};

/** An escrow transaction the real leg host logged for this settlement (`evm-transaction`). */
export interface ChainTransaction {
  readonly call: string;
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

/** The asset leg's outcome: its final state, and the escrow's settle transaction (real legs; else null). */
export interface AssetOutcome {
  readonly state: string;
  readonly txHash: string | null;
  readonly gasUsed: number | null;
}

/** The payment leg's outcome: its final state, and the bank transfer it moved (real legs with a hold; else null). */
export interface PaymentOutcome {
  readonly state: string;
  readonly transferId: string | null;
}

/** What `settle --json` prints. */
export interface SettleResult {
  readonly id: string;
  readonly decision: 'commit' | 'abort';
  readonly asset: AssetOutcome;
  readonly payment: PaymentOutcome;
  readonly report: { decision: string; round: number; validUntilMs: number; signature: string; digest: string; verified: boolean };
  /** Real legs only: every escrow transaction mined for this settlement (lock, settle, reclaim). */
  readonly transactions?: readonly ChainTransaction[];
  /** Real legs only: every change of this settlement's bank transfer, oldest first. */
  readonly bankTransfers?: readonly BankTransfer[];
}

/** The leg host's log lines about one settlement, as the real legs write them (see real-legs.ts). */
export function settlementLogLines(logText: string, idHex: string): { transactions: ChainTransaction[]; bankTransfers: BankTransfer[] } {
  const transactions: ChainTransaction[] = [];
  const bankTransfers: BankTransfer[] = [];
  for (const line of logText.split('\n')) {
    // A cheap filter first: the log holds every settlement's lines.
    if (!line.includes(idHex)) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a partial last line, or not ours
    }
    if (e['settlement'] !== idHex) continue;
    if (e['event'] === 'evm-transaction' && e['status'] === 'success') {
      transactions.push({ call: String(e['call']), hash: String(e['hash']), block: String(e['block']), gasUsed: String(e['gasUsed']) });
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
 * logged the receipt that settled it.)
 */
async function awaitLogLines(logs: string, idHex: string, assetState: string, paymentState: string): Promise<ReturnType<typeof settlementLogLines>> {
  const until = Date.now() + LOG_LINES_WAIT_MS;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(join(logs, 'leghost.log'), 'utf8');
    } catch {
      // no log (yet): nothing found
    }
    const found = settlementLogLines(text, idHex);
    const settled = !['committed', 'aborted'].includes(assetState) || found.transactions.some((t) => t.call === 'settle');
    const posted = paymentState !== 'committed' || found.bankTransfers.some((b) => b.status === 'posted');
    if ((settled && posted) || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Submits one settlement to the cluster in `req.dir` and follows it until a node saw it closed on
 * both legs. `say` gets the progress lines. Returns the exit code (0: decided and the report
 * verifies under the group key) and the result (null when nothing was decided in time).
 * Bad flags throw UsageError.
 */
export async function runSettlement(req: SettleRequest, say: (line: string) => void): Promise<{ code: number; result: SettleResult | null }> {
  const dir = resolve(req.dir);
  const st = readState(dir);
  const paths = clusterPaths(dir);
  const cluster = loadClusterFile(paths.cluster);
  const secrets = JSON.parse(readFileSync(paths.partiesSecret, 'utf8')) as Record<string, string>;
  for (const [flag, party] of [['--seller', req.seller], ['--buyer', req.buyer]] as const) {
    if (secrets[party] === undefined) throw new UsageError(`${flag} ${party}: unknown party (this cluster has ${Object.keys(secrets).join(', ')})`);
  }
  const [assetAmount, token] = amountAndUnit('--asset', req.asset);
  const [price, currency] = amountAndUnit('--price', req.price);
  const deadlineMs = parseDurationMs(req.deadline);
  if (deadlineMs === null || deadlineMs <= 0) throw new UsageError(`--deadline '${req.deadline}': expected a duration with a unit, e.g. 30s`);
  const terms: Terms = {
    nonce: `settle-${toHex(randomBytes(8))}`,
    asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token, seller: req.seller, buyer: req.buyer, amount: assetAmount },
    payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: req.buyer, payee: req.seller, currency, amount: price },
    deadlineMs: Date.now() + deadlineMs,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
  const id = settlementId(terms);
  const idHex = toHex(id);
  const sign = (party: string) => ({ party, signature: toHex(identitySign(SIGN_DOMAIN.authorization, fromHex(secrets[party]!, 32), id)) });
  const body = { terms: toHex(encodeTerms(terms)), authorizations: { asset: sign(req.seller), payment: sign(req.buyer) } };
  say(`settlement ${idHex.slice(0, 16)}…: ${req.buyer} buys ${assetAmount} ${token} from ${req.seller} for ${price} ${currency} (minor units)`);
  let accepted = 0;
  for (const node of st.nodes) {
    try {
      await postJson(`${node.control}/intents`, body);
      accepted++;
    } catch {
      say(`  ${node.id} did not take the intent (down?)`);
    }
  }
  if (accepted === 0) throw new UsageError(`${dir}: no node accepted the intent (is the cluster up? pnpm tandem cluster status --dir ${req.dir})`);
  say(`intent sent to ${accepted} of ${st.nodes.length} nodes; both legs are prepared in parallel with the parties' authorizations`);

  const seen = new Set<string>();
  const once = (key: string, text: string) => {
    if (!seen.has(key)) {
      seen.add(key);
      say(`  ${text}`);
    }
  };
  const giveUpAt = terms.deadlineMs + terms.reportWindowMs + terms.marginMs + 5_000;
  let last: NodeView | null = null;
  while (Date.now() < giveUpAt) {
    const views = (await Promise.all(st.nodes.map((n) => getJson(`${n.control}/settlements/${idHex}`).catch(() => null)))) as (NodeView | null)[];
    for (const v of views) {
      if (v === null) continue;
      last = v.decided || last === null || !last.decided ? v : last;
      const a = v.views.asset?.state;
      const p = v.views.payment?.state;
      if (a === 'locked') once('asset-locked', 'asset leg locked in escrow (observed at finality)');
      if (p === 'locked') once('payment-locked', 'payment leg held at the bank');
      if (a === 'rejected') once('asset-rejected', 'asset leg REJECTED the prepare');
      if (p === 'rejected') once('payment-rejected', 'payment leg REJECTED the prepare');
      if (v.decided) once('decided', `decided ${v.decision} in round ${v.round}: threshold report assembled`);
      for (const [leg, state] of [['asset', a], ['payment', p]] as const) {
        if (state === 'committed' || state === 'aborted' || state === 'reclaimed') once(`${leg}-final`, `${leg} leg: report applied, ${LEG_NAMES_AFTER[leg][state]}`);
      }
    }
    // Done once a node saw the settlement closed on both legs: report its view.
    const closedView = views.find((v) => v !== null && v.decided && v.closed);
    if (closedView) {
      last = closedView;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (last === null || !last.decided || last.report === null) {
    process.stderr.write(`tandem settle: no decision for ${idHex} before the reclaim time; see pnpm tandem cluster logs --dir ${req.dir}\n`);
    return { code: 1, result: null };
  }
  const report = decodeReport(fromHex(last.report));
  const valid = blsVerify(cluster.config.commitments[0]!, reportDigest(report), report.signature, TANDEM_BLS_DST);
  const stateOf = (leg: 'asset' | 'payment') => last!.views[leg]?.state ?? 'none';
  const nameOf = (leg: 'asset' | 'payment') => LEG_NAMES_AFTER[leg][stateOf(leg)] ?? stateOf(leg);
  const logged = st.legs === 'real' ? await awaitLogLines(paths.logs, idHex, stateOf('asset'), stateOf('payment')) : null;
  const settleTx = logged?.transactions.find((t) => t.call === 'settle') ?? null;
  const result: SettleResult = {
    id: idHex,
    decision: report.decision === 'COMMIT' ? 'commit' : 'abort',
    asset: { state: nameOf('asset'), txHash: settleTx?.hash ?? null, gasUsed: settleTx === null ? null : Number(settleTx.gasUsed) },
    payment: { state: nameOf('payment'), transferId: logged?.bankTransfers.at(-1)?.transferId ?? null },
    report: { decision: report.decision, round: report.round, validUntilMs: report.validUntilMs, signature: toHex(report.signature), digest: toHex(reportDigest(report)), verified: valid },
    ...(logged !== null ? { transactions: logged.transactions, bankTransfers: logged.bankTransfers } : {}),
  };
  say(`report: ${report.decision}, round ${report.round}, validUntil ${new Date(report.validUntilMs).toISOString()}`);
  say(`  signature ${toHex(report.signature)}`);
  say(`  verifies under the group key ${toHex(cluster.config.commitments[0]!).slice(0, 16)}…: ${valid ? 'VALID' : 'INVALID'}`);
  say(`asset: ${result.asset.state}; payment: ${result.payment.state}`);
  for (const tx of logged?.transactions ?? []) say(`  escrow ${tx.call}: tx ${tx.hash}, block ${tx.block}, gas ${tx.gasUsed}${tx.call === 'settle' ? ' (the report verified on-chain)' : ''}`);
  if (result.payment.transferId !== null) {
    const steps = logged!.bankTransfers.map((b) => (b.kind === 'hold' ? 'held' : b.status)).join(', then ');
    say(`  bank transfer ${result.payment.transferId}: ${steps}`);
  }
  return { code: valid ? 0 : 1, result };
}

export const registerSettle: RegisterCommand = (program: Command, setExit) => {
  program
    .command('settle')
    .description('submit a DvP settlement to a running cluster and follow it until both legs are settled or rolled back')
    .option('--dir <dir>', 'cluster directory', DEFAULT_CLUSTER_DIR)
    .requiredOption('--seller <party>', 'who delivers the asset (and is paid)')
    .requiredOption('--buyer <party>', 'who pays (and receives the asset)')
    .requiredOption('--asset <amount:token>', 'e.g. 100:OUSG (integer token units)')
    .requiredOption('--price <amount:currency>', 'e.g. 10000000:USD (integer minor units)')
    .option('--deadline <duration>', 'time for both legs to lock', '30s')
    .option('--json', 'print one JSON object')
    .action(async (opts: SettleOptions) => {
      const { code, result } = await runSettlement(opts, (line) => {
        if (!opts.json) process.stdout.write(line + '\n');
      });
      if (opts.json && result !== null) process.stdout.write(JSON.stringify(result) + '\n');
      setExit(code);
    });
};
