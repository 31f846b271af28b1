/**
 * The scenario loader's reading of YAML: text → plain values (Map for mappings, array for
 * sequences, bigint for integers), and the value readers every section uses. Each reader either
 * returns a checked value or throws a ScenarioError through `cx.fail`, naming the key path and
 * what was expected.
 */
import { parseDocument } from 'yaml';
import { STRING_BYTES_MAX, U256_MAX, utf8 } from '@tandem/protocol';
import { formatDurationMs, parseDurationMs } from './duration.js';
import { type NodeIndex, SCENARIO_TEXT_CHARS_MAX, ScenarioError } from './scenario.js';

export const DURATION_TEXT = 'a duration string with a unit (ms, s, m, h), e.g. 250ms or 2s';
/** The keys of `network.latency` and of `random.network.latency`. */
export const LATENCY_KEYS = ['min', 'max'];

export function readYaml(cx: Cx, text: string): unknown {
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
// Value readers.

/** The file being read: every failure names it. */
export class Cx {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
  fail(keyPath: string, problem: string, expected: string): never {
    throw new ScenarioError(this.file, keyPath === '' ? '(top level)' : keyPath, problem, expected);
  }
}

/** A mapping whose keys are all in `allowed`; the first other key (in file order) is an error. */
export function mapping(cx: Cx, v: unknown, path: string, allowed: readonly string[]): Map<string, unknown> {
  if (!(v instanceof Map)) return cx.fail(path, `${describe(v)} is not a mapping`, `a mapping with keys ${allowed.join(', ')}`);
  for (const k of v.keys()) {
    const key = String(k);
    if (typeof k !== 'string' || !allowed.includes(k)) cx.fail(path === '' ? key : `${path}.${key}`, 'unknown key', `one of ${allowed.join(', ')}`);
  }
  return v as Map<string, unknown>;
}

/** A mapping with free (string) keys, such as party names or settlement ids. */
export function dict(cx: Cx, v: unknown, path: string, expected: string, entriesMax: number): Map<string, unknown> {
  if (!(v instanceof Map)) return cx.fail(path, `${describe(v)} is not a mapping`, expected);
  if (v.size > entriesMax) cx.fail(path, `${v.size} entries`, `at most ${entriesMax}`);
  for (const k of v.keys()) {
    if (typeof k !== 'string') cx.fail(`${path}.${String(k)}`, `the key is ${describe(k)}`, `${expected}, with string keys (quote it)`);
  }
  return v as Map<string, unknown>;
}

export function list(cx: Cx, v: unknown, path: string, expected: string, itemsMax: number): readonly unknown[] {
  if (!Array.isArray(v)) return cx.fail(path, `${describe(v)} is not a list`, expected);
  if (v.length > itemsMax) cx.fail(path, `${v.length} items`, `at most ${itemsMax}`);
  return v;
}

export function required(cx: Cx, m: Map<string, unknown>, path: string, key: string, expected: string): unknown {
  if (!m.has(key)) cx.fail(path === '' ? key : `${path}.${key}`, 'missing required key', expected);
  return m.get(key);
}

export function requiredText(cx: Cx, m: Map<string, unknown>, path: string, key: string): string {
  return text1(cx, required(cx, m, path, key, 'a non-empty string'), `${path}.${key}`, STRING_BYTES_MAX);
}

/** Any string, possibly empty (descriptions). */
export function text0(cx: Cx, v: unknown, path: string): string {
  if (typeof v !== 'string') return cx.fail(path, `${describe(v)} is not a string`, 'a string');
  if (/[\uD800-\uDFFF]/u.test(v)) cx.fail(path, 'the string holds an unpaired surrogate', 'well-formed Unicode text');
  return v;
}

/**
 * A non-empty name of at most `bytesMax` UTF-8 bytes, without control characters: it goes into
 * the canonical terms encoding (where a lone surrogate would not round-trip) and into tables.
 */
export function text1(cx: Cx, v: unknown, path: string, bytesMax: number): string {
  const s = text0(cx, v, path);
  const expected = `a non-empty string of at most ${bytesMax} bytes without control characters`;
  if (s.length === 0) cx.fail(path, 'empty string', expected);
  if (/\p{Cc}/u.test(s)) cx.fail(path, 'the string holds a control character', expected);
  const bytes = utf8(s).length;
  if (bytes > bytesMax) cx.fail(path, `the string is ${bytes} bytes long`, expected);
  return s;
}

/** A YAML integer (parsed as bigint) in [min, max]. Floats, even 5.0 or 1e3, are refused. */
export function integer(cx: Cx, v: unknown, path: string, min: bigint, max: bigint): bigint {
  const expected = max === U256_MAX ? `an integer ≥ ${min} (below 2^256), written without a decimal point or exponent` : `an integer from ${min} to ${max}`;
  if (typeof v !== 'bigint') return cx.fail(path, `${describe(v)} is not an integer`, expected);
  if (v < min || v > max) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return v;
}

export function integerNumber(cx: Cx, v: unknown, path: string, min: number, max: number): number {
  return Number(integer(cx, v, path, BigInt(min), BigInt(max)));
}

/** A probability in [0, 1): 1 would lose (or double) every message and is no test of anything. */
export function probability(cx: Cx, v: unknown, path: string): number {
  const expected = 'a probability p with 0 ≤ p < 1, e.g. 0.1';
  // A YAML `0` or `1` arrives as a bigint: read it as the number it is, then range-check.
  const p = typeof v === 'bigint' && v >= -1n && v <= 1n ? Number(v) : v;
  if (typeof p !== 'number') return cx.fail(path, `${describe(v)} is not a probability`, expected);
  if (!(p >= 0 && p < 1)) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return p;
}

export function duration(cx: Cx, v: unknown, path: string, minMs: number): number {
  const ms = parseDurationMs(v);
  if (ms === null) return cx.fail(path, `${describe(v)} is not a duration`, DURATION_TEXT);
  if (ms < minMs) return cx.fail(path, `${describe(v)} is too short`, `a duration of at least ${formatDurationMs(minMs)}`);
  return ms;
}

export function oneOf<T extends string>(cx: Cx, v: unknown, path: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === v);
  if (found === undefined) return cx.fail(path, `${describe(v)} is not allowed`, `one of ${choices.join(', ')}`);
  return found;
}

