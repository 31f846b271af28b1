import type { LegState, LockRecord } from '@tandem/protocol';

/** What a leg keeps per settlement id, as far as the rules need it. No record: the id is `none`. */
export interface SettlementOnLeg {
  readonly state: LegState;
  /** The lock made at prepare (kept after it is resolved); null if the id never locked. */
  readonly lock: LockRecord | null;
  /**
   * The applied marker of the one report or entry applied for this id: encodeReport bytes (v1),
   * or appliedEntryMarker(root, entry) (v2). The same marker again is a duplicate.
   */
  readonly appliedReport: Uint8Array | null;
  /** The configuration digest the lock was made under (a v2 entry needs a root stored under it); null if none is known. */
  readonly configDigest: Uint8Array | null;
}

/** A refusal: the answer of a call that changes nothing, with the reason. */
export interface Refusal {
  readonly kind: 'refused';
  readonly reason: string;
}

export function refused(reason: string): Refusal {
  return { kind: 'refused', reason };
}
