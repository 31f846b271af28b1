/**
 * `settle`: submits one DvP settlement to a running cluster and follows it live — both legs
 * prepared, observed, decided in round r, the report delivered and applied on each leg — then
 * verifies the report under the cluster's group key. Under protocol 2 it was decided in a batch:
 * the height, the batch's size, its report v2 and the settlement's gas share (settle-v2.ts).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { TANDEM_BLS_DST, blsVerify } from '@tandem/crypto';
import { UsageError, loadClusterFile } from '@tandem/daemon';
import { type LegName, type LegState, type LegView, type Terms, decodeReport, encodeTerms, fromHex, reportDigest, settlementId, toHex } from '@tandem/protocol';
import { type AssetState, type PaymentState, assetName, parseDurationMs, paymentName } from '@tandem/sim';
import type { Credential } from '@tandem/http';
import { PostError, getJson, postJson } from './http.js';
import { type BankTransfer, type ChainTransaction, awaitLogLines } from './leg-host-log.js';
import { partySigner } from './parties.js';
import { type BatchView, type ReportV2Summary, assetDelivery, batchLines, checkReportV2, gasShareOf } from './settle-v2.js';
import { clusterPaths, readState } from './paths.js';
import { clusterCredentials } from './secrets.js';

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

/** How long a settlement submitted by `settle` gives the report to reach both legs, and the reclaim margin. */
const REPORT_WINDOW_MS = 30_000;
const MARGIN_MS = 10_000;
/** How often `settle` asks the nodes how the settlement is doing. */
const FOLLOW_POLL_MS = 100;

/** The asset leg's outcome: its final state (a stable name of the run result format), and the escrow's settle transaction (real legs; else null). */
export interface AssetOutcome {
  readonly state: AssetState;
  readonly txHash: string | null;
  readonly gasUsed: number | null;
}

/** The payment leg's outcome: its final state (a stable name), and the bank transfer it moved (real legs with a hold; else null). */
export interface PaymentOutcome {
  readonly state: PaymentState;
  readonly transferId: string | null;
}

/** What `settle --json` prints. */
export interface SettleResult {
  readonly id: string;
  readonly decision: 'commit' | 'abort';
  readonly asset: AssetOutcome;
  readonly payment: PaymentOutcome;
  readonly report: { decision: string; round: number; validUntilMs: number; signature: string; digest: string; verified: boolean } | ReportV2Summary;
  /** Protocol 2: the height whose batch decided it, the batch's size, and the settlement's share of the escrow call's gas (real legs; else null). */
  readonly height?: number;
  readonly batchSize?: number;
  readonly gasShare?: number | null;
  /** Real legs only: every escrow transaction mined for this settlement (lock, settle, reclaim). */
  readonly transactions?: readonly ChainTransaction[];
  /** Real legs only: every change of this settlement's bank transfer, oldest first. */
  readonly bankTransfers?: readonly BankTransfer[];
}

/** A node's view of one settlement (GET /settlements/ID on its control API; protocol 2 adds BatchView). */
interface NodeView extends BatchView {
  decided: boolean;
  decision: 'COMMIT' | 'ABORT' | null;
  round: number | null;
  report: string | null;
  views: Record<LegName, LegView | null>;
  closed: boolean;
}

/** How the text output tells a leg's final state to a reader (the JSON uses the stable names). */
const TOLD: Record<LegName, Partial<Record<LegState, string>>> = {
  asset: { committed: 'released to the buyer', aborted: 'refunded to the seller', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'locked' },
  payment: { committed: 'posted to the payee', aborted: 'voided', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'held' },
};

/** A leg's state under the run result format's stable names (refunded/voided only if value was locked). */
function stableName(leg: LegName, view: LegView | null): AssetState | PaymentState {
  const state = view?.state ?? 'none';
  const hadLock = view?.lock !== null && view?.lock !== undefined;
  return leg === 'asset' ? assetName(state, hadLock) : paymentName(state, hadLock);
}

/** Why a node did not take the intent: its refusal (reason, detail, when to retry) when it sent one, else the error. */
export function refusalText(e: unknown): string {
  if (!(e instanceof PostError) || (e.status !== 422 && e.status !== 429)) return (e as Error).message;
  try {
    const r = JSON.parse(e.body) as { error?: unknown; retryAfterMs?: unknown };
    if (typeof r.error !== 'string') return e.message;
    return typeof r.retryAfterMs === 'number' ? `${r.error} (retry after ${Math.ceil(r.retryAfterMs / 1000)} s)` : r.error;
  } catch {
    return e.message;
  }
}

