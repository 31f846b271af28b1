import { type Decision, type SignedObservation, type Terms, DECISIONS } from '@tandem/protocol';
import { supports } from './validity.js';

/**
 * The evidence pool of one settlement: valid(v) of Algorithm 1 as a pure, monotone function of the
 * authenticated observations held. Per value it keeps each member's first supporting observation
 * (bounded: 2n), and valid(v) holds once f+1 distinct members support v. Nothing is ever removed,
 * so a value once valid stays valid.
 */
export class EvidencePool {
  private readonly support: Record<Decision, Map<number, SignedObservation>> = { COMMIT: new Map(), ABORT: new Map() };
  private readonly announced = new Set<Decision>();

  constructor(
    private readonly terms: Terms,
    private readonly groupPublicKey: Uint8Array,
    private readonly f: number,
  ) {}

  isValid(v: Decision): boolean {
    return this.support[v].size >= this.f + 1;
  }

  /**
   * Adds an authenticated observation. Returns the values it made valid for the first time, in
   * DECISIONS order, so the caller announces each exactly once (the `valid` effect).
   */
  add(o: SignedObservation): Decision[] {
    const newlyValid: Decision[] = [];
    for (const v of DECISIONS) {
      if (!this.support[v].has(o.signer) && supports(v, o, this.terms, this.groupPublicKey)) {
        this.support[v].set(o.signer, o);
        if (this.isValid(v) && !this.announced.has(v)) {
          this.announced.add(v);
          newlyValid.push(v);
        }
      }
    }
    return newlyValid;
  }

  /** The justification a proposal for v carries: the f+1 supporting observations of the lowest member indices. */
  justification(v: Decision): SignedObservation[] {
    return [...this.support[v].values()].sort((a, b) => a.signer - b.signer).slice(0, this.f + 1);
  }
}
