/**
 * The real legs behind one leg host: an EVM chain with Tandem's DvP escrow, which verifies
 * threshold reports on-chain, and the bank ledger on PostgreSQL (embedded PGlite by default, or
 * DATABASE_URL). Nodes reach both through the leg host's HTTP API, exactly as they reach the
 * in-memory legs.
 *
 * The chain is either a local anvil from npm (Prague; the default), or an external chain named by
 * `--rpc-url` whose deployer key comes from `--private-key-file` or TANDEM_EVM_PRIVATE_KEY. The
 * deployer deploys the token(s) and the escrow, owns them, and relays every escrow transaction.
 *
 * Custody, for the demo: the escrow needs the seller's EIP-712 authorization, while Tandem's
 * parties sign Ed25519 authorizations. The host holds each demo party's chain account and signs
 * the EIP-712 authorization only after checking the party's Ed25519 one (custodialAuthorizer):
 * a trusted custodian, as documented in packages/leg-evm. On anvil the parties are its dev
 * accounts 1, 2, …; on an external chain each gets a fresh secp256k1 key, kept in
 * DATAPATH/evm-accounts.json (mode 0600) and topped up by the deployer for its `approve` gas.
 *
 * The deployer key is read from its file or the environment and kept in memory only: it never
 * goes into a log line, a file this module writes, an error message, or a child's argv.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, type Hex, maxUint256 } from 'viem';
import { type PrivateKeyAccount, generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type LegName, toHex } from '@tandem/protocol';
import type { LegAnchor } from '@tandem/legs';
import {
  APPROVE_GAS,
  type ChainClients,
  type EscrowTransaction,
  EvmEscrowAdapter,
  addressString,
  anvilDevAccount,
  chainClients,
  custodialAuthorizer,
  deployEscrow,
  deployToken,
  fundForGas,
  registerNames,
  sendAndWait,
  startAnvil,
  tandemTokenAbi,
} from '@tandem/leg-evm';
import { PgBankLedger, type TransferChange } from '@tandem/leg-bank';
import { AdminInputError, type LegAdmin, type LegServer, serveLegs } from '@tandem/leg-host';
import { type ExternalChain, errorText, redactUrl } from './chain-flags.js';

/** The parties' generated chain keys, in the leg host's data directory. */
export const PARTY_ACCOUNTS_FILE = 'evm-accounts.json';

export interface RealLegsOptions {
  readonly anchor: LegAnchor;
  /** Party name → Ed25519 public key (its Tandem authorizations). */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** Token symbols the escrow resolves by name (each deployed as a TandemToken). */
  readonly tokens: readonly string[];
  readonly bank: { readonly bankId: string; readonly ledger: string };
  readonly port: number;
  /** The leg host's data: the embedded bank (PGlite, unless databaseUrl) and, on an external chain, the parties' chain keys. */
  readonly dataDir: string;
  readonly databaseUrl?: string;
  /** An external chain (probed: its chain id known); absent: a local anvil. */
  readonly external?: ExternalChain;
  readonly log: (line: Record<string, unknown>) => void;
}

export interface RealLegs {
  readonly url: string;
  readonly venues: { readonly chainId: string; readonly escrow: string; readonly bankId: string; readonly ledger: string };
  /** The chain's RPC URL, redacted for display (see redactUrl). */
  readonly rpcUrl: string;
  readonly chain: 'anvil' | 'external';
  close(): Promise<void>;
}

/** The chain the legs run on, and whose accounts deploy and hold tokens there. */
interface Chain {
  readonly kind: 'anvil' | 'external';
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly deployer: PrivateKeyAccount;
  readonly parties: ReadonlyMap<string, PrivateKeyAccount>;
  stop(): Promise<void>;
}

