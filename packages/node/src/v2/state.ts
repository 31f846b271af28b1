/**
 * What the phases of the v2 runtime share: the ports, the parameters, the decided chain, the
 * evidence pool and the settlements this node holds. Each phase (intake, observe, bundler, gossip,
 * heights, deliver) reads and writes it; none keeps a second copy.
 */
import {
  type AnchorV2,
  type BundleEntry,
  type BundleLegView,
  type Entry,
  type LegName,
  type LegView,
  type LockRecord,
  type Terms,
  type V2Params,
  lockDigest,
  settlementId,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import { type DecidedChain, type EvidencePoolV2, type NodeContext, guardDueMs } from '@tandem/consensus';
import type { PrepareOutcome } from '@tandem/legs';
import type { Authorizations, Clock, Timers } from '../ports.js';
import type { RuntimeParams } from '../params.js';
import { Backoff } from '../backoff.js';
import type { LegsV2, LogV2, ProposerHook, StorageV2, TransportV2 } from './ports.js';
import type { V2Checks } from './checks.js';

/** One leg of a held settlement as this node knows it. */
export interface LegProgress {
  /** The answer of the last prepare with the party's authorization, null before one. */
  prepared: PrepareOutcome['kind'] | null;
  /** A prepare is under way: no second one (HTTP legs can be slow). */
  preparing: boolean;
  /** When the last prepare answered `locked` (this node's clock), null before. */
  lockedAtMs: number | null;
  /** The last view read, null before the first read. */
  view: LegView | null;
}

/** A settlement this node holds: admitted (prepared, polled) or refused (only its guard entry). */
export interface HeldSettlement {
  readonly terms: Terms;
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly validUntilMs: number;
  readonly guardDueMs: number;
  /** Refused at intake: never prepared, never read; a guard entry at guardDueMs without reading the legs. */
  readonly refused: boolean;
  readonly auths: Authorizations;
  /** Per leg: what this node did to it and last saw of it. */
  readonly legs: Record<LegName, LegProgress>;
  /** This node's latest view entry, and its deadline and guard entries (persisted), once signed. */
  lastView: BundleEntry | null;
  deadlineEntry: BundleEntry | null;
  guardEntry: BundleEntry | null;
  /** When its entries are next repeated in a bundle, and the current repeat period (refreshMs … 8·refreshMs). */
  repeatAtMs: number;
  repeatEveryMs: number;
  /** The entry a decided batch holds for it, and that batch's height. */
  decided: { readonly height: number; readonly entry: Entry } | null;
  /** validUntil ≤ chain time while undecided: it can never be decided. */
  expired: boolean;
  closed: boolean;
  /** Both legs final, one committed and the other aborted or reclaimed: reported once, never called closed. */
  split: boolean;
  /** Decided, yet not closed on both legs at its reclaim time plus stuckGraceMs: reported once. */
  stuck: boolean;
  pollAtMs: number;
  pollBusy: boolean;
  readonly backoff: Backoff;
}

export interface CoreDeps {
  readonly ctx: NodeContext;
  readonly transport: TransportV2;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly storage: StorageV2;
  readonly legs: LegsV2;
  readonly log: LogV2;
  /** The pure checks of received bundles and multiproofs; direct when absent (the simulator shares one MemoV2Checks). */
  readonly checks?: V2Checks;
  /** A Byzantine proposer (byzantine.ts), for the simulator and tests; never set for a correct node. */
  readonly proposerForTesting?: ProposerHook;
  /** Signs nothing, for good: its write-ahead storage was recovered observe-only (silenced.ts). */
  readonly silenced?: boolean;
}

/** The state every phase shares. */
export interface Core {
  readonly deps: CoreDeps;
  readonly v2: V2Params;
  readonly params: RuntimeParams;
  /** Network id and the v2 configuration digest, bound by every v2 message. */
  readonly anchor: AnchorV2;
  readonly chain: DecidedChain;
  readonly pool: EvidencePoolV2;
  /** Held settlements by id hex (admitted and refused). */
  readonly held: Map<string, HeldSettlement>;
  /** Leg calls under way (the simulator drains them between events). */
  inflight: number;
  stopped: boolean;
}

export function nowMs(core: Core): number {
  return core.deps.clock.nowMs();
}

export function heldSettlement(core: Core, terms: Terms, auths: Authorizations, refused: boolean, id: Uint8Array = settlementId(terms)): HeldSettlement {
  const now = nowMs(core);
  return {
    terms,
    id,
    idHex: toHex(id),
    validUntilMs: validUntilMs(terms),
    guardDueMs: guardDueMs(terms, core.v2),
    refused,
    auths: { ...auths },
    legs: { asset: { prepared: null, preparing: false, lockedAtMs: null, view: null }, payment: { prepared: null, preparing: false, lockedAtMs: null, view: null } },
    lastView: null,
    deadlineEntry: null,
    guardEntry: null,
    repeatAtMs: now + core.v2.refreshMs,
    repeatEveryMs: core.v2.refreshMs,
    decided: null,
    expired: false,
    closed: false,
    split: false,
    stuck: false,
    pollAtMs: now,
    pollBusy: false,
    backoff: new Backoff(core.params, now),
  };
}

/** Still waiting for a decision: its entries are repeated and its deadline and guard are due. */
export function undecided(s: HeldSettlement): boolean {
  return s.decided === null && !s.expired && !s.closed && !s.split;
}

/** Lock digests by lock record: a leg that hands back the same record object is not hashed again each poll. */
const lockDigests = new WeakMap<LockRecord, Uint8Array>();

function digestOfLock(lock: LockRecord): Uint8Array {
  let d = lockDigests.get(lock);
  if (d === undefined) lockDigests.set(lock, (d = lockDigest(lock)));
  return d;
}

/** A leg as a bundle entry shows it: the lock as its digest. */
export function bundleLegView(v: LegView | null): BundleLegView {
  if (v === null) return { state: 'none', finalityHeight: 0, lockDigest: null };
  return { state: v.state, finalityHeight: Number(v.finalityHeight), lockDigest: v.lock === null ? null : digestOfLock(v.lock) };
}

/** A bundle entry of `kind` showing the node's views of both legs (none for a refused settlement). */
export function entryOf(s: HeldSettlement, kind: BundleEntry['kind']): BundleEntry {
  return { settlementId: s.id, kind, asset: bundleLegView(s.legs.asset.view), payment: bundleLegView(s.legs.payment.view) };
}

/** Runs a leg call; a transient failure is logged and left to the caller's next period. */
export function legCall<T>(core: Core, idHex: string | null, leg: LegName, op: string, call: () => Promise<T>, then: (result: T) => void, failed?: () => void): void {
  core.inflight++;
  call().then(
    (result) => {
      core.inflight--;
      if (!core.stopped) then(result);
    },
    (err: unknown) => {
      core.inflight--;
      if (core.stopped) return;
      core.deps.log.event({ type: 'leg-error', settlementIdHex: idHex, leg, op, error: err instanceof Error ? err.message : String(err) });
      failed?.();
    },
  );
}
