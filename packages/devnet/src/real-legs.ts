/**
 * The real legs behind one leg host: an EVM chain with Tandem's DvP escrow, which verifies
 * threshold reports on-chain, and the bank ledger on PostgreSQL (embedded PGlite by default, or
 * DATABASE_URL). Nodes reach both through the leg host's HTTP API, exactly as they reach the
 * in-memory legs.
 *
 * The chain is either the embedded one (the default) or an external chain named by `--rpc-url`
 * whose deployer key comes from `--private-key-file` or TANDEM_EVM_PRIVATE_KEY.
 *
 * - Embedded: an anvil only this leg host can reach (its own network namespace, JSON-RPC on a
 *   0600 unix socket in DATA/chain), whose state is written durably to DATA/chain/state.json
 *   after every change and reloaded on any restart (LocalChain of @tandem/leg-evm). A change
 *   counts as final — visible to `observe` — once it is durable. The deployer and the parties'
 *   accounts are generated per cluster (real-legs-accounts.ts) and funded with anvil_setBalance.
 * - External: a change counts once it is `confirmations` blocks deep (default
 *   DEFAULT_EXTERNAL_CONFIRMATIONS); the parties get fresh keys, topped up by the deployer.
 *
 * Either way the contracts are deployed once per cluster directory and resumed ever after
 * (real-legs-deploy.ts). The deployer deploys, owns the escrow and relays every escrow call.
 *
 * Custody, for the demo: the escrow needs the seller's EIP-712 authorization, while Tandem's
 * parties sign Ed25519 authorizations. The host holds each demo party's chain account and signs
 * the EIP-712 authorization only after checking the party's Ed25519 one (custodialAuthorizer):
 * a trusted custodian, as documented in packages/leg-evm.
 *
 * Keys are read from their files or the environment and kept in memory only: never a log line, an
 * error message, or a child's argv.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, parseEther } from 'viem';
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts';
import { toHex } from '@tandem/protocol';
import { type LegAnchor, authorizationCheckOf, defaultVerifyReport } from '@tandem/legs';
import { memoizeCheck } from '@tandem/crypto';
import { NativeIdentity } from '@tandem/node';
import {
  APPROVE_GAS,
  type ChainClients,
  type ChainDurability,
  type EscrowTransaction,
  EscrowEventLog,
  CHAIN_SOCKET_FILE,
  EvmEscrowAdapter,
  LocalChain,
  addressString,
  chainClients,
  custodialAuthorizer,
  fundForGas,
  isolationProblem,
} from '@tandem/leg-evm';
import { PgBankLedger, type TransferChange } from '@tandem/leg-bank';
import type { Credential, TlsFiles } from '@tandem/http';
import { type LegServer, serveLegs } from '@tandem/leg-host';
import { type ExternalChain, redactUrl } from './chain-flags.js';
import { LOCAL_DEPLOYER_KEY_FILE, PARTY_ACCOUNTS_FILE, localDeployer, partyAccounts } from './real-legs-accounts.js';
import { auditedLeg, realLegsAdmin } from './real-legs-admin.js';
import { DEPLOYMENT_FILE, ensureDeployment } from './real-legs-deploy.js';

/** Confirmations an external chain's changes need by default before they count. */
export const DEFAULT_EXTERNAL_CONFIRMATIONS = 12;
/** The embedded chain's directory (state file and socket) inside the leg host's data. */
export const LOCAL_CHAIN_DIR = 'chain';
/** Gas money each account of the embedded chain is given (anvil_setBalance), and the level below which it is given again. */
const LOCAL_BALANCE_WEI = parseEther('1000');
const LOCAL_BALANCE_WEI_MIN = parseEther('100');

export interface RealLegsOptions {
  readonly anchor: LegAnchor;
  /** Party name → Ed25519 public key (its Tandem authorizations). */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** Token symbols the escrow resolves by name (each deployed as a TandemToken). */
  readonly tokens: readonly string[];
  readonly bank: { readonly bankId: string; readonly ledger: string };
  /** The nodes' token (the /legs routes) and the operators' (the /admin routes). */
  readonly credentials: { readonly legs: Credential; readonly admin: Credential };
  /** Default 127.0.0.1; any other address needs `tls`. */
  readonly host?: string;
  readonly tls?: TlsFiles | null;
  readonly port: number;
  /** The leg host's data: the embedded chain, the bank (PGlite, unless databaseUrl), the chain keys and the deployment record. */
  readonly dataDir: string;
  readonly databaseUrl?: string;
  /** An external chain (probed: its chain id known); absent: the embedded chain. */
  readonly external?: ExternalChain;
  /** Blocks a change on an external chain must be buried under (default DEFAULT_EXTERNAL_CONFIRMATIONS); 0 only on the embedded chain. */
  readonly confirmations?: number;
  readonly log: (line: Record<string, unknown>) => void;
  /** The embedded chain died and could not be started again: the host cannot serve the asset leg. */
  readonly onFatal?: (e: Error) => void;
}

