/**
 * Byzantine behaviours of protocol v2, for the simulator and tests: one member proposing what a
 * correct proposer would not, or withholding what its proposals need. As in v1 (../byzantine.ts)
 * the honest code has no Byzantine branch: a behaviour wraps the node's runtime dependencies —
 * its transport, or the proposer hook (ports.ts, ProposerHook) through which it replaces its own
 * fresh proposals. Everything it sends is validly signed with its own keys; what it proposes
 * otherwise votes and gossips as a correct node does. Correct nodes refuse each of them:
 *  - `censor` leaves ready entries out of its batches (still valid): later proposers include them;
 *  - `stale-commit` proposes COMMIT entries past the commit guard: the fresh-COMMIT filter has
 *    correct nodes prevote nil once their clock is at or past validUntil − commitGuardMs/2;
 *  - `replay-entry` re-proposes a settlement decided at a lower height with the other decision,
 *    justified by the evidence it kept from before the decision (and its own lie when short): V3;
 *  - `bad-root` signs a header whose root (or count) is not that of the entries attached: void;
 *  - `withhold-entries` strips its proposals of entries, terms or justification and keeps its
 *    bundles to itself: correct nodes cannot lock on what they cannot check.
 */
import {
  type BatchHeader,
  type BundleEntry,
  type BundleHeader,
  type BundleLegView,
  type Decision,
  type Entry,
  type JustificationBundle,
  type MessageV2,
  type Terms,
  BUNDLE_TREE,
  SIGN_DOMAIN_V2,
  bundleLeaf,
  bundleTreeRoot,
  compareIds,
  encodeBundleHeaderBody,
  reportTreeRoot,
  toHex,
  treeMultiproof,
} from '@tandem/protocol';
import { type BatchContent, type JustificationPart, type PooledEntry, expectedLocks, proposerTimeMs } from '@tandem/consensus';
import type { ProposerHook, ProposerView, TransportV2 } from './ports.js';
import type { RuntimeV2Deps } from './runtime.js';

export type ByzantineBehaviourV2 = 'censor' | 'stale-commit' | 'replay-entry' | 'bad-root' | 'withhold-entries';

export const BYZANTINE_BEHAVIOURS_V2: readonly ByzantineBehaviourV2[] = ['censor', 'stale-commit', 'replay-entry', 'bad-root', 'withhold-entries'];

/** What `withhold-entries` keeps back: half the entries, all terms, the justification (from its proposals), its bundles. */
export type WithheldPart = 'entries' | 'terms' | 'justification' | 'bundles';

const PROPOSAL_PARTS: readonly WithheldPart[] = ['entries', 'terms', 'justification'];

export interface ByzantineEnvV2 {
  /** Is the behaviour active now (faults have windows)? Inactive, the node proposes and sends as a correct one. */
  readonly active: () => boolean;
  /** censor: the settlements (id hex) it leaves out. Default: those whose id ends in an even hex digit. */
  readonly censored?: (settlementIdHex: string) => boolean;
  /** bad-root: what of the header does not match the entries. Default: the root. */
  readonly badRoot?: 'root' | 'count';
  /**
   * withhold-entries: what it withholds, all at once. Default: its bundles always, and from each
   * proposal one of entries, terms, justification in turn by (height + round).
   */
  readonly withhold?: readonly WithheldPart[];
}

/** Settlements whose evidence `replay-entry` keeps from before their decision, at most (the oldest go first). */
export const REPLAYS_MAX = 1_024;

/**
 * The dependencies of a node that behaves as `behaviour` while `env.active()`: the runtime
 * NodeRuntimeV2 is built from them unchanged. Behaviours compose (apply one after the other).
 */
export function byzantineV2<D extends RuntimeV2Deps>(behaviour: ByzantineBehaviourV2, deps: D, env: ByzantineEnvV2): D {
  if (behaviour === 'withhold-entries') return { ...deps, transport: withholdingTransport(deps.transport, deps.ctx.self, env) };
  const hook = proposerHook(behaviour, env);
  const prior = deps.proposerForTesting;
  return { ...deps, proposerForTesting: prior === undefined ? hook : composed(prior, hook) };
}

