/**
 * The scenario keys protocol v2 brings (scenarios/README.md): `protocol:` (1 or 2), `batching:` (the
 * v2 parameters) and `load:` (settlements generated from a template). Read by scenario-parse.ts;
 * every problem is a ScenarioError naming the file and the key, like the rest of the loader.
 *
 * Interpretation choices, fixed here:
 * - `batching:` is refused under protocol 1 (it would be silently ignored there).
 * - `commitGuard` may be set in `admission:` (where v1 reads it) or in `batching:`, not both.
 * - The v2 parameters a scenario ends with are checked as a node checks its configuration (the
 *   bounds of v2ParamsProblem): a file whose parameters a node would refuse is refused.
 * - `load:` settlements are named `<template id>-<k>` (k from 1; the id defaults to `load`), arrive
 *   at `from + (k − 1) · every`, and are appended after the listed settlements.
 */
import { type V2Params, defaultV2Params, utf8, v2ParamsProblem } from '@tandem/protocol';
import { formatDurationMs } from './duration.js';
import { type BatchingSpec, type ProtocolVersion, type ScenarioByzantineBehaviour, ScenarioError, isByzantineBehaviourV1, type Scenario, type ScenarioSettlement, SCENARIO_SETTLEMENTS_MAX, SCENARIO_TIME_MAX_MS, SETTLEMENT_ID_BYTES_MAX } from './scenario.js';
import { type Cx, duration, integerNumber, mapping, required } from './scenario-yaml.js';

/** The `batching:` keys: durations (named like the other duration keys, without a unit) and counts. */
const BATCHING_DURATION_KEYS = { tick: 'tickMs', heartbeat: 'heartbeatMs', refresh: 'refreshMs', commitGuard: 'commitGuardMs', skewMax: 'skewMaxMs' } as const;
const BATCHING_COUNT_KEYS = ['bundleEntriesMax', 'batchEntriesMax', 'legBatchEntriesMax', 'catchUpBatchesMax'] as const;
const BATCHING_KEYS = [...Object.keys(BATCHING_DURATION_KEYS), ...BATCHING_COUNT_KEYS];
const LOAD_KEYS = ['count', 'every', 'from', 'template'];
/** A count key's bound: the node's own bounds (v2ParamsProblem) are checked on the whole set. */
const BATCHING_COUNT_MAX = 0xffff;

export function parseProtocol(cx: Cx, v: unknown): ProtocolVersion {
  return integerNumber(cx, v, 'protocol', 1, 2) as ProtocolVersion;
}

export function parseBatching(cx: Cx, v: unknown, protocol: ProtocolVersion): BatchingSpec {
  const m = mapping(cx, v, 'batching', BATCHING_KEYS);
  if (protocol !== 2) cx.fail('batching', 'batching applies to protocol 2 only', "protocol: 2, or no batching block");
  const out: Record<string, number> = {};
  for (const [key, field] of Object.entries(BATCHING_DURATION_KEYS)) {
    if (m.has(key)) out[field] = duration(cx, m.get(key), `batching.${key}`, key === 'skewMax' ? 0 : 1);
  }
  for (const key of BATCHING_COUNT_KEYS) if (m.has(key)) out[key] = integerNumber(cx, m.get(key), `batching.${key}`, 1, BATCHING_COUNT_MAX);
  return Object.freeze(out) as BatchingSpec;
}

/**
 * The v2 parameters every node of a protocol-2 run uses: the defaults for n, then `admission:`, then
 * `batching:`. Null for a protocol-1 scenario.
 */
export function scenarioV2Params(s: Pick<Scenario, 'nodes' | 'protocol' | 'admission' | 'batching'>): V2Params | null {
  if (s.protocol !== 2) return null;
  const a = s.admission ?? {};
  return {
    ...defaultV2Params(s.nodes),
    ...(a.openSettlementsMax === undefined ? {} : { openSettlementsMax: a.openSettlementsMax }),
    ...(a.horizonMaxMs === undefined ? {} : { horizonMaxMs: a.horizonMaxMs }),
    ...(a.commitGuardMs === undefined ? {} : { commitGuardMs: a.commitGuardMs }),
    ...s.batching,
  };
}

/** Refuses v2 parameters a node would refuse, a commit guard set twice, and v2 behaviours under protocol 1. */
export function checkV2Params(cx: Cx, s: Pick<Scenario, 'nodes' | 'protocol' | 'admission' | 'batching' | 'faults' | 'random'>): void {
  const v2Only = (b: ScenarioByzantineBehaviour, path: string) => {
    if (s.protocol !== 2 && !isByzantineBehaviourV1(b)) cx.fail(path, `'${b}' is a protocol 2 behaviour`, 'protocol: 2, or a behaviour of protocol 1');
  };
  s.faults.forEach((f, i) => {
    if (f.kind === 'byzantine') v2Only(f.behaviour, `faults[${i}].behaviour`);
  });
  s.random?.byzantine?.behaviours.forEach((b, i) => v2Only(b, `random.byzantine.behaviours[${i}]`));
  if (s.admission?.commitGuardMs !== undefined && s.batching?.commitGuardMs !== undefined) {
    cx.fail('batching.commitGuard', 'the commit guard is also set in admission.commitGuard', 'commitGuard in one of admission or batching');
  }
  const params = scenarioV2Params(s);
  if (params === null) return;
  const problem = v2ParamsProblem(params, s.nodes);
  if (problem !== null) cx.fail(s.batching === undefined ? 'admission' : 'batching', `the protocol v2 parameters are refused: ${problem}`, 'parameters a node accepts (scenarios/README.md, batching)');
}

