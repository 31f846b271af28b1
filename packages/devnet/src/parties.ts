/**
 * The parties of a local cluster: their Ed25519 keys (the public half for the leg host, the
 * secret half for whoever signs their authorizations: `settle`, the scenario runner) and their
 * opening balances.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { identityKeygen } from '@tandem/crypto';
import { UsageError, loadClusterFile } from '@tandem/daemon';
import { authorize } from '@tandem/legs';
import { fromHex, toHex } from '@tandem/protocol';
import { clusterPaths } from './paths.js';

/** Demo parties: alice holds OUSG, bob holds USD (minor units). */
export const DEMO_PARTIES = ['alice', 'bob'] as const;

/** One opening balance the cluster mints at start-up through the leg host's admin API. */
export interface Funding {
  readonly leg: 'asset' | 'payment';
  readonly account: string;
  readonly unit: string;
  readonly amount: string;
}

export const DEMO_FUNDS: readonly Funding[] = [
  { leg: 'asset', account: 'alice', unit: 'OUSG', amount: '1000' },
  { leg: 'payment', account: 'bob', unit: 'USD', amount: '1000000000' },
];

/** Creates the parties' keys once; a directory made for other parties is refused (UsageError). */
export function ensureParties(dir: string, parties: readonly string[]): void {
  const p = clusterPaths(dir);
  if (existsSync(p.parties) && existsSync(p.partiesSecret)) {
    const known = Object.keys(JSON.parse(readFileSync(p.parties, 'utf8')) as Record<string, string>);
    const missing = parties.filter((x) => !known.includes(x));
    if (missing.length > 0) throw new UsageError(`${p.parties} has no key for ${missing.join(', ')} (use another --dir)`);
    return;
  }
  const pub: Record<string, string> = {};
  const sec: Record<string, string> = {};
  for (const name of parties) {
    const k = identityKeygen(randomBytes);
    pub[name] = toHex(k.publicKey);
    sec[name] = toHex(k.secretKey);
    k.secretKey.fill(0);
  }
  writeFileSync(p.parties, JSON.stringify(pub, null, 2) + '\n', { mode: 0o644 });
  writeFileSync(p.partiesSecret, JSON.stringify(sec, null, 2) + '\n', { mode: 0o600 });
}

/** Party name → Ed25519 secret key (hex), from the cluster's 0600 secrets file. */
export function readPartySecrets(dir: string): Record<string, string> {
  return JSON.parse(readFileSync(clusterPaths(dir).partiesSecret, 'utf8')) as Record<string, string>;
}

/** An authorization as the control API takes it: `{ party, signature: hex }`. */
export interface AuthorizationBody {
  readonly party: string;
  readonly signature: string;
}

/** Signs the parties' authorizations for one cluster (their agent: `settle`, the scenario runner, benchmarks). */
export interface PartySigner {
  /** The parties this cluster holds keys for. */
  readonly parties: readonly string[];
  /** `party`'s authorization of the settlement, bound to this cluster's network id: it never moves another cluster's legs. */
  authorize(party: string, settlementIdBytes: Uint8Array): AuthorizationBody;
}

/** The signer for the cluster in `dir`: its parties' secret keys and its network id (from DIR/keys/cluster.json). */
export function partySigner(dir: string): PartySigner {
  const secrets = readPartySecrets(dir);
  const networkId = loadClusterFile(clusterPaths(dir).cluster).config.networkId;
  return {
    parties: Object.keys(secrets),
    authorize: (party, settlementIdBytes) => {
      const secret = secrets[party];
      if (secret === undefined) throw new UsageError(`${party}: unknown party (this cluster has ${Object.keys(secrets).join(', ')})`);
      return { party, signature: toHex(authorize(party, fromHex(secret, 32), networkId, settlementIdBytes).signature) };
    },
  };
}