/** A short description of a value for messages: scalars shown (truncated), collections named. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return `integer ${truncate(v.toString())}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `float ${v}` : `number ${v}`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a mapping';
  return 'a value of another type';
}

export function quote(s: string): string {
  return JSON.stringify(truncate(s));
}

function truncate(s: string): string {
  return s.length <= 40 ? s : `${s.slice(0, 37)}...`;
}

export function listSome(items: readonly string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return items.length > 10 ? `${shown}, … (${items.length} in all)` : shown;
}

export function nodeName(cx: Cx, v: unknown, path: string, nodes: number): NodeIndex {
  const expected = nodes === 1 ? 'n1' : `a node name n1..n${nodes}`;
  if (typeof v !== 'string') return cx.fail(path, `${describe(v)} is not a node name`, expected);
  const m = /^n([1-9]\d{0,2})$/.exec(v);
  const index = m?.[1] === undefined ? NaN : Number(m[1]);
  if (!(index >= 1 && index <= nodes)) return cx.fail(path, `unknown node ${quote(v)}`, expected);
  return index;
}

export function boolean(cx: Cx, v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') return cx.fail(path, `${describe(v)} is not a boolean`, 'true or false');
  return v;
}

/** A probability p with 0 ≤ p ≤ 1 (1 is meaningful here: always). */
export function closedProbability(cx: Cx, v: unknown, path: string): number {
  const expected = 'a probability p with 0 ≤ p ≤ 1, e.g. 0.5';
  const p = typeof v === 'bigint' && v >= -1n && v <= 2n ? Number(v) : v;
  if (typeof p !== 'number') return cx.fail(path, `${describe(v)} is not a probability`, expected);
  if (!(p >= 0 && p <= 1)) return cx.fail(path, `${describe(v)} is out of range`, expected);
  return p;
}

export function oneOfText(cx: Cx, v: unknown, path: string, choices: readonly string[], what: string): string {
  const found = choices.find((c) => c === v);
  if (found === undefined) return cx.fail(path, typeof v === 'string' ? `unknown ${quote(v)}` : `${describe(v)} is not allowed`, `${what}: ${listSome([...choices])}`);
  return found;
}