/**
 * The `load:` block: `count` settlements from `template` (a settlement without `at`), the k-th at
 * `from + (k − 1) · every`. `parseTemplate` reads the template as a settlement at `at`.
 */
export function parseLoad(
  cx: Cx,
  v: unknown,
  listed: readonly ScenarioSettlement[],
  parseTemplate: (template: Map<string, unknown>, path: string) => ScenarioSettlement,
): readonly ScenarioSettlement[] {
  const m = mapping(cx, v, 'load', LOAD_KEYS);
  const room = SCENARIO_SETTLEMENTS_MAX - listed.length;
  const count = integerNumber(cx, required(cx, m, 'load', 'count', `an integer 1..${room}`), 'load.count', 1, Math.max(1, room));
  if (room < 1) cx.fail('load.count', `${listed.length} settlements are already listed`, `at most ${SCENARIO_SETTLEMENTS_MAX} settlements in all`);
  const everyMs = m.has('every') ? duration(cx, m.get('every'), 'load.every', 0) : 0;
  const fromMs = m.has('from') ? duration(cx, m.get('from'), 'load.from', 0) : 0;
  const lastAtMs = fromMs + (count - 1) * everyMs;
  if (lastAtMs > SCENARIO_TIME_MAX_MS) cx.fail('load', `the last generated settlement arrives at ${formatDurationMs(lastAtMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  const template = mapping(cx, required(cx, m, 'load', 'template', 'a settlement without at (id is the name prefix)'), 'load.template', TEMPLATE_KEYS);
  const withDefaults = new Map(template);
  if (!withDefaults.has('id')) withDefaults.set('id', 'load');
  withDefaults.set('at', '0ms');
  const s = parseTemplate(withDefaults, 'load.template');
  const reclaimAtMs = lastAtMs + s.deadlineAfterMs + s.reportWindowMs + s.marginMs;
  if (reclaimAtMs > SCENARIO_TIME_MAX_MS) cx.fail('load', `the last generated settlement's reclaim time is ${formatDurationMs(reclaimAtMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  const idBytesMax = SETTLEMENT_ID_BYTES_MAX - String(count).length - 1;
  if (utf8(s.id).length > idBytesMax) cx.fail('load.template.id', `the prefix '${s.id}' leaves no room for '-${count}'`, `a prefix of at most ${idBytesMax} bytes`);
  const taken = new Set(listed.map((x) => x.id));
  const out: ScenarioSettlement[] = [];
  for (let k = 1; k <= count; k++) {
    const id = `${s.id}-${k}`;
    if (taken.has(id)) cx.fail('load.template.id', `the generated id '${id}' is also a listed settlement`, 'a prefix no listed id starts with');
    out.push(Object.freeze({ ...s, id, atMs: fromMs + (k - 1) * everyMs }));
  }
  return Object.freeze(out);
}

const TEMPLATE_KEYS = ['id', 'deadline', 'reportWindow', 'margin', 'asset', 'payment'];

/**
 * The scenario run under another protocol version (`tandem simulate --protocol`, the v2 library
 * test). Under 2, a scenario written for v1 keeps the v2 defaults except the commit guard, which is
 * lowered to half its shortest report window when the default would refuse its settlements
 * (`window-too-short`), and the clock-skew bound with it (below half the guard).
 */
export function underProtocol(s: Scenario, protocol: ProtocolVersion): Scenario {
  if ((s.protocol ?? 1) === protocol) return s;
  if (protocol === 1) {
    const v2Only = s.faults.find((f) => f.kind === 'byzantine' && !isByzantineBehaviourV1(f.behaviour));
    if (v2Only !== undefined) throw new ScenarioError(s.name, 'protocol', 'the scenario has a protocol 2 Byzantine behaviour', 'protocol 2');
    const { protocol: _p, batching: _b, ...v1 } = s;
    return Object.freeze(v1);
  }
  const params = scenarioV2Params({ ...s, protocol: 2 })!;
  const windowMsMin = Math.min(...s.settlements.map((x) => x.reportWindowMs));
  if (params.commitGuardMs < windowMsMin || s.admission?.commitGuardMs !== undefined) return Object.freeze({ ...s, protocol: 2 });
  const commitGuardMs = Math.max(2, Math.floor(windowMsMin / 2));
  const skewMaxMs = Math.min(params.skewMaxMs, Math.ceil(commitGuardMs / 2) - 1);
  return Object.freeze({ ...s, protocol: 2, batching: Object.freeze({ commitGuardMs, skewMaxMs }) });
}

/**
 * Library scenarios the protocol-2 runs (CI, `pnpm history-hashes`) leave out, with why. Every
 * other library scenario also runs under protocol 2 (underProtocol) at its pinned seeds.
 */
export const V2_LIBRARY_EXCLUDED: Readonly<Record<string, string>> = Object.freeze({
});
