import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LinkFaultsError, linkFaultsToJson, linkFilterOf, parseLinkFaults } from '../src/link-faults.js';

describe('link faults (the cluster-mode fault shim)', () => {
  it('parses a full body and prints it back', () => {
    const f = parseLinkFaults({ block: [2, 3], drop: { '4': 0.25 }, delay: { '4': [5, 40] } }, 4);
    expect(linkFaultsToJson(f)).toEqual({ block: [2, 3], drop: { '4': 0.25 }, delay: { '4': [5, 40] } });
  });

  it('refuses bad bodies with the key named', () => {
    const bad: [unknown, RegExp][] = [
      [[1], /expected \{ block/],
      [{ cut: [1] }, /cut: no such key/],
      [{ block: 'n2' }, /block: expected a list/],
      [{ block: [5] }, /block\[0\]: '5' is not a member index 1..4/],
      [{ block: [0] }, /block\[0\]/],
      [{ drop: { '2': 1.5 } }, /drop.2: expected a probability/],
      [{ drop: { n2: 0.1 } }, /drop.n2: 'n2' is not a member/],
      [{ delay: { '2': [40, 5] } }, /delay.2: expected \[minMs, maxMs\]/],
      [{ delay: { '2': [0, 1e9] } }, /delay.2/],
    ];
    for (const [body, message] of bad) expect(() => parseLinkFaults(body, 4), JSON.stringify(body)).toThrow(LinkFaultsError);
    for (const [body, message] of bad) expect(() => parseLinkFaults(body, 4)).toThrow(message);
  });

  it('an empty set installs no filter', () => {
    expect(linkFilterOf(parseLinkFaults({}, 4), Math.random)).toBeNull();
  });

  it('a blocked member is cut both ways; others pass', () => {
    const filter = linkFilterOf(parseLinkFaults({ block: [3] }, 4), () => 0)!;
    expect(filter(1, 3, 'send')).toBe('drop');
    expect(filter(3, 1, 'receive')).toBe('drop');
    expect(filter(1, 2, 'send')).toBe('pass');
    expect(filter(2, 1, 'receive')).toBe('pass');
  });

  it('loss and delay act on arrival only, per author, within the asked range', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), (u, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const filter = linkFilterOf(parseLinkFaults({ drop: { '2': 0.5 }, delay: { '3': [lo, hi] } }, 4), () => u)!;
        expect(filter(1, 2, 'send')).toBe('pass'); // sends are never lost or delayed
        expect(filter(2, 1, 'receive')).toBe(u < 0.5 ? 'drop' : 'pass');
        const v = filter(3, 1, 'receive');
        const ms = v === 'pass' ? 0 : v === 'drop' ? -1 : v.delayMs;
        expect(ms).toBeGreaterThanOrEqual(lo);
        expect(ms).toBeLessThanOrEqual(hi);
        expect(filter(4, 1, 'receive')).toBe('pass');
      }),
    );
  });
});
