/**
 * fundForGas (the deployer topping up fresh party accounts on an external chain for their approve
 * gas) and readChainId, on a local anvil with a non-default chain id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Address, parseEther } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type Anvil, rpc, startAnvil } from '../src/anvil.js';
import { APPROVE_GAS, InsufficientGasFundsError, chainClients, fundForGas, readChainId } from '../src/chain.js';

const CHAIN_ID = 4242;
let anvil: Anvil;
beforeAll(async () => {
  anvil = await startAnvil({ chainId: CHAIN_ID });
});
afterAll(async () => {
  await anvil?.stop();
});

/** A fresh account holding `wei`, and clients that send from it. */
async function funded(wei: bigint) {
  const account = privateKeyToAccount(generatePrivateKey());
  await rpc(anvil.rpcUrl, 'anvil_setBalance', [account.address, `0x${wei.toString(16)}`]);
  return chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account });
}

const freshAddress = (): Address => privateKeyToAccount(generatePrivateKey()).address;

describe('readChainId', () => {
  it('reads the chain id the endpoint reports', async () => {
    expect(await readChainId(anvil.rpcUrl)).toBe(CHAIN_ID);
  });
});

describe('fundForGas', () => {
  it('tops each account up to the gas it needs, once', async () => {
    const deployer = await funded(parseEther('1'));
    const parties = new Map([
      ['alice', freshAddress()],
      ['bob', freshAddress()],
    ]);
    const sent = await fundForGas(deployer, parties, APPROVE_GAS);
    expect(sent.map((t) => [t.name, t.address])).toEqual([...parties]);
    for (const t of sent) {
      expect(t.wei).toBeGreaterThan(0n);
      expect(await deployer.publicClient.getBalance({ address: t.address })).toBe(t.wei);
      // Enough for the approve gas at today's fee.
      expect(t.wei).toBeGreaterThanOrEqual(APPROVE_GAS * (await deployer.publicClient.getGasPrice()));
    }
    // A restart finds them funded: nothing is sent twice.
    expect(await fundForGas(deployer, parties, APPROVE_GAS)).toEqual([]);
  });

  it('refuses up front, naming the deployer and the first account, when the deployer has too little', async () => {
    const deployer = await funded(1000n);
    const alice = freshAddress();
    const before = await deployer.publicClient.getTransactionCount({ address: deployer.walletClient.account.address });
    let error: unknown = null;
    try {
      await fundForGas(deployer, new Map([['alice', alice]]), APPROVE_GAS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InsufficientGasFundsError);
    const message = (error as Error).message;
    expect(message).toContain(`the deployer account ${deployer.walletClient.account.address} has 1000 wei`);
    expect(message).toContain(`alice's account ${alice}`);
    // Nothing was sent.
    expect(await deployer.publicClient.getTransactionCount({ address: deployer.walletClient.account.address })).toBe(before);
    expect(await deployer.publicClient.getBalance({ address: alice })).toBe(0n);
  });
});
