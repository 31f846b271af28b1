/**
 * Trusted-dealer key generation with Feldman verifiable secret sharing. The dealer draws a random
 * polynomial f of degree t-1 over Fr; the group secret is f(0), share i is f(i) for i = 1..n,
 * and the commitments C_j = g2^{a_j} let anyone check a share and derive every share public key.
 */
import { MAX_NODES, assertShareIndex, groupKeyPoint, loadGroup, shareKeyPoint } from './group.js';
import { G2, g2ToBytes } from './points.js';
import { CURVE_ORDER, randomScalar, scalarToBytes, secretScalar } from './scalar.js';
import type { RandomBytes } from './scalar.js';

export interface Share {
  readonly index: number; // 1..n, never 0 (f(0) is the group secret)
  readonly secret: Uint8Array; // 32 bytes, big-endian scalar in 1..r-1
}

export interface DealerOutput {
  /** t compressed G2 points (96 bytes); [0] is the group public key. */
  readonly commitments: Uint8Array[];
  /** Shares for indices 1..n, in order. */
  readonly shares: Share[];
}

/** A share that evaluates to zero has probability n/r ≈ 2^-245; redraws are only for form. */
const DEALER_ATTEMPTS_MAX = 4;

export function assertThresholdParams(n: number, t: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES) {
    throw new Error(`n must be an integer in 1..${MAX_NODES}, got ${n}`);
  }
  if (!Number.isInteger(t) || t < 1 || t > n) throw new Error(`t must be an integer in 1..n (n = ${n}), got ${t}`);
}

/** f(x) mod r by Horner's rule. */
function evalPolynomial(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = (acc * x + coefficients[j]!) % CURVE_ORDER;
  return acc;
}

/**
 * Deals n shares with threshold t. The group secret f(0) is neither returned nor kept: the
 * coefficient array is overwritten before returning. (JavaScript bigints are immutable, so this
 * drops the last reference rather than scrubbing memory; the random bytes drawn are zeroed.)
 */
export function dealerKeygen(n: number, t: number, randomBytes: RandomBytes): DealerOutput {
  assertThresholdParams(n, t);
  for (let attempt = 0; attempt < DEALER_ATTEMPTS_MAX; attempt++) {
    const coefficients: bigint[] = [];
    for (let j = 0; j < t; j++) coefficients.push(randomScalar(randomBytes));
    const secrets: bigint[] = [];
    for (let i = 1; i <= n; i++) secrets.push(evalPolynomial(coefficients, BigInt(i)));
    if (secrets.some((s) => s === 0n)) {
      coefficients.fill(0n);
      continue;
    }
    const commitments = coefficients.map((a) => g2ToBytes(G2.BASE.multiply(a)));
    coefficients.fill(0n);
    const shares = secrets.map((s, k) => ({ index: k + 1, secret: scalarToBytes(s) }));
    secrets.fill(0n);
    return { commitments, shares };
  }
  throw new Error('dealerKeygen: every draw produced a zero share: the randomness source is broken');
}

/**
 * Feldman check g2^secret == Σ_j C_j·index^j. False for a malformed or inconsistent share;
 * malformed commitments throw (they are configuration, checked when it is loaded).
 */
export function verifyShare(share: Share, commitments: readonly Uint8Array[]): boolean {
  const group = loadGroup(commitments);
  let s: bigint;
  try {
    assertShareIndex(share.index);
    s = secretScalar(share.secret, 'share secret');
  } catch {
    return false;
  }
  return G2.BASE.multiply(s).equals(shareKeyPoint(group, share.index));
}

/** The share public key of `index`, derived from the commitments (96 bytes). */
export function sharePublicKey(commitments: readonly Uint8Array[], index: number): Uint8Array {
  return g2ToBytes(shareKeyPoint(loadGroup(commitments), index));
}

/** The group public key: commitments[0], after checking every commitment decodes. */
export function groupPublicKey(commitments: readonly Uint8Array[]): Uint8Array {
  return g2ToBytes(groupKeyPoint(loadGroup(commitments)));
}
