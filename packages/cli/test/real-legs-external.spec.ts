/**
 * End to end on an external chain: the test starts its own anvil (as a stand-in for any chain
 * behind a JSON-RPC URL, with a chain id other than anvil's default), gives the cluster only its
 * URL and a deployer key file, and checks that the escrow lands on that chain, a COMMIT settles
 * there (`settle` printing the escrow's settle transaction and the bank transfer id), and the key
 * text is in no file under the cluster directory, no log and no process's argv. A change counts
 * once it is `--confirmations` blocks deep (2 here; the test mines a block every 300 ms, as a real
 * chain keeps producing blocks). Needs the built
 * dist (`npx tsc -b`): `clusterUp` spawns packages/cli/dist/bin.js.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Address, type Hex, parseEther, stringToHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type Anvil, chainClients, dvpEscrowAbi, rpc, startAnvil } from '@tandem/leg-evm';
import { main } from '../src/main.js';
import { PARTY_ACCOUNTS_FILE, type SettleResult, clusterDown, clusterUp, readState } from '@tandem/devnet';

const CHAIN_ID = 4243;
const dir = mkdtempSync(join(tmpdir(), 'tandem-external-'));
const keyDir = mkdtempSync(join(tmpdir(), 'tandem-external-key-'));
const keyFile = join(keyDir, 'deployer.key');
const key: Hex = generatePrivateKey();
const deployer = privateKeyToAccount(key);
let anvil: Anvil | null = null;
let miner: NodeJS.Timeout | null = null;

/** Every regular file below `root`. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((p) => join(root, p))
    .filter((p) => statSync(p).isFile());
}

async function tandem(args: string[]): Promise<{ code: number; stdout: string }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    return { code: await main(['node', 'tandem', ...args]), stdout: out.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))('a cluster on an external chain (--rpc-url, --private-key-file)', () => {
  beforeAll(async () => {
    anvil = await startAnvil({ chainId: CHAIN_ID });
    // A fresh deployer with a little ETH: not one of anvil's well-known dev accounts.
    await rpc(anvil.rpcUrl, 'anvil_setBalance', [deployer.address, `0x${parseEther('10').toString(16)}`]);
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
    const chain = anvil;
    miner = setInterval(() => void rpc(chain.rpcUrl, 'evm_mine').catch(() => {}), 300);
  }, 30_000);

  afterAll(async () => {
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
    if (miner !== null) clearInterval(miner);
    await anvil?.stop();
  }, 30_000);

  it('deploys there, settles a COMMIT with the tx hash and bank transfer id, and never writes or logs the key', async () => {
    const chain = anvil!;
    await clusterUp(dir, { nodes: '4', legs: 'real', rpcUrl: chain.rpcUrl, privateKeyFile: keyFile, confirmations: '2' });
    const st = readState(dir);
    expect(st.venues.chainId).toBe(String(CHAIN_ID)); // read from the RPC
    const escrow = st.venues.escrow as Address;
    const reader = chainClients({ rpcUrl: chain.rpcUrl, chainId: CHAIN_ID, account: deployer }).publicClient;
    expect((await reader.getCode({ address: escrow }))?.length ?? 0).toBeGreaterThan(2);
    expect(await reader.readContract({ address: escrow, abi: dvpEscrowAbi, functionName: 'owner' })).toBe(deployer.address);

    // The parties got fresh accounts, kept private in the leg host's data, funded for their approve.
    const accountsFile = join(dir, 'legs-data', PARTY_ACCOUNTS_FILE);
    expect(statSync(accountsFile).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(accountsFile, 'utf8')) as { accounts: Record<string, { address: Address }> };
    for (const party of ['alice', 'bob']) {
      const address = stored.accounts[party]!.address;
      expect(await reader.readContract({ address: escrow, abi: dvpEscrowAbi, functionName: 'resolve', args: [stringToHex(party)] })).toBe(address);
      expect(await reader.getBalance({ address })).toBeGreaterThan(0n);
    }

    const asJson = await tandem(['settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '30s', '--json']);
    expect(asJson.code).toBe(0);
    const result = JSON.parse(asJson.stdout.trim()) as SettleResult;
    expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
    expect(result.report.verified).toBe(true);
    // The escrow's settleBatch transaction is on this chain, sent to this escrow, with the gas `settle` reports.
    const receipt = await reader.getTransactionReceipt({ hash: result.asset.txHash as Hex });
    expect(receipt.status).toBe('success');
    expect(receipt.to?.toLowerCase()).toBe(escrow);
    expect(receipt.from.toLowerCase()).toBe(deployer.address.toLowerCase()); // the deployer relays
    expect(result.asset.gasUsed).toBe(Number(receipt.gasUsed));
    // The bank transfer: held, then posted, under one id.
    expect(result.payment.transferId).toMatch(/^[1-9][0-9]*$/);
    expect(result.bankTransfers).toEqual([
      { transferId: result.payment.transferId, kind: 'hold', status: 'pending' },
      { transferId: result.payment.transferId, kind: 'post', status: 'posted' },
    ]);
    // Protocol 2 (the default): the entry went in a settleBatch, its report's root verified on-chain.
    expect(result.transactions?.map((t) => t.call)).toEqual(['lock', 'settleBatch']);

    // The human output names the same things for a second settlement, its own.
    const asText = await tandem(['settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '30s']);
    expect(asText.code).toBe(0);
    const transfer = /bank transfer ([0-9]+): held, then posted/.exec(asText.stdout);
    expect(transfer).not.toBeNull();
    expect(transfer![1]).not.toBe(result.payment.transferId);
    expect(asText.stdout).toMatch(/escrow settleBatch: tx 0x[0-9a-f]{64}, block [0-9]+, gas [0-9]+ for [0-9]+ entr(y|ies): this settlement's share [0-9]+/);
    expect(asText.stdout).not.toContain(result.asset.txHash!);

    // The key: in no file of the cluster (logs, configs, state, party accounts, bank data) and in no argv.
    const needle = key.slice(2).toLowerCase();
    expect(readFileSync(keyFile, 'utf8').toLowerCase()).toContain(needle); // the search would find it
    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('leghost.log'))).toBe(true);
    for (const f of files) expect(readFileSync(f).toString('latin1').toLowerCase().includes(needle), f).toBe(false);
    for (const pid of [st.legHost.pid, ...st.nodes.map((n) => n.pid)]) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').toLowerCase()).not.toContain(needle);
      // Only the leg host may have it at all: the nodes' environment goes without.
      if (pid !== st.legHost.pid) expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain('TANDEM_EVM_PRIVATE_KEY');
    }

    // `down` stops the cluster, not the chain it was given.
    await clusterDown(dir);
    expect(await rpc(chain.rpcUrl, 'eth_chainId')).toBe(`0x${CHAIN_ID.toString(16)}`);
    // `up` again on the same directory resumes the escrow it deployed there: nothing is redeployed.
    await clusterUp(dir, { nodes: '4', legs: 'real', rpcUrl: chain.rpcUrl, privateKeyFile: keyFile, confirmations: '2' });
    expect(readState(dir).venues.escrow).toBe(escrow);
    expect(readFileSync(join(dir, 'logs', 'leghost.log'), 'utf8')).toMatch(/"event":"evm-deployment","resumed":true/);
    await clusterDown(dir);
  }, 240_000);
});
