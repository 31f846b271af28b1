/**
 * The parties of a local cluster: their Ed25519 keys (the public half for the leg host, the
 * secret half for whoever signs their authorizations: `settle`, the scenario runner) and their
 * opening balances.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { identityKeygen } from '@tandem/crypto';
import { UsageError } from '@tandem/daemon';
import { toHex } from '@tandem/protocol';
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