function proposerHook(behaviour: Exclude<ByzantineBehaviourV2, 'withhold-entries'>, env: ByzantineEnvV2): ProposerHook {
  switch (behaviour) {
    case 'censor':
      return honestOtherwise(env, { fresh: (honest, view) => (honest === null ? null : censored(honest, view, env.censored ?? censoredByDefault)) });
    case 'stale-commit':
      return honestOtherwise(env, { fresh: staleCommitBatch, wantsHeight: (view) => staleCommits(view).length > 0 });
    case 'replay-entry':
      return replayingProposer(env);
    case 'bad-root':
      return honestOtherwise(env, { fresh: (honest) => (honest === null ? null : { ...honest, header: misboundHeader(honest, env.badRoot ?? 'root') }) });
  }
}

/** A hook that proposes as a correct node does while the behaviour is inactive. */
function honestOtherwise(env: ByzantineEnvV2, h: Pick<ProposerHook, 'fresh'> & Partial<Pick<ProposerHook, 'wantsHeight'>>): ProposerHook {
  return {
    wantsHeight: (view) => env.active() && (h.wantsHeight?.(view) ?? false),
    fresh: (honest, view) => (env.active() ? h.fresh(honest, view) : honest),
    settling: () => {},
  };
}

function composed(a: ProposerHook, b: ProposerHook): ProposerHook {
  return {
    wantsHeight: (view) => a.wantsHeight(view) || b.wantsHeight(view),
    fresh: (honest, view) => b.fresh(a.fresh(honest, view), view),
    settling: (batches, view) => {
      a.settling(batches, view);
      b.settling(batches, view);
    },
  };
}

// -----------------------------------------------------------------------------------------------
// Batches

/** Extra terms and bundles a batch carries besides what the pool justifies. */
interface Attached {
  readonly terms: readonly Terms[];
  readonly justification: readonly JustificationBundle[];
}

const NOTHING_ATTACHED: Attached = { terms: [], justification: [] };

/**
 * A batch of `entries` at `timeMs` for the next height, sorted by id, with the pool's justification
 * and terms for `fromPool` (each valid in the pool) and `attached`; null when a multiproof cannot be built.
 */
function batchOf(view: ProposerView, entries: readonly Entry[], timeMs: number, fromPool: readonly Entry[], attached: Attached = NOTHING_ATTACHED): BatchContent | null {
  if (entries.length === 0) return null;
  const sorted = [...entries].sort((a, b) => compareIds(a.settlementId, b.settlementId));
  const header: BatchHeader = { timeMs, liveFrom: view.chain.liveFromFor(view.chain.tip + 1), count: sorted.length, root: reportTreeRoot(sorted) };
  const justification = view.justify(header, fromPool);
  if (justification === null) return null;
  const terms = fromPool.map((e) => view.pool.termsOf(e.settlementId)!.terms);
  return { header, entries: sorted, terms: [...terms, ...attached.terms], justification: [...justification, ...attached.justification] };
}

function censoredByDefault(settlementIdHex: string): boolean {
  return Number.parseInt(settlementIdHex.at(-1) ?? '0', 16) % 2 === 0;
}

/**
 * censor: the honest batch without the censored entries, its time lowered below the earliest
 * validUntil left out as the proposer rule has it (the censor delays, it does not strand); null
 * (no proposal) when it leaves out every entry.
 */
function censored(honest: BatchContent, view: ProposerView, isCensored: (idHex: string) => boolean): BatchContent | null {
  const kept = honest.entries.filter((e) => !isCensored(toHex(e.settlementId)));
  if (kept.length === honest.entries.length) return honest;
  const leftOut = honest.entries.filter((e) => isCensored(toHex(e.settlementId)));
  const leftOutMin = Math.min(...leftOut.map((e) => e.validUntilMs));
  const timeMs = Math.max(view.chain.timeMs, Math.min(honest.header.timeMs, leftOutMin - 1));
  const entries = kept.filter((e) => e.validUntilMs <= timeMs + view.v2.horizonMaxMs);
  return batchOf(view, entries, timeMs, entries);
}

