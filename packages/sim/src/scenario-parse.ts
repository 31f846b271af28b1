/**
 * The scenario loader: YAML text (format v1, scenarios/README.md) → a validated, defaulted, frozen Scenario.
 *
 * Every problem becomes a ScenarioError that names the file, the key path and what was expected,
 * because the CLI turns it into exit code 2 with that message (docs/results.md). Unknown keys are errors
 * everywhere: a misspelt optional key (`deadlin`) silently taking its default would make a
 * scenario test something other than what its author meant.
 *
 * Interpretation choices the format leaves open, fixed here:
 * - `partition` groups must be disjoint; nodes listed in no group form one implicit extra group
 *   (so `[[n4]]` with 4 nodes is n4 | n1,n2,n3). The parsed Fault lists every node exactly once,
 *   with the implicit group appended last, so the simulator needs no rule of its own.
 * - `until` is allowed on crash, partition, isolate, and on the leg fault `unavailable` (where it
 *   is required). The other leg failures are not windows: `reject`, `never-lock` and `late-lock`
 *   decide how the party/leg treats the prepare; `apply-error` counts with `times`.
 * - `after` (late-lock) counts from the settlement's `at` (its intent), as the deadline does.
 * - At most one of reject / never-lock / late-lock per (settlement, leg): they contradict.
 * - Crash windows of one node must not overlap, nor isolate windows of one node.
 * - Every absolute time (a settlement's reclaim time, a fault's end, `decideWithin`) is bounded by
 *   SCENARIO_TIME_MAX_MS so a typo (`10h` for `10s`) cannot make a run resend for a virtual year.
 * - The `random:` block holds ranges only; it is validated (scenario-random.ts) so that every seed
 *   draws a scenario this loader would accept as written, and drawn by random.ts.
 */
import { STRING_BYTES_MAX, U256_MAX } from '@tandem/protocol';
import { formatDurationMs } from './duration.js';
import { REFUSAL_REASONS, type RefusalReason } from '@tandem/node';
import {
  type AdmissionSpec,
  type Expectations,
  type Fault,
  type LegFailure,
  type NetworkSpec,
  type NodeIndex,
  type Outcome,
  type Scenario,
  type ScenarioSettlement,
  ADMISSION_OPEN_SETTLEMENTS_MAX,
  APPLY_ERROR_TIMES_MAX,
  BYZANTINE_BEHAVIOURS,
  BYZANTINE_BEHAVIOURS_V2,
  INVARIANT_NAMES,
  SCENARIO_ACCOUNTS_MAX,
  SCENARIO_DEFAULTS,
  SCENARIO_FAULTS_MAX,
  SCENARIO_NODES_MAX,
  SCENARIO_SETTLEMENTS_MAX,
  SCENARIO_TIME_MAX_MS,
  SETTLEMENT_ID_BYTES_MAX,
} from './scenario.js';
import { parseRandom } from './scenario-random.js';
import { checkV2Params, parseBatching, parseLoad, parseProtocol } from './scenario-v2.js';
import {
  Cx,
  DURATION_TEXT,
  LATENCY_KEYS,
  describe,
  dict,
  duration,
  integer,
  integerNumber,
  list,
  listSome,
  mapping,
  nodeName,
  oneOf,
  probability,
  quote,
  readYaml,
  required,
  requiredText,
  text0,
  text1,
} from './scenario-yaml.js';

// ---------------------------------------------------------------------------------------------
// Key sets. The unknown-key message lists them in this order.

