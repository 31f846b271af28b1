/**
 * The parties' agents in the simulator: they hand a settlement's intent to every node up, with
 * the authorizations of the legs they do not withhold (and later the withheld late ones), and
 * reclaim their value once the timelock has passed on the leg's own clock.
 */
import { type Authorization, type LegName, settlementId } from '@tandem/protocol';
import { authorizeWith } from '@tandem/legs';
import type { IdentitySigner } from '@tandem/crypto';
import { type Authorizations, nativeIdentitySigner } from '@tandem/node';
import type { LateAuthorization } from './plan.js';
import type { SimSettlement } from './run-record.js';
import type { SimCore, World } from './sim-world.js';

/** How long a party waits before trying a reclaim again when the leg was unavailable. */
const RECLAIM_RETRY_MS = 1_000;

export class PartyAgents {
  /** Leg calls under way (node calls are counted by each runtime). */
  inflight = 0;

  constructor(
    private readonly core: SimCore,
    private readonly world: World,
  ) {}

  /** Each party's signer, its key prepared once (node:crypto; byte-identical to the reference). */
  private readonly signers = new Map<string, IdentitySigner>();

  private authorization(party: string, idBytes: Uint8Array): Authorization {
    let signer = this.signers.get(party);
    if (signer === undefined) {
      const sk = this.world.partyKeys.get(party);
      if (sk === undefined) throw new Error(`no key for party ${party}`);
      signer = nativeIdentitySigner(sk);
      this.signers.set(party, signer);
    }
    return authorizeWith(party, (domain, message) => signer.sign(domain, message), this.world.cluster.networkId, idBytes);
  }

  private authorizations(s: SimSettlement, legs: readonly LegName[]): Authorizations {
    const id = settlementId(s.terms);
    const out: Authorizations = {};
    if (legs.includes('asset')) out.asset = this.authorization(s.terms.asset.seller, id);
    if (legs.includes('payment')) out.payment = this.authorization(s.terms.payment.payer, id);
    return out;
  }

  /** A withheld authorization goes out after all (late-lock): recorded as its fault's entry. */
  lateAuthorization(s: SimSettlement, late: LateAuthorization): void {
    this.core.record({ t: this.core.nowMs(), node: 0, type: 'fault', fault: late.fault, phase: 'start', detail: `the ${late.leg} authorization goes out` });
    this.submit(s, [late.leg]);
  }

  /** Every node up gets the terms with the authorizations of `legs`. */
  private submit(s: SimSettlement, legs: readonly LegName[]): void {
    const auths = this.authorizations(s, legs);
    for (const node of this.world.nodes) if (node.up) node.runtime!.submit(s.terms, auths);
  }

  /** The settlement's intent, with the authorizations of the legs not withheld. */
  intent(s: SimSettlement, legs: readonly LegName[]): void {
    this.core.record({ t: this.core.nowMs(), node: 0, type: 'intent', settlement: s.spec.id, settlementIdHex: s.idHex });
    this.submit(s, legs);
  }

  /** The party takes its value back (refused by the leg if a report was applied there). */
  reclaim(s: SimSettlement, leg: 'asset' | 'payment'): void {
    const { core } = this;
    const adapter = leg === 'asset' ? this.world.asset : this.world.payment;
    this.inflight++;
    adapter.reclaim(settlementId(s.terms)).then(
      (out) => {
        this.inflight--;
        core.record({ t: core.nowMs(), node: 0, type: 'reclaim', settlement: s.spec.id, leg, outcome: out.kind === 'refused' ? `refused: ${out.reason}` : out.kind });
      },
      () => {
        // The leg is unavailable: the party tries again a second later.
        this.inflight--;
        core.at(core.nowMs() + RECLAIM_RETRY_MS, () => this.reclaim(s, leg));
      },
    );
  }
}
