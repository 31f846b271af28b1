/**
 * The shared leg conformance suite, run through the whole HTTP path:
 * HttpLegAdapter → serveLegs → MemoryAssetChain / MemoryBankLedger (with a virtual clock the
 * harness moves). Funding, balances and the conservation check go through the admin API. With
 * `{ v2: true }` the protocol v2 part runs too, on legs anchored to protocol 2: roots, entries by
 * proof and batches by multiproof, all over HTTP.
 */
import type { LegName } from '@tandem/protocol';
import { type LegHarness, legConformance } from '@tandem/legs/conformance';
import { Credential } from '@tandem/http';
import { HttpLegAdapter, LegHostAdminClient, startMemoryLegHost } from '../src/index.js';
import { ASSET_VENUE, BANK_VENUE, START_MS, TIMEOUT_MS, fx } from './support.js';

async function harness(leg: LegName, unit: string, protocol: 1 | 2): Promise<LegHarness> {
  const anchor = protocol === 2 ? fx.anchorV2 : fx.anchor;
  const clock = { nowMs: START_MS };
  const credentials = { legs: Credential.generate(), admin: Credential.generate() };
  const host = await startMemoryLegHost({
    anchor,
    parties: fx.partyPublicKeys,
    assetVenue: ASSET_VENUE,
    bankVenue: BANK_VENUE,
    credentials,
    port: 0,
    clock: () => clock.nowMs,
  });
  const admin = new LegHostAdminClient({ url: host.url, credential: credentials.admin, timeoutMs: TIMEOUT_MS });
  const venue = leg === 'asset' ? ({ leg: 'asset', ...ASSET_VENUE } as const) : ({ leg: 'payment', ...BANK_VENUE } as const);
  return {
    adapter: new HttpLegAdapter({ url: host.url, leg, credential: credentials.legs, timeoutMs: TIMEOUT_MS }),
    leg,
    venue,
    unit,
    startMs: START_MS,
    anchor,
    dealer: fx.dealer,
    partyKeys: fx.partySecretKeys,
    setNowMs: async (ms) => {
      if (ms < clock.nowMs) throw new Error('the suite moved the clock backwards');
      clock.nowMs = ms;
    },
    fund: (account, u, amount) => admin.mint(leg, account, u, amount),
    balance: (account, u) => admin.balance(leg, account, u),
    conservationProblem: async () => (await admin.balances(leg)).conservationProblem,
    close: () => host.close(),
  };
}

legConformance('HttpLegAdapter → MemoryAssetChain', (protocol) => harness('asset', 'OUSG', protocol), { v2: true });
legConformance('HttpLegAdapter → MemoryBankLedger', (protocol) => harness('payment', 'USD', protocol), { v2: true });
