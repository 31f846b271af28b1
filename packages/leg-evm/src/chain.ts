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
import { dvpEscrowAbi, dvpEscrowBytecode, dvpEscrowV2Abi, dvpEscrowV2Bytecode, tandemTokenAbi, tandemTokenBytecode } from './artifacts.js';
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
  /** An HTTP(S) JSON-RPC endpoint; or give `transport` instead (e.g. the embedded chain's IPC client). */
  readonly rpcUrl?: string;
  readonly transport?: Transport;
  readonly chainId: number;
  /** The account that signs and pays for transactions. */
  readonly account: Account;
  readonly pollingIntervalMs?: number;
  /** Per-request timeout over HTTP; a timeout is a transient leg error. */
  readonly requestTimeoutMs?: number;
}

/** A public and a wallet client over one JSON-RPC URL or transport. */
export function chainClients(o: ChainClientOptions): ChainClients {
  if ((o.rpcUrl === undefined) === (o.transport === undefined)) throw new Error('chainClients: give exactly one of rpcUrl and transport');
  const chain = defineChain({
    id: o.chainId,
    name: `chain ${o.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: o.rpcUrl !== undefined ? [o.rpcUrl] : [] } },
  });
  const pollingInterval = o.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const transport = o.transport ?? http(o.rpcUrl, { timeout: o.requestTimeoutMs ?? 10_000, retryCount: 0 });
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
 * Deploys a DvpEscrow (protocol 1, the default) or a DvpEscrowV2 (protocol 2) anchored to a
 * committee: its network id, configuration digest and group key (96-byte compressed G2, converted
 * to the EIP-2537 form the contract stores). The wallet's account becomes the owner (it may
 * register names, nothing else).
 */
export async function deployEscrow(c: ChainClients, anchor: LegAnchor, protocol: 1 | 2 = 1): Promise<Address> {
  if (anchor.networkId.length !== 32 || anchor.configDigest.length !== 32) throw new Error('anchor ids must be 32 bytes');
  const args = [bytesToHex(anchor.networkId), bytesToHex(anchor.configDigest), bytesToHex(g2ToEip2537(anchor.groupPublicKey))] as const;
  const hash =
    protocol === 1
      ? await c.walletClient.deployContract({ abi: dvpEscrowAbi, bytecode: dvpEscrowBytecode, args })
      : await c.walletClient.deployContract({ abi: dvpEscrowV2Abi, bytecode: dvpEscrowV2Bytecode, args });
  return deployed(c, hash, protocol === 1 ? 'DvpEscrow' : 'DvpEscrowV2');
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

/**
 * Gas for one ERC-20 `approve` of a fresh allowance (about 46k on TandemToken), with headroom:
 * what a party's account must be able to pay before it can let the escrow pull its tokens.
 */
export const APPROVE_GAS = 60_000n;
/** A plain ETH transfer to an externally owned account. */
const TRANSFER_GAS = 21_000n;
/** Fees are priced at twice today's estimate: the base fee may rise before the approve is sent. */
const FEE_HEADROOM = 2n;

/** The funder cannot pay for the gas money it was asked to send. */
export class InsufficientGasFundsError extends Error {
  override readonly name = 'InsufficientGasFundsError';
}

/** One top-up `fundForGas` sent. */
export interface GasTopUp {
  readonly name: string;
  readonly address: Address;
  readonly wei: bigint;
  readonly hash: Hex;
}

/**
 * Tops up each named account to enough ETH for `gasEach` gas at twice the current fee, from the
 * wallet's account; an account that already has that much is left alone (a restart funds nothing
 * twice). Checks first that the funder can pay every top-up and its transfer gas, and otherwise
 * throws InsufficientGasFundsError naming the funder and the first account it cannot fund,
 * before sending anything.
 */
export async function fundForGas(c: ChainClients, accounts: ReadonlyMap<string, Address>, gasEach: bigint): Promise<GasTopUp[]> {
  const { publicClient, walletClient } = c;
  const fees = await publicClient.estimateFeesPerGas();
  const priceWei = (fees.maxFeePerGas ?? fees.gasPrice ?? 0n) * FEE_HEADROOM;
  const targetWei = gasEach * priceWei;
  const needs: { name: string; address: Address; wei: bigint }[] = [];
  for (const [name, address] of accounts) {
    const balance = await publicClient.getBalance({ address });
    if (balance < targetWei) needs.push({ name, address, wei: targetWei - balance });
  }
  const first = needs[0];
  if (first === undefined) return [];
  const funder = walletClient.account.address;
  const totalWei = needs.reduce((sum, n) => sum + n.wei + TRANSFER_GAS * priceWei, 0n);
  const haveWei = await publicClient.getBalance({ address: funder });
  if (haveWei < totalWei) {
    throw new InsufficientGasFundsError(
      `the deployer account ${funder} has ${haveWei} wei, too little to fund ${first.name}'s account ${first.address} with ${first.wei} wei for its approve gas ` +
        `(${totalWei} wei in all for ${needs.map((n) => n.name).join(', ')}, transfer gas included): send ETH to ${funder}`,
    );
  }
  const sent: GasTopUp[] = [];
  for (const n of needs) {
    const hash = await walletClient.sendTransaction({ to: n.address, value: n.wei });
    await sendAndWait(c, hash, `funding ${n.name}'s account ${n.address}`);
    sent.push({ name: n.name, address: n.address, wei: n.wei, hash });
  }
  return sent;
}

/** The chain id a JSON-RPC endpoint reports (eth_chainId), within `timeoutMs`. */
export async function readChainId(rpcUrl: string, timeoutMs = 5_000): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error !== undefined) throw new Error(`eth_chainId: ${body.error.message ?? JSON.stringify(body.error)}`);
  if (typeof body.result !== 'string' || !/^0x[0-9a-fA-F]{1,13}$/.test(body.result)) throw new Error(`eth_chainId answered ${JSON.stringify(body.result)}, not a chain id`);
  const id = Number.parseInt(body.result.slice(2), 16);
  if (id <= 0) throw new Error('eth_chainId answered 0');
  return id;
}
