/**
 * Gas benchmark of the asset leg (`pnpm bench:gas`, `--json` for JSON): on a local anvil (Prague,
 * EIP-2537), the gas of DvpEscrowV2's submitRoot, settle with proof and settleBatch at batch sizes
 * B = 1, 16, 64, 256, per settlement, beside DvpEscrow's (protocol v1) settle measured in the same
 * run, with ratios against it. Gas is deterministic: one measurement per row.
 *
 * Every settlement is a COMMIT releasing an ERC-20 (TandemToken) to a buyer that held none of it
 * (a fresh balance slot, the dearest transfer), from an escrow that keeps a balance (a spare lock),
 * so v1 and v2 rows pay for the same token work. Gas is the transaction's gasUsed: the 21k base
 * and the calldata included. "Verification" is everything but applying entries: for settleBatch,
 * the call's gas minus the gas of its applyEntry calls (callTracer), per settlement; for settle,
 * what it spends until its proof is checked (see provingGas) plus the root's share (submitRoot / B).
 * The submitRoot row's per-settlement figure is that share.
 *
 * Goals (issue 12): verification ≤ 10k gas per settlement at B ≥ 64; settleBatch ≤ 100k gas per
 * settlement all in (token transfer included).
 */
import { type Anvil, type ChainClients, addressString, anvilDevAccount, chainClients, deployEscrow, deployToken, dvpEscrowAbi, dvpEscrowV2Abi, g1ToEip2537, rpc, settleBatchArgs, settleV2Args, startAnvil, submitRootArgs, tandemTokenAbi } from '@tandem/leg-evm';
import { type Dealer, createLegFixture, signReport, signReportV2 } from '@tandem/legs/fixture';
import { type Entry, type ReportBodyV2, type ReportV2, type Terms, compareIds, encodeReportBody, encodeTerms, fromHex, reportTreeRoot, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import type { LegAnchor } from '@tandem/legs';
import { machineLines, markdownTable } from './table.js';

const BATCH_SIZES = [1, 16, 64, 256] as const;
const VERIFICATION_GOAL_GAS = 10_000;
const VERIFICATION_GOAL_BATCH_MIN = 64;
const ALL_IN_GOAL_GAS = 100_000;
const AMOUNT = 100n;
const TRANSACTION_BASE_GAS = 21_000;
/** Far beyond any lock of the run: the leg clock never reaches validUntil. */
const DEADLINE_AHEAD_MS = 3_600_000;

type Hex = `0x${string}`;
type Address = Hex;
const hex = (b: Uint8Array): Hex => `0x${toHex(b)}`;

interface Bench {
  readonly anvil: Anvil;
  readonly owner: ChainClients;
  readonly seller: ChainClients;
  readonly token: Address;
  readonly anchor: LegAnchor;
  /** The same cluster under protocol 2 (its v2 configuration digest): what DvpEscrowV2 is anchored to. */
  readonly anchorV2: LegAnchor;
  readonly dealer: Dealer;
  readonly startMs: number;
  counter: number;
}

interface Row {
  readonly operation: string;
  readonly batch: number | null;
  readonly gas: number;
  readonly perSettlementGas: number;
  readonly verificationPerSettlementGas: number | null;
}

/** A receipt's gasUsed, after checking the transaction succeeded. */
async function mined(c: ChainClients, hash: Hex, what: string): Promise<{ gas: number; hash: Hex }> {
  const r = await c.publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== 'success') throw new Error(`bench-gas: ${what} reverted (tx ${hash})`);
  return { gas: Number(r.gasUsed), hash };
}

async function setUp(anvil: Anvil): Promise<Bench> {
  const clientsOf = (index: number) => chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: anvilDevAccount(index) });
  const owner = clientsOf(0);
  const seller = clientsOf(1);
  const token = await deployToken(owner, { name: 'Tandem OUSG', symbol: 'OUSG' });
  await mined(owner, await owner.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'mint', args: [seller.walletClient.account.address, 10n ** 30n] }), 'mint');
  const { anchor, anchorV2, dealer } = createLegFixture();
  const startMs = Number((await owner.publicClient.getBlock()).timestamp) * 1000;
  return { anvil, owner, seller, token, anchor, anchorV2, dealer, startMs, counter: 0 };
}

/** Deploys an escrow, lets it pull the seller's tokens, and locks one spare settlement that stays locked. */
async function escrowOf(b: Bench, protocol: 1 | 2): Promise<Address> {
  const escrow = await deployEscrow(b.owner, protocol === 1 ? b.anchor : b.anchorV2, protocol);
  await mined(b.seller, await b.seller.walletClient.writeContract({ address: b.token, abi: tandemTokenAbi, functionName: 'approve', args: [escrow, 2n ** 256n - 1n] }), 'approve');
  await lockMany(b, escrow, 1);
  return escrow;
}

