import '../src/polyfill.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream, streamPair } from '@libp2p/utils';
import { identityPublicKey } from '@tandem/crypto';
import { networkIdFromName, toHex } from '@tandem/protocol';
import { FrameDecoder, encodeFrame, varintLength } from '../src/frames.js';
import { gossipTopic } from '../src/host.js';
import { MemberDirectory } from '../src/members.js';
import { promiseWithResolversInstalled } from '../src/polyfill.js';
import { PeerRateLimiter, TokenBucket } from '../src/rate-limit.js';
import { makeCluster } from './helpers.js';

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function chop(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 });

describe('frames', () => {
  it('the decoder returns exactly the frames sent, however the bytes are chunked', () => {
    fc.assert(
      fc.property(payloads, fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const got: Uint8Array[] = [];
        const d = new FrameDecoder(1_000, (f) => got.push(f));
        for (const chunk of chop(concat(frames.map(encodeFrame)), cuts)) expect(d.push(chunk)).toBe(true);
        expect(got).toEqual(frames);
        expect(d.idle).toBe(true);
      }),
    );
  });

  it('gives the stream up at a length above the limit, after delivering the frames before it', () => {
    fc.assert(
      fc.property(payloads, fc.integer({ min: 101, max: 2 ** 40 }), fc.array(fc.nat(), { maxLength: 10 }), (before, tooLong, cuts) => {
        const got: Uint8Array[] = [];
        const d = new FrameDecoder(100, (f) => got.push(f));
        const small = before.map((b) => b.subarray(0, 100));
        const bytes = concat([...small.map(encodeFrame), varintPrefix(tooLong), new Uint8Array(5)]);
        const results = chop(bytes, cuts).map((c) => d.push(c));
        const firstRefusal = results.indexOf(false);
        expect(firstRefusal).toBeGreaterThanOrEqual(0);
        expect(results.slice(firstRefusal).every((r) => r === false)).toBe(true);
        expect(d.push(new Uint8Array([0]))).toBe(false); // and for ever after
        expect(got).toEqual(small);
      }),
    );
  });

  it('refuses a length prefix longer than any allowed length needs (no endless 0x80 bytes)', () => {
    const d = new FrameDecoder(100, () => {});
    expect(d.push(new Uint8Array([0x80]))).toBe(true); // a 1-byte varint suffices for 100
    expect(d.push(new Uint8Array([0x80]))).toBe(false);
  });

  it('writes the framing libp2p’s lpStream reads', async () => {
    const frames = fc.sample(fc.uint8Array({ maxLength: 70_000 }), { numRuns: 20, seed: 7 });
    const [a, b] = await streamPair();
    const reader = lpStream(b);
    for (const f of frames) a.send(encodeFrame(f));
    for (const f of frames) expect((await reader.read()).subarray()).toEqual(f);
    await a.close();
  });

  it('varintLength matches the prefix encodeFrame writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300_000 }), (n) => {
        expect(encodeFrame(new Uint8Array(n)).length).toBe(n + varintLength(n));
      }),
    );
  });
});

/** An unsigned LEB128 varint for `n` (test-only; for lengths encodeFrame would not allocate). */
function varintPrefix(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return new Uint8Array(out);
}

describe('token bucket', () => {
  it('accepts a burst at once, then the refill rate', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(99)).toBe(false); // 0.99 of a token
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    expect([b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([true, true, true, false]); // capped at burst
  });

  it('never accepts more than burst + rate × elapsed, and a clock stepping back refills nothing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: -500, max: 500 }), { minLength: 1, maxLength: 200 }),
        (rate, burst, steps) => {
          const b = new TokenBucket(rate, burst, 0);
          let t = 0;
          let maxT = 0;
          let accepted = 0;
          for (const s of steps) {
            t += s;
            maxT = Math.max(maxT, t);
            if (b.take(t)) accepted++;
            expect(accepted).toBeLessThanOrEqual(burst + (rate * maxT) / 1000);
          }
        },
      ),
    );
  });

  it('keeps one bucket per member', () => {
    const l = new PeerRateLimiter(1, 2);
    expect([l.allow(1, 0), l.allow(1, 0), l.allow(1, 0)]).toEqual([true, true, false]);
    expect([l.allow(2, 0), l.allow(2, 0), l.allow(2, 0)]).toEqual([true, true, false]);
  });
});

describe('members', () => {
  it('derives each member’s PeerId from its cluster-file identity key, as libp2p does from the seed', async () => {
    const c = makeCluster(4);
    const dir = new MemberDirectory(c.config);
    for (const m of c.config.members) {
      const seed = c.seeds[m.index - 1]!;
      expect(identityPublicKey(seed)).toEqual(m.identityKey);
      const key = await generateKeyPairFromSeed('Ed25519', seed);
      expect(key.publicKey.raw).toEqual(m.identityKey);
      const peerId = peerIdFromPrivateKey(key);
      expect(dir.peerId(m.index).toString()).toBe(peerId.toString());
      expect(dir.indexOf(peerId)).toBe(m.index);
    }
    const stranger = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(9)));
    expect(dir.indexOf(stranger)).toBeNull();
    expect(dir.isMember(stranger)).toBe(false);
    expect(() => dir.peerId(5)).toThrow(RangeError);
  });

  it('names the topic after the network id', () => {
    const id = networkIdFromName('topic-test');
    expect(gossipTopic(id)).toBe(`/tandem/1/${toHex(id)}/msgs`);
    expect(gossipTopic(networkIdFromName('other'))).not.toBe(gossipTopic(id));
    expect(gossipTopic(id, 2)).toBe(`/tandem/2/${toHex(id)}/msgs`);
  });
});

describe('polyfill', () => {
  it('provides a working Promise.withResolvers', async () => {
    expect(promiseWithResolversInstalled).toBe(true);
    const { promise, resolve } = (Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve: (v: T) => void } }).withResolvers<number>();
    resolve(42);
    await expect(promise).resolves.toBe(42);
  });
});
