/**
 * The demo on real processes (`tandem demo`): 4 nodes over libp2p, anvil with the DvP escrow
 * (reports verified on-chain), the bank on PGlite, and two trades — one that commits, one the
 * bank refuses (ABORT, the escrow refunds). Everything started is stopped at the end, also on Ctrl-C.
 * Under protocol 2 (the default) the cluster decides batches: each trade also tells the height
 * and the batch size it was decided in, and its share of the gas of the settleBatch call.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown } from './cluster.js';
import { DEFAULT_PROTOCOL, type ProtocolVersion } from './protocol.js';
import { type AssetOutcome, type PaymentOutcome, type SettleResult, runSettlement } from './settle.js';
import { clusterUp } from './up.js';

/**
 * One settlement as `tandem demo --json` prints it: `settle --json`'s id, decision, asset and
 * payment; under protocol 2 also the height and batch size it was decided in and its gas share.
 */
export interface DemoSettlement {
  readonly id: string;
  readonly decision: 'commit' | 'abort';
  readonly asset: AssetOutcome;
  readonly payment: PaymentOutcome;
  readonly height?: number;
  readonly batchSize?: number;
  readonly gasShare?: number | null;
}

/** What `tandem demo --json` prints (`error` only when the demo could not run to its end). */
export interface DemoResult {
  readonly protocol: ProtocolVersion;
  readonly settlements: DemoSettlement[];
  readonly error?: string;
}

/** How a trade must end for the demo to pass: the decision and both legs' final states (stable names). */
export interface Expected {
  readonly decision: 'commit' | 'abort';
  readonly asset: AssetOutcome['state'];
  readonly payment: PaymentOutcome['state'];
}

/** The demo's two trades, and how each must end. */
export const DEMO_TRADES: readonly { readonly intro: string; readonly price: string; readonly expect: Expected }[] = [
  {
    intro: '1) bob buys 100 OUSG from alice for 100,000.00 USD:',
    price: '10000000:USD',
    expect: { decision: 'commit', asset: 'released', payment: 'posted' },
  },
  {
    intro: '2) bob tries to buy 100 OUSG for 20,000,000.00 USD, more than he holds: the bank rejects the hold,\n   the nodes agree on ABORT, and the escrow refunds alice:',
    price: '2000000000:USD',
    expect: { decision: 'abort', asset: 'refunded', payment: 'rejected' },
  },
];

/**
 * Did a settlement end as its trade expects: decision, both legs' final states, and a report that
 * verifies? Under protocol 2 also: decided at a height ≥ 1 in a batch of ≥ 1, and (when the
 * escrow call was found) a positive gas share no larger than that call's gas.
 */
export function wentAsExpected(result: SettleResult | null, expect: Expected): boolean {
  if (result === null || !result.report.verified || result.decision !== expect.decision) return false;
  if (result.asset.state !== expect.asset || result.payment.state !== expect.payment) return false;
  if (!('height' in result.report)) return true;
  const share = result.gasShare ?? null;
  const shareSane = share === null || (share > 0 && (result.asset.gasUsed === null || share <= result.asset.gasUsed));
  return (result.height ?? 0) >= 1 && (result.batchSize ?? 0) >= 1 && shareSane;
}

/** The settlement as the demo's JSON gives it (protocol 2: with its height, batch size and gas share). */
function demoSettlement(r: SettleResult): DemoSettlement {
  const v2 = r.height !== undefined ? { height: r.height, batchSize: r.batchSize ?? 0, gasShare: r.gasShare ?? null } : {};
  return { id: r.id, decision: r.decision, asset: r.asset, payment: r.payment, ...v2 };
}

/** The line the v2 demo adds after each trade: where it was decided and what its on-chain check cost it. */
function batchSummary(s: DemoSettlement): string {
  const size = s.batchSize ?? 0;
  const where = `   => ${s.decision.toUpperCase()} decided at height ${s.height} in a batch of ${size} settlement${size === 1 ? '' : 's'}`;
  if (s.gasShare === null || s.gasShare === undefined) return `${where}; no settleBatch call found for its root, so no gas share\n`;
  return `${where}; the escrow checked the batch's report and this entry's proof on-chain in settleBatch: its share of the gas ${s.gasShare.toLocaleString('en-US')}\n`;
}

/**
 * Runs the demo on a throw-away cluster under `protocol` (default DEFAULT_PROTOCOL, 2); `progress` gets the story.
 * Returns the exit code (0 iff the first trade committed and the second aborted, each leg as
 * expected) and the result.
 */
export async function runClusterDemo(progress: (text: string) => void, protocol: ProtocolVersion = DEFAULT_PROTOCOL): Promise<{ code: number; result: DemoResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-demo-'));
  const stopOnSignal = () => {
    void clusterDown(dir).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  const settlements: DemoSettlement[] = [];
  let ok = true;
  let error: string | null = null;
  try {
    progress('Tandem demo on real processes: 4 nodes over libp2p on loopback, a local EVM chain (anvil) with\n');
    progress('the DvP escrow that verifies the threshold report on-chain, and the bank ledger on PGlite.\n');
    if (protocol === 2) progress('Protocol 2: the nodes decide batches of settlements, one threshold report per batch over a Merkle\nroot; the escrow checks the root once and each settlement by its proof (settleBatch).\n');
    progress('\n');
    await clusterUp(dir, { nodes: '4', legs: 'real', protocol: String(protocol), say: (s) => progress(s + '\n') });
    for (const trade of DEMO_TRADES) {
      progress(`\n${trade.intro}\n`);
      const { result } = await runSettlement({ dir, seller: 'alice', buyer: 'bob', asset: '100:OUSG', price: trade.price, deadline: '20s' }, (line) => progress(line + '\n'));
      if (result !== null) {
        const s = demoSettlement(result);
        settlements.push(s);
        if (s.height !== undefined) progress(batchSummary(s));
      }
      ok &&= wentAsExpected(result, trade.expect);
    }
  } catch (e) {
    ok = false;
    error = e instanceof Error ? e.message : String(e);
    process.stderr.write(`tandem demo: ${error}\n`);
  } finally {
    process.off('SIGINT', stopOnSignal);
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
    progress('\ncluster stopped; nothing left running.\n');
  }
  return { code: ok ? 0 : 1, result: { protocol, settlements, ...(error !== null ? { error } : {}) } };
}
