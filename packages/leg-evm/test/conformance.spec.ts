/**
 * The legs conformance suite, unchanged, against EvmEscrowAdapter on anvil: v1 on DvpEscrow, v2
 * on DvpEscrowV2 (its protocol 2 part). Harness choices:
 * parties alice/bob/carol are anvil accounts registered as names on the escrow; their Ed25519
 * authorizations are mapped to EIP-712 ones by a custodial authorizer holding their EVM keys;
 * the unit is the token's address; the leg clock is the frozen chain clock, moved by mining a
 * block at the requested second.
 */
import { afterAll } from 'vitest';
import { hexToBytes } from 'viem';
import { type LegHarness, legConformance } from '@tandem/legs/conformance';
import { EvmEscrowAdapter } from '../src/adapter.js';
import { type CustodiedParty, custodialAuthorizer } from '../src/authorization.js';
import { addressString } from '../src/chain.js';
import { balanceOf, chainTimeMs, deploy, fixture, freshDeployment, lockedByEvents, mint, setChainTimeMs, stopTestAnvil } from './local-chain.js';

afterAll(stopTestAnvil);

/** Harnesses not closed yet: a second one (the v2 suite asks for a v1 leg mid-test) deploys afresh instead of rewinding the chain. */
let open = 0;

async function makeHarness(protocol: 1 | 2): Promise<LegHarness> {
  const fx = fixture();
  const anchor = protocol === 1 ? fx.anchor : fx.anchorV2;
  const d = open === 0 ? await freshDeployment(protocol) : await deploy(anchor, protocol);
  open += 1;
  const custody = new Map<string, CustodiedParty>();
  for (const [name, account] of d.parties) {
    const identityKey = fx.partyPublicKeys.get(name);
    if (identityKey === undefined) throw new Error(`fixture has no key for ${name}`);
    custody.set(name, { identityKey, account });
  }
  const adapter = new EvmEscrowAdapter({ clients: d.owner, escrow: d.escrow, protocol, authorizer: custodialAuthorizer(custody) });
  const unit = addressString(d.token);
  const accountOf = (name: string) => {
    const a = d.parties.get(name);
    if (a === undefined) throw new Error(`no party ${name}`);
    return a.address;
  };
  const checkUnit = (u: string) => {
    if (u !== unit) throw new Error(`harness has one token, ${unit}; asked for ${u}`);
  };
  return {
    adapter,
    leg: 'asset',
    venue: { leg: 'asset', chainId: BigInt(d.anvil.chainId), escrow: hexToBytes(d.escrow) },
    unit,
    startMs: await chainTimeMs(d),
    anchor,
    dealer: fx.dealer,
    partyKeys: fx.partySecretKeys,
    setNowMs: (ms) => setChainTimeMs(d, ms),
    fund: async (account, u, amount) => {
      checkUnit(u);
      await mint(d, accountOf(account), amount);
    },
    balance: async (account, u) => {
      checkUnit(u);
      return balanceOf(d, accountOf(account));
    },
    conservationProblem: async () => {
      const held = await balanceOf(d, d.escrow);
      const locked = await lockedByEvents(d);
      return held === locked ? null : `escrow holds ${held} tokens, its records lock ${locked}`;
    },
    close: async () => {
      open -= 1; // the anvil is shared by the file and stopped by afterAll
    },
  };
}

legConformance('EvmEscrowAdapter on anvil', makeHarness, { v2: true });
