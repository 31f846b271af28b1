/** v2 parameters: the defaults, every bound of v2ParamsProblem, and the v2 configuration digest. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type V2Params, Writer, batchEntriesBound, concatBytes, configDigest, configDigestV2, defaultV2Params, utf8, v2ParamsProblem } from '../src/index.js';
import { clusterConfig } from './arbitraries.js';

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());
const f = (n: number) => Math.floor((n - 1) / 3);

describe('v2 params', () => {
  it('the defaults are the documented ones and pass at every n', () => {
    expect(defaultV2Params(4)).toEqual({
      tickMs: 100, heartbeatMs: 1000, refreshMs: 1000, commitGuardMs: 5000, openSettlementsMax: 5000, bundleEntriesMax: 1000,
      batchEntriesMax: 256, legBatchEntriesMax: 128, horizonMaxMs: 400 * 86_400_000, skewMaxMs: 2000, catchUpBatchesMax: 64,
    });
    for (let n = 1; n <= 1000; n++) expect(v2ParamsProblem(defaultV2Params(n), n)).toBeNull();
  });

  it('batchEntriesMax is bounded by the 1 MiB message: 261 at n = 4, and the bound is the largest that fits', () => {
    expect(batchEntriesBound(4)).toBe(261);
    expect(batchEntriesBound(1)).toBe(315);
    expect(defaultV2Params(100).batchEntriesMax).toBe(40);
    for (let n = 1; n <= 1000; n += 37) {
      const fits = (b: number) => b * (41 + 2439 + 640 * (f(n) + 1)) + 64 * 1024 <= 1024 * 1024;
      const b = batchEntriesBound(n);
      expect(fits(b) && !fits(b + 1)).toBe(true);
      expect(defaultV2Params(n).batchEntriesMax).toBe(Math.min(256, b));
    }
  });

  it('names the field and its range for every bound', () => {
    const base = defaultV2Params(4);
    const cases: [Partial<V2Params>, RegExp][] = [
      [{ tickMs: 0 }, /^tickMs must be an integer in 1\.\./],
      [{ tickMs: 1.5 }, /^tickMs must be an integer/],
      [{ heartbeatMs: 99 }, /^heartbeatMs must be an integer in 100\.\./],
      [{ refreshMs: 50 }, /^refreshMs must be an integer in 100\.\./],
      [{ commitGuardMs: 0 }, /^commitGuardMs must be an integer in 1\.\./],
      [{ openSettlementsMax: 0 }, /^openSettlementsMax must be an integer in 1\.\./],
      [{ bundleEntriesMax: 0 }, /^bundleEntriesMax must be an integer in 1\.\.8192, got 0/],
      [{ bundleEntriesMax: 8193 }, /^bundleEntriesMax must be an integer in 1\.\.8192/],
      [{ batchEntriesMax: 0 }, /^batchEntriesMax must be an integer in 1\.\.261, got 0/],
      [{ batchEntriesMax: 262 }, /^batchEntriesMax must be an integer in 1\.\.261, got 262/],
      [{ legBatchEntriesMax: 0 }, /^legBatchEntriesMax must be an integer in 1\.\.65535/],
      [{ horizonMaxMs: 5000 }, /^horizonMaxMs must be an integer in 5001\.\./],
      [{ skewMaxMs: 2500 }, /^skewMaxMs must be an integer in 0\.\.2499, got 2500/],
      [{ skewMaxMs: -1 }, /^skewMaxMs must be an integer in 0\.\.2499/],
      [{ catchUpBatchesMax: 0 }, /^catchUpBatchesMax must be an integer in 1\.\.65535/],
      [{ catchUpBatchesMax: 65_536 }, /^catchUpBatchesMax must be an integer in 1\.\.65535/],
      [{ openSettlementsMax: 5001 }, /^openSettlementsMax · tickMs \(500100\) must be at most bundleEntriesMax · refreshMs \/ 2 \(500000\)$/],
      [{ tickMs: 101 }, /^openSettlementsMax · tickMs/],
      [{ horizonMaxMs: Number.MAX_SAFE_INTEGER + 1 }, /^horizonMaxMs must be an integer/],
    ];
    for (const [change, message] of cases) expect(v2ParamsProblem({ ...base, ...change }, 4)).toMatch(message);
    expect(v2ParamsProblem(base, 0)).toMatch(/^n must be an integer in 1\.\.1000/);
    expect(v2ParamsProblem({ ...base, openSettlementsMax: 5000, tickMs: 100 }, 4)).toBeNull(); // the bound holds with equality
  });
});

describe('v2 configuration digest', () => {
  const names: (keyof V2Params)[] = ['tickMs', 'heartbeatMs', 'refreshMs', 'commitGuardMs', 'openSettlementsMax', 'bundleEntriesMax', 'batchEntriesMax', 'legBatchEntriesMax', 'horizonMaxMs', 'skewMaxMs', 'catchUpBatchesMax'];

  it('is SHA-256("tandem/v2/config" ‖ the v1 digest ‖ every param as u64, in order)', () => {
    fc.assert(
      fc.property(clusterConfig, (c) => {
        const p = defaultV2Params(c.n);
        const w = new Writer();
        for (const k of names) w.u64(p[k]);
        expect(configDigestV2(c, p)).toEqual(sha256(concatBytes(utf8('tandem/v2/config'), configDigest(c), w.finish())));
        expect(configDigestV2(c, p)).not.toEqual(configDigest(c));
      }),
      { numRuns: 30 },
    );
  });

  it('changes with every param and with the configuration', () => {
    fc.assert(
      fc.property(clusterConfig, clusterConfig, (c, d) => {
        const p = defaultV2Params(4);
        const seen = new Set([Buffer.from(configDigestV2(c, p)).toString('hex')]);
        for (const k of names) seen.add(Buffer.from(configDigestV2(c, { ...p, [k]: p[k] + 1 })).toString('hex'));
        expect(seen.size).toBe(names.length + 1);
        if (Buffer.compare(configDigest(c), configDigest(d)) !== 0) expect(configDigestV2(d, p)).not.toEqual(configDigestV2(c, p));
      }),
      { numRuns: 20 },
    );
  });
});
