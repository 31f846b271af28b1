/**
 * Test support: one anvil per test file (started lazily, stopped by the file's afterAll), and a
 * fresh token + escrow deployment per test with named, funded, approving parties.
 */
import { type Address, maxUint256 } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { type LegFixture, createLegFixture } from '@tandem/legs/fixture';
import type { LegAnchor } from '@tandem/legs';
import { type Anvil, rpc, startAnvil } from '../src/anvil.js';
import { tandemTokenAbi, dvpEscrowAbi } from '../src/artifacts.js';
import { type ChainClients, anvilDevAccount, chainClients, deployEscrow, deployToken, registerNames, sendAndWait } from '../src/chain.js';

let anvilPromise: Promise<Anvil> | null = null;
/** The file's one deployment (both escrows, fixture anchors, one token) and an anvil snapshot of the chain right after it. */
let base: { v1: Deployment; v2: Deployment; snapshot: string } | null = null;

/** This test file's anvil, frozen clock (blocks keep the last timestamp until setChainTimeMs). */
export function testAnvil(): Promise<Anvil> {
  anvilPromise ??= startAnvil({ frozenTime: true });
  return anvilPromise;
}

export async function stopTestAnvil(): Promise<void> {
  base = null;
  if (anvilPromise === null) return;
  const a = await anvilPromise;
  anvilPromise = null;
  await a.stop();
}

let fixtureCache: LegFixture | null = null;
/** The legs package's deterministic 3-of-4 fixture (made once: dealing takes a while here). */
export function fixture(): LegFixture {
  fixtureCache ??= createLegFixture();
  return fixtureCache;
}

/** The escrows' settlement states (DvpEscrowBase.State; the protocol's LegState codes). */
export const ESCROW_STATE = { none: 0, locked: 1, rejected: 2, committed: 3, aborted: 4, reclaimed: 5 } as const;

/** Party name → anvil dev account index. Account 0 deploys, owns and relays. */
export const PARTY_ACCOUNTS: ReadonlyMap<string, number> = new Map([
  ['alice', 1],
  ['bob', 2],
  ['carol', 3],
]);

export interface Deployment {
  readonly anvil: Anvil;
  /** Account 0: deployer, token minter, escrow owner, and the relayer that sends transactions. */
  readonly owner: ChainClients;
  readonly token: Address;
  readonly escrow: Address;
  readonly parties: ReadonlyMap<string, PrivateKeyAccount>;
  /** Clients whose wallet is the named party. */
  partyClients(name: string): ChainClients;
}

/**
 * The fixture-anchored deployment of `protocol` (DvpEscrow under the fixture's v1 anchor, or
 * DvpEscrowV2 under its v2 anchor; both on one token) on a chain reset to just after it
 * (evm_revert to a snapshot, which anvil consumes, so a new one is taken each time): every test
 * starts from the same state for the price of two RPC calls instead of sixteen transactions.
 */
export async function freshDeployment(protocol: 1 | 2 = 1): Promise<Deployment> {
  if (base === null) {
    const v1 = await deploy(fixture().anchor, 1);
    const v2 = await deploy(fixture().anchorV2, 2, v1.token);
    base = { v1, v2, snapshot: (await rpc(v1.anvil.rpcUrl, 'evm_snapshot')) as string };
  } else {
    const { anvil } = base.v1;
    if ((await rpc(anvil.rpcUrl, 'evm_revert', [base.snapshot])) !== true) throw new Error(`evm_revert ${base.snapshot} failed`);
    base = { ...base, snapshot: (await rpc(anvil.rpcUrl, 'evm_snapshot')) as string };
  }
  return protocol === 1 ? base.v1 : base.v2;
}

/**
 * Deploys a token (or uses `existingToken`) and an escrow (DvpEscrow, or DvpEscrowV2 for protocol
 * 2) anchored at `anchor`; registers and approves every party.
 */
export async function deploy(anchor: LegAnchor = fixture().anchor, protocol: 1 | 2 = 1, existingToken?: Address): Promise<Deployment> {
  const anvil = await testAnvil();
  const clientsOf = (account: PrivateKeyAccount): ChainClients => chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account });
  const owner = clientsOf(anvilDevAccount(0));
  const token = existingToken ?? (await deployToken(owner, { name: 'Tandem OUSG', symbol: 'OUSG' }));
  const escrow = await deployEscrow(owner, anchor, protocol);
  const parties = new Map([...PARTY_ACCOUNTS].map(([name, index]) => [name, anvilDevAccount(index)] as const));
  await registerNames(owner, escrow, new Map([...parties].map(([name, a]) => [name, a.address])));
  for (const [name, account] of parties) {
    const c = clientsOf(account);
    await sendAndWait(c, await c.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'approve', args: [escrow, maxUint256] }), `approve by ${name}`);
  }
  return {
    anvil,
    owner,
    token,
    escrow,
    parties,
    partyClients: (name) => {
      const a = parties.get(name);
      if (a === undefined) throw new Error(`no party ${name}`);
      return clientsOf(a);
    },
  };
}

export async function mint(d: Deployment, to: Address, amount: bigint): Promise<void> {
  await sendAndWait(d.owner, await d.owner.walletClient.writeContract({ address: d.token, abi: tandemTokenAbi, functionName: 'mint', args: [to, amount] }), 'mint');
}

export async function balanceOf(d: Deployment, who: Address): Promise<bigint> {
  return d.owner.publicClient.readContract({ address: d.token, abi: tandemTokenAbi, functionName: 'balanceOf', args: [who] });
}

/** The chain clock (latest block timestamp) in ms. */
export async function chainTimeMs(d: Deployment): Promise<number> {
  return Number((await d.owner.publicClient.getBlock()).timestamp) * 1000;
}

/**
 * Moves the chain clock to `ms`, rounded up to a whole second (block timestamps are seconds), by
 * mining a block with that timestamp. The clock is frozen, so later blocks keep it.
 */
export async function setChainTimeMs(d: Deployment, ms: number): Promise<void> {
  const target = BigInt(Math.ceil(ms / 1000));
  const latest = (await d.owner.publicClient.getBlock()).timestamp;
  if (target < latest) throw new Error(`the chain clock cannot go back: at ${latest} s, asked for ${target} s`);
  if (target === latest) return;
  await rpc(d.anvil.rpcUrl, 'evm_setNextBlockTimestamp', [Number(target)]);
  await rpc(d.anvil.rpcUrl, 'evm_mine');
}

/** Tokens the escrow's records hold (locked minus released, refunded, reclaimed), from its events. */
export async function lockedByEvents(d: Deployment): Promise<bigint> {
  const events = await d.owner.publicClient.getContractEvents({ address: d.escrow, abi: dvpEscrowAbi, fromBlock: 0n });
  let total = 0n;
  for (const e of events) {
    if (e.eventName === 'Locked') total += e.args.amount ?? 0n;
    if (e.eventName === 'Released' || e.eventName === 'Refunded' || e.eventName === 'Reclaimed') total -= e.args.amount ?? 0n;
  }
  return total;
}
