import { sha256 } from '@noble/hashes/sha2.js';
import { type IdentityScheme, TANDEM_BLS_DST, blsVerify, combineVerified } from '@tandem/crypto';
import type { CombineOutcome, Verifier } from '@tandem/consensus';
import { toHex, utf8 } from '@tandem/protocol';
import { NativeIdentity } from './identity-native.js';

/** Bound on remembered results; past it the memo starts over (results stay correct, only slower). */
const MEMO_ENTRIES_MAX = 500_000;

/**
 * Signature checks memoized across all simulated nodes: every node verifies the same broadcast
 * bytes, so each distinct (key, message, signature) is checked once per run. The checks are pure
 * functions, so memoizing changes no outcome, only the wall time. Identity signatures go through
 * the identity port, node:crypto by default (identity-native.ts: the same results as the reference).
 */
export class MemoVerifier implements Verifier {
  private readonly results = new Map<string, boolean>();
  private readonly combines = new Map<string, CombineOutcome>();
  /** Threshold signatures already verified, by (group key, message): the signature is unique. */
  private readonly verifiedSignatures = new Map<string, Uint8Array>();
  /** Real verifications done (the rest came from the memo). */
  verifications = 0;
  combinations = 0;

  constructor(private readonly identityScheme: Pick<IdentityScheme, 'verify'> = new NativeIdentity()) {}

  private key(parts: readonly Uint8Array[]): string {
    const h = sha256.create();
    for (const p of parts) {
      h.update(Uint8Array.of(p.length >>> 8, p.length & 0xff));
      h.update(p);
    }
    return toHex(h.digest());
  }

  private remember<T>(map: Map<string, T>, key: string, compute: () => T): T {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    if (map.size >= MEMO_ENTRIES_MAX) map.clear();
    const v = compute();
    map.set(key, v);
    return v;
  }

  identity(domain: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return this.remember(this.results, this.key([utf8(domain), publicKey, message, signature]), () => {
      this.verifications++;
      return this.identityScheme.verify(domain, publicKey, message, signature);
    });
  }

  bls(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    return this.remember(this.results, this.key([utf8('bls'), publicKey, message, signature]), () => {
      this.verifications++;
      return blsVerify(publicKey, message, signature, TANDEM_BLS_DST);
    });
  }

  combine(commitments: readonly Uint8Array[], message: Uint8Array, partials: readonly { index: number; signature: Uint8Array }[], t: number): CombineOutcome {
    const parts: Uint8Array[] = [utf8('combine'), Uint8Array.of(t & 0xff, t >>> 8), message, ...commitments];
    for (const p of partials) parts.push(Uint8Array.of(p.index >>> 8, p.index & 0xff), p.signature);
    return this.remember(this.combines, this.key(parts), () => {
      this.combinations++;
      // A threshold signature is unique for a message: t partials that combine to a signature
      // already verified for this message under this group key are valid together, and crypto's
      // combine then skips the pairing (a Lagrange combine costs a fraction of a verification).
      const sigKey = this.key([commitments[0]!, message]);
      const out = combineVerified(commitments, message, partials, t, TANDEM_BLS_DST, this.verifiedSignatures.get(sigKey) ?? null);
      if (out.ok) {
        if (this.verifiedSignatures.size >= MEMO_ENTRIES_MAX) this.verifiedSignatures.clear();
        this.verifiedSignatures.set(sigKey, out.signature);
      }
      return out;
    });
  }
}
