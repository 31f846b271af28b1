/** The scenario plan (what both runners execute), the link faults, and how faults are put in words. */
import { describe, expect, it } from 'vitest';
import { reclaimAtMs } from '@tandem/protocol';
import {
  SIM_PLACEMENT,
  type Fault,
  describeFault,
  linkAt,
  linkChangeTimes,
  linkCut,
  linkFaultsAt,
  parseScenario,
  planScenario,
  scenarioTerms,
  simTerms,
  simulate,
} from '../src/index.js';
import { loadScenario } from './support.js';

/** Two settlements (s1 at 1 s with its own report window and margin, s2 at 2 s with the defaults), and `faults`. */
const scenario = (faults: string) => {
  const trade = (id: string, at: string, deadline: string, buyer: string, extra = '') =>
    `{ id: ${id}, at: ${at}, deadline: ${deadline}${extra}, asset: { seller: alice, buyer: ${buyer}, token: OUSG, amount: 10 }, payment: { payer: bob, payee: alice, currency: USD, amount: 1000 } }`;
  const lines = [
    'name: plan',
    'nodes: 4',
    'network: { latency: { min: 5ms, max: 40ms } }',
    'accounts: { asset: { alice: { OUSG: 1000 }, carol: { OUSG: 0 } }, payment: { bob: { USD: 50000000 } } }',
    'settlements:',
    `  - ${trade('s1', '1s', '10s', 'bob', ', reportWindow: 20s, margin: 5s')}`,
    `  - ${trade('s2', '2s', '5s', 'dave')}`,
  ];
  return parseScenario(`${lines.join('\n')}\n${faults}`, 'plan.yaml');
};

describe('the scenario plan', () => {
  const s = scenario(`faults:
  - { settlement: s1, leg: asset, fail: late-lock, after: 3s }
  - { settlement: s1, leg: payment, fail: never-lock }
  - { settlement: s2, leg: payment, fail: reject }
  - { at: 4s, until: 60s, crash: n2 }
  - { at: 1s, partition: [[n1], [n2, n3, n4]] }
`);
  const plan = planScenario(s, SIM_PLACEMENT);
  const [s1, s2] = plan.settlements;

  it('withholds never-lock and late-lock legs from the intent, and sends late ones after `at`', () => {
    expect(s1).toMatchObject({ intentAtMs: 1_000, authorizedAtIntent: [], withheld: ['payment'] });
    expect(s1!.lateAuthorizations).toEqual([{ leg: 'asset', atMs: 4_000, fault: s.faults[0] }]);
    expect(s2).toMatchObject({ intentAtMs: 2_000, authorizedAtIntent: ['asset', 'payment'], withheld: [], lateAuthorizations: [] });
  });

  it('schedules every fault but never-lock and late-lock, in file order, with its window', () => {
    expect(plan.faults).toEqual([
      { fault: s.faults[2], startMs: 0, endMs: null },
      { fault: s.faults[3], startMs: 4_000, endMs: 60_000 },
      { fault: s.faults[4], startMs: 1_000, endMs: null },
    ]);
  });

  it('has each party reclaim at the terms\' reclaim time, and stops a second after the last event', () => {
    expect(s1!.reclaims).toEqual([
      { leg: 'asset', legClockMs: 36_000, atMs: 36_000 },
      { leg: 'payment', legClockMs: 36_000, atMs: 36_000 },
    ]);
    expect(reclaimAtMs(s1!.terms)).toBe(36_000); // 1 s + 10 s + 20 s + 5 s
    expect(plan.lastFaultEventMs).toBe(60_000); // the crash's end
    expect(plan.hardStopMs).toBe(61_000);
    const quiet = planScenario(scenario(''), SIM_PLACEMENT);
    expect(quiet.lastFaultEventMs).toBe(0);
    expect(quiet.hardStopMs).toBe(47_000 + 1_000); // s2's reclaim (2 s + 5 s + the default 30 s and 10 s) is the latest
  });

  it('names every party once, and funds only positive balances', () => {
    expect(plan.parties).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(plan.funds).toEqual([
      { leg: 'asset', account: 'alice', unit: 'OUSG', amount: 1000n },
      { leg: 'payment', account: 'bob', unit: 'USD', amount: 50_000_000n },
    ]);
  });

  it('places the terms: a nonce suffix and a start on the legs\' clock move the id and the deadline', () => {
    expect(s1!.terms).toEqual(simTerms(s.settlements[0]!));
    expect(s1!.terms).toMatchObject({ nonce: 's1', deadlineMs: 11_000, reportWindowMs: 20_000, marginMs: 5_000 });
    const placement = { venues: { chainId: 1n, escrow: new Uint8Array(20), bankId: 'b', ledger: 'l' }, nonceSuffix: 'a1b2', startMs: 1_700_000_000_000 };
    const onCluster = planScenario(s, placement);
    expect(onCluster.settlements[0]!.terms).toEqual(scenarioTerms(s.settlements[0]!, placement));
    expect(onCluster.settlements[0]!.terms).toMatchObject({ nonce: 's1-a1b2', deadlineMs: 1_700_000_011_000, asset: { chainId: 1n }, payment: { bankId: 'b', ledger: 'l' } });
    expect(onCluster.settlements[0]!.idHex).not.toBe(s1!.idHex);
    // Run times do not move with the placement: reclaims are still 36 s into the run.
    expect(onCluster.settlements[0]!.reclaims[0]).toEqual({ leg: 'asset', legClockMs: 1_700_000_036_000, atMs: 36_000 });
    expect(onCluster.hardStopMs).toBe(plan.hardStopMs);
  });
});