/** stale-commit's material: open settlements with COMMIT valid and the clock past validUntil − commitGuardMs. */
function staleCommits(view: ProposerView): Entry[] {
  const now = view.nowMs();
  const out: Entry[] = [];
  for (const s of view.pool.knownSettlements()) {
    if (out.length >= view.v2.batchEntriesMax) break;
    const live = s.validUntilMs > view.chain.timeMs && !view.chain.holds(s.settlementId);
    if (live && now > s.validUntilMs - view.v2.commitGuardMs && view.pool.isValid(s.settlementId, 'COMMIT')) {
      out.push({ settlementId: s.settlementId, decision: 'COMMIT', validUntilMs: s.validUntilMs });
    }
  }
  return out;
}

/** stale-commit: the honest batch with every stale settlement as COMMIT (a correct proposer has it ABORT or leaves it out). */
function staleCommitBatch(honest: BatchContent | null, view: ProposerView): BatchContent | null {
  const stale = staleCommits(view);
  if (stale.length === 0) return honest;
  const staleIds = new Set(stale.map((e) => toHex(e.settlementId)));
  const others = (honest?.entries ?? []).filter((e) => !staleIds.has(toHex(e.settlementId)));
  const entries = [...stale, ...others].slice(0, view.v2.batchEntriesMax);
  return batchOf(view, entries, honest?.header.timeMs ?? proposerTimeMs(view.chain, view.pool, null), entries);
}

/** bad-root: the honest header naming other entries (their root) or another count than those attached. */
function misboundHeader(honest: BatchContent, lie: 'root' | 'count'): BatchHeader {
  if (lie === 'count') return { ...honest.header, count: honest.header.count + 1 };
  const [first, ...rest] = honest.entries;
  return { ...honest.header, root: reportTreeRoot([{ ...first!, decision: other(first!.decision) }, ...rest]) };
}

function other(d: Decision): Decision {
  return d === 'COMMIT' ? 'ABORT' : 'COMMIT';
}

// -----------------------------------------------------------------------------------------------
// replay-entry

interface Replay {
  /** The settlement with the decision it was not decided with. */
  readonly entry: Entry;
  readonly terms: Terms;
  /** Supporting entries of that decision the pool held at the decision, proven. */
  readonly justification: readonly JustificationBundle[];
  readonly supporters: readonly number[];
}

/**
 * replay-entry: when a batch is about to join the chain, keeps for each of its settlements the
 * evidence of the other decision its pool holds (it is forgotten at the decision); as proposer,
 * adds every kept settlement still live at chain time (V4 passes: V3 alone must refuse it) with
 * that decision. Short of f+1 supporters, it adds an entry of its own supporting it. Each
 * settlement is replayed until decided again (only a broken build decides it twice).
 */
function replayingProposer(env: ByzantineEnvV2): ProposerHook {
  const replays = new Map<string, Replay>();
  const due = (view: ProposerView): Replay[] => {
    for (const [idHex, r] of replays) if (r.entry.validUntilMs <= view.chain.timeMs) replays.delete(idHex);
    return [...replays.values()].slice(0, view.v2.batchEntriesMax);
  };
  return {
    wantsHeight: (view) => env.active() && due(view).length > 0,
    settling: (batches, view) => {
      for (const e of batches.flatMap((b) => b.entries)) {
        const idHex = toHex(e.settlementId);
        if (replays.delete(idHex)) continue; // decided again: done with it
        const kept = keptReplay(e, view);
        if (kept === null) continue;
        replays.set(idHex, kept);
        if (replays.size > REPLAYS_MAX) replays.delete(replays.keys().next().value!);
      }
    },
    fresh: (honest, view) => {
      const replayed = env.active() ? due(view) : [];
      if (replayed.length === 0) return honest;
      const ids = new Set(replayed.map((r) => toHex(r.entry.settlementId)));
      const others = (honest?.entries ?? []).filter((e) => !ids.has(toHex(e.settlementId))).slice(0, view.v2.batchEntriesMax - replayed.length);
      const attached = { terms: replayed.map((r) => r.terms), justification: [...replayed.flatMap((r) => r.justification), ...lies(replayed, view)] };
      const entries = [...others, ...replayed.map((r) => r.entry)];
      return batchOf(view, entries, honest?.header.timeMs ?? view.chain.timeMs, others, attached);
    },
  };
}