export async function startRealLegs(o: RealLegsOptions): Promise<RealLegs> {
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const names = [...o.parties.keys()].sort();
  const chain: Chain =
    o.external === undefined
      ? await startLocalChain(names)
      : {
          kind: 'external',
          rpcUrl: o.external.rpcUrl,
          chainId: o.external.chainId,
          deployer: privateKeyToAccount(o.external.privateKey),
          parties: partyAccounts(join(o.dataDir, PARTY_ACCOUNTS_FILE), names),
          stop: async () => {}, // not ours to stop
        };
  try {
    return await deployAndServe(o, chain);
  } catch (e) {
    await chain.stop(); // never leave a chain running behind a failed start
    throw e;
  }
}

/** anvil: account 0 deploys, owns the escrow and relays; the parties get dev accounts 1, 2, …. */
async function startLocalChain(names: readonly string[]): Promise<Chain> {
  const anvil = await startAnvil();
  return {
    kind: 'anvil',
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    deployer: anvilDevAccount(0),
    parties: new Map(names.map((name, i) => [name, anvilDevAccount(i + 1)] as const)),
    stop: () => anvil.stop(),
  };
}

interface PartyAccountsFile {
  readonly note: string;
  readonly accounts: Record<string, { readonly address: string; readonly privateKey: string }>;
}

/**
 * The parties' keys on an external chain: read from `file`, with a fresh secp256k1 key made for
 * each party it lacks, and the file (re)written with mode 0600. Reusing them across restarts
 * keeps what they were funded with.
 */
