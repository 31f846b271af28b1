/** Each node's link faults as a cluster runner pushes them to its shim (`linkFaultsAt`). */
import { describe, expect, it } from 'vitest';
import { linkFaultsAt, parseScenario } from '../src/index.js';

const base = (extra: string, nodes = 4) => `
name: t
nodes: ${nodes}
network:
  latency: { min: 5ms, max: 40ms }
accounts:
  asset: { alice: { OUSG: 1000 } }
  payment: { bob: { USD: 50000000 } }
settlements:
  - id: s1
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }
${extra}`;

describe('linkFaultsAt: link faults per node', () => {
  const s = parseScenario(
    base(`faults:
  - { at: 1s, until: 3s, partition: [[n1, n2], [n3]] }
  - { at: 2s, until: 4s, isolate: n4 }
  - { drop: 0.5, from: [n1], to: [n2, n3] }
  - { at: 5s, until: 6s, delay: n2, extra: 100ms }
`),
    't.yaml',
  );

  it('before any fault: the network latency on every link, the standing drop on its links', () => {
    const at0 = linkFaultsAt(s, 0);
    expect(at0.get(1)).toEqual({ block: [], drop: {}, delay: { '2': [5, 40], '3': [5, 40], '4': [5, 40] } });
    expect(at0.get(2)!.drop).toEqual({ '1': 0.5 });
    expect(at0.get(3)!.drop).toEqual({ '1': 0.5 });
    expect(at0.get(4)!.drop).toEqual({});
  });

  it('a partition cuts across groups (unlisted nodes together), an isolation cuts every link of its node', () => {
    const at1 = linkFaultsAt(s, 1_000);
    expect(at1.get(1)!.block).toEqual([3, 4]);
    expect(at1.get(3)!.block).toEqual([1, 2, 4]);
    expect(at1.get(4)!.block).toEqual([1, 2, 3]);
    expect(at1.get(3)!.drop).toEqual({}); // a cut link carries no loss rule
    expect(at1.get(2)!.drop).toEqual({ '1': 0.5 }); // n1 and n2 are on the same side
    const at2 = linkFaultsAt(s, 2_500);
    expect(at2.get(4)!.block).toEqual([1, 2, 3]);
    expect(at2.get(1)!.block).toEqual([3, 4]);
    const at3 = linkFaultsAt(s, 3_000); // the partition's `until` is exclusive
    expect(at3.get(1)!.block).toEqual([4]);
    expect(linkFaultsAt(s, 4_000).get(4)!.block).toEqual([]);
  });

  it('a delay adds its extra latency to every message to or from its node', () => {
    const at5 = linkFaultsAt(s, 5_000);
    expect(at5.get(2)!.delay).toEqual({ '1': [105, 140], '3': [105, 140], '4': [105, 140] });
    expect(at5.get(1)!.delay).toEqual({ '2': [105, 140], '3': [5, 40], '4': [5, 40] });
  });
});