/** The evidence of the decision `decided` did not take, as the pool holds it now, or null without terms. */
function keptReplay(decided: Entry, view: ProposerView): Replay | null {
  const known = view.pool.termsOf(decided.settlementId);
  if (known === null) return null;
  const decision = other(decided.decision);
  const supporters = view.pool.supporters(decided.settlementId, decision).slice(0, view.pool.f + 1);
  const justification = supporters.length === 0 ? [] : (view.prove(partsOf(supporters)) ?? []);
  return {
    entry: { settlementId: decided.settlementId, decision, validUntilMs: decided.validUntilMs },
    terms: known.terms,
    justification,
    supporters: justification.length === 0 ? [] : supporters.map((s) => s.header.signer),
  };
}

/** Pooled entries grouped per bundle, indices ascending (what a multiproof proves). */
function partsOf(entries: readonly PooledEntry[]): JustificationPart[] {
  const parts = new Map<string, { header: PooledEntry['header']; items: { index: number; entry: BundleEntry }[] }>();
  for (const p of entries) {
    const key = `${p.header.signer}:${p.header.timeMs}:${toHex(p.header.root)}`;
    const part = parts.get(key) ?? { header: p.header, items: [] };
    part.items.push({ index: p.index, entry: p.entry });
    parts.set(key, part);
  }
  return [...parts.values()].map((p) => ({ header: p.header, items: p.items.sort((a, b) => a.index - b.index) }));
}

const NO_LEG: BundleLegView = { state: 'none', finalityHeight: 0, lockDigest: null };

/**
 * One bundle of this node's own, validly signed, whose entries support the replayed decisions
 * short of f+1 supporters without it: ABORT by a `guard` entry showing nothing locked, COMMIT by
 * both legs locked with the digests the terms call for. Empty when none is short.
 */
function lies(replayed: readonly Replay[], view: ProposerView): JustificationBundle[] {
  const self = view.ctx.self;
  const short = replayed.filter((r) => r.supporters.length <= view.pool.f && !r.supporters.includes(self));
  if (short.length === 0) return [];
  const entries = short.map((r): BundleEntry => {
    const id = r.entry.settlementId;
    if (r.entry.decision === 'ABORT') return { settlementId: id, kind: 'guard', asset: NO_LEG, payment: NO_LEG };
    const x = expectedLocks(r.terms, id, view.ctx.groupPublicKey);
    return { settlementId: id, kind: 'view', asset: { state: 'locked', finalityHeight: 0, lockDigest: x.asset }, payment: { state: 'locked', finalityHeight: 0, lockDigest: x.payment } };
  });
  // Chain time: it moves no member's newest bundle time at correct nodes (V5 is not touched).
  const header: BundleHeader = { ...view.anchor, signer: self, timeMs: view.chain.timeMs, count: entries.length, root: bundleTreeRoot(entries) };
  const signed = { ...header, signature: view.ctx.signer.sign(SIGN_DOMAIN_V2.bundle, encodeBundleHeaderBody(header)) };
  const indices = entries.map((_, i) => i);
  return [{ header: signed, entries, proof: treeMultiproof(BUNDLE_TREE, entries.map(bundleLeaf), indices) }];
}

// -----------------------------------------------------------------------------------------------
// withhold-entries

/** Its own proposals stripped of what `env.withhold` names (or one part in turn), its bundles kept back. */
function withholdingTransport(inner: TransportV2, self: number, env: ByzantineEnvV2): TransportV2 {
  const stripped = (m: MessageV2): MessageV2 | null => {
    if (!env.active()) return m;
    if (m.kind === 'bundle') return env.withhold === undefined || env.withhold.includes('bundles') ? null : m;
    if (m.kind !== 'proposal2' || m.proposal.proposer !== self) return m;
    const p = m.proposal;
    const parts = env.withhold ?? [PROPOSAL_PARTS[(p.height + p.round) % PROPOSAL_PARTS.length]!];
    const proposal = {
      ...p,
      entries: parts.includes('entries') ? p.entries.slice(0, Math.floor(p.entries.length / 2)) : p.entries,
      terms: parts.includes('terms') ? [] : p.terms,
      justification: parts.includes('justification') ? [] : p.justification,
    };
    return { kind: 'proposal2', proposal };
  };
  return {
    broadcast: (m) => {
      const out = stripped(m);
      if (out !== null) inner.broadcast(out);
    },
    send: (to, m) => {
      const out = stripped(m);
      if (out !== null) inner.send(to, out);
    },
  };
}