/** "100:OUSG" → [100n, "OUSG"]. */
function amountAndUnit(flag: string, v: string): [bigint, string] {
  const m = /^([1-9]\d*):([A-Za-z][A-Za-z0-9._-]{0,31})$/.exec(v);
  if (!m) throw new UsageError(`${flag} '${v}': expected AMOUNT:UNIT with a positive integer amount, e.g. 100:OUSG`);
  return [BigInt(m[1]!), m[2]!];
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
  const signer = partySigner(dir);
  const control = clusterCredentials(dir).control;
  for (const [flag, party] of [['--seller', req.seller], ['--buyer', req.buyer]] as const) {
    if (!signer.parties.includes(party)) throw new UsageError(`${flag} ${party}: unknown party (this cluster has ${signer.parties.join(', ')})`);
  }
  const [assetAmount, token] = amountAndUnit('--asset', req.asset);
  const [price, currency] = amountAndUnit('--price', req.price);
  const deadlineAfterMs = parseDurationMs(req.deadline);
  if (deadlineAfterMs === null || deadlineAfterMs <= 0) throw new UsageError(`--deadline '${req.deadline}': expected a duration with a unit, e.g. 30s`);
  const terms: Terms = {
    nonce: `settle-${toHex(randomBytes(8))}`,
    asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token, seller: req.seller, buyer: req.buyer, amount: assetAmount },
    payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: req.buyer, payee: req.seller, currency, amount: price },
    deadlineMs: Date.now() + deadlineAfterMs,
    reportWindowMs: REPORT_WINDOW_MS,
    marginMs: MARGIN_MS,
  };
  const id = settlementId(terms);
  const idHex = toHex(id);
  const body = { terms: toHex(encodeTerms(terms)), authorizations: { asset: signer.authorize(req.seller, id), payment: signer.authorize(req.buyer, id) } };
  say(`settlement ${idHex.slice(0, 16)}…: ${req.buyer} buys ${assetAmount} ${token} from ${req.seller} for ${price} ${currency} (minor units)`);
  let accepted = 0;
  for (const node of st.nodes) {
    try {
      await postJson(`${node.control}/intents`, body, control);
      accepted++;
    } catch (e) {
      say(`  ${node.id} did not take the intent: ${refusalText(e)}`);
    }
  }
  if (accepted === 0) throw new UsageError(`${dir}: no node accepted the intent (their answers are above; is the cluster up? pnpm tandem cluster status --dir ${req.dir})`);
  say(`intent sent to ${accepted} of ${st.nodes.length} nodes; both legs are prepared in parallel with the parties' authorizations`);

  const urls = st.nodes.map((n) => `${n.control}/settlements/${idHex}`);
  const last = await follow(urls, control, terms.deadlineMs + terms.reportWindowMs + terms.marginMs + 5_000, say);
  if (last === null || !last.decided || last.report === null || last.decision === null) {
    process.stderr.write(`tandem settle: no decision for ${idHex} before the reclaim time; see pnpm tandem cluster logs --dir ${req.dir}\n`);
    return { code: 1, result: null };
  }
  const groupKey = cluster.config.commitments[0]!;
  const v2 = (st.protocol ?? 1) === 2 ? checkReportV2(last.report, last.decision, groupKey) : null;
  const report = v2 === null ? decodeReport(fromHex(last.report)) : null;
  const valid = v2?.verified ?? blsVerify(groupKey, reportDigest(report!), report!.signature, TANDEM_BLS_DST);
  const stateOf = (leg: LegName) => last.views[leg]?.state ?? 'none';
  const logged = st.legs === 'real' ? await awaitLogLines(paths.logs, idHex, stateOf('asset'), stateOf('payment'), v2?.root) : null;
  const share = v2 === null || logged === null ? null : gasShareOf(logged.transactions, await assetDelivery(urls, control));
  const settleTx = share?.tx ?? logged?.transactions.find((t) => t.call === 'settle') ?? null;
  const result: SettleResult = {
    id: idHex,
    decision: last.decision === 'COMMIT' ? 'commit' : 'abort',
    asset: { state: stableName('asset', last.views.asset) as AssetState, txHash: settleTx?.hash ?? null, gasUsed: settleTx === null ? null : Number(settleTx.gasUsed) },
    payment: { state: stableName('payment', last.views.payment) as PaymentState, transferId: logged?.bankTransfers.at(-1)?.transferId ?? null },
    report: v2 ?? { decision: report!.decision, round: report!.round, validUntilMs: report!.validUntilMs, signature: toHex(report!.signature), digest: toHex(reportDigest(report!)), verified: valid },
    ...(v2 !== null ? { height: v2.height, batchSize: v2.count, gasShare: share?.gasShare ?? null } : {}),
    ...(logged !== null ? { transactions: logged.transactions, bankTransfers: logged.bankTransfers } : {}),
  };
  const told = (leg: LegName) => TOLD[leg][stateOf(leg)] ?? stateOf(leg);
  if (v2 !== null) for (const line of batchLines(v2, groupKey, share)) say(line);
  else {
    say(`report: ${report!.decision}, round ${report!.round}, validUntil ${new Date(report!.validUntilMs).toISOString()}`);
    say(`  signature ${toHex(report!.signature)}`);
    say(`  verifies under the group key ${toHex(groupKey).slice(0, 16)}…: ${valid ? 'VALID' : 'INVALID'}`);
  }
  say(`asset: ${told('asset')}; payment: ${told('payment')}`);
  // Under v2 the settleBatch that applied this settlement is in the batch lines; another one for its root is another node's call.
  const onChain: Record<string, string> = { settle: ' (the report verified on-chain)', settleBatch: " (another node's call for this root)" };
  for (const tx of logged?.transactions ?? []) if (tx !== share?.tx) say(`  escrow ${tx.call}: tx ${tx.hash}, block ${tx.block}, gas ${tx.gasUsed}${onChain[tx.call] ?? ''}`);
  if (result.payment.transferId !== null) {
    const steps = logged!.bankTransfers.map((b) => (b.kind === 'hold' ? 'held' : b.status)).join(', then ');
    say(`  bank transfer ${result.payment.transferId}: ${steps}`);
  }
  return { code: valid ? 0 : 1, result };
}

