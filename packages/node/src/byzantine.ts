/**
 * Byzantine behaviours, as opt-in wrappers around an honest node's ports. The honest runtime and
 * consensus code have no Byzantine branch: a Byzantine node is an honest node whose transport,
 * legs, storage or signer lie. Used by the simulator (and usable by any test harness).
 */
import {
  type Decision,
  type Entry,
  type LegView,
  type ReportV2,
  type TreeMultiproof,
  type Message,
  type SignedProposal,
  type SignedVote,
  type Terms,
  SIGN_DOMAIN,
  encodeProposalBody,
  encodeVoteBody,
  expectedLock,
  reportDigest,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import { blsSign } from '@tandem/crypto';
import type { Signer } from '@tandem/consensus';
import { type LegAdapter, type ProvenEntry, isBatchLegAdapter } from '@tandem/legs';
import type { Legs, Storage, Transport } from './ports.js';

export type ByzantineBehaviour = 'equivocate' | 'silent' | 'lie-locked' | 'lie-rejected' | 'invalid-partial' | 'amnesia' | 'flood';

export interface ByzantinePorts {
  readonly transport: Transport;
  readonly legs: Legs;
  readonly storage: Storage;
  readonly signer: Signer;
}

export interface ByzantineEnv {
  readonly self: number;
  readonly n: number;
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  readonly groupPublicKey: Uint8Array;
  /** The terms of a settlement, by id (hex): a Byzantine node learns them from the traffic. */
  readonly termsOf: (settlementIdHex: string) => Terms | undefined;
  /** Deterministic randomness (the simulator's seeded stream). */
  readonly randomBytes: (n: number) => Uint8Array;
  /** Is the behaviour active now (faults have windows)? */
  readonly active: () => boolean;
}

/** Extra messages a flooding node sends per honest broadcast: bounded spam. */
export const FLOOD_PER_MESSAGE = 8;

/** Wraps an honest node's ports so that it behaves as `behaviour` while `env.active()`. */
export function byzantine(behaviour: ByzantineBehaviour, ports: ByzantinePorts, env: ByzantineEnv): ByzantinePorts {
  switch (behaviour) {
    case 'silent':
      return { ...ports, transport: silentTransport(ports.transport, env) };
    case 'equivocate':
      return { ...ports, transport: equivocatingTransport(ports.transport, ports.signer, env) };
    case 'lie-locked':
      return { ...ports, legs: lyingLegs(ports.legs, env, 'locked') };
    case 'lie-rejected':
      return { ...ports, legs: lyingLegs(ports.legs, env, 'rejected') };
    case 'invalid-partial':
      return { ...ports, signer: badPartialSigner(ports.signer, env) };
    case 'amnesia':
      return { ...ports, storage: amnesicStorage(ports.storage) };
    case 'flood':
      return { ...ports, transport: floodingTransport(ports.transport, ports.signer, env) };
  }
}

function silentTransport(inner: Transport, env: ByzantineEnv): Transport {
  return {
    broadcast: (m) => {
      if (!env.active()) inner.broadcast(m);
    },
    send: (to, m) => {
      if (!env.active()) inner.send(to, m);
    },
  };
}

function flip(v: Decision | null): Decision {
  return v === 'COMMIT' ? 'ABORT' : 'COMMIT';
}

function resignVote(v: SignedVote, value: Decision, signer: Signer, env: ByzantineEnv): SignedVote | null {
  let partial: Uint8Array | null = null;
  if (v.step === 'precommit') {
    const terms = env.termsOf(toHex(v.settlementId));
    if (terms === undefined) return null;
    partial = signer.partialSign(reportDigest({ networkId: v.networkId, configDigest: v.configDigest, settlementId: v.settlementId, decision: value, round: v.round, validUntilMs: validUntilMs(terms) }));
  }
  const body = { ...v, value, partial };
  return { ...body, signature: signer.sign(SIGN_DOMAIN.vote, encodeVoteBody(body)) };
}

function resignProposal(p: SignedProposal, signer: Signer): SignedProposal {
  const body = { ...p, value: flip(p.value), validRound: -1, polka: [] };
  return { ...body, signature: signer.sign(SIGN_DOMAIN.proposal, encodeProposalBody(body)) };
}

/** A conflicting twin of this node's own proposal or vote, or null for anything else. */
function twinOf(m: Message, signer: Signer, env: ByzantineEnv): Message | null {
  if (m.kind === 'proposal' && m.proposal.proposer === env.self) return { kind: 'proposal', proposal: resignProposal(m.proposal, signer) };
  if (m.kind === 'vote' && m.vote.voter === env.self) {
    const twin = resignVote(m.vote, flip(m.vote.value), signer, env);
    return twin === null ? null : { kind: 'vote', vote: twin };
  }
  return null;
}

/**
 * Equivocation: the lower half of the peers gets the honest message, the upper half only a
 * conflicting twin (the other value, validly signed), and the last peer of the lower half gets the
 * twin after the honest one, so correct nodes see the equivocation and record it as evidence.
 */
function equivocatingTransport(inner: Transport, signer: Signer, env: ByzantineEnv): Transport {
  const peers = Array.from({ length: env.n }, (_, i) => i + 1).filter((i) => i !== env.self);
  const half = Math.ceil(peers.length / 2);
  return {
    broadcast: (m) => {
      const twin = env.active() ? twinOf(m, signer, env) : null;
      if (twin === null) return inner.broadcast(m);
      peers.forEach((peer, i) => {
        if (i < half) inner.send(peer, m);
        if (i >= half || i === half - 1) inner.send(peer, twin);
      });
    },
    send: (to, m) => inner.send(to, m),
  };
}

/** Flooding: every broadcast is followed by nil prevotes for the next rounds, validly signed. */
function floodingTransport(inner: Transport, signer: Signer, env: ByzantineEnv): Transport {
  return {
    broadcast: (m) => {
      inner.broadcast(m);
      if (!env.active() || m.kind !== 'vote' || m.vote.voter !== env.self) return;
      for (let k = 1; k <= FLOOD_PER_MESSAGE; k++) {
        const body = { ...m.vote, round: m.vote.round + k, step: 'prevote' as const, value: null, partial: null };
        inner.broadcast({ kind: 'vote', vote: { ...body, signature: signer.sign(SIGN_DOMAIN.vote, encodeVoteBody(body)) } });
        inner.broadcast(m); // and duplicates of the real one
      }
    },
    send: (to, m) => inner.send(to, m),
  };
}

/**
 * Lying observations: the node reports what it was told to claim, whatever the legs say. Writes go
 * through unchanged, the protocol v2 ones too when the leg takes them (so the wrapped leg is a
 * BatchLegAdapter exactly when the real one is).
 */
function lyingLegs(inner: Legs, env: ByzantineEnv, claim: 'locked' | 'rejected'): Legs {
  const wrap = (adapter: LegAdapter): LegAdapter => {
    const lie = (id: Uint8Array, real: LegView): LegView => {
      const terms = env.termsOf(toHex(id));
      if (!env.active() || terms === undefined || real.state === 'committed' || real.state === 'aborted') return real;
      if (claim === 'locked') return { state: 'locked', finalityHeight: real.finalityHeight, lock: expectedLock(terms, adapter.leg, id, env.groupPublicKey) };
      return adapter.leg === 'payment' ? { state: 'rejected', finalityHeight: real.finalityHeight, lock: null } : real;
    };
    return {
      ...(isBatchLegAdapter(adapter)
        ? {
            submitRoot: (r: ReportV2) => adapter.submitRoot(r),
            applyEntries: (root: Uint8Array, items: readonly ProvenEntry[]) => adapter.applyEntries(root, items),
            applyBatch: (r: ReportV2, entries: readonly Entry[], m: TreeMultiproof) => adapter.applyBatch(r, entries, m),
            observeMany: async (ids: readonly Uint8Array[]) => (await adapter.observeMany(ids)).map((real, k) => lie(ids[k]!, real)),
          }
        : {}),
      leg: adapter.leg,
      prepare: (t, a) => adapter.prepare(t, a),
      applyReport: (r) => adapter.applyReport(r),
      reclaim: (id) => adapter.reclaim(id),
      observe: async (id): Promise<LegView> => lie(id, await adapter.observe(id)),
    };
  };
  return { asset: wrap(inner.asset), payment: wrap(inner.payment) };
}

/** Partials from a key that is not this node's share: well-formed points that do not verify. */
function badPartialSigner(inner: Signer, env: ByzantineEnv): Signer {
  const wrongSecret = env.randomBytes(32);
  wrongSecret[0] = wrongSecret[0]! & 0x3f; // below the group order
  wrongSecret[31] = wrongSecret[31]! | 1; // nonzero
  return {
    sign: (domain, msg) => inner.sign(domain, msg),
    partialSign: (msg) => (env.active() ? blsSign(wrongSecret, msg) : inner.partialSign(msg)),
  };
}

/** Amnesia: writes go through, but after a restart the node remembers nothing (no lock, no votes). */
function amnesicStorage(inner: Storage): Storage {
  return { put: (id, rec) => inner.put(id, rec), all: () => [], archive: (id) => inner.archive(id) };
}
