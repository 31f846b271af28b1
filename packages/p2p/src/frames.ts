/**
 * Frames on the direct stream: an unsigned LEB128 varint length, then that many bytes — the
 * framing `lpStream` from @libp2p/utils reads (and it-length-prefixed writes).
 */

/** Bytes of the varint for `n`. */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

/** `payload` with its varint length prefix, in one buffer (one write per frame). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const out = new Uint8Array(varintLength(n) + n);
  let v = n;
  let i = 0;
  // Division, not >>>, so lengths above 2^31 would still encode (lengths here stay far below).
  while (v >= 0x80) {
    out[i++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[i++] = v;
  out.set(payload, i);
  return out;
}
