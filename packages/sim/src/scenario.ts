/**
 * Scenario loader: YAML text (DESIGN §4, format v1) → a validated, defaulted, frozen Scenario.
 *
 * Every problem becomes a ScenarioError that names the file, the key path and what was expected,
 * because the CLI turns it into exit code 2 with that message (DESIGN §5). Unknown keys are errors
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
 * - The `random:` block holds ranges only; it is validated here so that every seed draws a
 *   scenario this loader would accept as written (see parseRandom), and drawn by random.ts.
 */
import { parseDocument } from 'yaml';
import { STRING_BYTES_MAX, U256_MAX, utf8 } from '@tandem/protocol';
import { formatDurationMs, parseDurationMs } from './duration.js';

export type NodeIndex = number; // 1..n  (YAML names nodes n1..nN)

export interface NetworkSpec {
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  readonly drop: number;
  readonly duplicate: number;
}

export interface ScenarioSettlement {
  readonly id: string; // client nonce
  readonly atMs: number; // intent time
  readonly deadlineMs: number; // RELATIVE to atMs as in YAML (absolute deadline = atMs + deadlineMs)
  readonly reportWindowMs: number; // default 30s
  readonly marginMs: number; // default 10s
  readonly asset: { readonly seller: string; readonly buyer: string; readonly token: string; readonly amount: bigint };
  readonly payment: { readonly payer: string; readonly payee: string; readonly currency: string; readonly amount: bigint };
}

export type LegFailure = 'reject' | 'never-lock' | 'late-lock' | 'apply-error' | 'unavailable';

export type Fault =
  | { readonly kind: 'crash'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex }
  | { readonly kind: 'partition'; readonly atMs: number; readonly untilMs: number | null; readonly groups: readonly (readonly NodeIndex[])[] }
  | { readonly kind: 'isolate'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex }
  | {
      readonly kind: 'leg';
      readonly atMs: number;
      readonly untilMs: number | null;
      readonly settlement: string;
      readonly leg: 'asset' | 'payment';
      readonly fail: LegFailure;
      readonly afterMs: number /* late-lock delay, 0 otherwise */;
      readonly times: number /* apply-error count, 0 otherwise */;
    }
  | ExtraFault;

export type ByzantineBehaviour = 'equivocate' | 'silent' | 'lie-locked' | 'lie-rejected' | 'invalid-partial' | 'amnesia' | 'flood';
export const BYZANTINE_BEHAVIOURS: readonly ByzantineBehaviour[] = ['equivocate', 'silent', 'lie-locked', 'lie-rejected', 'invalid-partial', 'amnesia', 'flood'];

/** Network and clock faults beyond crash/partition/isolate, and Byzantine members (DESIGN §4). */
export type ExtraFault =
  /** Extra latency on every message to or from `node`. */
  | { readonly kind: 'delay'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex; readonly extraMs: number }
  /** Messages from a node in `from` to a node in `to` are lost (or duplicated) with probability `rate`. */
  | { readonly kind: 'drop' | 'duplicate'; readonly atMs: number; readonly untilMs: number | null; readonly rate: number; readonly from: readonly NodeIndex[]; readonly to: readonly NodeIndex[] }
  /** A node's or a leg's clock runs `skewMs` ahead (negative: behind) of virtual time. */
  | { readonly kind: 'clock-skew'; readonly atMs: number; readonly untilMs: number | null; readonly target: NodeIndex | 'asset' | 'payment'; readonly skewMs: number }
  /** The asset chain drops the settlement's lock if it is not yet final at `atMs`. */
  | { readonly kind: 'reorg'; readonly atMs: number; readonly untilMs: null; readonly settlement: string }
  | { readonly kind: 'byzantine'; readonly atMs: number; readonly untilMs: number | null; readonly node: NodeIndex; readonly behaviour: ByzantineBehaviour };

export type Outcome = 'commit' | 'abort' | 'any';

export interface Expectations {
  readonly outcomes: Readonly<Record<string, Outcome>>;
  readonly decideWithinMs: number | null;
  readonly violations: readonly string[];
}

/** An inclusive range `[lo, hi]` of a scenario's `random:` block (ms, probability or count). */
export type Range = readonly [lo: number, hi: number];

/** Weights of the prepare outcome drawn per settlement (relative, integers ≥ 0, sum > 0). */
export interface LegWeights {
  readonly none: number;
  readonly reject: number;
  readonly neverLock: number;
  readonly lateLock: number;
}

/**
 * The `random:` block (DESIGN §4, for `tandem explore`): ranges from which each seed draws fault
 * parameters (random.ts draws them). A section that is absent draws nothing; a network key that
 * is absent keeps the scenario's own value.
 */
