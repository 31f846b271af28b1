/**
 * The BLS pairing check with prepared G2 points: a key's Miller-loop line coefficients are
 * computed once and reused for every signature verified under it (a report key verifies many
 * reports, a share key many partials). The check is noble's own Miller loop and final
 * exponentiation on the same inputs as `pairingBatch`, so it accepts exactly what that does; it
 * only skips re-deriving the lines and re-asserting validity the callers already established.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { G2 } from './points.js';
import type { G1Point, G2Point } from './points.js';

const { Fp12 } = bls12_381.fields;

type Lines = ReturnType<typeof bls12_381.utils.calcPairingPrecomputes>;

/** A G2 point with its Miller-loop lines. Only for points already known valid (subgroup-checked). */
export interface PreparedG2 {
  readonly point: G2Point;
  readonly lines: Lines;
}

/** Computes the lines of a valid G2 point (the identity has none: callers refuse it first). */
export function prepareG2(point: G2Point): PreparedG2 {
  if (point.is0()) throw new Error('prepareG2: the identity point has no pairing lines');
  return { point, lines: bls12_381.utils.calcPairingPrecomputes(point) };
}

let negatedBase: PreparedG2 | null = null;

/** −g2 with its lines, computed on first use (about as costly as one verification's precompute). */
function negatedG2Base(): PreparedG2 {
  negatedBase ??= prepareG2(G2.BASE.negate());
  return negatedBase;
}

/**
 * e(signature, −g2) · e(hashed, key) == 1, i.e. e(signature, g2) == e(H(m), pk). All three
 * points must already be valid subgroup points (decoded strictly, derived from such, or a
 * hash-to-curve output); false for any identity, as verifyPoints.
 */
export function pairingCheck(key: PreparedG2, hashed: G1Point, signature: G1Point): boolean {
  if (key.point.is0() || signature.is0() || hashed.is0()) return false;
  const s = signature.toAffine();
  const h = hashed.toAffine();
  const miller = bls12_381.millerLoopBatch([
    [negatedG2Base().lines, s.x, s.y],
    [key.lines, h.x, h.y],
  ]);
  return Fp12.eql(Fp12.finalExponentiate(miller), Fp12.ONE);
}
