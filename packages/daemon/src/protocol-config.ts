/**
 * The node config's protocol version and v2 parameters:
 *
 *   "protocol": 2,                                   // optional: 1 (default) or 2
 *   "v2": { "tickMs": 100, "commitGuardMs": 5000 }   // optional, only with "protocol": 2
 *
 * Each v2 parameter absent from `v2` takes its default for the cluster's size (defaultV2Params).
 * The set is checked against the v2 bounds once the cluster file gives n (`v2Params`): the first
 * parameter out of bounds is named as `v2.<name>` with v2ParamsProblem's text. Every member must
 * run the same parameters: they are covered by the v2 configuration digest the legs are anchored
 * to, so a member with others signs under another configuration and its votes count for nothing.
 */
import { type V2Params, defaultV2Params, v2ParamsProblem } from '@tandem/protocol';
import { ConfigKeyError, UsageError } from './errors.js';

export type ProtocolChoice = { readonly version: 1 } | { readonly version: 2; readonly v2: Partial<V2Params> };

/** The v2 parameter names, in the order docs/protocol.md lists them. */
const V2_KEYS: readonly (keyof V2Params)[] = [
  'tickMs', 'heartbeatMs', 'refreshMs', 'commitGuardMs', 'openSettlementsMax', 'bundleEntriesMax',
  'batchEntriesMax', 'legBatchEntriesMax', 'horizonMaxMs', 'skewMaxMs', 'catchUpBatchesMax',
];

function fail(file: string, key: string, expected: string): never {
  throw new UsageError(`${file}: key "${key}": expected ${expected}`);
}

/** The `protocol` and `v2` keys of config `file` (either may be absent). */
export function protocolChoice(file: string, protocol: unknown, v2: unknown): ProtocolChoice {
  if (protocol !== undefined && protocol !== 1 && protocol !== 2) fail(file, 'protocol', '1 or 2 (the protocol version this node runs)');
  if (protocol !== 2) {
    if (v2 !== undefined) fail(file, 'v2', 'no "v2" parameters unless "protocol" is 2');
    return { version: 1 };
  }
  if (v2 === undefined) return { version: 2, v2: {} };
  if (v2 === null || typeof v2 !== 'object' || Array.isArray(v2)) fail(file, 'v2', `an object with some of ${V2_KEYS.join(', ')}`);
  const out: Partial<Record<keyof V2Params, number>> = {};
  for (const [k, v] of Object.entries(v2)) {
    const name = V2_KEYS.find((n) => n === k);
    if (name === undefined) fail(file, `v2.${k}`, `no such key (allowed: ${V2_KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(file, `v2.${k}`, 'a non-negative integer');
    out[name] = v;
  }
  return { version: 2, v2: out };
}

/**
 * The v2 parameters of `choice` for a cluster of `n`: the defaults overridden by the config's.
 * Out of bounds: a ConfigKeyError naming `v2.<the parameter>` (or `v2` for a rule between several).
 */
export function v2Params(choice: Extract<ProtocolChoice, { version: 2 }>, n: number): V2Params {
  const params: V2Params = { ...defaultV2Params(n), ...choice.v2 };
  const problem = v2ParamsProblem(params, n);
  if (problem === null) return params;
  const first = /^[A-Za-z]+/.exec(problem)?.[0];
  const name = V2_KEYS.find((k) => k === first);
  throw new ConfigKeyError(name !== undefined ? `v2.${name}` : 'v2', `${problem} (protocol v2 parameters; defaults for n = ${n} fill in the rest)`);
}
