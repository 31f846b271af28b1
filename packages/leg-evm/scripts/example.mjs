#!/usr/bin/env node
/**
 * A COMMIT verified on-chain, end to end: anvil, a token and an escrow anchored to a (test)
 * committee, the seller's EIP-712 authorization, a lock, a 3-of-4 threshold report, release.
 * Run from the repository root after `pnpm build`:  node packages/leg-evm/scripts/example.mjs
 */
import { hexToBytes, maxUint256 } from 'viem';
import { createLegFixture, signReport } from '@tandem/legs/fixture';
import { settlementId, validUntilMs } from '@tandem/protocol';
import {
  EvmEscrowAdapter,
  addressString,
  anvilDevAccount,
  chainClients,
  deployEscrow,
  deployToken,
  eip712Authorizer,
  sendAndWait,
  signLockAuthorization,
  startAnvil,
  tandemTokenAbi,
} from '@tandem/leg-evm';

const anvil = await startAnvil();
try {
  const clientsOf = (account) => chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account });
  const relayer = clientsOf(anvilDevAccount(0)); // deploys, mints, and sends every escrow call
  const [alice, bob] = [anvilDevAccount(1), anvilDevAccount(2)];

  // The committee: a dealer's 3-of-4 shares. The escrow stores its anchor at deployment.
  const committee = createLegFixture('leg-evm example');
  const token = await deployToken(relayer, { name: 'Tandem OUSG', symbol: 'OUSG' });
  const escrow = await deployEscrow(relayer, committee.anchor);
  await sendAndWait(relayer, await relayer.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'mint', args: [alice.address, 1000n] }), 'mint');
  const aliceClients = clientsOf(alice);
  await sendAndWait(aliceClients, await aliceClients.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'approve', args: [escrow, maxUint256] }), 'approve');

  const nowMs = Number((await relayer.publicClient.getBlock()).timestamp) * 1000;
  const terms = {
    nonce: 'example-1',
    asset: { chainId: BigInt(anvil.chainId), escrow: hexToBytes(escrow), token: addressString(token), seller: addressString(alice.address), buyer: addressString(bob.address), amount: 100n },
    payment: { bankId: 'demo-bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
    deadlineMs: nowMs + 60_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
  const id = settlementId(terms);

  const adapter = new EvmEscrowAdapter({
    clients: relayer,
    escrow,
    authorizer: eip712Authorizer(),
    onTransaction: (tx) => console.log(`  ${tx.call.padEnd(7)} tx ${tx.hash}  block ${tx.blockNumber}  gas ${tx.gasUsed}  ${tx.status}`),
  });

  // alice authorizes this settlement id with her own key (EIP-712); anyone may relay it.
  const authorization = { party: terms.asset.seller, signature: hexToBytes(await signLockAuthorization(alice, escrow, anvil.chainId, id)) };
  console.log('prepare:', await adapter.prepare(terms, authorization));
  console.log('observe:', (await adapter.observe(id)).state);

  // Three of the four members' partials, combined: verified on-chain against the stored key.
  const report = signReport(committee.dealer, {
    networkId: committee.anchor.networkId,
    configDigest: committee.anchor.configDigest,
    settlementId: id,
    decision: 'COMMIT',
    round: 0,
    validUntilMs: validUntilMs(terms),
  });
  console.log('apply COMMIT:', await adapter.applyReport(report));
  console.log('apply again:', await adapter.applyReport(report));
  const balance = (who) => relayer.publicClient.readContract({ address: token, abi: tandemTokenAbi, functionName: 'balanceOf', args: [who] });
  console.log(`balances: alice ${await balance(alice.address)}, bob ${await balance(bob.address)}, escrow ${await balance(escrow)}`);
  console.log('observe:', (await adapter.observe(id)).state);
} finally {
  await anvil.stop();
}