export interface RealLegs {
  readonly url: string;
  readonly venues: { readonly chainId: string; readonly escrow: string; readonly bankId: string; readonly ledger: string };
  /** Where the chain is, for display: the redacted RPC URL, or the embedded chain's socket. */
  readonly rpcUrl: string;
  readonly chain: 'anvil' | 'external';
  close(): Promise<void>;
}

/** The chain the legs run on, and whose accounts deploy and hold tokens there. */
interface Chain {
  readonly kind: 'anvil' | 'external';
  readonly chainId: number;
  readonly where: string;
  readonly deployer: PrivateKeyAccount;
  readonly parties: ReadonlyMap<string, PrivateKeyAccount>;
  readonly confirmations: number;
  readonly durability: ChainDurability | null;
  /** What to restore if the chain lost this cluster's contracts. */
  readonly lostHint: string;
  clientsOf(account: PrivateKeyAccount): ChainClients;
  /** Gives each account gas money (never twice: an account that has enough is left alone). */
  fund(owner: ChainClients, accounts: ReadonlyMap<string, Address>): Promise<void>;
  stop(): Promise<void>;
}

export async function startRealLegs(o: RealLegsOptions): Promise<RealLegs> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const names = [...o.parties.keys()].sort();
  const chain = o.external === undefined ? await startLocalChain(o, names) : externalChain(o, o.external, names);
  try {
    return await deployAndServe(o, chain);
  } catch (e) {
    await chain.stop(); // never leave a chain running behind a failed start
    throw e;
  }
}

/** The embedded chain: the deployer and the parties are this cluster's own generated accounts. */
async function startLocalChain(o: RealLegsOptions, names: readonly string[]): Promise<Chain> {
  if (o.confirmations !== undefined && o.confirmations !== 0) throw new Error(`--confirmations ${o.confirmations}: the embedded chain counts a change once it is durable; confirmations are for --rpc-url chains`);
  const isolation = isolationProblem();
  if (isolation !== null) {
    throw new Error(
      `the embedded chain needs Linux user and network namespaces, so that no other process can reach its cheat methods, and this machine has none (${isolation}); ` +
        'run the legs on an external chain instead: --rpc-url URL --private-key-file FILE',
    );
  }
  const deployer = localDeployer(join(o.dataDir, LOCAL_DEPLOYER_KEY_FILE));
  const parties = partyAccounts(join(o.dataDir, PARTY_ACCOUNTS_FILE), names);
  const dir = join(o.dataDir, LOCAL_CHAIN_DIR);
  const local = await LocalChain.start({ dir, log: o.log, ...(o.onFatal !== undefined ? { onFatal: o.onFatal } : {}) });
  const transport = local.client.transport();
  return {
    kind: 'anvil',
    chainId: local.chainId,
    where: `${join(dir, CHAIN_SOCKET_FILE)} (isolated anvil, pid ${local.pid})`,
    deployer,
    parties,
    confirmations: 0,
    durability: local,
    lostHint: `its state file ${local.statePath} was lost or replaced, while the bank kept its history; restore that file, or start a new cluster directory`,
    clientsOf: (account) => chainClients({ transport, chainId: local.chainId, account }),
    fund: async (owner, accounts) => {
      for (const address of accounts.values()) {
        if ((await owner.publicClient.getBalance({ address })) >= LOCAL_BALANCE_WEI_MIN) continue;
        await local.client.request('anvil_setBalance', [address, `0x${LOCAL_BALANCE_WEI.toString(16)}`]);
      }
      await local.sync();
    },
    stop: () => local.stop(),
  };
}

/** An external chain: the deployer is the given key; each party gets a fresh key, topped up by it. */
function externalChain(o: RealLegsOptions, external: ExternalChain, names: readonly string[]): Chain {
  const confirmations = o.confirmations ?? DEFAULT_EXTERNAL_CONFIRMATIONS;
  return {
    kind: 'external',
    chainId: external.chainId,
    where: redactUrl(external.rpcUrl),
    deployer: privateKeyToAccount(external.privateKey),
    parties: partyAccounts(join(o.dataDir, PARTY_ACCOUNTS_FILE), names),
    confirmations,
    durability: null,
    lostHint: `this is another chain than the one it was deployed on, or that chain was reset; use the chain it was deployed on, or a new cluster directory`,
    clientsOf: (account) => chainClients({ rpcUrl: external.rpcUrl, chainId: external.chainId, account }),
    fund: async (owner, accounts) => {
      for (const t of await fundForGas(owner, accounts, APPROVE_GAS * BigInt(o.tokens.length))) {
        o.log({ event: 'evm-funding', party: t.name, address: t.address, wei: String(t.wei), hash: t.hash });
      }
    },
    stop: async () => {}, // not ours to stop
  };
}

