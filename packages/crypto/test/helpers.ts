import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomBytes } from '../src/index.js';

/**
 * A deterministic byte stream (sha256 in counter mode over a seed) so property-test failures
 * replay from fast-check's seed. Test-only: real keys take node:crypto's randomBytes.
 */
export function seededRandomBytes(seed: Uint8Array): RandomBytes {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let o = 0; o < n; o += 32) {
      const block = sha256.create().update(seed).update(Uint8Array.of(counter >>> 24, counter >>> 16, counter >>> 8, counter)).digest();
      counter++;
      out.set(block.subarray(0, Math.min(32, n - o)), o);
    }
    return out;
  };
}

export function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