const ROOT_KEYS = ['name', 'description', 'seed', 'nodes', 'protocol', 'network', 'accounts', 'settlements', 'load', 'faults', 'expect', 'random', 'admission', 'batching'];
const ADMISSION_KEYS = ['openSettlementsMax', 'horizonMax', 'commitGuard'];
const NETWORK_KEYS = ['latency', 'drop', 'duplicate'];
const ACCOUNTS_KEYS = ['asset', 'payment'];
const SETTLEMENT_KEYS = ['id', 'at', 'deadline', 'reportWindow', 'margin', 'asset', 'payment'];
const ASSET_KEYS = ['seller', 'buyer', 'token', 'amount'];
const PAYMENT_KEYS = ['payer', 'payee', 'currency', 'amount'];
const EXPECT_KEYS = ['outcomes', 'decideWithin', 'violations', 'refused'];
const FAULT_KINDS = ['crash', 'partition', 'isolate', 'settlement', 'delay', 'drop', 'duplicate', 'clock-skew', 'reorg', 'byzantine'] as const;
type FaultKey = (typeof FAULT_KINDS)[number];
const LEG_FAULT_KEYS = ['at', 'until', 'settlement', 'leg', 'fail', 'after', 'times'];
// Kinds the format names for later versions: recognised so the error says "not supported yet"
// rather than "unknown key" (the file is right, the simulator is behind).
const UNSUPPORTED_FAULT_KINDS: readonly string[] = [];
/** Keys each fault kind takes besides `at`, `until` and its kind key. */
const EXTRA_FAULT_KEYS: Readonly<Record<string, readonly string[]>> = {
  delay: ['extra'],
  drop: ['from', 'to'],
  duplicate: ['from', 'to'],
  'clock-skew': ['ahead', 'behind'],
  reorg: ['settlement'],
  byzantine: ['behaviour'],
};
const LEG_FAILURES: readonly LegFailure[] = ['reject', 'never-lock', 'late-lock', 'apply-error', 'unavailable'];
const OUTCOMES: readonly Outcome[] = ['commit', 'abort', 'any'];
const SUPPORTED_KINDS_TEXT = 'crash, partition, isolate, delay, drop, duplicate, clock-skew, reorg, byzantine, settlement (leg faults)';

// ---------------------------------------------------------------------------------------------
// Entry point.

/** Parses and validates one scenario file. Throws ScenarioError, and nothing else, on bad input. */
export function parseScenario(text: string, file: string): Scenario {
  const cx: Cx = new Cx(file);
  const root = readYaml(cx, text);
  const m = mapping(cx, root, '', ROOT_KEYS);
  const name = text1(cx, required(cx, m, '', 'name', 'a non-empty string'), 'name', STRING_BYTES_MAX);
  const description = m.has('description') ? text0(cx, m.get('description'), 'description') : '';
  const seed = m.has('seed') ? integerNumber(cx, m.get('seed'), 'seed', 0, Number.MAX_SAFE_INTEGER) : SCENARIO_DEFAULTS.seed;
  const nodes = integerNumber(cx, required(cx, m, '', 'nodes', `an integer 1..${SCENARIO_NODES_MAX}`), 'nodes', 1, SCENARIO_NODES_MAX);
  const network = parseNetwork(cx, m.get('network'));
  const accounts = parseAccounts(cx, m.get('accounts'));
  const protocol = m.has('protocol') ? parseProtocol(cx, m.get('protocol')) : 1;
  const listed = m.has('load') && !m.has('settlements') ? [] : parseSettlements(cx, required(cx, m, '', 'settlements', 'a list of settlements (or a load block)'));
  const settlements = m.has('load') ? Object.freeze([...listed, ...parseLoad(cx, m.get('load'), listed, (t, path) => parseSettlement(cx, t, path))]) : listed;
  const faults = parseFaults(cx, m.get('faults'), nodes, settlements);
  const expect = parseExpect(cx, m.get('expect'), settlements);
  const random = m.has('random') ? parseRandom(cx, m.get('random'), nodes, network, settlements, faults) : null;
  const admission = m.has('admission') ? { admission: parseAdmission(cx, m.get('admission')) } : {};
  // Protocol 1 scenarios keep exactly their v1 shape (no protocol or batching keys).
  const v2 = protocol === 2 ? { protocol, ...(m.has('batching') ? { batching: parseBatching(cx, m.get('batching'), protocol) } : {}) } : {};
  if (protocol === 1 && m.has('batching')) parseBatching(cx, m.get('batching'), protocol);
  const scenario: Scenario = Object.freeze({ name, description, seed, nodes, network, accounts, settlements, faults, expect, random, ...admission, ...v2 });
  checkV2Params(cx, scenario);
  return scenario;
}

