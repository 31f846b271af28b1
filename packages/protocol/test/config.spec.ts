import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClusterConfig,
  EncodeError,
  type Member,
  configDigest,
  configShapeProblem,
  faultsTolerated,
  networkIdFromName,
  quorum,
  toHex,
} from '../src/index.js';
import { bytesN, clusterConfig, show, u16, wireString } from './arbitraries.js';

const hexOf = (b: Uint8Array): string => toHex(b);

/** A configuration that passes configShapeProblem, for n members. */
function validConfig(n: number): ClusterConfig {
  const members: Member[] = Array.from({ length: n }, (_, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: new Uint8Array(32).fill(i + 1) }));
  const t = quorum(n);
  return { networkId: networkIdFromName('test'), n, t, members, commitments: Array.from({ length: t }, (_, i) => new Uint8Array(96).fill(0x80 + i)) };
}

describe('quorum and faults tolerated', () => {
  // f = floor((n-1)/3), q = n - f (docs/protocol.md). The table is the spec, written out.
  const table: ReadonlyArray<readonly [n: number, f: number, q: number]> = [
    [1, 0, 1],
    [2, 0, 2],
    [3, 0, 3],
    [4, 1, 3],
    [5, 1, 4],
    [6, 1, 5],
    [7, 2, 5],
    [8, 2, 6],
    [9, 2, 7],
    [10, 3, 7],
  ];

  it.each(table)('n = %i: f = %i, q = %i', (n, f, q) => {
    expect(faultsTolerated(n)).toBe(f);
    expect(quorum(n)).toBe(q);
  });

  it('gives the BFT guarantees for every n up to 1000', () => {
    for (let n = 1; n <= 1000; n++) {
      const f = faultsTolerated(n);
      const q = quorum(n);
      expect(n).toBeGreaterThanOrEqual(3 * f + 1); // f is tolerable
      expect(n).toBeLessThan(3 * (f + 1) + 1); // and maximal
      expect(2 * q - n).toBeGreaterThanOrEqual(f + 1); // two quorums share a correct node
      expect(q).toBeLessThanOrEqual(n - f); // a quorum forms without the faulty nodes
    }
  });

  it('refuses n that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => faultsTolerated(bad)).toThrow();
  });
});

