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

/**
 * Splits a byte stream into frames as the bytes arrive, synchronously: the stream's 'message'
 * listener feeds it and each complete frame goes to `onFrame` at once, so nothing accumulates
 * beyond one partial frame (at most `maxFrameBytes` plus its prefix). A frame is copied into a
 * buffer of its own exact size: what the decoder built from it aliases nothing of libp2p's.
 */
export class FrameDecoder {
  private length = 0;
  private lengthBytes = 0;
  private body: Uint8Array | null = null;
  private filled = 0;
  private failed = false;
  private readonly lengthBytesMax: number;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly onFrame: (frame: Uint8Array) => void,
  ) {
    this.lengthBytesMax = varintLength(maxFrameBytes);
  }

  /**
   * Feeds bytes. Returns false, now and for ever after, once a length prefix announces more than
   * maxFrameBytes (or runs longer than any such length needs): the rest of the stream cannot be
   * framed without reading that body, so the caller gives the stream up.
   */
  push(chunk: Uint8Array): boolean {
    if (this.failed) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.body === null) {
        const b = chunk[i++]!;
        this.length += (b & 0x7f) * 2 ** (7 * this.lengthBytes);
        this.lengthBytes++;
        // The length only grows with more prefix bytes, so a partial one already over is final.
        if (this.length > this.maxFrameBytes || this.lengthBytes > this.lengthBytesMax) {
          this.failed = true;
          return false;
        }
        if ((b & 0x80) !== 0) continue;
        this.body = new Uint8Array(this.length);
        this.filled = 0;
      } else {
        const take = Math.min(this.body.length - this.filled, chunk.length - i);
        this.body.set(chunk.subarray(i, i + take), this.filled);
        this.filled += take;
        i += take;
      }
      if (this.filled === this.body.length) this.emit();
    }
    return true;
  }

  /** True when no partial frame is pending (the stream may end here cleanly). */
  get idle(): boolean {
    return this.body === null && this.lengthBytes === 0;
  }

  private emit(): void {
    const frame = this.body!;
    this.body = null;
    this.length = 0;
    this.lengthBytes = 0;
    this.filled = 0;
    this.onFrame(frame);
  }
}