/** The `admission:` block: only the keys given, so the nodes' defaults fill in the rest. */
function parseAdmission(cx: Cx, v: unknown): AdmissionSpec {
  const m = mapping(cx, v, 'admission', ADMISSION_KEYS);
  return Object.freeze({
    ...(m.has('openSettlementsMax') ? { openSettlementsMax: integerNumber(cx, m.get('openSettlementsMax'), 'admission.openSettlementsMax', 1, ADMISSION_OPEN_SETTLEMENTS_MAX) } : {}),
    ...(m.has('horizonMax') ? { horizonMaxMs: duration(cx, m.get('horizonMax'), 'admission.horizonMax', 1) } : {}),
    ...(m.has('commitGuard') ? { commitGuardMs: duration(cx, m.get('commitGuard'), 'admission.commitGuard', 0) } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Sections.

function parseNetwork(cx: Cx, v: unknown): NetworkSpec {
  if (v === undefined) {
    return Object.freeze({ latencyMinMs: SCENARIO_DEFAULTS.latencyMinMs, latencyMaxMs: SCENARIO_DEFAULTS.latencyMaxMs, drop: 0, duplicate: 0 });
  }
  const m = mapping(cx, v, 'network', NETWORK_KEYS);
  let latencyMinMs: number = SCENARIO_DEFAULTS.latencyMinMs;
  let latencyMaxMs: number = SCENARIO_DEFAULTS.latencyMaxMs;
  if (m.has('latency')) {
    const lat = mapping(cx, m.get('latency'), 'network.latency', LATENCY_KEYS);
    if (lat.has('min')) latencyMinMs = duration(cx, lat.get('min'), 'network.latency.min', 0);
    if (lat.has('max')) latencyMaxMs = duration(cx, lat.get('max'), 'network.latency.max', 0);
    if (latencyMinMs > latencyMaxMs) {
      const problem = `min ${formatDurationMs(latencyMinMs)} is above max ${formatDurationMs(latencyMaxMs)}`;
      cx.fail('network.latency', problem, 'min ≤ max (defaults: min 1ms, max 10ms)');
    }
  }
  const drop = m.has('drop') ? probability(cx, m.get('drop'), 'network.drop') : 0;
  const duplicate = m.has('duplicate') ? probability(cx, m.get('duplicate'), 'network.duplicate') : 0;
  return Object.freeze({ latencyMinMs, latencyMaxMs, drop, duplicate });
}

type Ledger = ReadonlyMap<string, ReadonlyMap<string, bigint>>;

function parseAccounts(cx: Cx, v: unknown): Scenario['accounts'] {
  if (v === undefined) return Object.freeze({ asset: new Map(), payment: new Map() });
  const m = mapping(cx, v, 'accounts', ACCOUNTS_KEYS);
  return Object.freeze({
    asset: m.has('asset') ? parseLedger(cx, m.get('asset'), 'accounts.asset', 'token') : new Map(),
    payment: m.has('payment') ? parseLedger(cx, m.get('payment'), 'accounts.payment', 'currency') : new Map(),
  });
}

/** `{ alice: { OUSG: 1000 } }`: party → unit → non-negative integer balance. */
function parseLedger(cx: Cx, v: unknown, path: string, unitWord: string): Ledger {
  const parties = dict(cx, v, path, `a mapping of party → { ${unitWord}: balance }`, SCENARIO_ACCOUNTS_MAX);
  const ledger = new Map<string, ReadonlyMap<string, bigint>>();
  for (const [party, balancesValue] of parties) {
    const partyPath = `${path}.${party}`;
    text1(cx, party, partyPath, STRING_BYTES_MAX);
    const balances = dict(cx, balancesValue, partyPath, `a mapping of ${unitWord} → balance`, SCENARIO_ACCOUNTS_MAX);
    const out = new Map<string, bigint>();
    for (const [unit, amount] of balances) {
      const unitPath = `${partyPath}.${unit}`;
      text1(cx, unit, unitPath, STRING_BYTES_MAX);
      out.set(unit, integer(cx, amount, unitPath, 0n, U256_MAX));
    }
    ledger.set(party, out);
  }
  return ledger;
}

function parseSettlements(cx: Cx, v: unknown): readonly ScenarioSettlement[] {
  const items = list(cx, v, 'settlements', 'a non-empty list of settlements', SCENARIO_SETTLEMENTS_MAX);
  if (items.length === 0) cx.fail('settlements', 'the list is empty', 'at least one settlement');
  const seen = new Map<string, number>();
  return Object.freeze(
    items.map((item, i) => {
      const s = parseSettlement(cx, item, `settlements[${i}]`);
      const first = seen.get(s.id);
      if (first !== undefined) cx.fail(`settlements[${i}].id`, `duplicate id '${s.id}' (also settlements[${first}])`, 'ids unique within the scenario');
      seen.set(s.id, i);
      return s;
    }),
  );
}

function parseSettlement(cx: Cx, v: unknown, path: string): ScenarioSettlement {
  const m = mapping(cx, v, path, SETTLEMENT_KEYS);
  const id = text1(cx, required(cx, m, path, 'id', 'a non-empty string'), `${path}.id`, SETTLEMENT_ID_BYTES_MAX);
  const atMs = m.has('at') ? duration(cx, m.get('at'), `${path}.at`, 0) : 0;
  const deadlineAfterMs = duration(cx, required(cx, m, path, 'deadline', DURATION_TEXT), `${path}.deadline`, 1);
  const reportWindowMs = m.has('reportWindow') ? duration(cx, m.get('reportWindow'), `${path}.reportWindow`, 0) : SCENARIO_DEFAULTS.reportWindowMs;
  const marginMs = m.has('margin') ? duration(cx, m.get('margin'), `${path}.margin`, 0) : SCENARIO_DEFAULTS.marginMs;
  const reclaimAtMs = atMs + deadlineAfterMs + reportWindowMs + marginMs;
  if (reclaimAtMs > SCENARIO_TIME_MAX_MS) {
    cx.fail(path, `at + deadline + reportWindow + margin is ${formatDurationMs(reclaimAtMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  }
  const am = mapping(cx, required(cx, m, path, 'asset', `a mapping with keys ${ASSET_KEYS.join(', ')}`), `${path}.asset`, ASSET_KEYS);
  const asset = Object.freeze({
    seller: requiredText(cx, am, `${path}.asset`, 'seller'),
    buyer: requiredText(cx, am, `${path}.asset`, 'buyer'),
    token: requiredText(cx, am, `${path}.asset`, 'token'),
    amount: amount(cx, am, `${path}.asset`),
  });
  const pm = mapping(cx, required(cx, m, path, 'payment', `a mapping with keys ${PAYMENT_KEYS.join(', ')}`), `${path}.payment`, PAYMENT_KEYS);
  const payment = Object.freeze({
    payer: requiredText(cx, pm, `${path}.payment`, 'payer'),
    payee: requiredText(cx, pm, `${path}.payment`, 'payee'),
    currency: requiredText(cx, pm, `${path}.payment`, 'currency'),
    amount: amount(cx, pm, `${path}.payment`),
  });
  return Object.freeze({ id, atMs, deadlineAfterMs, reportWindowMs, marginMs, asset, payment });
}

function amount(cx: Cx, m: Map<string, unknown>, path: string): bigint {
  return integer(cx, required(cx, m, path, 'amount', 'a positive integer'), `${path}.amount`, 1n, U256_MAX);
}

// ---------------------------------------------------------------------------------------------
// Faults.

function parseFaults(cx: Cx, v: unknown, nodes: number, settlements: readonly ScenarioSettlement[]): readonly Fault[] {
  if (v === undefined) return Object.freeze([]);
  const items = list(cx, v, 'faults', 'a list of faults', SCENARIO_FAULTS_MAX);
  const ids = new Set(settlements.map((s) => s.id));
  const faults = items.map((item, i) => parseFault(cx, item, `faults[${i}]`, nodes, ids));
  checkNodeWindows(cx, faults, 'crash');
  checkNodeWindows(cx, faults, 'isolate');
  checkLegFaultConflicts(cx, faults);
  return Object.freeze(faults);
}

function parseFault(cx: Cx, v: unknown, path: string, nodes: number, ids: ReadonlySet<string>): Fault {
  const kind = faultKind(cx, v, path);
  const allowed = kind === 'settlement' ? LEG_FAULT_KEYS : ['at', 'until', kind, ...(EXTRA_FAULT_KEYS[kind] ?? [])];
  const m = mapping(cx, v, path, allowed);
  const atMs = m.has('at') ? duration(cx, m.get('at'), `${path}.at`, 0) : 0;
  const untilMs = m.has('until') ? duration(cx, m.get('until'), `${path}.until`, 0) : null;
  if (untilMs !== null && untilMs <= atMs) {
    cx.fail(`${path}.until`, `until ${formatDurationMs(untilMs)} is not after at ${formatDurationMs(atMs)}`, 'a time after at');
  }
  const endMs = untilMs ?? atMs;
  if (endMs > SCENARIO_TIME_MAX_MS) cx.fail(path, `the fault ends at ${formatDurationMs(endMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  switch (kind) {
    case 'crash':
      return Object.freeze({ kind, atMs, untilMs, node: nodeName(cx, m.get('crash'), `${path}.crash`, nodes) });
    case 'isolate':
      return Object.freeze({ kind, atMs, untilMs, node: nodeName(cx, m.get('isolate'), `${path}.isolate`, nodes) });
    case 'partition':
      return Object.freeze({ kind, atMs, untilMs, groups: partitionGroups(cx, m.get('partition'), `${path}.partition`, nodes) });
    case 'settlement':
      return legFault(cx, m, path, atMs, untilMs, ids);
    default:
      return extraFault(cx, kind, m, path, atMs, untilMs, nodes, ids);
  }
}

function nodeList(cx: Cx, v: unknown, path: string, nodes: number): readonly NodeIndex[] {
  if (v === undefined) return Object.freeze(Array.from({ length: nodes }, (_, i) => i + 1));
  if (typeof v === 'string') return Object.freeze([nodeName(cx, v, path, nodes)]);
  const items = list(cx, v, path, 'a node name or a list of node names', nodes);
  if (items.length === 0) cx.fail(path, 'empty list', 'at least one node name');
  return Object.freeze([...new Set(items.map((x, i) => nodeName(cx, x, `${path}[${i}]`, nodes)))]);
}

function extraFault(cx: Cx, kind: Exclude<FaultKey, 'crash' | 'isolate' | 'partition' | 'settlement'>, m: Map<string, unknown>, path: string, atMs: number, untilMs: number | null, nodes: number, ids: ReadonlySet<string>): Fault {
  switch (kind) {
    case 'delay': {
      const node = nodeName(cx, m.get('delay'), `${path}.delay`, nodes);
      const extraMs = duration(cx, required(cx, m, path, 'extra', DURATION_TEXT), `${path}.extra`, 1);
      return Object.freeze({ kind, atMs, untilMs, node, extraMs });
    }
    case 'drop':
    case 'duplicate': {
      const rate = probability(cx, m.get(kind), `${path}.${kind}`);
      if (rate === 0) cx.fail(`${path}.${kind}`, 'a rate of 0 does nothing', 'a probability in (0, 1)');
      return Object.freeze({ kind, atMs, untilMs, rate, from: nodeList(cx, m.get('from'), `${path}.from`, nodes), to: nodeList(cx, m.get('to'), `${path}.to`, nodes) });
    }
    case 'clock-skew': {
      const v = m.get('clock-skew');
      const target: NodeIndex | 'asset' | 'payment' = v === 'asset' || v === 'payment' ? v : nodeName(cx, v, `${path}.clock-skew`, nodes);
      if (m.has('ahead') === m.has('behind')) cx.fail(path, m.has('ahead') ? "both 'ahead' and 'behind'" : "neither 'ahead' nor 'behind'", `exactly one of ahead or behind (${DURATION_TEXT})`);
      const skewMs = m.has('ahead') ? duration(cx, m.get('ahead'), `${path}.ahead`, 1) : -duration(cx, m.get('behind'), `${path}.behind`, 1);
      return Object.freeze({ kind, atMs, untilMs, target, skewMs });
    }
    case 'reorg': {
      if (m.get('reorg') !== 'asset') cx.fail(`${path}.reorg`, `${describe(m.get('reorg'))} cannot reorganise`, "'asset' (only the chain has blocks to reorganise)");
      if (untilMs !== null) cx.fail(`${path}.until`, "'until' does not apply to a reorg", 'no until (a reorg is an instant)');
      const settlement = requiredText(cx, m, path, 'settlement');
      if (!ids.has(settlement)) cx.fail(`${path}.settlement`, `unknown settlement ${quote(settlement)}`, `one of the settlement ids: ${listSome([...ids])}`);
      return Object.freeze({ kind, atMs, untilMs: null, settlement });
    }
    case 'byzantine': {
      if (nodes < 4) cx.fail(`${path}.byzantine`, `a Byzantine node with nodes: ${nodes} (f = 0 tolerates none)`, 'nodes: 4 or more (f = floor((n-1)/3) ≥ 1)');
      const node = nodeName(cx, m.get('byzantine'), `${path}.byzantine`, nodes);
      const all = [...BYZANTINE_BEHAVIOURS, ...BYZANTINE_BEHAVIOURS_V2];
      const behaviour = oneOf(cx, required(cx, m, path, 'behaviour', all.join(', ')), `${path}.behaviour`, all);
      return Object.freeze({ kind, atMs, untilMs, node, behaviour });
    }
  }
}

/** The one kind key of a fault mapping; unsupported and missing or repeated kinds are errors. */
function faultKind(cx: Cx, v: unknown, path: string): FaultKey {
  const expected = `a mapping with 'at', optional 'until' and exactly one of ${SUPPORTED_KINDS_TEXT}`;
  if (!(v instanceof Map)) return cx.fail(path, `${describe(v)} is not a mapping`, expected);
  const kinds: FaultKey[] = [];
  for (const k of v.keys()) {
    if (typeof k !== 'string') continue; // reported as an unknown key by mapping()
    if (UNSUPPORTED_FAULT_KINDS.includes(k)) {
      cx.fail(`${path}.${k}`, `fault kind '${k}' is not supported by this version of the simulator`, `one of the supported kinds: ${SUPPORTED_KINDS_TEXT}`);
    }
    for (const kind of FAULT_KINDS) if (k === kind) kinds.push(kind);
  }
  // A reorg names its settlement with the same key a leg fault uses as its kind.
  if (kinds.includes('reorg')) kinds.splice(kinds.indexOf('settlement'), kinds.includes('settlement') ? 1 : 0);
  const [kind, second] = kinds;
  if (kind === undefined) {
    // A stray key (`crahs: n1`) is the likelier mistake than a forgotten kind: name it.
    const stray = [...v.keys()].find((k) => !LEG_FAULT_KEYS.includes(String(k)));
    if (stray !== undefined) cx.fail(`${path}.${String(stray)}`, 'unknown key', `one of at, until, ${SUPPORTED_KINDS_TEXT}`);
    cx.fail(path, 'no fault kind', `exactly one of ${SUPPORTED_KINDS_TEXT}`);
  }
  if (second !== undefined) cx.fail(path, `more than one fault kind (${kinds.join(', ')})`, `exactly one of ${SUPPORTED_KINDS_TEXT}`);
  return kind;
}
/** Disjoint, non-empty groups; unlisted nodes become one extra group, appended last. */
function partitionGroups(cx: Cx, v: unknown, path: string, nodes: number): readonly (readonly NodeIndex[])[] {
  const expected = 'a list of disjoint, non-empty lists of node names, e.g. [[n1, n2], [n3, n4]]';
  const groupValues = list(cx, v, path, expected, nodes);
  const seenIn = new Map<NodeIndex, number>();
  const groups = groupValues.map((gv, g) => {
    const members = list(cx, gv, `${path}[${g}]`, expected, nodes);
    if (members.length === 0) cx.fail(`${path}[${g}]`, 'empty group', expected);
    return Object.freeze(
      members.map((nv, j) => {
        const node = nodeName(cx, nv, `${path}[${g}][${j}]`, nodes);
        const other = seenIn.get(node);
        if (other !== undefined) cx.fail(`${path}[${g}][${j}]`, `n${node} is already in ${path}[${other}]`, 'each node in at most one group');
        seenIn.set(node, g);
        return node;
      }),
    );
  });
  const unlisted: NodeIndex[] = [];
  for (let node = 1; node <= nodes; node++) if (!seenIn.has(node)) unlisted.push(node);
  if (unlisted.length > 0) groups.push(Object.freeze(unlisted));
  if (groups.length < 2) cx.fail(path, 'the partition leaves every node in one group', 'at least two groups (unlisted nodes form one extra group)');
  return Object.freeze(groups);
}

function legFault(cx: Cx, m: Map<string, unknown>, path: string, atMs: number, untilMs: number | null, ids: ReadonlySet<string>): Fault {
  const settlement = requiredText(cx, m, path, 'settlement');
  if (!ids.has(settlement)) cx.fail(`${path}.settlement`, `unknown settlement ${quote(settlement)}`, `one of the settlement ids: ${listSome([...ids])}`);
  const leg = oneOf(cx, required(cx, m, path, 'leg', 'asset or payment'), `${path}.leg`, ['asset', 'payment'] as const);
  const fail = oneOf(cx, required(cx, m, path, 'fail', LEG_FAILURES.join(', ')), `${path}.fail`, LEG_FAILURES);
  if (fail === 'unavailable' && untilMs === null) cx.fail(`${path}.until`, 'missing required key', `${DURATION_TEXT} (fail: unavailable needs an end)`);
  if (fail !== 'unavailable' && untilMs !== null) {
    cx.fail(`${path}.until`, `'until' does not apply to fail: ${fail}`, 'no until (only fail: unavailable is a window)');
  }
  if (fail !== 'late-lock' && m.has('after')) cx.fail(`${path}.after`, `'after' does not apply to fail: ${fail}`, 'no after (only fail: late-lock)');
  if (fail !== 'apply-error' && m.has('times')) cx.fail(`${path}.times`, `'times' does not apply to fail: ${fail}`, 'no times (only fail: apply-error)');
  const afterValue = fail === 'late-lock' ? required(cx, m, path, 'after', `${DURATION_TEXT} (fail: late-lock needs a delay)`) : undefined;
  const afterMs = fail === 'late-lock' ? duration(cx, afterValue, `${path}.after`, 1) : 0;
  if (afterMs > SCENARIO_TIME_MAX_MS) cx.fail(`${path}.after`, `${formatDurationMs(afterMs)} is too long`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  const times = fail !== 'apply-error' ? 0 : m.has('times') ? integerNumber(cx, m.get('times'), `${path}.times`, 1, APPLY_ERROR_TIMES_MAX) : 1;
  return Object.freeze({ kind: 'leg', atMs, untilMs, settlement, leg, fail, afterMs, times });
}

/** Two crash (or two isolate) windows of one node that overlap have no single meaning. */
function checkNodeWindows(cx: Cx, faults: readonly Fault[], kind: 'crash' | 'isolate'): void {
  for (let j = 0; j < faults.length; j++) {
    const b = faults[j];
    if (b?.kind !== kind) continue;
    for (let i = 0; i < j; i++) {
      const a = faults[i];
      if (a?.kind !== kind || a.node !== b.node) continue;
      const overlap = a.atMs < (b.untilMs ?? Infinity) && b.atMs < (a.untilMs ?? Infinity);
      if (overlap) cx.fail(`faults[${j}]`, `${kind} of n${b.node} overlaps faults[${i}]`, `${kind} windows of one node that do not overlap`);
    }
  }
}

/** reject, never-lock and late-lock each say what happens to the prepare: at most one per leg. */
function checkLegFaultConflicts(cx: Cx, faults: readonly Fault[]): void {
  const prepareFault = new Map<string, number>();
  faults.forEach((f, i) => {
    if (f.kind !== 'leg' || !(f.fail === 'reject' || f.fail === 'never-lock' || f.fail === 'late-lock')) return;
    const key = `${f.leg} ${f.settlement}`;
    const first = prepareFault.get(key);
    if (first !== undefined) {
      const problem = `a second prepare fault on the ${f.leg} leg of ${quote(f.settlement)} (also faults[${first}])`;
      cx.fail(`faults[${i}]`, problem, 'at most one of reject, never-lock, late-lock per leg');
    }
    prepareFault.set(key, i);
  });
}
// ---------------------------------------------------------------------------------------------
// Expectations.

function parseExpect(cx: Cx, v: unknown, settlements: readonly ScenarioSettlement[]): Expectations {
  // Null prototype: a settlement named `constructor` must not find Object.prototype's.
  const outcomes = Object.create(null) as Record<string, Outcome>;
  if (v === undefined) return Object.freeze({ outcomes: Object.freeze(outcomes), decideWithinMs: null, violations: Object.freeze([]) });
  const m = mapping(cx, v, 'expect', EXPECT_KEYS);
  const ids = settlements.map((s) => s.id);
  if (m.has('outcomes')) {
    const entries = dict(cx, m.get('outcomes'), 'expect.outcomes', 'a mapping of settlement id → commit | abort | any', SCENARIO_SETTLEMENTS_MAX);
    for (const [id, outcome] of entries) {
      if (!ids.includes(id)) cx.fail(`expect.outcomes.${id}`, `unknown settlement ${quote(id)}`, `one of the settlement ids: ${listSome(ids)}`);
      outcomes[id] = oneOf(cx, outcome, `expect.outcomes.${id}`, OUTCOMES);
    }
  }
  let decideWithinMs: number | null = null;
  if (m.has('decideWithin')) {
    decideWithinMs = duration(cx, m.get('decideWithin'), 'expect.decideWithin', 1);
    if (decideWithinMs > SCENARIO_TIME_MAX_MS) {
      cx.fail('expect.decideWithin', `${formatDurationMs(decideWithinMs)} is too long`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
    }
  }
  const violations: string[] = [];
  if (m.has('violations')) {
    const items = list(cx, m.get('violations'), 'expect.violations', 'a list of invariant names', INVARIANT_NAMES.length);
    items.forEach((item, i) => {
      const name = oneOf(cx, item, `expect.violations[${i}]`, INVARIANT_NAMES);
      if (violations.includes(name)) cx.fail(`expect.violations[${i}]`, `${quote(name)} is listed twice`, 'each invariant at most once');
      violations.push(name);
    });
  }
  const refused = m.has('refused') ? { refused: parseRefused(cx, m.get('refused'), ids, outcomes) } : {};
  return Object.freeze({ outcomes: Object.freeze(outcomes), decideWithinMs, violations: Object.freeze(violations), ...refused });
}

/** `expect.refused`: settlement id → the reason every node the intent reached refuses it with; such a settlement has no outcome. */
function parseRefused(cx: Cx, v: unknown, ids: readonly string[], outcomes: Readonly<Record<string, Outcome>>): Readonly<Record<string, RefusalReason>> {
  const refused = Object.create(null) as Record<string, RefusalReason>;
  const entries = dict(cx, v, 'expect.refused', `a mapping of settlement id → ${REFUSAL_REASONS.join(' | ')}`, SCENARIO_SETTLEMENTS_MAX);
  for (const [id, reason] of entries) {
    if (!ids.includes(id)) cx.fail(`expect.refused.${id}`, `unknown settlement ${quote(id)}`, `one of the settlement ids: ${listSome([...ids])}`);
    if (outcomes[id] !== undefined) cx.fail(`expect.refused.${id}`, `${quote(id)} also has an expected outcome`, 'a settlement either refused or with an outcome, not both');
    refused[id] = oneOf(cx, reason, `expect.refused.${id}`, REFUSAL_REASONS);
  }
  return Object.freeze(refused);
}
