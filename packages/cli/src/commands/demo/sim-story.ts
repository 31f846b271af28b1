/**
 * `tandem demo --sim`: the demo's story told in the deterministic simulator, message by message,
 * from the run's history: each node's observations, the consensus rounds, the report verified,
 * balances before and after, and the checker's verdict.
 */
import type { ProtocolVersion } from '@tandem/devnet';
import { type SimRun, Simulation, buildResult, parseScenario, underProtocol } from '@tandem/sim';
import { renderSummary, table } from '../../render.js';
import { Narrator, usd } from './narrator.js';

/**
 * The demo scenario: one settlement that commits, one whose payment leg the bank refuses. Kept in
 * the code (not in scenarios/) so `tandem demo` works from any directory.
 */
export const DEMO_SCENARIO = `
name: demo
description: bob buys 100 OUSG from alice for 100,000.00 USD; then a second trade whose payment the bank refuses.
seed: 42
nodes: 4
network:
  latency: { min: 5ms, max: 40ms }
accounts:
  asset: { alice: { OUSG: 1000 } }
  payment: { bob: { USD: 1000000000 } }
settlements:
  - id: dvp-1
    at: 0s
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
  - id: dvp-2
    at: 2s
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
faults:
  - { settlement: dvp-2, leg: payment, fail: reject }
expect:
  outcomes: { dvp-1: commit, dvp-2: abort }
  decideWithin: 20s
`;

function balances(run: Pick<SimRun, 'asset' | 'payment'>): string[][] {
  const rows: string[][] = [];
  for (const who of ['alice', 'bob']) rows.push([who, String(run.asset.balance(who, 'OUSG')), usd(run.payment.balance(who, 'USD'))]);
  return rows;
}

/**
 * Tells the demo's story in the simulator under `protocol`, message by message; returns the exit
 * code (0 iff the checker says ok).
 */
export async function runSimStory(seed: number, write: (s: string) => void, protocol: ProtocolVersion = 1): Promise<number> {
  const scenario = underProtocol(parseScenario(DEMO_SCENARIO, 'demo'), protocol);
  const narrator = new Narrator(write);
  const sim = new Simulation(scenario, { seed, onEntry: (e) => narrator.entry(e) });
  narrator.attach(sim);
  write('Tandem demo: Delivery-versus-Payment between a token escrow on a chain and a hold in a bank ledger,\n');
  write(`coordinated by ${scenario.nodes} nodes (tolerating f = 1 Byzantine) that agree by BFT consensus and emit one\n`);
  if (protocol === 2) {
    write('threshold-signed report per batch of settlements (protocol 2: heights, each deciding a batch of COMMIT/ABORT\n');
    write('entries under one Merkle root; the legs check the root once and each settlement by its proof).\n');
    write('Everything below runs in the deterministic simulator.\n\n');
  } else write(`threshold-signed COMMIT or ABORT report per settlement. Everything below runs in the deterministic simulator.\n\n`);
  write(`Balances before:\n${table(['party', 'OUSG', 'USD'], balances(sim))}`);
  const run = await sim.run();
  write(`\nBalances after (dvp-1 settled, dvp-2 rolled back with both legs whole):\n${table(['party', 'OUSG', 'USD'], balances(run))}`);
  write(`\nThe checker's verdict:\n\n`);
  const result = buildResult(run);
  write(renderSummary(result));
  write(`\nNext: \`pnpm tandem simulate scenarios/no-quorum-partition-heal.yaml\`, or any file in scenarios/.\n`);
  return result.ok ? 0 : 1;
}