/** Each way to change one thing a configuration digest must bind. */
type Change =
  | { kind: 'networkId'; bytes: Uint8Array }
  | { kind: 'n' | 't'; value: number }
  | { kind: 'member.index'; at: number; value: number }
  | { kind: 'member.id'; at: number; value: string }
  | { kind: 'member.key'; at: number; bytes: Uint8Array }
  | { kind: 'member.drop' | 'commitment.drop'; at: number }
  | { kind: 'member.add'; member: Member }
  | { kind: 'commitment'; at: number; bytes: Uint8Array }
  | { kind: 'commitment.add'; bytes: Uint8Array }
  | { kind: 'swap'; what: 'members' | 'commitments'; at: number };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('networkId' as const), bytes: bytesN(32) }),
  fc.record({ kind: fc.constantFrom('n' as const, 't' as const), value: u16 }),
  fc.record({ kind: fc.constant('member.index' as const), at: fc.nat(), value: u16 }),
  fc.record({ kind: fc.constant('member.id' as const), at: fc.nat(), value: wireString }),
  fc.record({ kind: fc.constant('member.key' as const), at: fc.nat(), bytes: bytesN(32) }),
  fc.record({ kind: fc.constantFrom('member.drop' as const, 'commitment.drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('member.add' as const), member: fc.record({ index: u16, id: wireString, identityKey: bytesN(32) }) }),
  fc.record({ kind: fc.constant('commitment' as const), at: fc.nat(), bytes: bytesN(96) }),
  fc.record({ kind: fc.constant('commitment.add' as const), bytes: bytesN(96) }),
  fc.record({ kind: fc.constant('swap' as const), what: fc.constantFrom('members' as const, 'commitments' as const), at: fc.nat() }),
);

function withAt<T>(list: readonly T[], at: number, f: (x: T) => T): T[] {
  const i = at % list.length;
  return list.map((x, j) => (j === i ? f(x) : x));
}

/** Swaps entries i and i+1 (a reordering must change the digest unless they are equal). */
function swapAt<T>(list: readonly T[], at: number): T[] {
  if (list.length < 2) return [...list];
  const i = at % (list.length - 1);
  const out = [...list];
  [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
  return out;
}

function apply(c: ClusterConfig, ch: Change): ClusterConfig {
  switch (ch.kind) {
    case 'networkId':
      return { ...c, networkId: ch.bytes };
    case 'n':
      return { ...c, n: ch.value };
    case 't':
      return { ...c, t: ch.value };
    case 'member.index':
      return { ...c, members: withAt(c.members, ch.at, (m) => ({ ...m, index: ch.value })) };
    case 'member.id':
      return { ...c, members: withAt(c.members, ch.at, (m) => ({ ...m, id: ch.value })) };
    case 'member.key':
      return { ...c, members: withAt(c.members, ch.at, (m) => ({ ...m, identityKey: ch.bytes })) };
    case 'member.drop':
      return { ...c, members: c.members.filter((_, j) => j !== ch.at % c.members.length) };
    case 'member.add':
      return { ...c, members: [...c.members, ch.member] };
    case 'commitment':
      return { ...c, commitments: withAt(c.commitments, ch.at, () => ch.bytes) };
    case 'commitment.drop':
      return { ...c, commitments: c.commitments.filter((_, j) => j !== ch.at % c.commitments.length) };
    case 'commitment.add':
      return { ...c, commitments: [...c.commitments, ch.bytes] };
    case 'swap':
      return ch.what === 'members' ? { ...c, members: swapAt(c.members, ch.at) } : { ...c, commitments: swapAt(c.commitments, ch.at) };
  }
}

describe('configDigest', () => {
  it('has the documented layout: SHA-256 over domain, network, n, t, members, commitments', () => {
    const c = validConfig(4);
    const parts: Buffer[] = [Buffer.from('tandem/v1/config'), Buffer.from(c.networkId)];
    const u16be = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
    parts.push(u16be(4), u16be(3), u16be(4));
    for (const m of c.members) parts.push(u16be(m.index), u16be(m.id.length), Buffer.from(m.id), Buffer.from(m.identityKey));
    parts.push(u16be(3));
    for (const p of c.commitments) parts.push(Buffer.from(p));
    expect(hexOf(configDigest(c))).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });

  it('changes with any change to a member, a commitment, t, n or the network id', () => {
    fc.assert(
      fc.property(clusterConfig, change, (c, ch) => {
        const changed = apply(c, ch);
        const same = show(changed) === show(c);
        expect(hexOf(configDigest(changed)) === hexOf(configDigest(c)), `${ch.kind}`).toBe(same);
      }),
      { numRuns: 500 },
    );
  });

  it('is deterministic and does not depend on object identity', () => {
    fc.assert(
      fc.property(clusterConfig, (c) => {
        const copy: ClusterConfig = structuredClone(c);
        expect(hexOf(configDigest(copy))).toBe(hexOf(configDigest(c)));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses keys and commitments of the wrong size', () => {
    const c = validConfig(4);
    expect(() => configDigest({ ...c, networkId: new Uint8Array(31) })).toThrow(EncodeError);
    expect(() => configDigest({ ...c, members: withAt(c.members, 0, (m) => ({ ...m, identityKey: new Uint8Array(33) })) })).toThrow(EncodeError);
    expect(() => configDigest({ ...c, commitments: [new Uint8Array(48)] })).toThrow(EncodeError);
  });
});

describe('configShapeProblem', () => {
  it('accepts well-formed configurations for n = 1..10', () => {
    for (let n = 1; n <= 10; n++) expect(configShapeProblem(validConfig(n))).toBeNull();
  });

  it('names each structural problem', () => {
    const c = validConfig(4);
    const cases: ReadonlyArray<readonly [ClusterConfig, RegExp]> = [
      [{ ...c, n: 0 }, /n must be/],
      [{ ...c, n: 1001 }, /n must be/],
      [{ ...c, t: 2 }, /t must equal the quorum/],
      [{ ...c, t: 4 }, /t must equal the quorum/],
      [{ ...c, networkId: new Uint8Array(31) }, /networkId/],
      [{ ...c, members: c.members.slice(1) }, /members must list 4/],
      [{ ...c, members: withAt(c.members, 1, (m) => ({ ...m, index: 0 })) }, /members\[1\]\.index must be 2/],
      [{ ...c, members: withAt(c.members, 2, (m) => ({ ...m, id: 'node3' })) }, /members\[2\]\.id must be n3/],
      [{ ...c, members: withAt(c.members, 3, (m) => ({ ...m, identityKey: new Uint8Array(31) })) }, /members\[3\]\.identityKey/],
      [{ ...c, commitments: c.commitments.slice(1) }, /commitments must list t = 3/],
      [{ ...c, commitments: withAt(c.commitments, 0, () => new Uint8Array(95)) }, /commitments\[0\] must be 96 bytes/],
    ];
    for (const [bad, message] of cases) expect(configShapeProblem(bad)).toMatch(message);
  });
});

describe('networkIdFromName', () => {
  it('is SHA-256 of "tandem/v1/network" followed by the UTF-8 name', () => {
    fc.assert(
      fc.property(wireString, (name) => {
        const expected = createHash('sha256').update('tandem/v1/network').update(name, 'utf8').digest('hex');
        expect(hexOf(networkIdFromName(name))).toBe(expected);
      }),
      { numRuns: 50 },
    );
    expect(hexOf(networkIdFromName('a'))).not.toBe(hexOf(networkIdFromName('b')));
  });
});
