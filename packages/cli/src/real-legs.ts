/**
 * The real legs behind one leg host: a local EVM chain (anvil from npm, Prague) with Tandem's DvP
 * escrow, which verifies threshold reports on-chain, and the bank ledger on PostgreSQL (embedded
 * PGlite by default, or DATABASE_URL). Nodes reach both through the leg host's HTTP API, exactly
 * as they reach the in-memory legs.
 *
 * Custody, for the demo: the escrow needs the seller's EIP-712 authorization, while Tandem's
 * parties sign Ed25519 authorizations. The host holds each demo party's anvil account and signs
 * the EIP-712 authorization only after checking the party's Ed25519 one (custodialAuthorizer):
 * a trusted custodian, as documented in packages/leg-evm. Self-custody parties sign EIP-712 themselves.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Address, maxUint256 } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import type { LegName } from '@tandem/protocol';
import type { LegAnchor } from '@tandem/legs';
import {
  type Anvil,
  type EscrowTransaction,
  EvmEscrowAdapter,
  addressString,
  anvilDevAccount,
  chainClients,
  custodialAuthorizer,
  deployEscrow,
  deployToken,
  registerNames,
  sendAndWait,
  startAnvil,
  tandemTokenAbi,
} from '@tandem/leg-evm';
import { PgBankLedger } from '@tandem/leg-bank';
import { AdminInputError, type LegAdmin, type LegServer, serveLegs } from '@tandem/leg-host';

export interface RealLegsOptions {
  readonly anchor: LegAnchor;
  /** Party name → Ed25519 public key (its Tandem authorizations). */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** Token symbols the escrow resolves by name (each deployed as a TandemToken). */
  readonly tokens: readonly string[];
  readonly bank: { readonly bankId: string; readonly ledger: string };
  readonly port: number;
  /** Where the embedded bank keeps its data (PGlite); ignored when databaseUrl is given. */
  readonly dataDir: string;
  readonly databaseUrl?: string;
  readonly log: (line: Record<string, unknown>) => void;
}

export interface RealLegs {
  readonly url: string;
  readonly venues: { readonly chainId: string; readonly escrow: string; readonly bankId: string; readonly ledger: string };
  readonly rpcUrl: string;
  close(): Promise<void>;
}

/** Demo parties get anvil dev accounts 1, 2, …; account 0 deploys, owns the escrow and relays. */
function partyAccounts(names: readonly string[]): Map<string, PrivateKeyAccount> {
  return new Map(names.map((name, i) => [name, anvilDevAccount(i + 1)] as const));
}

export async function startRealLegs(o: RealLegsOptions): Promise<RealLegs> {
  const anvil: Anvil = await startAnvil();
  try {
    return await deployAndServe(o, anvil);
  } catch (e) {
    await anvil.stop(); // never leave a chain running behind a failed start
    throw e;
  }
}

async function deployAndServe(o: RealLegsOptions, anvil: Anvil): Promise<RealLegs> {
  const clientsOf = (account: PrivateKeyAccount) => chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account });
  const owner = clientsOf(anvilDevAccount(0));
  const tokens = new Map<string, Address>();
  for (const symbol of o.tokens) tokens.set(symbol, await deployToken(owner, { name: `Tandem ${symbol}`, symbol }));
  const escrow = await deployEscrow(owner, o.anchor);
  const accounts = partyAccounts([...o.parties.keys()].sort());
  await registerNames(owner, escrow, new Map<string, Address>([...[...accounts].map(([name, a]) => [name, a.address] as const), ...tokens]));
  // Each party lets the escrow pull its tokens: a lock without an allowance is a durable rejection.
  for (const [name, account] of accounts) {
    const c = clientsOf(account);
    for (const [symbol, token] of tokens) {
      await sendAndWait(c, await c.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'approve', args: [escrow, maxUint256] }), `approve ${symbol} by ${name}`);
    }
  }
  const custody = new Map([...accounts].map(([name, account]) => [name, { identityKey: o.parties.get(name)!, account }] as const));
  const asset = new EvmEscrowAdapter({
    clients: owner,
    escrow,
    authorizer: custodialAuthorizer(custody),
    onTransaction: (tx: EscrowTransaction) => o.log({ event: 'evm-transaction', call: tx.call, hash: tx.hash, block: String(tx.blockNumber), gasUsed: String(tx.gasUsed), status: tx.status }),
  });
  if (o.databaseUrl === undefined) mkdirSync(join(o.dataDir, 'bank'), { recursive: true, mode: 0o700 });
  const payment = await PgBankLedger.open({
    anchor: o.anchor,
    nowMs: () => Date.now(),
    parties: o.parties,
    venue: o.bank,
    ...(o.databaseUrl !== undefined ? { databaseUrl: o.databaseUrl } : { dataDir: join(o.dataDir, 'bank') }),
  });

  const admin: LegAdmin = {
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
  const server: LegServer = await serveLegs({ asset, payment }, { host: '127.0.0.1', port: o.port, admin });
  return {
    url: server.url,
    rpcUrl: anvil.rpcUrl,
    venues: { chainId: String(anvil.chainId), escrow: addressString(escrow), bankId: o.bank.bankId, ledger: o.bank.ledger },
    close: async () => {
      await server.close();
      await payment.close();
      await anvil.stop();
    },
  };
}
