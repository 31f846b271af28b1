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

interface SettleOptions {
  dir: string;
  seller: string;
  buyer: string;
  asset: string;
  price: string;
  deadline: string;
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

const LEG_NAMES_AFTER: Record<string, Record<string, string>> = {
  asset: { committed: 'released to the buyer', aborted: 'refunded to the seller', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'locked' },
  payment: { committed: 'posted to the payee', aborted: 'voided', reclaimed: 'reclaimed', rejected: 'rejected', locked: 'held' },
};

interface ChainTransaction {
  readonly call: string;
  readonly hash: string;
  readonly block: string;
  readonly gasUsed: string;
}

/**
 * The escrow transactions the real leg host logged since `sinceMs`: with one settlement in flight
 * (as `settle` runs them), these are its lock and its settle.
 */
function chainTransactions(logs: string, sinceMs: number): ChainTransaction[] {
  const out: ChainTransaction[] = [];
  let text = '';
  try {
    text = readFileSync(join(logs, 'leghost.log'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"evm-transaction"')) continue;
    try {
      const e = JSON.parse(line) as { t: string; call: string; hash: string; block: string; gasUsed: string; status: string };
      if (Date.parse(e.t) >= sinceMs && e.status === 'success') out.push({ call: e.call, hash: e.hash, block: e.block, gasUsed: e.gasUsed });
    } catch {
      // a partial last line: skip it
    }
  }
  return out;
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
      const say = (s: string) => {
        if (!opts.json) process.stdout.write(s + '\n');
      };
      const dir = resolve(opts.dir);
      const st = readState(dir);
      const paths = clusterPaths(dir);
      const cluster = loadClusterFile(paths.cluster);
      const secrets = JSON.parse(readFileSync(paths.partiesSecret, 'utf8')) as Record<string, string>;
      for (const [flag, party] of [['--seller', opts.seller], ['--buyer', opts.buyer]] as const) {
        if (secrets[party] === undefined) throw new UsageError(`${flag} ${party}: unknown party (this cluster has ${Object.keys(secrets).join(', ')})`);
      }
      const [assetAmount, token] = amountAndUnit('--asset', opts.asset);
      const [price, currency] = amountAndUnit('--price', opts.price);
      const deadlineMs = parseDurationMs(opts.deadline);
      if (deadlineMs === null || deadlineMs <= 0) throw new UsageError(`--deadline '${opts.deadline}': expected a duration with a unit, e.g. 30s`);
      const terms: Terms = {
        nonce: `settle-${toHex(randomBytes(8))}`,
        asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token, seller: opts.seller, buyer: opts.buyer, amount: assetAmount },
        payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: opts.buyer, payee: opts.seller, currency, amount: price },
        deadlineMs: Date.now() + deadlineMs,
        reportWindowMs: 30_000,
        marginMs: 10_000,
      };
      const startedAtMs = Date.now();
      const id = settlementId(terms);
      const idHex = toHex(id);
      const sign = (party: string) => ({ party, signature: toHex(identitySign(SIGN_DOMAIN.authorization, fromHex(secrets[party]!, 32), id)) });
      const body = { terms: toHex(encodeTerms(terms)), authorizations: { asset: sign(opts.seller), payment: sign(opts.buyer) } };
      say(`settlement ${idHex.slice(0, 16)}…: ${opts.buyer} buys ${assetAmount} ${token} from ${opts.seller} for ${price} ${currency} (minor units)`);
      let accepted = 0;
      for (const node of st.nodes) {
        try {
          await postJson(`${node.control}/intents`, body);
          accepted++;
        } catch {
          say(`  ${node.id} did not take the intent (down?)`);
        }
      }
      if (accepted === 0) throw new UsageError(`${dir}: no node accepted the intent (is the cluster up? pnpm tandem cluster status --dir ${opts.dir})`);
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
            if (state === 'committed' || state === 'aborted' || state === 'reclaimed') once(`${leg}-final`, `${leg} leg: report applied, ${LEG_NAMES_AFTER[leg]![state]}`);
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
        process.stderr.write(`tandem settle: no decision for ${idHex} before the reclaim time; see pnpm tandem cluster logs --dir ${opts.dir}\n`);
        setExit(1);
        return;
      }
      const report = decodeReport(fromHex(last.report));
      const valid = blsVerify(cluster.config.commitments[0]!, reportDigest(report), report.signature, TANDEM_BLS_DST);
      const finalOf = (leg: 'asset' | 'payment') => {
        const s = last!.views[leg]?.state ?? 'none';
        return LEG_NAMES_AFTER[leg]![s] ?? s;
      };
      const transactions = st.legs === 'real' ? chainTransactions(paths.logs, startedAtMs) : [];
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({
            id: idHex,
            decision: report.decision === 'COMMIT' ? 'commit' : 'abort',
            asset: finalOf('asset'),
            payment: finalOf('payment'),
            report: { decision: report.decision, round: report.round, validUntilMs: report.validUntilMs, signature: toHex(report.signature), digest: toHex(reportDigest(report)), verified: valid },
            ...(st.legs === 'real' ? { transactions } : {}),
          }) + '\n',
        );
      } else {
        say(`report: ${report.decision}, round ${report.round}, validUntil ${new Date(report.validUntilMs).toISOString()}`);
        say(`  signature ${toHex(report.signature)}`);
        say(`  verifies under the group key ${toHex(cluster.config.commitments[0]!).slice(0, 16)}…: ${valid ? 'VALID' : 'INVALID'}`);
        say(`asset: ${finalOf('asset')}; payment: ${finalOf('payment')}`);
        for (const tx of transactions) say(`  escrow ${tx.call}: tx ${tx.hash}, block ${tx.block}, gas ${tx.gasUsed}${tx.call === 'settle' ? ' (the report verified on-chain)' : ''}`);
      }
      setExit(valid ? 0 : 1);
    });
};
