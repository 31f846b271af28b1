/**
 * viem clients for one chain, and deployment of the token and escrow contracts.
 */
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  bytesToHex,
  http,
} from 'viem';
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import type { LegAnchor } from '@tandem/legs';
import { dvpEscrowAbi, dvpEscrowBytecode, tandemTokenAbi, tandemTokenBytecode } from './artifacts.js';
import { ANVIL_DEV_PRIVATE_KEYS } from './anvil.js';
import { g2ToEip2537 } from './points.js';

/** viem polls every 4 s by default: far too slow for a local chain that mines on every transaction. */
export const DEFAULT_POLLING_INTERVAL_MS = 50;

export type ChainWallet = WalletClient<Transport, Chain, Account>;

export interface ChainClients {
  readonly chain: Chain;
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly walletClient: ChainWallet;
}

export interface ChainClientOptions {
  readonly rpcUrl: string;
  readonly chainId: number;
  /** The account that signs and pays for transactions. */
  readonly account: Account;
  readonly pollingIntervalMs?: number;
  /** Per-request timeout; a timeout is a transient leg error. */
  readonly requestTimeoutMs?: number;
}

/** A public and a wallet client over one JSON-RPC URL. */
export function chainClients(o: ChainClientOptions): ChainClients {
  const chain = defineChain({
    id: o.chainId,
    name: `chain ${o.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [o.rpcUrl] } },
  });
  const pollingInterval = o.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const transport = http(o.rpcUrl, { timeout: o.requestTimeoutMs ?? 10_000, retryCount: 0 });
  return {
    chain,
    publicClient: createPublicClient({ chain, transport, pollingInterval }),
    walletClient: createWalletClient({ chain, transport, account: o.account, pollingInterval }),
  };
}

/** anvil's default account `index` (0…9): funded on every fresh anvil; local chains only. */
export function anvilDevAccount(index: number): PrivateKeyAccount {
  const key = ANVIL_DEV_PRIVATE_KEYS[index];
  if (!Number.isInteger(index) || key === undefined) throw new Error(`anvil dev account index out of range: ${index}`);
  return privateKeyToAccount(key);
}

/** The canonical terms string for an address: 0x and 40 lower-case hex digits. */
export function addressString(address: Address): string {
  return getAddress(address).toLowerCase();
}

async function deployed(c: ChainClients, hash: Hex, what: string): Promise<Address> {
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || receipt.contractAddress == null) throw new Error(`${what} deployment failed (tx ${hash})`);
  return receipt.contractAddress;
}

export interface TokenParams {
  readonly name: string;
  readonly symbol: string;
  /** 0 makes token units the integer amounts of the terms one for one. */
  readonly decimals?: number;
}

/** Deploys a TandemToken owned (mintable) by the wallet's account. */
export async function deployToken(c: ChainClients, p: TokenParams): Promise<Address> {
  const hash = await c.walletClient.deployContract({
    abi: tandemTokenAbi,
    bytecode: tandemTokenBytecode,
    args: [p.name, p.symbol, p.decimals ?? 0],
  });
  return deployed(c, hash, 'TandemToken');
}

/**
 * Deploys a DvpEscrow anchored to a committee: its network id, configuration digest and group
 * key (96-byte compressed G2, converted to the EIP-2537 form the contract stores). The wallet's
 * account becomes the owner (it may register names, nothing else).
 */
export async function deployEscrow(c: ChainClients, anchor: LegAnchor): Promise<Address> {
  if (anchor.networkId.length !== 32 || anchor.configDigest.length !== 32) throw new Error('anchor ids must be 32 bytes');
  const hash = await c.walletClient.deployContract({
    abi: dvpEscrowAbi,
    bytecode: dvpEscrowBytecode,
    args: [bytesToHex(anchor.networkId), bytesToHex(anchor.configDigest), bytesToHex(g2ToEip2537(anchor.groupPublicKey))],
  });
  return deployed(c, hash, 'DvpEscrow');
}

/** Sends a contract write and waits for it; throws if it reverted. */
export async function sendAndWait(c: ChainClients, hash: Hex, what: string): Promise<void> {
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${what} reverted (tx ${hash})`);
}

/** Registers names (e.g. "alice") for accounts on the escrow; the wallet must be its owner. */
export async function registerNames(c: ChainClients, escrow: Address, names: ReadonlyMap<string, Address>): Promise<void> {
  for (const [name, account] of names) {
    const hash = await c.walletClient.writeContract({ address: escrow, abi: dvpEscrowAbi, functionName: 'registerName', args: [name, account] });
    await sendAndWait(c, hash, `registerName(${name})`);
  }
}