async function deployAndServe(o: RealLegsOptions, chain: Chain): Promise<RealLegs> {
  const owner = chain.clientsOf(chain.deployer);
  const sync = async () => chain.durability?.sync();
  o.log({ event: 'evm-chain', chain: chain.kind, chainId: chain.chainId, rpc: chain.where, deployer: chain.deployer.address, confirmations: chain.confirmations });
  o.log({ event: 'evm-party-accounts', accounts: Object.fromEntries([...chain.parties].map(([n, a]) => [n, a.address])) });
  // Before any deployment: a deployer that cannot pay the parties' approve gas fails here, cheaply.
  const partyAddresses = new Map([...chain.parties].map(([n, a]) => [n, a.address] as const));
  await chain.fund(owner, chain.kind === 'anvil' ? new Map([['deployer', chain.deployer.address], ...partyAddresses]) : partyAddresses);
  const deployment = await ensureDeployment({
    file: join(o.dataDir, DEPLOYMENT_FILE),
    chainId: chain.chainId,
    anchor: o.anchor,
    tokens: o.tokens,
    owner,
    parties: chain.parties,
    clientsOf: (a) => chain.clientsOf(a),
    sync,
    lostHint: chain.lostHint,
  });
  const { escrow, tokens } = deployment;
  o.log({ event: 'evm-deployment', resumed: deployment.resumed, escrow: addressString(escrow), tokens: Object.fromEntries([...tokens].map(([s, a]) => [s, addressString(a)])), fromBlock: String(deployment.fromBlock) });
  const custody = new Map([...chain.parties].map(([name, account]) => [name, { identityKey: o.parties.get(name)!, account }] as const));
  // Both legs check authorizations through node:crypto, with the reference's acceptance (ZIP-215 fallback).
  const verifyAuthorization = authorizationCheckOf(new NativeIdentity());
  const asset = new EvmEscrowAdapter({
    clients: owner,
    escrow,
    protocol: o.anchor.protocol ?? 1,
    authorizer: custodialAuthorizer(custody, verifyAuthorization),
    confirmations: chain.confirmations,
    ...(chain.durability !== null ? { durability: chain.durability } : {}),
    onTransaction: (tx: EscrowTransaction) =>
      o.log({ event: 'evm-transaction', settlement: tx.settlementIdHex, call: tx.call, hash: tx.hash, block: String(tx.blockNumber), gasUsed: String(tx.gasUsed), status: tx.status }),
  });
  if (o.databaseUrl === undefined) mkdirSync(join(o.dataDir, 'bank'), { recursive: true, mode: 0o700 });
  const payment = await PgBankLedger.open({
    anchor: o.anchor,
    nowMs: () => Date.now(),
    parties: o.parties,
    verifyAuthorization,
    // Every node delivers the same report: each distinct one is verified once (a bounded memo).
    verifyReport: memoizeCheck(defaultVerifyReport),
    venue: o.bank,
    // On a shared PostgreSQL server each cluster keeps its own schema, named after its
    // configuration: two clusters (or test runs) never see each other's balances.
    ...(o.databaseUrl !== undefined ? { databaseUrl: o.databaseUrl, schema: clusterBankSchema(o.anchor) } : { dataDir: join(o.dataDir, 'bank') }),
    onTransfer: (c: TransferChange) => o.log(bankTransferLine(c)),
  });
  const assetLog = new EscrowEventLog({ publicClient: owner.publicClient, escrow, tokens, names: new Map([...chain.parties].map(([n, a]) => [a.address, n] as const)), fromBlock: deployment.fromBlock });
  const admin = realLegsAdmin({ payment, owner, tokens, accounts: chain.parties, assetLog, finalHeight: () => asset.finalHeight(), sync });
  let server: LegServer;
  try {
    server = await serveLegs({ asset: auditedLeg(asset, o.log), payment: auditedLeg(payment, o.log) }, { host: o.host ?? '127.0.0.1', port: o.port, credentials: o.credentials, tls: o.tls ?? null, admin });
  } catch (e) {
    await payment.close();
    throw e;
  }
  return {
    url: server.url,
    rpcUrl: chain.where,
    chain: chain.kind,
    venues: { chainId: String(chain.chainId), escrow: addressString(escrow), bankId: o.bank.bankId, ledger: o.bank.ledger },
    close: async () => {
      await server.close();
      await payment.close();
      await chain.stop();
    },
  };
}

/** The leg host's log line for one bank transfer change: `settle` picks its settlement's lines. */
export function bankTransferLine(c: TransferChange): Record<string, unknown> {
  return {
    event: 'bank-transfer',
    settlement: c.settlementIdHex,
    transferId: String(c.transferId),
    kind: c.kind,
    status: c.status,
    from: c.debitAccount,
    to: c.creditAccount,
    amount: String(c.amount),
    currency: c.currency,
    seq: String(c.seq),
  };
}

/** The bank's PostgreSQL schema for a cluster: `tandem_bank_` and 16 hex digits of its configuration digest. */
export function clusterBankSchema(anchor: LegAnchor): string {
  return `tandem_bank_${toHex(anchor.configDigest).slice(0, 16)}`;
}
