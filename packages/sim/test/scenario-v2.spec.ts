import { describe, expect, it } from 'vitest';
import { defaultV2Params } from '@tandem/protocol';
import { ScenarioError, parseScenario, scenarioV2Params, underProtocol } from '../src/index.js';

/** The scenario keys of protocol 2: `protocol`, `batching`, `load`, and the v2 Byzantine behaviours. */
const FILE = 'scenarios/v2.yaml';

const SETTLEMENT = `  - id: s1
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 100 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 10000000 }`;

function scenario(extra: string, settlements = `settlements:\n${SETTLEMENT}`): string {
  return `name: v2\nnodes: 4\n${extra}\n${settlements}\n`;
}

/** The ScenarioError a text raises: its key path and problem. */
function refusal(text: string): { keyPath: string; problem: string } {
  try {
    parseScenario(text, FILE);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    expect(e.message.startsWith(`${FILE}: ${e.keyPath}: `)).toBe(true);
    return { keyPath: e.keyPath, problem: e.problem };
  }
  throw new Error('the scenario was accepted');
}

describe('protocol', () => {
  it('defaults to 1 and leaves a protocol-1 scenario as v1 had it (no protocol or batching key)', () => {
    const s = parseScenario(scenario(''), FILE);
    expect('protocol' in s).toBe(false);
    expect('batching' in s).toBe(false);
    expect(scenarioV2Params(s)).toBeNull();
    expect('protocol' in parseScenario(scenario('protocol: 1'), FILE)).toBe(false);
  });

  it('takes 2, with the v2 defaults for n', () => {
    const s = parseScenario(scenario('protocol: 2'), FILE);
    expect(s.protocol).toBe(2);
    expect(scenarioV2Params(s)).toEqual(defaultV2Params(4));
  });

  it('refuses anything else', () => {
    expect(refusal(scenario('protocol: 3')).keyPath).toBe('protocol');
    expect(refusal(scenario("protocol: '2'")).keyPath).toBe('protocol');
  });
});

describe('batching', () => {
  it('reads durations and counts into the v2 parameters; admission sets its three under v2', () => {
    const s = parseScenario(scenario('protocol: 2\nbatching: { tick: 50ms, heartbeat: 500ms, refresh: 2s, skewMax: 1s, batchEntriesMax: 64, legBatchEntriesMax: 8, bundleEntriesMax: 500, catchUpBatchesMax: 4 }\nadmission: { openSettlementsMax: 100, commitGuard: 3s }'), FILE);
    expect(scenarioV2Params(s)).toEqual({ ...defaultV2Params(4), tickMs: 50, heartbeatMs: 500, refreshMs: 2000, skewMaxMs: 1000, batchEntriesMax: 64, legBatchEntriesMax: 8, bundleEntriesMax: 500, catchUpBatchesMax: 4, openSettlementsMax: 100, commitGuardMs: 3000 });
  });

  it('is refused under protocol 1', () => {
    expect(refusal(scenario('batching: { tick: 50ms }'))).toEqual({ keyPath: 'batching', problem: 'batching applies to protocol 2 only' });
  });

  it('names an unknown key and a bad value', () => {
    expect(refusal(scenario('protocol: 2\nbatching: { tik: 50ms }')).keyPath).toBe('batching.tik');
    expect(refusal(scenario('protocol: 2\nbatching: { tick: 50 }')).keyPath).toBe('batching.tick');
    expect(refusal(scenario('protocol: 2\nbatching: { batchEntriesMax: 0 }')).keyPath).toBe('batching.batchEntriesMax');
  });

  it('refuses a set of parameters a node would refuse, naming the parameter', () => {
    const r = refusal(scenario('protocol: 2\nbatching: { commitGuard: 2s, skewMax: 1s }'));
    expect(r.keyPath).toBe('batching');
    expect(r.problem).toContain('skewMaxMs');
    expect(refusal(scenario('protocol: 2\nbatching: { batchEntriesMax: 300 }')).problem).toContain('batchEntriesMax');
  });

  it('refuses a commit guard set both in admission and in batching', () => {
    expect(refusal(scenario('protocol: 2\nbatching: { commitGuard: 4s }\nadmission: { commitGuard: 4s }')).keyPath).toBe('batching.commitGuard');
  });
});