export interface RandomSpec {
  /** Lets the drawn crashes and isolations exceed f (the liveness assumption); off by default. */
  readonly allowBeyondF: boolean;
  readonly network: {
    readonly latencyMinMs: Range | null;
    readonly latencyMaxMs: Range | null;
    readonly drop: Range | null;
    readonly duplicate: Range | null;
  } | null;
  readonly crash: {
    readonly nodes: readonly NodeIndex[]; // candidates, distinct, in file order
    readonly count: Range; // distinct nodes crashed per seed
    readonly atMs: Range;
    readonly downForMs: Range;
    readonly restart: number; // probability each drawn crash restarts after downFor (else for good)
  } | null;
  readonly partition: {
    readonly count: Range;
    readonly groups: Range; // number of groups of each drawn split
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  readonly isolate: {
    readonly nodes: readonly NodeIndex[];
    readonly count: Range;
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  /** Loss windows: each drawn sender's messages to every node are lost at a drawn rate (`{ drop, from }`). */
  readonly drop: {
    readonly nodes: readonly NodeIndex[]; // candidate senders, distinct, in file order
    readonly count: Range; // distinct senders per seed
    readonly rate: Range; // loss probability, 0 < lo ≤ hi < 1
    readonly atMs: Range;
    readonly lengthMs: Range;
  } | null;
  readonly byzantine: {
    readonly nodes: readonly NodeIndex[];
    readonly count: Range; // distinct Byzantine members per seed, each for the whole run
    readonly behaviours: readonly ByzantineBehaviour[]; // drawn uniformly per member
  } | null;
  readonly legs: {
    readonly settlements: readonly string[]; // ids, in scenario order
    readonly legs: readonly ('asset' | 'payment')[];
    readonly weights: LegWeights;
    readonly afterMs: Range | null; // late-lock delay from the settlement's `at`; set iff lateLock > 0
  } | null;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly nodes: number;
  readonly network: NetworkSpec;
  readonly accounts: {
    readonly asset: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
    readonly payment: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
  };
  readonly settlements: readonly ScenarioSettlement[];
  readonly faults: readonly Fault[];
  readonly expect: Expectations;
  /**
   * The `random:` block, or null (absent: scenarios built in code need not set it). A scenario
   * with one is a family: drawScenario(scenario, seed) picks the member a seed runs.
   */
  readonly random?: RandomSpec | null;
}

/** The invariant names of DESIGN §6 that `expect.violations` may list. */
export const INVARIANT_NAMES: readonly string[] = Object.freeze([
  'agreement',
  'decide-once',
  'validity',
  'report-soundness',
  'one-decision-per-settlement',
  'no-equivocation',
  'commit-justified',
  'termination',
  'non-triviality',
  'all-or-nothing-a',
  'all-or-nothing-b',
  'legs-move-on-reports',
  'no-double-execution',
  'conservation',
  'ledgers-match-reports',
]);

/** Bounds on what one scenario may ask for (TIGER_STYLE: a bound on everything). */
export const SCENARIO_NODES_MAX = 100;
export const SCENARIO_SETTLEMENTS_MAX = 10_000;
export const SCENARIO_FAULTS_MAX = 1_000;
export const SCENARIO_ACCOUNTS_MAX = 10_000; // parties per ledger
export const SCENARIO_TIME_MAX_MS = 24 * 3_600_000; // any absolute virtual time in the file
export const SCENARIO_TEXT_CHARS_MAX = 4 * 1024 * 1024;
export const SETTLEMENT_ID_BYTES_MAX = 64;
export const APPLY_ERROR_TIMES_MAX = 1_000;

/** Defaults of DESIGN §4 and of this loader. */
export const SCENARIO_DEFAULTS = Object.freeze({
  seed: 1,
  latencyMinMs: 1,
  latencyMaxMs: 10,
  reportWindowMs: 30_000,
  marginMs: 10_000,
});

/**
 * A scenario file that cannot be used. `message` is `${file}: ${keyPath}: ${problem}; expected
 * ${expected}`; the CLI prints it and exits 2. For YAML syntax errors `keyPath` is `line N`.
 */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly file: string;
  readonly keyPath: string;
  readonly problem: string;
  readonly expected: string;

  constructor(file: string, keyPath: string, problem: string, expected: string) {
    super(`${file}: ${keyPath}: ${problem}; expected ${expected}`);
    this.file = file;
    this.keyPath = keyPath;
    this.problem = problem;
    this.expected = expected;
  }
}

// ---------------------------------------------------------------------------------------------
// Key sets. The unknown-key message lists them in this order.

const ROOT_KEYS = ['name', 'description', 'seed', 'nodes', 'network', 'accounts', 'settlements', 'faults', 'expect', 'random'];
const NETWORK_KEYS = ['latency', 'drop', 'duplicate'];
const LATENCY_KEYS = ['min', 'max'];
const ACCOUNTS_KEYS = ['asset', 'payment'];
const SETTLEMENT_KEYS = ['id', 'at', 'deadline', 'reportWindow', 'margin', 'asset', 'payment'];
const ASSET_KEYS = ['seller', 'buyer', 'token', 'amount'];
const PAYMENT_KEYS = ['payer', 'payee', 'currency', 'amount'];
const EXPECT_KEYS = ['outcomes', 'decideWithin', 'violations'];
const FAULT_KINDS = ['crash', 'partition', 'isolate', 'settlement', 'delay', 'drop', 'duplicate', 'clock-skew', 'reorg', 'byzantine'] as const;
type FaultKey = (typeof FAULT_KINDS)[number];
const LEG_FAULT_KEYS = ['at', 'until', 'settlement', 'leg', 'fail', 'after', 'times'];
// Kinds DESIGN §4 names for later versions: recognised so the error says "not supported yet"
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
const DURATION_TEXT = 'a duration string with a unit (ms, s, m, h), e.g. 250ms or 2s';

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
  const settlements = parseSettlements(cx, required(cx, m, '', 'settlements', 'a list of settlements'));
  const faults = parseFaults(cx, m.get('faults'), nodes, settlements);
  const expect = parseExpect(cx, m.get('expect'), settlements);
  const random = m.has('random') ? parseRandom(cx, m.get('random'), nodes, network, settlements, faults) : null;
  return Object.freeze({ name, description, seed, nodes, network, accounts, settlements, faults, expect, random });
}