describe('link faults', () => {
  const s = scenario(`faults:
  - { at: 1s, until: 3s, partition: [[n1, n2], [n3]] }
  - { at: 2s, until: 4s, isolate: n4 }
  - { drop: 0.5, from: [n1], to: [n2, n3] }
  - { at: 5s, until: 6s, delay: n2, extra: 100ms }
  - { at: 5s, duplicate: 0.25, from: [n3], to: [n1] }
`);

  it('cuts across partition groups (unlisted nodes together) and every link of an isolated node, until `until`', () => {
    expect(linkCut(s.faults, 1, 3, 999)).toBe(false);
    expect(linkCut(s.faults, 1, 3, 1_000)).toBe(true);
    expect(linkCut(s.faults, 3, 4, 1_000)).toBe(true); // the unlisted n4 forms a group of its own
    expect(linkCut(s.faults, 1, 2, 2_500)).toBe(false);
    expect(linkCut(s.faults, 2, 4, 2_500)).toBe(true);
    expect(linkCut(s.faults, 1, 3, 3_000)).toBe(false);
    expect(linkCut(s.faults, 4, 1, 4_000)).toBe(false);
  });

  it('combines loss and duplication as independent causes, and adds the delay of either end', () => {
    expect(linkAt(s, 1, 2, 0)).toEqual({ cut: false, drop: 0.5, duplicate: 0, extraMs: 0 });
    expect(linkAt(s, 2, 1, 0).drop).toBe(0); // loss is directional
    expect(linkAt(s, 3, 1, 5_000)).toEqual({ cut: false, drop: 0, duplicate: 0.25, extraMs: 0 });
    expect(linkAt(s, 2, 3, 5_000).extraMs).toBe(100);
    expect(linkAt(s, 4, 2, 5_500).extraMs).toBe(100);
    expect(linkAt(s, 4, 2, 6_000).extraMs).toBe(0);
    const lossy = { ...s, network: { ...s.network, drop: 0.5 } };
    expect(linkAt(lossy, 1, 2, 0).drop).toBe(0.75);
  });

  it('gives each receiver its blocked authors, and the loss and latency of the others', () => {
    const at0 = linkFaultsAt(s, 0);
    expect(at0.get(1)).toEqual({ block: [], drop: {}, delay: { '2': [5, 40], '3': [5, 40], '4': [5, 40] } });
    expect(at0.get(2)!.drop).toEqual({ '1': 0.5 });
    const at2 = linkFaultsAt(s, 2_500);
    expect(at2.get(3)).toEqual({ block: [1, 2, 4], drop: {}, delay: {} });
    expect(at2.get(2)).toEqual({ block: [3, 4], drop: { '1': 0.5 }, delay: { '1': [5, 40] } });
    expect(linkFaultsAt(s, 5_000).get(1)!.delay).toEqual({ '2': [105, 140], '3': [5, 40], '4': [5, 40] });
    expect(linkChangeTimes(s)).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000]); // duplication is not a link fault of a node
  });

  it('are what the simulator applies to every message', async () => {
    for (const file of ['no-quorum-partition-heal.yaml', 'delay-slow-node.yaml', 'isolate-proposer.yaml']) {
      const sc = loadScenario(file);
      const run = await simulate(sc, { seed: sc.seed });
      let checked = 0;
      for (const e of run.history) {
        if (e.type !== 'msg' || e.lost === 'receiver down') continue;
        const link = linkAt(run.scenario, e.node, e.to, e.t);
        expect(e.lost === 'partition', `${file}: n${e.node} → n${e.to} at ${e.t} ms`).toBe(link.cut);
        if (e.deliverAtMs !== null) {
          const latency = e.deliverAtMs - e.t - link.extraMs;
          expect(latency).toBeGreaterThanOrEqual(sc.network.latencyMinMs);
          expect(latency).toBeLessThanOrEqual(sc.network.latencyMaxMs);
        }
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
    }
  });
});

