/**
 * EvmEscrowAdapter behaviour the conformance suite does not reach: self-custody (EIP-712)
 * authorizations, concurrent delivery of one report by two nodes, confirmations, and transient
 * RPC failures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hexToBytes } from 'viem';
import { type Entry, type Report, type Terms, expectedLock, lockEquals, reportTreeMultiproof, reportTreeRoot, settlementId, toHex, validUntilMs } from '@tandem/protocol';
import { TransientLegError } from '@tandem/legs';
import { authorize, signReport, signReportV2 } from '@tandem/legs/fixture';
import { type EscrowTransaction, EvmEscrowAdapter } from '../src/adapter.js';
import { custodialAuthorizer, eip712Authorizer, signLockAuthorization } from '../src/authorization.js';
import { addressString, anvilDevAccount, chainClients } from '../src/chain.js';
import { rpc } from '../src/anvil.js';
import { type Deployment, balanceOf, chainTimeMs, fixture, freshDeployment, mint, stopTestAnvil } from './local-chain.js';

afterAll(stopTestAnvil);

let counter = 0;
async function setup(): Promise<{ d: Deployment; t: Terms }> {
  const d = await freshDeployment();
  await mint(d, d.parties.get('alice')!.address, 1_000n);
  const startMs = await chainTimeMs(d);
  counter += 1;
  const t: Terms = {
    nonce: `adapter-${counter}`,
    asset: { chainId: BigInt(d.anvil.chainId), escrow: hexToBytes(d.escrow), token: addressString(d.token), seller: 'alice', buyer: 'bob', amount: 100n },
    payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
    deadlineMs: startMs + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
  return { d, t };
}

function commitOf(t: Terms): Report {
  const fx = fixture();
  return signReport(fx.dealer, { networkId: fx.anchor.networkId, configDigest: fx.anchor.configDigest, settlementId: settlementId(t), decision: 'COMMIT', round: 0, validUntilMs: validUntilMs(t) });
}

describe('EvmEscrowAdapter', () => {
  it('locks with a self-custody EIP-712 authorization and refuses one by another key', async () => {
    const { d, t } = await setup();
    const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, authorizer: eip712Authorizer() });
    const id = settlementId(t);
    const bobs = hexToBytes(await signLockAuthorization(d.parties.get('bob')!, d.escrow, d.anvil.chainId, id));
    expect((await adapter.prepare(t, { party: 'alice', signature: bobs })).kind).toBe('unauthorized');
    const ed25519 = authorize('alice', fixture().partySecretKeys.get('alice')!, fixture().anchor.networkId, id);
    expect((await adapter.prepare(t, ed25519)).kind).toBe('unauthorized'); // a 64-byte Ed25519 signature is not EIP-712
    expect((await adapter.observe(id)).state).toBe('none');
    const alices = hexToBytes(await signLockAuthorization(d.parties.get('alice')!, d.escrow, d.anvil.chainId, id));
    expect(await adapter.prepare(t, { party: 'alice', signature: alices })).toEqual({ kind: 'locked' });
    const view = await adapter.observe(id);
    expect(view.state).toBe('locked');
    expect(lockEquals(view.lock!, expectedLock(t, 'asset', id, fixture().anchor.groupPublicKey))).toBe(true);
  });

  it('applies a report delivered by two nodes at once exactly once: applied + duplicate', async () => {
    const { d, t } = await setup();
    const fx = fixture();
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    // Two nodes, each relaying from its own account.
    const node = (index: number) =>
      new EvmEscrowAdapter({ clients: chainClients({ rpcUrl: d.anvil.rpcUrl, chainId: d.anvil.chainId, account: anvilDevAccount(index) }), escrow: d.escrow, authorizer: custodialAuthorizer(custody) });
    const [a, b] = [node(4), node(5)];
    const auth = authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, settlementId(t));
    const prepared = await Promise.all([a.prepare(t, auth), b.prepare(t, auth)]);
    expect(prepared.map((p) => p.kind).sort()).toEqual(['locked', 'locked']);
    const commit = commitOf(t);
    const outcomes = await Promise.all([a.applyReport(commit), b.applyReport(commit)]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['applied', 'duplicate']);
    expect(await balanceOf(d, d.parties.get('bob')!.address)).toBe(100n);
    expect(await balanceOf(d, d.escrow)).toBe(0n);
  });

  it('protocol 2: one decided batch delivered by two nodes through one adapter (a leg host) sends one settleBatch: applied + duplicate', async () => {
    const d = await freshDeployment(2);
    await mint(d, d.parties.get('alice')!.address, 1_000n);
    const startMs = await chainTimeMs(d);
    const fx = fixture();
    const t: Terms = {
      nonce: `adapter-v2-${++counter}`,
      asset: { chainId: BigInt(d.anvil.chainId), escrow: hexToBytes(d.escrow), token: addressString(d.token), seller: 'alice', buyer: 'bob', amount: 100n },
      payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
      deadlineMs: startMs + 10_000,
      reportWindowMs: 30_000,
      marginMs: 10_000,
    };
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    const told: EscrowTransaction[] = [];
    const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, protocol: 2, authorizer: custodialAuthorizer(custody), onTransaction: (tx) => told.push(tx) });
    const id = settlementId(t);
    expect(await adapter.prepare(t, authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, id))).toEqual({ kind: 'locked' });
    const entries: Entry[] = [{ settlementId: id, decision: 'COMMIT', validUntilMs: validUntilMs(t) }];
    const report = signReportV2(fx.dealer, { networkId: fx.anchorV2.networkId, configDigest: fx.anchorV2.configDigest, height: 1, round: 0, timeMs: startMs, liveFrom: 1, count: 1, root: reportTreeRoot(entries) });
    const proof = reportTreeMultiproof(entries, [0]);
    const outcomes = await Promise.all([adapter.applyBatch(report, entries, proof), adapter.applyBatch(report, entries, proof)]);
    expect(outcomes.map((o) => o[0]!.kind)).toEqual(['applied', 'duplicate']);
    expect(told.filter((x) => x.call === 'settleBatch')).toHaveLength(1); // the second read the entry applied and sent nothing
    expect(await balanceOf(d, d.parties.get('bob')!.address)).toBe(100n);
  });

  it('tells onTransaction each mined call with its settlement id, hash and gas', async () => {
    const { d, t } = await setup();
    const fx = fixture();
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    const told: EscrowTransaction[] = [];
    const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, authorizer: custodialAuthorizer(custody), onTransaction: (tx) => told.push(tx) });
    const id = settlementId(t);
    expect(await adapter.prepare(t, authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, id))).toEqual({ kind: 'locked' });
    expect(await adapter.applyReport(commitOf(t))).toEqual({ kind: 'applied' });
    expect(await adapter.applyReport(commitOf(t))).toEqual({ kind: 'duplicate' }); // read, not sent: nothing to tell
    expect(told.map((x) => [x.call, x.settlementIdHex, x.status])).toEqual([
      ['lock', toHex(id), 'success'],
      ['settle', toHex(id), 'success'],
    ]);
    for (const x of told) {
      const receipt = await d.owner.publicClient.getTransactionReceipt({ hash: x.hash });
      expect([receipt.blockNumber, receipt.gasUsed]).toEqual([x.blockNumber, x.gasUsed]);
    }
  });

  it('reports a state only once it is `confirmations` blocks deep', async () => {
    const { d, t } = await setup();
    const fx = fixture();
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, authorizer: custodialAuthorizer(custody), confirmations: 2 });
    expect(await adapter.prepare(t, authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, settlementId(t)))).toEqual({ kind: 'locked' });
    expect((await adapter.observe(settlementId(t))).state).toBe('none');
    await rpc(d.anvil.rpcUrl, 'evm_mine');
    expect((await adapter.observe(settlementId(t))).state).toBe('none');
    await rpc(d.anvil.rpcUrl, 'evm_mine');
    const view = await adapter.observe(settlementId(t));
    expect(view.state).toBe('locked');
    expect(view.lock?.amount).toBe(100n);
  });

  it('with durability: observes no block above the durable height, and answers a change only once it is durable', async () => {
    const { d, t } = await setup();
    const fx = fixture();
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    const head = () => d.owner.publicClient.getBlockNumber({ cacheTime: 0 });
    let durable = await head();
    let diskFull = true;
    const durability = {
      durableHeight: () => durable,
      sync: async () => {
        if (diskFull) throw new Error('disk full');
        durable = await head();
      },
    };
    const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, authorizer: custodialAuthorizer(custody), durability });
    const id = settlementId(t);
    const auth = authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, id);
    // The lock is mined, but the chain cannot make it durable: no answer, and nobody sees it.
    await expect(adapter.prepare(t, auth)).rejects.toBeInstanceOf(TransientLegError);
    expect(await balanceOf(d, d.escrow)).toBe(100n);
    expect((await adapter.observe(id)).state).toBe('none');
    // Once it can, the retry answers from the chain and the lock is final.
    diskFull = false;
    expect(await adapter.prepare(t, auth)).toEqual({ kind: 'locked' });
    expect(durable).toBe(await head());
    expect((await adapter.observe(id)).state).toBe('locked');
    diskFull = true;
    await expect(adapter.applyReport(commitOf(t))).rejects.toBeInstanceOf(TransientLegError);
    expect((await adapter.observe(id)).state).toBe('locked'); // released on chain, not durably: not final
    diskFull = false;
    expect(await adapter.applyReport(commitOf(t))).toEqual({ kind: 'duplicate' });
    expect((await adapter.observe(id)).state).toBe('committed');
  });

  it('throws TransientLegError, changing nothing, while the RPC endpoint is down', async () => {
    const { d, t } = await setup();
    const fx = fixture();
    const custody = new Map([['alice', { identityKey: fx.partyPublicKeys.get('alice')!, account: d.parties.get('alice')! }]]);
    // A port nothing listens on: every request fails to connect.
    const down = chainClients({ rpcUrl: 'http://127.0.0.1:9', chainId: d.anvil.chainId, account: anvilDevAccount(0), requestTimeoutMs: 2_000 });
    const adapter = new EvmEscrowAdapter({ clients: down, escrow: d.escrow, authorizer: custodialAuthorizer(custody) });
    const id = settlementId(t);
    await expect(adapter.observe(id)).rejects.toBeInstanceOf(TransientLegError);
    await expect(adapter.prepare(t, authorize('alice', fx.partySecretKeys.get('alice')!, fx.anchor.networkId, id))).rejects.toBeInstanceOf(TransientLegError);
    await expect(adapter.applyReport(commitOf(t))).rejects.toBeInstanceOf(TransientLegError);
    await expect(adapter.reclaim(id)).rejects.toBeInstanceOf(TransientLegError);
    // Nothing happened on the real chain; the same adapter type against it works.
    const up = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, authorizer: custodialAuthorizer(custody) });
    expect((await up.observe(id)).state).toBe('none');
  });
});

