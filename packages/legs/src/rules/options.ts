import type { LegAnchor } from '../adapter.js';
import { type SignatureCheck, defaultVerifyAuthorization, defaultVerifyReport } from './signature.js';

/** What every leg built on these rules is set up with (the in-memory legs, the PostgreSQL ledger). */
export interface LegOptions<Venue> {
  /** What reports are checked against; its group key is copied into every lock (docs/protocol.md, reading 2). */
  readonly anchor: LegAnchor;
  /** The leg's own clock (virtual in the simulator): COMMIT and reclaim windows use it. */
  readonly nowMs: () => number;
  /** Party name → Ed25519 public key: who may authorize a prepare. */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** Where the leg lives: the venue terms must name. */
  readonly venue: Venue;
  /** Threshold signature check; the message is reportDigest(report). Default: crypto's blsVerify with TANDEM_BLS_DST. */
  readonly verifyReport?: SignatureCheck;
  /** Authorization check; the message is authorizationMessage(anchor network id, settlement id). Default: identityVerify under SIGN_DOMAIN.authorization. */
  readonly verifyAuthorization?: SignatureCheck;
}

/** What the rules check against: fixed when the leg is set up, never taken from a call. */
export interface LegChecks {
  readonly anchor: LegAnchor;
  /** anchor.protocol, defaulted: the one version of reports this leg accepts. */
  readonly protocol: 1 | 2;
  readonly parties: ReadonlyMap<string, Uint8Array>;
  readonly verifyReport: SignatureCheck;
  readonly verifyAuthorization: SignatureCheck;
}

/** Checks the anchor's sizes and fills in the default signature checks; throws on a bad anchor. */
export function legChecksOf(options: LegOptions<unknown>): LegChecks {
  const a = options.anchor;
  if (a.networkId.length !== 32) throw new Error('anchor.networkId must be 32 bytes');
  if (a.configDigest.length !== 32) throw new Error('anchor.configDigest must be 32 bytes');
  if (a.groupPublicKey.length !== 96) throw new Error('anchor.groupPublicKey must be 96 bytes');
  const protocol = a.protocol ?? 1;
  if (protocol !== 1 && protocol !== 2) throw new Error(`anchor.protocol must be 1 or 2, got ${String(protocol)}`);
  // Copies: a caller mutating its arrays later must not move this leg's anchor.
  const anchor: LegAnchor = { networkId: a.networkId.slice(), configDigest: a.configDigest.slice(), groupPublicKey: a.groupPublicKey.slice(), protocol };
  return {
    anchor,
    protocol,
    parties: options.parties,
    verifyReport: options.verifyReport ?? defaultVerifyReport,
    verifyAuthorization: options.verifyAuthorization ?? defaultVerifyAuthorization,
  };
}
