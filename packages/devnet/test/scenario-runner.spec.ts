/** The pure part of cluster mode: which scenarios it refuses. (The link faults it pushes are sim's `linkFaultsAt`.) */
import { describe, expect, it } from 'vitest';
import { parseScenario } from '@tandem/sim';
import { CLUSTER_NODES_MAX, clusterModeProblems } from '../src/scenario-runner.js';

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

describe('cluster mode: what it refuses', () => {
  it('accepts crashes, partitions, isolation, drops, delays and leg faults', () => {
    const s = parseScenario(
      base(`faults:
  - { at: 1s, until: 2s, crash: n1 }
  - { at: 1s, until: 3s, partition: [[n1, n2], [n3, n4]] }
  - { at: 1s, until: 2s, isolate: n2 }
  - { drop: 0.2, from: [n1], to: [n2] }
  - { at: 0s, until: 5s, delay: n3, extra: 100ms }
  - { settlement: s1, leg: payment, fail: apply-error, times: 2 }
  - { settlement: s1, leg: asset, fail: late-lock, after: 1s }
`),
      't.yaml',
    );
    expect(clusterModeProblems(s)).toEqual([]);
  });

  it('refuses what only the simulator realises, naming each', () => {
    const s = parseScenario(
      base(`faults:
  - { byzantine: n1, behaviour: equivocate }
  - { clock-skew: n2, ahead: 2s }
  - { at: 100ms, reorg: asset, settlement: s1 }
  - { duplicate: 0.5, from: [n1], to: [n2] }
`),
      't.yaml',
    );
    const problems = clusterModeProblems(s);
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/byzantine n1 equivocate: Byzantine behaviours run in the simulator only/);
    expect(problems.join('\n')).toMatch(/clock-skew n2/);
    expect(problems.join('\n')).toMatch(/reorg s1/);
    expect(problems.join('\n')).toMatch(/duplicate 0.5/);
  });

  it('refuses network duplication and more nodes than one machine runs', () => {
    const s = parseScenario(base('').replace('latency: { min: 5ms, max: 40ms }', 'latency: { min: 5ms, max: 40ms }\n  duplicate: 0.1'), 't.yaml');
    expect(clusterModeProblems(s)).toEqual([expect.stringMatching(/^network.duplicate/)]);
    const big = parseScenario(base('', CLUSTER_NODES_MAX + 3), 't.yaml');
    expect(clusterModeProblems(big)).toEqual([expect.stringMatching(/^nodes: 13 node processes/)]);
  });

  it('refuses the admission block (node processes take their config\'s bounds)', () => {
    const s = parseScenario(base('admission: { openSettlementsMax: 2 }\n'), 't.yaml');
    expect(clusterModeProblems(s)).toEqual([expect.stringMatching(/^admission: node admission parameters are set by the simulator only/)]);
  });

  it('takes protocol 2 (the cluster then runs it), and still refuses what only the simulator realises under it', () => {
    expect(clusterModeProblems(parseScenario(base('protocol: 2\n'), 't.yaml'))).toEqual([]);
    expect(clusterModeProblems(parseScenario(base('protocol: 2\nbatching: { tick: 50ms }\n'), 't.yaml'))).toEqual([]);
    const byz = parseScenario(base('protocol: 2\nfaults:\n  - { byzantine: n1, behaviour: censor }\n'), 't.yaml');
    expect(clusterModeProblems(byz)).toEqual([expect.stringMatching(/Byzantine behaviours run in the simulator only/)]);
  });
});