describe('load', () => {
  const LOAD = `load:
  count: 3
  every: 250ms
  from: 1s
  template:
    id: burst
    deadline: 10s
    asset: { seller: alice, buyer: bob, token: OUSG, amount: 10 }
    payment: { payer: bob, payee: alice, currency: USD, amount: 1000 }`;

  it('generates count settlements after the listed ones, named and timed from the template', () => {
    const s = parseScenario(scenario(LOAD), FILE);
    expect(s.settlements.map((x) => [x.id, x.atMs])).toEqual([
      ['s1', 0],
      ['burst-1', 1000],
      ['burst-2', 1250],
      ['burst-3', 1500],
    ]);
    expect(s.settlements[3]).toMatchObject({ deadlineAfterMs: 10_000, reportWindowMs: 30_000, marginMs: 10_000, asset: { amount: 10n } });
  });

  it('stands without listed settlements; the id prefix defaults to load', () => {
    const s = parseScenario(scenario(LOAD.replace('    id: burst\n', ''), ''), FILE);
    expect(s.settlements.map((x) => x.id)).toEqual(['load-1', 'load-2', 'load-3']);
  });

  it('names what is wrong in the template or the block', () => {
    expect(refusal(scenario(LOAD.replace('    deadline: 10s', '    at: 1s\n    deadline: 10s'))).keyPath).toBe('load.template.at');
    expect(refusal(scenario(LOAD.replace('    deadline: 10s', '    deadline: 10'))).keyPath).toBe('load.template.deadline');
    expect(refusal(scenario(LOAD.replace('count: 3', 'count: 0'))).keyPath).toBe('load.count');
    expect(refusal(scenario(LOAD.replace('  every: 250ms\n', '  every: 250ms\n  rate: 2\n'))).keyPath).toBe('load.rate');
    expect(refusal(scenario(LOAD.replace('id: burst', 'id: s'), 'settlements:\n' + SETTLEMENT.replace('id: s1', 'id: s-2'))).keyPath).toBe('load.template.id');
  });
});

describe('Byzantine behaviours of protocol 2', () => {
  it('are taken under protocol 2 and refused under protocol 1, naming the fault', () => {
    const fault = 'faults:\n  - { byzantine: n2, behaviour: censor }';
    expect(parseScenario(scenario(`protocol: 2\n${fault}`), FILE).faults[0]).toMatchObject({ kind: 'byzantine', behaviour: 'censor' });
    expect(refusal(scenario(fault)).keyPath).toBe('faults[0].behaviour');
    const random = 'random:\n  byzantine: { nodes: [n2], count: [1, 1], behaviours: [silent, withhold-entries] }';
    expect(parseScenario(scenario(`protocol: 2\n${random}`), FILE).random?.byzantine?.behaviours).toEqual(['silent', 'withhold-entries']);
    expect(refusal(scenario(random)).keyPath).toBe('random.byzantine.behaviours[1]');
  });
});

describe('underProtocol', () => {
  it('runs a v1 scenario under 2, lowering a commit guard that would refuse its report windows', () => {
    const v1 = parseScenario(scenario('', `settlements:\n${SETTLEMENT}\n    reportWindow: 2s`), FILE);
    const v2 = underProtocol(v1, 2);
    expect(v2.protocol).toBe(2);
    expect(scenarioV2Params(v2)).toMatchObject({ commitGuardMs: 1000, skewMaxMs: 499 });
    expect(underProtocol(parseScenario(scenario(''), FILE), 2).batching).toBeUndefined();
    expect(underProtocol(v2, 1)).toEqual(v1);
  });

  it('refuses to run a scenario with a protocol 2 behaviour under 1', () => {
    const s = parseScenario(scenario('protocol: 2\nfaults:\n  - { byzantine: n2, behaviour: bad-root }'), FILE);
    expect(() => underProtocol(s, 1)).toThrow(ScenarioError);
  });
});
