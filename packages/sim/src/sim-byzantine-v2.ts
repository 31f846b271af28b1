/**
 * Protocol 1's Byzantine behaviours on protocol-2 nodes, as wrappers around an honest
 * NodeRuntimeV2's ports (as packages/node's byzantine.ts does for v1 nodes: the honest runtime has
 * no Byzantine branch): `silent`, `equivocate` (a conflicting twin of each of its votes and
 * proposals to half the peers), `flood` (nil prevotes for the next rounds after each of its
 * votes), `lie-locked` and `lie-rejected` (v1's lying leg reads, which keep the v2 leg methods),
 * `amnesia` (a restart finds no height record) and `invalid-partial` (its signer, wrapped in
 * sim-world.ts for either protocol). The behaviours of protocol 2 itself (censor, stale-commit,
 * replay-entry, bad-root, withhold-entries) are packages/node's v2/byzantine.ts, through the
 * runtime's proposer hook.
 */
import { type FullProposal2, type MessageV2, type SignedVote2, SIGN_DOMAIN_V2, encodeProposal2Body, encodeVote2Body } from '@tandem/protocol';
import type { Signer } from '@tandem/consensus';
import { type BatchLegAdapter, isBatchLegAdapter } from '@tandem/legs';
import { type ByzantineBehaviour, type ByzantineEnv, FLOOD_PER_MESSAGE, type Clock, type Legs, type LegsV2, type StorageV2, type TransportV2, byzantine } from '@tandem/node';

export interface PortsV2 {
  readonly transport: TransportV2;
  readonly legs: LegsV2;
  readonly storage: StorageV2;
  readonly clock: Clock;
}

export interface V1OnV2Env extends ByzantineEnv {
  readonly signer: Signer;
}

/** Wraps a v2 node's ports so that it behaves as v1's `behaviour` while `env.active()` (the signer is wrapped in sim-world.ts). */
export function byzantineV1OnV2(behaviour: ByzantineBehaviour, ports: PortsV2, env: V1OnV2Env): PortsV2 {
  switch (behaviour) {
    case 'silent':
      return { ...ports, transport: outgoing(ports.transport, env, () => []) };
    case 'equivocate':
      return { ...ports, transport: equivocating(ports.transport, env) };
    case 'flood':
      return { ...ports, transport: outgoing(ports.transport, env, (m) => [m, ...floodOf(m, env)]) };
    case 'lie-locked':
    case 'lie-rejected':
      return { ...ports, legs: lyingLegs(ports.legs, behaviour, env) };
    case 'invalid-partial':
      return ports;
    case 'amnesia':
      return { ...ports, storage: amnesic(ports.storage) };
  }
}

/** Amnesia: writes go through, but a restart finds no height record (no votes, no lock). */
function amnesic(inner: StorageV2): StorageV2 {
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'load') return () => ({ ...target.load(), height: null });
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Every outgoing message replaced by `rewrite(message)` while active (none: dropped). */
function outgoing(inner: TransportV2, env: V1OnV2Env, rewrite: (m: MessageV2) => readonly MessageV2[]): TransportV2 {
  const each = (m: MessageV2, send: (x: MessageV2) => void) => {
    for (const x of env.active() ? rewrite(m) : [m]) send(x);
  };
  return {
    broadcast: (m) => each(m, (x) => inner.broadcast(x)),
    send: (to, m) => each(m, (x) => inner.send(to, x)),
  };
}

function resignVote(v: SignedVote2, headerDigest: Uint8Array | null, round: number, signer: Signer): SignedVote2 {
  const body = { ...v, round, headerDigest, partial: headerDigest === null ? null : v.partial };
  return { ...body, signature: signer.sign(SIGN_DOMAIN_V2.vote, encodeVote2Body(body)) };
}

/** Nil prevotes for the next rounds after each of its own votes, and duplicates of the real one. */
function floodOf(m: MessageV2, env: V1OnV2Env): MessageV2[] {
  if (m.kind !== 'vote2' || m.vote.voter !== env.self) return [];
  const out: MessageV2[] = [];
  for (let k = 1; k <= FLOOD_PER_MESSAGE; k++) {
    const nil = resignVote({ ...m.vote, step: 'prevote' }, null, m.vote.round + k, env.signer);
    out.push({ kind: 'vote2', vote: nil }, m);
  }
  return out;
}

/** A conflicting twin of its own vote (nil for a header) or proposal (another time, so another header). */
function twinOf(m: MessageV2, env: V1OnV2Env): MessageV2 | null {
  if (m.kind === 'vote2' && m.vote.voter === env.self && m.vote.headerDigest !== null) return { kind: 'vote2', vote: resignVote(m.vote, null, m.vote.round, env.signer) };
  if (m.kind === 'proposal2' && m.proposal.proposer === env.self) {
    const header = { ...m.proposal.header, timeMs: m.proposal.header.timeMs + 1 };
    return { kind: 'proposal2', proposal: signProposal({ ...m.proposal, header }, env.signer) };
  }
  return null;
}

/** The lower half of the peers gets the honest message, the upper half its twin, the last of the lower half both. */
function equivocating(inner: TransportV2, env: V1OnV2Env): TransportV2 {
  const peers = Array.from({ length: env.n }, (_, i) => i + 1).filter((i) => i !== env.self);
  const half = Math.ceil(peers.length / 2);
  return {
    broadcast: (m) => {
      const twin = env.active() ? twinOf(m, env) : null;
      if (twin === null) return inner.broadcast(m);
      peers.forEach((peer, i) => {
        if (i < half) inner.send(peer, m);
        if (i >= half || i === half - 1) inner.send(peer, twin);
      });
    },
    send: (to, m) => inner.send(to, m),
  };
}

function signProposal(p: FullProposal2, signer: Signer): FullProposal2 {
  return { ...p, signature: signer.sign(SIGN_DOMAIN_V2.proposal, encodeProposal2Body(p)) };
}

/** v1's lying observations (packages/node byzantine.ts), which keep the v2 leg methods of a v2 leg. */
function lyingLegs(legs: LegsV2, behaviour: ByzantineBehaviour, env: V1OnV2Env): LegsV2 {
  const none = () => {
    throw new Error('not used');
  };
  const lying = byzantine(behaviour, { signer: env.signer, transport: { broadcast: none, send: none }, storage: { put: none, all: none, archive: none }, legs: legs as Legs }, env).legs;
  const batch = (a: unknown): BatchLegAdapter => {
    if (!isBatchLegAdapter(a as BatchLegAdapter)) throw new Error('a lying v2 leg keeps its v2 methods');
    return a as BatchLegAdapter;
  };
  return { asset: batch(lying.asset), payment: batch(lying.payment) };
}
