/**
 * The parameters of protocol v2, their defaults and bounds, and the v2 configuration digest
 * (which covers them, so nodes with different parameters are different configurations).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Writer, utf8 } from '../bytes.js';
import { type ClusterConfig, configDigest, faultsTolerated } from '../config.js';
import { MESSAGE_BYTES_MAX } from '../messages.js';
import { BUNDLE_ENTRIES_LIMIT } from './bundle.js';
import { ENTRY_BYTES } from './entry.js';
import type { V2Params } from './types.js';

const CONFIG_V2_DOMAIN = utf8('tandem/v2/config');
/** Largest terms encoding (docs/wire-format.md, Terms). */
const TERMS_BYTES_MAX = 2439;
/** Bound on the bytes one (entry, supporter) adds to a justification. */
const SUPPORT_BYTES_MAX = 640;
/** Room kept in a proposal for everything but entries, terms and support. */
const PROPOSAL_OVERHEAD_BYTES = 64 * 1024;
/** A proposal's batch is never above this, whatever n allows. */
const BATCH_ENTRIES_DEFAULT_MAX = 256;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The params in their digest order; each is a u64 in the digest. */
const PARAM_NAMES: readonly (keyof V2Params)[] = [
  'tickMs', 'heartbeatMs', 'refreshMs', 'commitGuardMs', 'openSettlementsMax', 'bundleEntriesMax',
  'batchEntriesMax', 'legBatchEntriesMax', 'horizonMaxMs', 'skewMaxMs', 'catchUpBatchesMax',
];

/**
 * The largest batchEntriesMax whose proposal fits a message:
 * batchEntriesMax · (41 + 2,439 + 640 · (f + 1)) + 64 KiB ≤ 1 MiB (n = 4 allows 261).
 */
export function batchEntriesBound(n: number): number {
  const perEntry = ENTRY_BYTES + TERMS_BYTES_MAX + SUPPORT_BYTES_MAX * (faultsTolerated(n) + 1);
  return Math.floor((MESSAGE_BYTES_MAX - PROPOSAL_OVERHEAD_BYTES) / perEntry);
}

export function defaultV2Params(n: number): V2Params {
  return {
    tickMs: 100,
    heartbeatMs: 1000,
    refreshMs: 1000,
    commitGuardMs: 5000,
    openSettlementsMax: 5000,
    bundleEntriesMax: 1000,
    batchEntriesMax: Math.min(BATCH_ENTRIES_DEFAULT_MAX, batchEntriesBound(n)),
    legBatchEntriesMax: 128,
    horizonMaxMs: 400 * DAY_MS,
    skewMaxMs: 2000,
    catchUpBatchesMax: 64,
  };
}

/** Integer in lo..hi, else the message naming the field and the range. */
function rangeProblem(p: V2Params, name: keyof V2Params, lo: number, hi: number): string | null {
  const v = p[name];
  if (Number.isSafeInteger(v) && v >= lo && v <= hi) return null;
  return `${name} must be an integer in ${lo}..${hi}, got ${v}`;
}

/** The bounds each param has on its own (and on n), in PARAM_NAMES order. */
function singleProblems(p: V2Params, n: number): (string | null)[] {
  const big = Number.MAX_SAFE_INTEGER;
  return [
    rangeProblem(p, 'tickMs', 1, big),
    rangeProblem(p, 'heartbeatMs', p.tickMs, big),
    rangeProblem(p, 'refreshMs', p.tickMs, big),
    rangeProblem(p, 'commitGuardMs', 1, big),
    rangeProblem(p, 'openSettlementsMax', 1, big),
    rangeProblem(p, 'bundleEntriesMax', 1, BUNDLE_ENTRIES_LIMIT),
    rangeProblem(p, 'batchEntriesMax', 1, batchEntriesBound(n)),
    rangeProblem(p, 'legBatchEntriesMax', 1, 0xffff),
    rangeProblem(p, 'horizonMaxMs', p.commitGuardMs + 1, big),
    // More skew than commitGuardMs/2 would let the fresh-COMMIT filter pass a COMMIT too late.
    rangeProblem(p, 'skewMaxMs', 0, Math.ceil(p.commitGuardMs / 2) - 1),
    rangeProblem(p, 'catchUpBatchesMax', 1, 0xffff),
  ];
}

/** The first parameter out of its bounds for a committee of n, or null when all are in. */
export function v2ParamsProblem(p: V2Params, n: number): string | null {
  if (!Number.isInteger(n) || n < 1 || n > 1000) return `n must be an integer in 1..1000, got ${n}`;
  for (const problem of singleProblems(p, n)) if (problem !== null) return problem;
  // Refreshing every open settlement must take at most half the bundles of a refresh period.
  if (p.openSettlementsMax * p.tickMs > (p.bundleEntriesMax * p.refreshMs) / 2) {
    return `openSettlementsMax · tickMs (${p.openSettlementsMax * p.tickMs}) must be at most bundleEntriesMax · refreshMs / 2 (${(p.bundleEntriesMax * p.refreshMs) / 2})`;
  }
  return null;
}

/**
 * The v2 configuration digest: SHA-256("tandem/v2/config" ‖ configDigest(c) ‖ every param as a
 * u64 in PARAM_NAMES order). It covers all the v1 digest covers (through it) and every param, and
 * never equals a v1 digest (different domain and length).
 */
export function configDigestV2(c: ClusterConfig, p: V2Params): Uint8Array {
  const w = new Writer().fixed(CONFIG_V2_DOMAIN, CONFIG_V2_DOMAIN.length).fixed(configDigest(c), 32);
  for (const name of PARAM_NAMES) w.u64(p[name]);
  return sha256(w.finish());
}
