/**
 * The chain accounts the real legs' host holds, generated per cluster into its data directory
 * (never anvil's public dev keys): the demo parties' accounts, which it keeps in custody, and on
 * the embedded chain the deployer, which deploys, owns the escrow and relays every transaction.
 * Keys live in files of mode 0600 only: never in argv, a log line or an error message.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import type { Hex } from 'viem';
import { type PrivateKeyAccount, generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { writeFileDurably } from '@tandem/leg-evm';
import { errorText } from './chain-flags.js';

/** The parties' generated chain keys, in the leg host's data directory. */
export const PARTY_ACCOUNTS_FILE = 'evm-accounts.json';
/** The embedded chain's deployer key (0x + 64 hex), in the leg host's data directory. */
export const LOCAL_DEPLOYER_KEY_FILE = 'evm-deployer.key';

interface PartyAccountsFile {
  readonly note: string;
  readonly accounts: Record<string, { readonly address: string; readonly privateKey: string }>;
}

const KEY = /^0x[0-9a-f]{64}$/;

/**
 * The parties' keys: read from `file`, with a fresh secp256k1 key made for each party it lacks,
 * and the file (re)written durably with mode 0600. Reusing them across restarts keeps what they
 * hold on the chain.
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
      if (typeof a?.privateKey !== 'string' || !KEY.test(a.privateKey)) throw new Error(`${file}: the key of ${name} is malformed; delete the file to make new party accounts`);
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
    writeFileDurably(file, JSON.stringify(body, null, 2) + '\n', 0o600);
  }
  chmodSync(file, 0o600); // also when an older file was made with a looser mode
  return new Map(names.map((n) => [n, accounts.get(n)!] as const));
}

/** The embedded chain's deployer: its key from `file`, made (mode 0600) on the cluster's first start. */
export function localDeployer(file: string): PrivateKeyAccount {
  if (!existsSync(file)) writeFileDurably(file, `${generatePrivateKey()}\n`, 0o600);
  chmodSync(file, 0o600);
  const key = readFileSync(file, 'utf8').trim();
  if (!KEY.test(key)) throw new Error(`${file}: not a private key (0x and 64 lower-case hex digits); it deployed this cluster's escrow, so restore it rather than replace it`);
  return privateKeyToAccount(key as Hex);
}