/** Locks `count` settlements, each to a buyer address that has never held the token. */
async function lockMany(b: Bench, escrow: Address, count: number): Promise<Terms[]> {
  const out: Terms[] = [];
  for (let k = 0; k < count; k++) {
    b.counter += 1;
    const buyer = `0xb${b.counter.toString(16).padStart(39, '0')}`;
    const t: Terms = {
      nonce: `bench-gas-${b.counter}`,
      asset: { chainId: BigInt(b.anvil.chainId), escrow: fromHex(escrow, 20), token: addressString(b.token), seller: addressString(b.seller.walletClient.account.address), buyer, amount: AMOUNT },
      payment: { bankId: 'bank', ledger: 'main', payer: 'buyer', payee: 'seller', currency: 'USD', amount: 1n },
      deadlineMs: b.startMs + DEADLINE_AHEAD_MS,
      reportWindowMs: 30_000,
      marginMs: 10_000,
    };
    await mined(b.seller, await b.seller.walletClient.writeContract({ address: escrow, abi: dvpEscrowAbi, functionName: 'lock', args: [hex(encodeTerms(t)), '0x'] }), 'lock');
    out.push(t);
  }
  return out;
}

/** v1: one report per settlement, one BLS verification per settle. */
async function measureV1(b: Bench): Promise<Row> {
  const escrow = await escrowOf(b, 1);
  const [t] = await lockMany(b, escrow, 1);
  const report = signReport(b.dealer, { networkId: b.anchor.networkId, configDigest: b.anchor.configDigest, settlementId: settlementId(t!), decision: 'COMMIT', round: 0, validUntilMs: validUntilMs(t!) });
  const { gas } = await mined(b.owner, await b.owner.walletClient.writeContract({ address: escrow, abi: dvpEscrowAbi, functionName: 'settle', args: [hex(encodeReportBody(report)), hex(g1ToEip2537(report.signature))] }), 'v1 settle');
  return { operation: 'v1 settle (report per settlement)', batch: 1, gas, perSettlementGas: gas, verificationPerSettlementGas: null };
}

/** A v2 batch of COMMITs for `count` fresh locks, sorted by id, and its report signed by shares 1..3. */
async function batchOf(b: Bench, escrow: Address, count: number, height: number): Promise<{ entries: Entry[]; report: ReportV2 }> {
  const locked = await lockMany(b, escrow, count);
  const entries = locked.map((t): Entry => ({ settlementId: settlementId(t), decision: 'COMMIT', validUntilMs: validUntilMs(t) })).sort((x, y) => compareIds(x.settlementId, y.settlementId));
  const body: ReportBodyV2 = { networkId: b.anchorV2.networkId, configDigest: b.anchorV2.configDigest, height, round: 0, timeMs: b.startMs, liveFrom: 1, count, root: reportTreeRoot(entries) };
  return { entries, report: signReportV2(b.dealer, body) };
}

/**
 * Gas of each applyEntry call inside a settleBatch transaction (anvil's callTracer): the escrow's
 * calls to itself (its other calls go to the BLS precompiles).
 */
async function applyEntryGas(b: Bench, escrow: Address, hash: Hex): Promise<number[]> {
  interface Frame { readonly to?: string; readonly gasUsed?: string; readonly calls?: readonly Frame[] }
  const trace = (await rpc(b.anvil.rpcUrl, 'debug_traceTransaction', [hash, { tracer: 'callTracer' }])) as Frame;
  return (trace.calls ?? []).filter((f) => f.to?.toLowerCase() === escrow.toLowerCase()).map((f) => Number(BigInt(f.gasUsed ?? '0x0')));
}

async function measureV2(b: Bench, escrow: Address, size: number, height: number): Promise<Row[]> {
  const w = b.owner.walletClient;
  // settleBatch with the signature: verifies the body, caches the root, applies all B.
  const batch = await batchOf(b, escrow, size, height);
  const indices = batch.entries.map((_, i) => i);
  const sent = await mined(b.owner, await w.writeContract({ address: escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args: settleBatchArgs(batch.report, batch.entries, indices) }), `settleBatch B=${size}`);
  const applies = await applyEntryGas(b, escrow, sent.hash);
  if (applies.length !== size) throw new Error(`bench-gas: settleBatch B=${size} made ${applies.length} applyEntry calls`);
  const applied = applies.reduce((x, y) => x + y, 0);
  // submitRoot, then settle one entry with its proof.
  const single = await batchOf(b, escrow, size, height + 1);
  const root = await mined(b.owner, await w.writeContract({ address: escrow, abi: dvpEscrowV2Abi, functionName: 'submitRoot', args: submitRootArgs(single.report) }), `submitRoot B=${size}`);
  const args = settleV2Args(single.entries, 0);
  const proofOnly = await provingGas(b, escrow, args);
  const settle = await mined(b.owner, await w.writeContract({ address: escrow, abi: dvpEscrowV2Abi, functionName: 'settle', args }), `settle B=${size}`);
  return [
    { operation: 'v2 submitRoot (BLS verify, cache root)', batch: size, gas: root.gas, perSettlementGas: root.gas / size, verificationPerSettlementGas: root.gas / size },
    { operation: 'v2 settle with proof (+ root share)', batch: size, gas: settle.gas, perSettlementGas: settle.gas + root.gas / size, verificationPerSettlementGas: proofOnly + root.gas / size },
    { operation: 'v2 settleBatch (signature in the call)', batch: size, gas: sent.gas, perSettlementGas: sent.gas / size, verificationPerSettlementGas: (sent.gas - applied) / size },
  ];
}