// ---------------------------------------------------------------------------------------------
// YAML → plain values (Map for mappings, array for sequences, bigint for integers).

function readYaml(cx: Cx, text: string): unknown {
  if (text.length > SCENARIO_TEXT_CHARS_MAX) {
    cx.fail('(document)', `the file has ${text.length} characters`, `at most ${SCENARIO_TEXT_CHARS_MAX}`);
  }
  try {
    // YAML 1.2 core schema forced even under a `%YAML 1.1` directive: no yes/no booleans, no
    // sexagesimal numbers, no timestamps, no merge keys — one reading of every scalar.
    // intAsBigInt keeps amounts exact beyond 2^53; floats stay numbers, so they can be refused.
    const doc = parseDocument(text, {
      intAsBigInt: true,
      uniqueKeys: true,
      prettyErrors: true,
      version: '1.2',
      schema: 'core',
      merge: false,
    });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem !== undefined) {
      const line = problem.linePos?.[0]?.line;
      const firstLine = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      cx.fail(line === undefined ? '(document)' : `line ${line}`, firstLine, 'valid YAML');
    }
    // mapAsMap: keys stay what they are (no `__proto__` games, no stringified collection keys).
    return doc.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    // Unresolved or excessive aliases, or input nested deeper than the parser's stack.
    const message = e instanceof Error ? e.message : String(e);
    return cx.fail('(document)', message.split('\n')[0] ?? 'unreadable YAML', 'valid YAML');
  }
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
  const deadlineMs = duration(cx, required(cx, m, path, 'deadline', DURATION_TEXT), `${path}.deadline`, 1);
  const reportWindowMs = m.has('reportWindow') ? duration(cx, m.get('reportWindow'), `${path}.reportWindow`, 0) : SCENARIO_DEFAULTS.reportWindowMs;
  const marginMs = m.has('margin') ? duration(cx, m.get('margin'), `${path}.margin`, 0) : SCENARIO_DEFAULTS.marginMs;
  const reclaimAtMs = atMs + deadlineMs + reportWindowMs + marginMs;
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
  return Object.freeze({ id, atMs, deadlineMs, reportWindowMs, marginMs, asset, payment });
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
      const behaviour = oneOf(cx, required(cx, m, path, 'behaviour', BYZANTINE_BEHAVIOURS.join(', ')), `${path}.behaviour`, BYZANTINE_BEHAVIOURS);
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