/**
 * Asks every node (`urls`) for its view until one saw the settlement decided and closed on both
 * legs, or `giveUpAtMs` passes; tells each step once. Returns the most telling view (null: none).
 */
async function follow(urls: readonly string[], control: Credential, giveUpAtMs: number, say: (line: string) => void): Promise<NodeView | null> {
  const seen = new Set<string>();
  const once = (key: string, text: string) => {
    if (!seen.has(key)) {
      seen.add(key);
      say(`  ${text}`);
    }
  };
  let last: NodeView | null = null;
  while (Date.now() < giveUpAtMs) {
    const views = (await Promise.all(urls.map((u) => getJson(u, control).catch(() => null)))) as (NodeView | null)[];
    for (const v of views) {
      if (v === null) continue;
      last = v.decided || last === null || !last.decided ? v : last;
      const a = v.views.asset?.state;
      const p = v.views.payment?.state;
      if (a === 'locked') once('asset-locked', 'asset leg locked in escrow (observed at finality)');
      if (p === 'locked') once('payment-locked', 'payment leg held at the bank');
      if (a === 'rejected') once('asset-rejected', 'asset leg REJECTED the prepare');
      if (p === 'rejected') once('payment-rejected', 'payment leg REJECTED the prepare');
      if (v.decided && typeof v.height === 'number') once('decided', `decided ${v.decision} at height ${v.height}${typeof v.batchSize === 'number' ? ` in a batch of ${v.batchSize}` : ''}: threshold report v2 over its root`);
      else if (v.decided) once('decided', `decided ${v.decision} in round ${v.round}: threshold report assembled`);
      for (const [leg, state] of [['asset', a], ['payment', p]] as const) {
        if (state === 'committed' || state === 'aborted' || state === 'reclaimed') once(`${leg}-final`, `${leg} leg: report applied, ${TOLD[leg][state]}`);
      }
    }
    // Done once a node saw the settlement closed on both legs: report its view.
    const closedView = views.find((v) => v !== null && v.decided && v.closed);
    if (closedView) return closedView;
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
  return last;
}
