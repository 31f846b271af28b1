/**
 * The fast optimistic combine: decode the first t partials with the on-curve check only,
 * combine them, check the subgroup once on the result and verify it once under the prepared
 * group key. When anything fails it runs the reference combine (threshold.ts) from scratch, which
 * names the bad partials, so a failed combine is the reference's answer exactly.
 *
 * Why skipping the per-partial subgroup checks is sound. The curve group E(Fp) is the direct sum
 * of G1 (order r) and a torsion part of order h (the cofactor, coprime to r), so a partial on the
 * curve is P_i = R_i + T_i with R_i in G1. The combination uses integer scalars μ_i ≡ λ_i (mod r),
 * so it is Σ λ_i R_i + Σ μ_i T_i: its G1 part is what the reference would compute from the R_i,
 * and it is in G1 only if Σ μ_i T_i = 0. Each μ_i is chosen coprime to h (λ_i + k·r for the
 * smallest such k), so a single partial outside G1 always leaves a torsion part and sends the
 * combine to the reference. Two or more partials outside G1 could only cancel if their senders
 * crafted them together for these public scalars; then the result is still the unique valid group
 * signature, but the reference would have named those partials malformed and, with no t others,
 * refused (test/combine.spec.ts shows both cases).
 */
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { equalBytes } from '@noble/curves/utils.js';
import { TANDEM_BLS_DST, hashToG1 } from './bls.js';
import { preparedGroupKey } from './group.js';
import { pairingCheck } from './pairing.js';
import { G1, decodeG1OnCurve, g1ToBytes } from './points.js';
import type { G1Point } from './points.js';
import { CURVE_ORDER } from './scalar.js';
import { combineGroup, combineVerifiedReference, decodeInOrder, lagrangeAtZero } from './threshold.js';
import type { CombineResult, Partial } from './threshold.js';

/** The primes dividing G1's cofactor h = 3 · 11² · 10177² · 859267² · 52437899². */
export const COFACTOR_PRIMES: readonly bigint[] = [3n, 11n, 10177n, 859267n, 52437899n];
/**
 * λ + k·r for k = 0..K_MAX: each prime p rules out the k with λ + k·r ≡ 0 (mod p), one residue of
 * k mod p, so at most 2 values below 7 for p = 3 and at most one for each other prime: 6 of 7.
 */
const K_MAX = 6;

/** The smallest λ + k·r (k ≥ 0) divisible by none of the cofactor's primes. */
export function torsionDetectingScalar(lambda: bigint): bigint {
  for (let k = 0n; k <= BigInt(K_MAX); k++) {
    const mu = lambda + k * CURVE_ORDER;
    if (COFACTOR_PRIMES.every((p) => mu % p !== 0n)) return mu;
  }
  throw new Error('torsionDetectingScalar: no k found (impossible: at most 6 of 7 values are ruled out)');
}

interface OnCurvePartial {
  readonly index: number;
  readonly point: G1Point;
}

/**
 * Fast combine with the reference's answers (see the file comment for the one exception). On
 * success `bad` lists the partials found malformed on the way: only partials up to the t-th well
 * formed one are examined. `knownSignature`, when given, is a signature this function returned
 * for the same group and message: a combination equal to it needs no pairing, as the signature
 * is unique (the simulator's verifier keeps them).
 */
export function combineVerified(
  commitments: readonly Uint8Array[],
  message: Uint8Array,
  partials: readonly Partial[],
  t: number,
  dst: string = TANDEM_BLS_DST,
  knownSignature: Uint8Array | null = null,
): CombineResult {
  const group = combineGroup(commitments, partials, t);
  const decodeOnCurve = (p: Partial): OnCurvePartial => ({ index: p.index, point: decodeG1OnCurve(p.signature, `partial ${p.index}`) });
  const { decoded: first, malformed } = decodeInOrder(partials, decodeOnCurve, t);
  if (first.length === t) {
    const lambdas = lagrangeAtZero(first.map((p) => p.index));
    const combined = mulAddUnsafe(G1, first.map((p) => p.point), lambdas.map(torsionDetectingScalar), true);
    if (isSubgroupPoint(combined)) {
      const signature = g1ToBytes(combined);
      const known = knownSignature !== null && equalBytes(signature, knownSignature);
      if (known || pairingCheck(preparedGroupKey(group), hashToG1(message, dst), combined)) {
        return { ok: true, signature, used: first.map((p) => p.index), bad: malformed };
      }
    }
  }
  return combineVerifiedReference(commitments, message, partials, t, dst);
}

/** A non-identity point of G1: the one subgroup check (noble remembers it, so encoding skips it). */
function isSubgroupPoint(p: G1Point): boolean {
  if (p.is0()) return false;
  try {
    p.assertValidity();
    return true;
  } catch {
    return false;
  }
}

{
  // The scalars above are torsion-detecting only if these are all of h's primes.
  let rest = G1.CURVE().h;
  for (const p of COFACTOR_PRIMES) while (rest % p === 0n) rest /= p;
  if (rest !== 1n) throw new Error('G1 cofactor has a prime outside COFACTOR_PRIMES');
}
