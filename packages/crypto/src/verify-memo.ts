/**
 * A signature check memoized over a bounded map of (public key, message, signature) → result.
 * A leg host receives the same report from every node: with this it verifies it once. The check
 * is a pure function of its three inputs, so the memo changes no result, only the cost.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export type VerifyCheck = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export interface MemoizedCheck extends VerifyCheck {
  /** Checks actually run (the other calls were answered from the memo). */
  readonly checks: () => number;
}

/** Default bound: about 2 MB of keys, many times the reports a leg host sees in flight. */
export const VERIFY_MEMO_ENTRIES_DEFAULT = 10_000;

/**
 * Wraps `check` with a memo of at most `entriesMax` results; past it the oldest is forgotten.
 * Entries are keyed by a sha256 of the length-prefixed inputs, so a caller mutating its arrays
 * later cannot poison the memo. A check that throws is not remembered (the throw goes through),
 * nor are calls with inputs that are not byte arrays (they go straight to `check`).
 */
export function memoizeCheck(check: VerifyCheck, entriesMax: number = VERIFY_MEMO_ENTRIES_DEFAULT): MemoizedCheck {
  if (!Number.isInteger(entriesMax) || entriesMax < 1) throw new Error(`entriesMax must be a positive integer, got ${entriesMax}`);
  const results = new Map<string, boolean>();
  let checks = 0;
  const memoized = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
    const parts = [publicKey, message, signature];
    if (!parts.every((p) => p instanceof Uint8Array)) return check(publicKey, message, signature);
    // The lengths split the hashed concatenation unambiguously.
    const h = sha256.create();
    for (const p of parts) h.update(p);
    const key = `${publicKey.length}/${message.length}/${bytesToHex(h.digest())}`;
    const hit = results.get(key);
    if (hit !== undefined) return hit;
    checks++;
    const result = check(publicKey, message, signature) === true;
    if (results.size >= entriesMax) results.delete(results.keys().next().value!);
    results.set(key, result);
    return result;
  };
  return Object.assign(memoized, { checks: () => checks });
}