/**
 * What a settle spends until its proof is checked, the transaction's 21k base left out: the gas of
 * the same call with the entry's last byte flipped, which climbs the same proof and fails only at
 * the comparison with the root (BadProof).
 */
async function provingGas(b: Bench, escrow: Address, args: ReturnType<typeof settleV2Args>): Promise<number> {
  const [root, index, entry, proof] = args;
  const bytes = fromHex(entry);
  bytes[bytes.length - 1]! ^= 0x01;
  const flipped = hex(bytes);
  const hash = await b.owner.walletClient.writeContract({ address: escrow, abi: dvpEscrowV2Abi, functionName: 'settle', args: [root, index, flipped, proof], gas: 1_000_000n });
  const r = await b.owner.publicClient.waitForTransactionReceipt({ hash });
  if (r.status !== 'reverted') throw new Error('bench-gas: a settle with a flipped entry went through');
  return Number(r.gasUsed) - TRANSACTION_BASE_GAS;
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function render(rows: readonly Row[], v1: Row): string[] {
  const headers = ['operation', 'B', 'gas (transaction)', 'gas per settlement, all in', 'verification per settlement', 'all in vs v1 settle'];
  const columns = headers.map((header, i) => ({ header, align: i === 0 ? ('left' as const) : ('right' as const) }));
  const cells = [v1, ...rows].map((r) => [
    r.operation,
    r.batch === null ? '' : String(r.batch),
    fmt(r.gas),
    fmt(r.perSettlementGas),
    r.verificationPerSettlementGas === null ? '' : fmt(r.verificationPerSettlementGas),
    (r.perSettlementGas / v1.perSettlementGas).toFixed(3),
  ]);
  return markdownTable(columns, cells);
}

interface Goals { readonly verificationOk: boolean; readonly allInOk: boolean; readonly lines: string[] }

function goals(rows: readonly Row[]): Goals {
  const batchRows = rows.filter((r) => r.operation.startsWith('v2 settleBatch'));
  const verify = batchRows.filter((r) => (r.batch ?? 0) >= VERIFICATION_GOAL_BATCH_MIN);
  const verificationOk = verify.every((r) => (r.verificationPerSettlementGas ?? Infinity) <= VERIFICATION_GOAL_GAS);
  const allInBatches = batchRows.filter((r) => r.perSettlementGas <= ALL_IN_GOAL_GAS).map((r) => r.batch);
  const allInOk = verify.every((r) => r.perSettlementGas <= ALL_IN_GOAL_GAS);
  return {
    verificationOk,
    allInOk,
    lines: [
      `- verification ≤ ${fmt(VERIFICATION_GOAL_GAS)} gas per settlement at B ≥ ${VERIFICATION_GOAL_BATCH_MIN} (settleBatch): ${verificationOk ? 'met' : 'NOT met'} (${verify.map((r) => `B=${r.batch}: ${fmt(r.verificationPerSettlementGas ?? 0)}`).join(', ')})`,
      `- settleBatch ≤ ${fmt(ALL_IN_GOAL_GAS)} gas per settlement all in, checked at B ≥ ${VERIFICATION_GOAL_BATCH_MIN}: ${allInOk ? 'met' : 'NOT met'}; met at B = ${allInBatches.join(', ') || 'none'} (${batchRows.map((r) => `B=${r.batch}: ${fmt(r.perSettlementGas)}`).join(', ')})`,
    ],
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const anvil = await startAnvil({ frozenTime: true, args: ['--gas-limit', '100000000'] });
  try {
    const b = await setUp(anvil);
    const v1 = await measureV1(b);
    const escrow = await escrowOf(b, 2);
    const rows: Row[] = [];
    for (const [k, size] of BATCH_SIZES.entries()) rows.push(...(await measureV2(b, escrow, size, 2 * k + 1)));
    const g = goals(rows);
    if (json) {
      const withRatios = rows.map((r) => ({ ...r, allInVsV1: r.perSettlementGas / v1.perSettlementGas }));
      console.log(JSON.stringify({ machine: machineLines().map((l) => l.trim()), v1, rows: withRatios, goals: { verificationOk: g.verificationOk, allInOk: g.allInOk } }, null, 2));
      return;
    }
    console.log(['# Escrow gas (anvil, Prague; TandemToken; COMMIT to a fresh buyer)', '', ...machineLines(), '', ...render(rows, v1), '', ...g.lines].join('\n'));
  } finally {
    await anvil.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