function nodeName(cx: Cx, v: unknown, path: string, nodes: number): NodeIndex {
  const expected = nodes === 1 ? 'n1' : `a node name n1..n${nodes}`;
  if (typeof v !== 'string') return cx.fail(path, `${describe(v)} is not a node name`, expected);
  const m = /^n([1-9]\d{0,2})$/.exec(v);
  const index = m?.[1] === undefined ? NaN : Number(m[1]);
  if (!(index >= 1 && index <= nodes)) return cx.fail(path, `unknown node ${quote(v)}`, expected);
  return index;
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
// The random: block (for tandem explore). Only ranges are read here; random.ts draws from them.
//
// What is checked, so that every seed draws a scenario the loader would accept as written:
// - every range is `[lo, hi]` with lo ≤ hi, read as the fixed key of the same name would be;
// - crash (isolate, byzantine) candidates are not named by fixed faults of the same kind, so a
//   drawn window can never overlap a fixed one of the same node, and drawn nodes are distinct;
// - latency: the drawn max is drawn at or above the drawn min, which needs min.hi ≤ max.hi;
// - at most f nodes faulty in all (fixed faults plus the most crashes, isolations and Byzantine
//   members that can be drawn), unless allowBeyondF: true — beyond f no liveness is promised;
//   drawn loss windows (drop) make no node faulty and are not counted;
// - a drawn loss rate is in (0, 1), as a fixed drop fault's must be;
// - every drawn fault ends by SCENARIO_TIME_MAX_MS.

const RANDOM_KEYS = ['allowBeyondF', 'network', 'crash', 'partition', 'isolate', 'drop', 'byzantine', 'legs'];
const RANDOM_BYZANTINE_KEYS = ['nodes', 'count', 'behaviours'];
const RANDOM_NETWORK_KEYS = ['latency', 'drop', 'duplicate'];
const RANDOM_CRASH_KEYS = ['nodes', 'count', 'at', 'downFor', 'restart'];
const RANDOM_PARTITION_KEYS = ['count', 'groups', 'at', 'length'];
const RANDOM_ISOLATE_KEYS = ['nodes', 'count', 'at', 'length'];
const RANDOM_DROP_KEYS = ['nodes', 'count', 'rate', 'at', 'length'];
const RANDOM_LEGS_KEYS = ['settlements', 'leg', 'weights', 'after'];
const RANDOM_WEIGHT_KEYS = ['none', 'reject', 'never-lock', 'late-lock'];
/** Bounds on what one seed may draw (TIGER_STYLE). */
export const RANDOM_PARTITIONS_MAX = 16;
export const RANDOM_WEIGHT_MAX = 1_000_000;
const RANGE_TEXT = 'a range [lo, hi] with lo ≤ hi';

function parseRandom(cx: Cx, v: unknown, nodes: number, base: NetworkSpec, settlements: readonly ScenarioSettlement[], faults: readonly Fault[]): RandomSpec {
  const m = mapping(cx, v, 'random', RANDOM_KEYS);
  const allowBeyondF = m.has('allowBeyondF') ? boolean(cx, m.get('allowBeyondF'), 'random.allowBeyondF') : false;
  const spec: RandomSpec = Object.freeze({
    allowBeyondF,
    network: m.has('network') ? randomNetwork(cx, m.get('network')) : null,
    crash: m.has('crash') ? randomCrash(cx, m.get('crash'), nodes, faults) : null,
    partition: m.has('partition') ? randomPartition(cx, m.get('partition'), nodes) : null,
    isolate: m.has('isolate') ? randomIsolate(cx, m.get('isolate'), nodes, faults) : null,
    drop: m.has('drop') ? randomDrop(cx, m.get('drop'), nodes) : null,
    byzantine: m.has('byzantine') ? randomByzantine(cx, m.get('byzantine'), nodes, faults) : null,
    legs: m.has('legs') ? randomLegs(cx, m.get('legs'), settlements) : null,
  });
  if (spec.network !== null) checkRandomLatency(cx, spec.network, base);
  if (!allowBeyondF) checkRandomWithinF(cx, spec, nodes, faults);
  return spec;
}

function randomNetwork(cx: Cx, v: unknown): NonNullable<RandomSpec['network']> {
  const m = mapping(cx, v, 'random.network', RANDOM_NETWORK_KEYS);
  let latencyMinMs: Range | null = null;
  let latencyMaxMs: Range | null = null;
  if (m.has('latency')) {
    const lat = mapping(cx, m.get('latency'), 'random.network.latency', LATENCY_KEYS);
    if (lat.has('min')) latencyMinMs = range(cx, lat.get('min'), 'random.network.latency.min', (x, p) => duration(cx, x, p, 0));
    if (lat.has('max')) latencyMaxMs = range(cx, lat.get('max'), 'random.network.latency.max', (x, p) => duration(cx, x, p, 0));
  }
  const drop = m.has('drop') ? range(cx, m.get('drop'), 'random.network.drop', (x, p) => probability(cx, x, p)) : null;
  const duplicate = m.has('duplicate') ? range(cx, m.get('duplicate'), 'random.network.duplicate', (x, p) => probability(cx, x, p)) : null;
  return Object.freeze({ latencyMinMs, latencyMaxMs, drop, duplicate });
}

/** The drawn max is drawn from [max(max.lo, drawn min), max.hi]: non-empty iff min.hi ≤ max.hi. */
function checkRandomLatency(cx: Cx, net: NonNullable<RandomSpec['network']>, base: NetworkSpec): void {
  const minHi = net.latencyMinMs?.[1] ?? base.latencyMinMs;
  const maxHi = net.latencyMaxMs?.[1] ?? base.latencyMaxMs;
  if (minHi > maxHi) {
    const problem = `a min of up to ${formatDurationMs(minHi)} can exceed every max (up to ${formatDurationMs(maxHi)})`;
    cx.fail('random.network.latency', problem, 'the highest min ≤ the highest max (an absent range keeps network.latency)');
  }
}

function randomCrash(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['crash']> {
  const path = 'random.crash';
  const m = mapping(cx, v, path, RANDOM_CRASH_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, faults, 'crash');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const restart = m.has('restart') ? closedProbability(cx, m.get('restart'), `${path}.restart`) : 1;
  // Without any restart downFor means nothing: not required then, but still checked if given.
  const downForValue = restart > 0 ? required(cx, m, path, 'downFor', `${RANGE_TEXT} of durations (restart > 0)`) : m.get('downFor');
  const downForMs: Range = downForValue === undefined ? [1, 1] : range(cx, downForValue, `${path}.downFor`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, downForMs);
  return Object.freeze({ nodes: candidates, count, atMs, downForMs, restart });
}

function randomPartition(cx: Cx, v: unknown, nodes: number): NonNullable<RandomSpec['partition']> {
  const path = 'random.partition';
  const m = mapping(cx, v, path, RANDOM_PARTITION_KEYS);
  if (nodes < 2) cx.fail(path, 'a cluster of one node cannot be split', 'no partition section when nodes is 1');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, RANDOM_PARTITIONS_MAX, 'the partition bound');
  const groups: Range = m.has('groups') ? range(cx, m.get('groups'), `${path}.groups`, (x, p) => integerNumber(cx, x, p, 2, nodes)) : [2, 2];
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const lengthMs = range(cx, required(cx, m, path, 'length', RANGE_TEXT), `${path}.length`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, lengthMs);
  return Object.freeze({ count, groups, atMs, lengthMs });
}

function randomIsolate(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['isolate']> {
  const path = 'random.isolate';
  const m = mapping(cx, v, path, RANDOM_ISOLATE_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, faults, 'isolate');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const lengthMs = range(cx, required(cx, m, path, 'length', RANGE_TEXT), `${path}.length`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, lengthMs);
  return Object.freeze({ nodes: candidates, count, atMs, lengthMs });
}

/**
 * Directional loss windows. Lost messages make no node faulty (the checker counts only crashed,
 * Byzantine and skewed members), so these do not count towards f; and a drawn window may overlap
 * a fixed `drop` fault of the same sender, since loss rates simply combine.
 */
function randomDrop(cx: Cx, v: unknown, nodes: number): NonNullable<RandomSpec['drop']> {
  const path = 'random.drop';
  const m = mapping(cx, v, path, RANDOM_DROP_KEYS);
  const candidates = randomNodes(cx, m, path, nodes, [], null);
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  const rate = range(cx, required(cx, m, path, 'rate', `${RANGE_TEXT} of probabilities`), `${path}.rate`, (x, p) => probability(cx, x, p));
  // As for a fixed drop fault: a rate of 0 does nothing, so no seed may draw it.
  if (rate[0] === 0) cx.fail(`${path}.rate[0]`, 'a rate of 0 does nothing', 'a probability in (0, 1)');
  const atMs = range(cx, required(cx, m, path, 'at', RANGE_TEXT), `${path}.at`, (x, p) => duration(cx, x, p, 0));
  const lengthMs = range(cx, required(cx, m, path, 'length', RANGE_TEXT), `${path}.length`, (x, p) => duration(cx, x, p, 1));
  checkRandomEnd(cx, path, atMs, lengthMs);
  return Object.freeze({ nodes: candidates, count, rate, atMs, lengthMs });
}

function randomByzantine(cx: Cx, v: unknown, nodes: number, faults: readonly Fault[]): NonNullable<RandomSpec['byzantine']> {
  const path = 'random.byzantine';
  const m = mapping(cx, v, path, RANDOM_BYZANTINE_KEYS);
  if (nodes < 4) cx.fail(path, `Byzantine members with nodes: ${nodes} (f = 0 tolerates none)`, 'nodes: 4 or more (f = floor((n-1)/3) ≥ 1)');
  const candidates = randomNodes(cx, m, path, nodes, faults, 'byzantine');
  const count = countRange(cx, required(cx, m, path, 'count', RANGE_TEXT), `${path}.count`, candidates.length, 'the number of candidate nodes');
  let behaviours: readonly ByzantineBehaviour[] = BYZANTINE_BEHAVIOURS;
  if (m.has('behaviours')) {
    const items = list(cx, m.get('behaviours'), `${path}.behaviours`, `a non-empty list of ${BYZANTINE_BEHAVIOURS.join(', ')}`, BYZANTINE_BEHAVIOURS.length);
    if (items.length === 0) cx.fail(`${path}.behaviours`, 'the list is empty', 'at least one behaviour (or no behaviours key: all)');
    const picked = items.map((item, i) => oneOf(cx, item, `${path}.behaviours[${i}]`, BYZANTINE_BEHAVIOURS));
    picked.forEach((b, i) => {
      if (picked.indexOf(b) !== i) cx.fail(`${path}.behaviours[${i}]`, `${quote(b)} is listed twice`, 'each behaviour at most once');
    });
    behaviours = Object.freeze(picked);
  }
  return Object.freeze({ nodes: candidates, count, behaviours });
}

function randomLegs(cx: Cx, v: unknown, settlements: readonly ScenarioSettlement[]): NonNullable<RandomSpec['legs']> {
  const path = 'random.legs';
  const m = mapping(cx, v, path, RANDOM_LEGS_KEYS);
  const ids = settlements.map((s) => s.id);
  let chosen: readonly string[] = ids;
  if (m.has('settlements')) {
    const items = list(cx, m.get('settlements'), `${path}.settlements`, 'a non-empty list of settlement ids', SCENARIO_SETTLEMENTS_MAX);
    if (items.length === 0) cx.fail(`${path}.settlements`, 'the list is empty', 'at least one settlement id (or no settlements key: all)');
    const picked = new Set<string>();
    items.forEach((item, i) => {
      const id = oneOfText(cx, item, `${path}.settlements[${i}]`, ids, 'one of the settlement ids');
      if (picked.has(id)) cx.fail(`${path}.settlements[${i}]`, `${quote(id)} is listed twice`, 'each settlement at most once');
      picked.add(id);
    });
    chosen = ids.filter((id) => picked.has(id)); // scenario order: the draw order is the file's
  }
  let legs: readonly ('asset' | 'payment')[] = ['asset', 'payment'];
  if (m.has('leg')) {
    const items = list(cx, m.get('leg'), `${path}.leg`, 'a non-empty list of asset, payment', 2);
    if (items.length === 0) cx.fail(`${path}.leg`, 'the list is empty', 'at least one of asset, payment');
    const picked = items.map((item, i) => oneOf(cx, item, `${path}.leg[${i}]`, ['asset', 'payment'] as const));
    if (picked.length === 2 && picked[0] === picked[1]) cx.fail(`${path}.leg[1]`, `${quote(picked[1]!)} is listed twice`, 'each leg at most once');
    legs = picked;
  }
  const weights = legWeights(cx, required(cx, m, path, 'weights', `a mapping with keys ${RANDOM_WEIGHT_KEYS.join(', ')}`), `${path}.weights`);
  let afterMs: Range | null = null;
  if (weights.lateLock > 0) {
    const afterValue = required(cx, m, path, 'after', `${RANGE_TEXT} of durations (late-lock has a weight)`);
    afterMs = range(cx, afterValue, `${path}.after`, (x, p) => duration(cx, x, p, 1));
    if (afterMs[1] > SCENARIO_TIME_MAX_MS) cx.fail(`${path}.after`, `up to ${formatDurationMs(afterMs[1])} is too long`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
  } else if (m.has('after')) {
    cx.fail(`${path}.after`, "'after' applies only to late-lock, whose weight is 0", 'no after, or a late-lock weight above 0');
  }
  return Object.freeze({ settlements: Object.freeze(chosen), legs: Object.freeze(legs), weights, afterMs });
}

function legWeights(cx: Cx, v: unknown, path: string): LegWeights {
  const m = mapping(cx, v, path, RANDOM_WEIGHT_KEYS);
  const weight = (key: string) => (m.has(key) ? integerNumber(cx, m.get(key), `${path}.${key}`, 0, RANDOM_WEIGHT_MAX) : 0);
  const w = Object.freeze({ none: weight('none'), reject: weight('reject'), neverLock: weight('never-lock'), lateLock: weight('late-lock') });
  if (w.none + w.reject + w.neverLock + w.lateLock === 0) cx.fail(path, 'every weight is 0', 'at least one weight above 0');
  return w;
}

/**
 * Candidate nodes (default: all), distinct, none of them already crashed/isolated/Byzantine by
 * `faults` when `kind` names that fault (null: no exclusion, as for loss windows).
 */
function randomNodes(cx: Cx, m: Map<string, unknown>, path: string, nodes: number, faults: readonly Fault[], kind: 'crash' | 'isolate' | 'byzantine' | null): readonly NodeIndex[] {
  const fixed = new Map<NodeIndex, number>();
  faults.forEach((f, i) => {
    if (kind !== null && f.kind === kind && !fixed.has(f.node)) fixed.set(f.node, i);
  });
  if (!m.has('nodes')) {
    const all = Array.from({ length: nodes }, (_, i) => i + 1).filter((node) => !fixed.has(node));
    return Object.freeze(all);
  }
  const items = list(cx, m.get('nodes'), `${path}.nodes`, 'a non-empty list of node names', nodes);
  if (items.length === 0) cx.fail(`${path}.nodes`, 'the list is empty', 'at least one node name (or no nodes key: every node)');
  const seen = new Set<NodeIndex>();
  return Object.freeze(
    items.map((item, i) => {
      const node = nodeName(cx, item, `${path}.nodes[${i}]`, nodes);
      if (seen.has(node)) cx.fail(`${path}.nodes[${i}]`, `n${node} is listed twice`, 'each node at most once');
      const at = fixed.get(node);
      if (at !== undefined) cx.fail(`${path}.nodes[${i}]`, `n${node} is already a ${kind} in faults[${at}]`, `candidates that no fixed ${kind} fault names (windows of one node must not overlap)`);
      seen.add(node);
      return node;
    }),
  );
}

function checkRandomEnd(cx: Cx, path: string, atMs: Range, lengthMs: Range): void {
  const endMs = atMs[1] + lengthMs[1];
  if (endMs > SCENARIO_TIME_MAX_MS) cx.fail(path, `a drawn fault can end at ${formatDurationMs(endMs)}`, `at most ${formatDurationMs(SCENARIO_TIME_MAX_MS)}`);
}

/**
 * Nodes faulty by the fixed faults (crashed, isolated, Byzantine, or with a skewed clock: the
 * checker counts all of these as faulty), plus the most that can be drawn, stay ≤ f.
 */
function checkRandomWithinF(cx: Cx, spec: RandomSpec, nodes: number, faults: readonly Fault[]): void {
  const f = Math.floor((nodes - 1) / 3);
  const fixed = new Set<NodeIndex>();
  for (const x of faults) {
    if (x.kind === 'crash' || x.kind === 'isolate' || x.kind === 'byzantine') fixed.add(x.node);
    if (x.kind === 'clock-skew' && typeof x.target === 'number') fixed.add(x.target);
  }
  const crashes = spec.crash?.count[1] ?? 0;
  const isolations = spec.isolate?.count[1] ?? 0;
  const byzantine = spec.byzantine?.count[1] ?? 0;
  if (fixed.size + crashes + isolations + byzantine <= f) return;
  const sections = (['crash', 'isolate', 'byzantine'] as const).filter((k) => spec[k] !== null);
  const path = sections.length === 1 ? `random.${sections[0]}.count` : 'random';
  const drawn = `up to ${crashes} drawn crashes, ${isolations} drawn isolations and ${byzantine} drawn Byzantine members`;
  const problem = `${drawn}, with ${fixed.size} nodes faulty in faults, can exceed f = ${f} for ${nodes} nodes`;
  cx.fail(path, problem, 'at most f faulty nodes in all, or allowBeyondF: true (then liveness is not promised)');
}

/** `[lo, hi]`, each end read by `read`, lo ≤ hi. */
function range(cx: Cx, v: unknown, path: string, read: (x: unknown, path: string) => number): Range {
  if (!Array.isArray(v) || v.length !== 2) return cx.fail(path, Array.isArray(v) ? `a list of ${v.length} items` : `${describe(v)} is not a range`, RANGE_TEXT);
  const lo = read(v[0], `${path}[0]`);
  const hi = read(v[1], `${path}[1]`);
  if (lo > hi) cx.fail(path, `lo ${describe(v[0])} is above hi ${describe(v[1])}`, RANGE_TEXT);
  return Object.freeze([lo, hi] as const);
}

function countRange(cx: Cx, v: unknown, path: string, max: number, maxText: string): Range {
  return range(cx, v, path, (x, p) => {
    if (typeof x === 'bigint' && x > BigInt(max)) cx.fail(p, `${describe(x)} is above ${maxText} (${max})`, `an integer from 0 to ${max}`);
    return integerNumber(cx, x, p, 0, max);
  });
}

function boolean(cx: Cx, v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') return cx.fail(path, `${describe(v)} is not a boolean`, 'true or false');
  return v;
}

/** A probability p with 0 ≤ p ≤ 1 (1 is meaningful here: always). */
function closedProbability(cx: Cx, v: unknown, path: string): number {
  const expected = 'a probability p with 0 ≤ p ≤ 1, e.g. 0.5';
  const p = typeof v === 'bigint' && v >= -1n && v <= 2n ? Number(v) : v;
  if (typeof p !== 'number') return cx.fail(path, `${describe(v)} is not a probability`, expected);
  if (!(p >= 0 && p <= 1)) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return p;
}

function oneOfText(cx: Cx, v: unknown, path: string, choices: readonly string[], what: string): string {
  const found = choices.find((c) => c === v);
  if (found === undefined) return cx.fail(path, typeof v === 'string' ? `unknown ${quote(v)}` : `${describe(v)} is not allowed`, `${what}: ${listSome([...choices])}`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Expectations.

function parseExpect(cx: Cx, v: unknown, settlements: readonly ScenarioSettlement[]): Expectations {
  // Null prototype: a settlement named `constructor` must not find Object.prototype's.
  const outcomes = Object.create(null) as Record<string, Outcome>;
  if (v === undefined) return Object.freeze({ outcomes: Object.freeze(outcomes), decideWithinMs: null, violations: Object.freeze([]) });
  const m = mapping(cx, v, 'expect', EXPECT_KEYS);
  if (m.has('outcomes')) {
    const ids = settlements.map((s) => s.id);
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
  return Object.freeze({ outcomes: Object.freeze(outcomes), decideWithinMs, violations: Object.freeze(violations) });
}

// ---------------------------------------------------------------------------------------------
// Value readers. Each either returns a checked value or throws through cx.fail.

class Cx {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  fail(keyPath: string, problem: string, expected: string): never {
    throw new ScenarioError(this.file, keyPath === '' ? '(top level)' : keyPath, problem, expected);
  }
}

/** A mapping whose keys are all in `allowed`; the first other key (in file order) is an error. */
function mapping(cx: Cx, v: unknown, path: string, allowed: readonly string[]): Map<string, unknown> {
  if (!(v instanceof Map)) return cx.fail(path, `${describe(v)} is not a mapping`, `a mapping with keys ${allowed.join(', ')}`);
  for (const k of v.keys()) {
    const key = String(k);
    if (typeof k !== 'string' || !allowed.includes(k)) cx.fail(path === '' ? key : `${path}.${key}`, 'unknown key', `one of ${allowed.join(', ')}`);
  }
  return v as Map<string, unknown>;
}

/** A mapping with free (string) keys, such as party names or settlement ids. */
function dict(cx: Cx, v: unknown, path: string, expected: string, entriesMax: number): Map<string, unknown> {
  if (!(v instanceof Map)) return cx.fail(path, `${describe(v)} is not a mapping`, expected);
  if (v.size > entriesMax) cx.fail(path, `${v.size} entries`, `at most ${entriesMax}`);
  for (const k of v.keys()) {
    if (typeof k !== 'string') cx.fail(`${path}.${String(k)}`, `the key is ${describe(k)}`, `${expected}, with string keys (quote it)`);
  }
  return v as Map<string, unknown>;
}

function list(cx: Cx, v: unknown, path: string, expected: string, itemsMax: number): readonly unknown[] {
  if (!Array.isArray(v)) return cx.fail(path, `${describe(v)} is not a list`, expected);
  if (v.length > itemsMax) cx.fail(path, `${v.length} items`, `at most ${itemsMax}`);
  return v;
}

function required(cx: Cx, m: Map<string, unknown>, path: string, key: string, expected: string): unknown {
  if (!m.has(key)) cx.fail(path === '' ? key : `${path}.${key}`, 'missing required key', expected);
  return m.get(key);
}

function requiredText(cx: Cx, m: Map<string, unknown>, path: string, key: string): string {
  return text1(cx, required(cx, m, path, key, 'a non-empty string'), `${path}.${key}`, STRING_BYTES_MAX);
}

/** Any string, possibly empty (descriptions). */
function text0(cx: Cx, v: unknown, path: string): string {
  if (typeof v !== 'string') return cx.fail(path, `${describe(v)} is not a string`, 'a string');
  if (/[\uD800-\uDFFF]/u.test(v)) cx.fail(path, 'the string holds an unpaired surrogate', 'well-formed Unicode text');
  return v;
}

/**
 * A non-empty name of at most `bytesMax` UTF-8 bytes, without control characters: it goes into
 * the canonical terms encoding (where a lone surrogate would not round-trip) and into tables.
 */
function text1(cx: Cx, v: unknown, path: string, bytesMax: number): string {
  const s = text0(cx, v, path);
  const expected = `a non-empty string of at most ${bytesMax} bytes without control characters`;
  if (s.length === 0) cx.fail(path, 'empty string', expected);
  if (/\p{Cc}/u.test(s)) cx.fail(path, 'the string holds a control character', expected);
  const bytes = utf8(s).length;
  if (bytes > bytesMax) cx.fail(path, `the string is ${bytes} bytes long`, expected);
  return s;
}

/** A YAML integer (parsed as bigint) in [min, max]. Floats, even 5.0 or 1e3, are refused. */
function integer(cx: Cx, v: unknown, path: string, min: bigint, max: bigint): bigint {
  const expected = max === U256_MAX ? `an integer ≥ ${min} (below 2^256), written without a decimal point or exponent` : `an integer from ${min} to ${max}`;
  if (typeof v !== 'bigint') return cx.fail(path, `${describe(v)} is not an integer`, expected);
  if (v < min || v > max) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return v;
}

function integerNumber(cx: Cx, v: unknown, path: string, min: number, max: number): number {
  return Number(integer(cx, v, path, BigInt(min), BigInt(max)));
}

/** A probability in [0, 1): 1 would lose (or double) every message and is no test of anything. */
function probability(cx: Cx, v: unknown, path: string): number {
  const expected = 'a probability p with 0 ≤ p < 1, e.g. 0.1';
  // A YAML `0` or `1` arrives as a bigint: read it as the number it is, then range-check.
  const p = typeof v === 'bigint' && v >= -1n && v <= 1n ? Number(v) : v;
  if (typeof p !== 'number') return cx.fail(path, `${describe(v)} is not a probability`, expected);
  if (!(p >= 0 && p < 1)) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return p;
}

function duration(cx: Cx, v: unknown, path: string, minMs: number): number {
  const ms = parseDurationMs(v);
  if (ms === null) return cx.fail(path, `${describe(v)} is not a duration`, DURATION_TEXT);
  if (ms < minMs) return cx.fail(path, `${describe(v)} is too short`, `a duration of at least ${formatDurationMs(minMs)}`);
  return ms;
}

function oneOf<T extends string>(cx: Cx, v: unknown, path: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === v);
  if (found === undefined) return cx.fail(path, `${describe(v)} is not allowed`, `one of ${choices.join(', ')}`);
  return found;
}

/** A short description of a value for messages: scalars shown (truncated), collections named. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return `integer ${truncate(v.toString())}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `float ${v}` : `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a mapping';
  return 'a value of another type';
}

function quote(s: string): string {
  return JSON.stringify(truncate(s));
}

function truncate(s: string): string {
  return s.length <= 40 ? s : `${s.slice(0, 37)}...`;
}

function listSome(items: readonly string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return items.length > 10 ? `${shown}, … (${items.length} in all)` : shown;
}
