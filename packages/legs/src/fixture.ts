import { sha256 } from '@noble/hashes/sha2.js';
import {
  type ClusterConfig,
  type Report,
  type ReportBody,
  type ReportBodyV2,
  type ReportV2,
  concatBytes,
  configDigest,
  configDigestV2,
  defaultV2Params,
  networkIdFromName,
  quorum,
  reportDigest,
  reportDigestV2,
  utf8,
} from '@tandem/protocol';
import { TANDEM_BLS_DST, blsSign, combinePartials, dealerKeygen, groupPublicKey, identityKeygen } from '@tandem/crypto';
import type { LegAnchor } from './adapter.js';

/** What a dealer hands out: Feldman commitments (commitments[0] is the group key) and shares. */
export interface Dealer {
  readonly commitments: readonly Uint8Array[];
  readonly shares: readonly { readonly index: number; readonly secret: Uint8Array }[];
}

export interface PartyKeys {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** Keys for leg tests: a 3-of-4 dealer, the anchor it implies, and three parties. */
export interface LegFixture {
  /** The protocol 1 anchor. */
  readonly anchor: LegAnchor;
  /** The same cluster under protocol 2 (its v2 configuration digest, default v2 parameters). */
  readonly anchorV2: LegAnchor;
  readonly dealer: Dealer;
  readonly parties: ReadonlyMap<string, PartyKeys>;
  /** Party name → Ed25519 public key: what a leg is configured with. */
  readonly partyPublicKeys: ReadonlyMap<string, Uint8Array>;
  /** Party name → Ed25519 secret key: what tests sign authorizations with. */
  readonly partySecretKeys: ReadonlyMap<string, Uint8Array>;
}

/** The parties every conformance harness must know: alice funds and authorizes, bob receives, carol is a bystander. */
export const CONFORMANCE_PARTIES = ['alice', 'bob', 'carol'] as const;

const FIXTURE_N = 4;
const RANDOM_BYTES_MAX = 1 << 20;

/**
 * Deterministic bytes (SHA-256 in counter mode over the seed): test keys that are the same on
 * every run. Never use it for real keys.
 */
export function seededRandomBytes(seed: string): (n: number) => Uint8Array {
  const seedBytes = utf8(seed);
  let counter = 0;
  return (n: number): Uint8Array => {
    if (!Number.isInteger(n) || n < 0 || n > RANDOM_BYTES_MAX) throw new Error(`seededRandomBytes: bad length ${n}`);
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      const block = sha256(concatBytes(seedBytes, u32be(counter++)));
      out.set(block.subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}

function u32be(x: number): Uint8Array {
  return new Uint8Array([(x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255]);
}

/** A deterministic fixture: a real 4-member cluster configuration (t = quorum = 3), its dealer and parties. */
export function createLegFixture(seed = 'tandem/legs/conformance'): LegFixture {
  const random = seededRandomBytes(seed);
  const t = quorum(FIXTURE_N);
  const dealer = dealerKeygen(FIXTURE_N, t, random);
  const members = Array.from({ length: FIXTURE_N }, (_, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: identityKeygen(random).publicKey }));
  const cluster: ClusterConfig = { networkId: networkIdFromName(seed), n: FIXTURE_N, t, members, commitments: dealer.commitments };
  const anchor: LegAnchor = { networkId: cluster.networkId, configDigest: configDigest(cluster), groupPublicKey: groupPublicKey(dealer.commitments) };
  const anchorV2: LegAnchor = { ...anchor, configDigest: configDigestV2(cluster, defaultV2Params(FIXTURE_N)), protocol: 2 };
  const parties = new Map<string, PartyKeys>();
  for (const name of CONFORMANCE_PARTIES) parties.set(name, identityKeygen(random));
  return {
    anchor,
    anchorV2,
    dealer,
    parties,
    partyPublicKeys: new Map([...parties].map(([name, k]) => [name, k.publicKey])),
    partySecretKeys: new Map([...parties].map(([name, k]) => [name, k.secretKey])),
  };
}

/** The partials of the given share indices over `digest`, combined. */
function thresholdSign(dealer: Dealer, digest: Uint8Array, indices: readonly number[]): Uint8Array {
  const partials = indices.map((index) => {
    const share = dealer.shares.find((s) => s.index === index);
    if (share === undefined) throw new Error(`dealer has no share ${index}`);
    return { index, signature: blsSign(share.secret, digest, TANDEM_BLS_DST) };
  });
  return combinePartials(partials);
}

/** A threshold report: partials of the given share indices over reportDigest(body), combined. */
export function signReport(dealer: Dealer, body: ReportBody, indices: readonly number[] = [1, 2, 3]): Report {
  return { ...body, signature: thresholdSign(dealer, reportDigest(body), indices) };
}

/** A threshold report v2: partials of the given share indices over reportDigestV2(body), combined. */
export function signReportV2(dealer: Dealer, body: ReportBodyV2, indices: readonly number[] = [1, 2, 3]): ReportV2 {
  return { ...body, signature: thresholdSign(dealer, reportDigestV2(body), indices) };
}

/** A party's authorization (network id ‖ settlement id), as the legs check it. */
export { authorize } from './rules/authorization.js';
