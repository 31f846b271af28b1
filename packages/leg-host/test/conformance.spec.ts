/**
 * The shared leg conformance suite, run through the whole HTTP path:
 * HttpLegAdapter → serveLegs → MemoryAssetChain / MemoryBankLedger (with a virtual clock the
 * harness moves). Funding, balances and the conservation check go through the admin API.
 */
import type { LegName } from '@tandem/protocol';
import type { AssetVenue, BankVenue } from '@tandem/legs';
import { type LegHarness, createLegFixture, legConformance } from '@tandem/legs/conformance';
import { Credential } from '@tandem/http';
import { HttpLegAdapter, LegHostAdminClient, startMemoryLegHost } from '../src/index.js';

const fx = createLegFixture();
const ASSET_VENUE: AssetVenue = { chainId: 31337n, escrow: new Uint8Array(20).fill(0xab) };
const BANK_VENUE: BankVenue = { bankId: 'bank-a', ledger: 'deposits' };
const START_MS = 1_000_000;
const TIMEOUT_MS = 5_000;

async function harness(leg: LegName, unit: string): Promise<LegHarness> {
  const clock = { nowMs: START_MS };
  const credentials = { legs: Credential.generate(), admin: Credential.generate() };
  const host = await startMemoryLegHost({
    anchor: fx.anchor,
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
    anchor: fx.anchor,
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

legConformance('HttpLegAdapter → MemoryAssetChain', () => harness('asset', 'OUSG'));
legConformance('HttpLegAdapter → MemoryBankLedger', () => harness('payment', 'USD'));