describe('faults in the history', () => {
  it('are the scenario\'s faults themselves, with start and end entries at their times', async () => {
    const sc = loadScenario('no-quorum-partition-heal.yaml');
    const run = await simulate(sc, { seed: sc.seed });
    const entries = run.history.flatMap((e) => (e.type === 'fault' ? [e] : []));
    const partition = sc.faults.find((f) => f.kind === 'partition')!;
    expect(entries.map((e) => [e.t, e.phase, e.fault])).toEqual([
      [partition.atMs, 'start', partition],
      [partition.untilMs, 'end', partition],
    ]);
  });

  it('a late authorization is an entry of its late-lock fault, saying what went out', async () => {
    const sc = loadScenario('late-lock-commit.yaml');
    const run = await simulate(sc, { seed: sc.seed });
    const late = run.history.flatMap((e) => (e.type === 'fault' ? [e] : []));
    expect(late).toEqual([{ t: 2_000, node: 0, type: 'fault', fault: sc.faults[0], phase: 'start', detail: 'the asset authorization goes out' }]);
  });

  it('are put in words by one function', () => {
    const words = (f: Fault) => describeFault(f);
    const s = scenario(`faults:
  - { at: 1s, until: 3s, partition: [[n1, n2], [n3]] }
  - { at: 2s, crash: n4 }
  - { drop: 0.2, from: [n1], to: [n2, n3] }
  - { at: 5s, until: 6s, delay: n2, extra: 100ms }
  - { clock-skew: payment, behind: 1500ms }
  - { clock-skew: n1, ahead: 2s }
  - { settlement: s1, leg: asset, fail: late-lock, after: 3s }
  - { settlement: s2, leg: payment, fail: apply-error, times: 2 }
  - { at: 100ms, reorg: asset, settlement: s2 }
  - { byzantine: n3, behaviour: equivocate }
`);
    expect(s.faults.map(words)).toEqual([
      'partition n1,n2 | n3 | n4', // the unlisted n4 is a group of its own
      'crash n4',
      'drop 0.2 from n1 to n2,n3',
      'delay n2 +100ms',
      'clock-skew payment -1.5s',
      'clock-skew n1 +2s',
      's1 asset late-lock (after 3s)',
      's2 payment apply-error (2 times)',
      'reorg s2',
      'byzantine n3 equivocate',
    ]);
  });
});
