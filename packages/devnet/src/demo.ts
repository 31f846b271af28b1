/**
 * The demo on real processes (`tandem demo`): 4 nodes over libp2p, anvil with the DvP escrow
 * (reports verified on-chain), the bank on PGlite, and two trades — one that commits, one the
 * bank refuses (ABORT, the escrow refunds). Everything started is stopped at the end, also on Ctrl-C.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown } from './cluster.js';
import { type AssetOutcome, type PaymentOutcome, type SettleResult, runSettlement } from './settle.js';
import { clusterUp } from './up.js';

/** One settlement as `tandem demo --json` prints it: `settle --json`'s id, decision, asset and payment. */
export interface DemoSettlement {
  readonly id: string;
  readonly decision: 'commit' | 'abort';
  readonly asset: AssetOutcome;
  readonly payment: PaymentOutcome;
}

/** What `tandem demo --json` prints (`error` only when the demo could not run to its end). */
export interface DemoResult {
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

/** Did a settlement end as its trade expects: decision, both legs' final states, and a report that verifies? */
export function wentAsExpected(result: SettleResult | null, expect: Expected): boolean {
  return result !== null && result.report.verified && result.decision === expect.decision && result.asset.state === expect.asset && result.payment.state === expect.payment;
}

/**
 * Runs the demo on a throw-away cluster; `progress` gets the story. Returns the exit code (0 iff
 * the first trade committed and the second aborted, each leg as expected) and the result.
 */
export async function runClusterDemo(progress: (text: string) => void): Promise<{ code: number; result: DemoResult }> {
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
    progress('the DvP escrow that verifies the threshold report on-chain, and the bank ledger on PGlite.\n\n');
    await clusterUp(dir, { nodes: '4', legs: 'real', say: (s) => progress(s + '\n') });
    for (const trade of DEMO_TRADES) {
      progress(`\n${trade.intro}\n`);
      const { result } = await runSettlement({ dir, seller: 'alice', buyer: 'bob', asset: '100:OUSG', price: trade.price, deadline: '20s' }, (line) => progress(line + '\n'));
      if (result !== null) settlements.push({ id: result.id, decision: result.decision, asset: result.asset, payment: result.payment });
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
  return { code: ok ? 0 : 1, result: { settlements, ...(error !== null ? { error } : {}) } };
}