export function partyAccounts(file: string, names: readonly string[]): Map<string, PrivateKeyAccount> {
  const keys = new Map<string, Hex>();
  if (existsSync(file)) {
    let parsed: PartyAccountsFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as PartyAccountsFile;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${errorText(e)}); delete it to make new party accounts`);
    }
    for (const [name, a] of Object.entries(parsed.accounts ?? {})) {
      if (typeof a?.privateKey !== 'string' || !/^0x[0-9a-f]{64}$/.test(a.privateKey)) throw new Error(`${file}: the key of ${name} is malformed; delete the file to make new party accounts`);
      keys.set(name, a.privateKey as Hex);
    }
  }
  const missing = names.filter((n) => !keys.has(n));
  for (const name of missing) keys.set(name, generatePrivateKey());
  const accounts = new Map([...keys].map(([name, key]) => [name, privateKeyToAccount(key)] as const));
  if (missing.length > 0 || !existsSync(file)) {
    const body: PartyAccountsFile = {
      note: 'chain accounts the leg host holds in custody for the demo parties (generated; keep private)',
      accounts: Object.fromEntries([...keys].map(([name, key]) => [name, { address: accounts.get(name)!.address, privateKey: key }])),
    };
    writeFileSync(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  }
  chmodSync(file, 0o600); // also when an older file was made with a looser mode
  return new Map(names.map((n) => [n, accounts.get(n)!] as const));
}

async function deployAndServe(o: RealLegsOptions, chain: Chain): Promise<RealLegs> {
  const clientsOf = (account: PrivateKeyAccount) => chainClients({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, account });
  const owner = clientsOf(chain.deployer);
  o.log({ event: 'evm-chain', chain: chain.kind, chainId: chain.chainId, rpc: redactUrl(chain.rpcUrl), deployer: chain.deployer.address });
  o.log({ event: 'evm-party-accounts', accounts: Object.fromEntries([...chain.parties].map(([n, a]) => [n, a.address])) });
  // Before any deployment: a deployer that cannot pay the parties' approve gas fails here, cheaply.
  const partyAddresses = new Map([...chain.parties].map(([n, a]) => [n, a.address] as const));
  for (const t of await fundForGas(owner, partyAddresses, APPROVE_GAS * BigInt(o.tokens.length))) {
    o.log({ event: 'evm-funding', party: t.name, address: t.address, wei: String(t.wei), hash: t.hash });
  }
  const tokens = new Map<string, Address>();
  for (const symbol of o.tokens) tokens.set(symbol, await deployToken(owner, { name: `Tandem ${symbol}`, symbol }));
  const escrow = await deployEscrow(owner, o.anchor);
  await registerNames(owner, escrow, new Map<string, Address>([...partyAddresses, ...tokens]));
  await approveEscrow(chain.parties, tokens, escrow, clientsOf);
  const custody = new Map([...chain.parties].map(([name, account]) => [name, { identityKey: o.parties.get(name)!, account }] as const));
  const asset = new EvmEscrowAdapter({
    clients: owner,
    escrow,
    authorizer: custodialAuthorizer(custody),
    onTransaction: (tx: EscrowTransaction) =>
      o.log({ event: 'evm-transaction', settlement: tx.settlementIdHex, call: tx.call, hash: tx.hash, block: String(tx.blockNumber), gasUsed: String(tx.gasUsed), status: tx.status }),
  });
  if (o.databaseUrl === undefined) mkdirSync(join(o.dataDir, 'bank'), { recursive: true, mode: 0o700 });
  const payment = await PgBankLedger.open({
    anchor: o.anchor,
    nowMs: () => Date.now(),
    parties: o.parties,
    venue: o.bank,
    // On a shared PostgreSQL server each cluster keeps its own schema, named after its
    // configuration: two clusters (or test runs) never see each other's balances.
    ...(o.databaseUrl !== undefined ? { databaseUrl: o.databaseUrl, schema: clusterBankSchema(o.anchor) } : { dataDir: join(o.dataDir, 'bank') }),
    onTransfer: (c: TransferChange) => o.log(bankTransferLine(c)),
  });
  const server: LegServer = await serveLegs({ asset, payment }, { host: '127.0.0.1', port: o.port, admin: realLegsAdmin(payment, owner, tokens, chain.parties) });
  return {
    url: server.url,
    rpcUrl: redactUrl(chain.rpcUrl),
    chain: chain.kind,
    venues: { chainId: String(chain.chainId), escrow: addressString(escrow), bankId: o.bank.bankId, ledger: o.bank.ledger },
    close: async () => {
      await server.close();
      await payment.close();
      await chain.stop();
    },
  };
}

/** Each party lets the escrow pull its tokens: a lock without an allowance is a durable rejection. */
async function approveEscrow(parties: ReadonlyMap<string, PrivateKeyAccount>, tokens: ReadonlyMap<string, Address>, escrow: Address, clientsOf: (a: PrivateKeyAccount) => ChainClients): Promise<void> {
  for (const [name, account] of parties) {
    const c = clientsOf(account);
    for (const [symbol, token] of tokens) {
      await sendAndWait(c, await c.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'approve', args: [escrow, maxUint256] }), `approve ${symbol} by ${name}`);
    }
  }
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

function realLegsAdmin(payment: PgBankLedger, owner: ChainClients, tokens: ReadonlyMap<string, Address>, accounts: ReadonlyMap<string, PrivateKeyAccount>): LegAdmin {
  return {
    mint: async (leg: LegName, account: string, unit: string, amount: bigint) => {
      if (leg === 'payment') {
        await payment.fund(account, unit, amount);
        return;
      }
      const token = tokens.get(unit);
      const to = accounts.get(account);
      if (token === undefined) throw new AdminInputError('unit', `no token ${unit} on this chain`);
      if (to === undefined) throw new AdminInputError('account', `no account for ${account} on this chain`);
      await sendAndWait(owner, await owner.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'mint', args: [to.address, amount] }), `mint ${unit}`);
    },
    balances: async () => {
      throw new AdminInputError('leg', 'balances are read from the chain and the bank directly for real legs');
    },
    events: async () => {
      throw new AdminInputError('leg', 'the event log is the chain and the bank history for real legs');
    },
    setFault: async () => {
      throw new AdminInputError('fault', 'faults are injected on the in-memory legs only');
    },
    faults: async () => ({ rejectPrepare: [], failApply: [], unavailableUntilMs: null }),
  };
}

/** The bank's PostgreSQL schema for a cluster: `tandem_bank_` and 16 hex digits of its configuration digest. */
export function clusterBankSchema(anchor: LegAnchor): string {
  return `tandem_bank_${toHex(anchor.configDigest).slice(0, 16)}`;
}
