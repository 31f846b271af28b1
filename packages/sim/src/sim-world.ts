/**
 * The simulator's world: what every part of a run shares (the virtual clock, the event queue and
 * the history, as SimCore), and its set-up from the scenario and the seed: keys (the dealer's
 * threshold key, node identities, party keys), the two in-memory legs funded as the plan says,
 * and the nodes (each a real NodeRuntime over simulated ports, started and restarted here).
 */
import {
  type ClusterConfig,
  type LegName,
  type Message,
  type MessageV2,
  type Terms,
  type V2Params,
  SIGN_DOMAIN,
  configDigest as computeConfigDigest,
  configDigestV2,
  networkIdFromName,
  quorum,
} from '@tandem/protocol';
import { blsSign, dealerKeygen, identityKeygen } from '@tandem/crypto';
import { type ConsensusParams, type NodeContext, type Signer, makeContext } from '@tandem/consensus';
import { type LegAdapter, MemoryAssetChain, MemoryBankLedger, type MemoryLegFaults } from '@tandem/legs';
import {
  type Authorizations,
  type ByzantineEnv,
  type Clock,
  type Timers,
  type ByzantinePorts,
  type MemoVerifier,
  MemoryStorage,
  MemoryStorageV2,
  type NodeEvent,
  NodeRuntime,
  type RuntimeParams,
  byzantine,
  nativeIdentitySigner,
} from '@tandem/node';
import { clockSkewMs, faultActive } from './fault.js';
import type { HistoryEntry } from './history.js';
import type { Rng } from './rng.js';
import { type PlannedSettlement, type ScenarioPlan, type TermsPlacement, scenarioTerms } from './plan.js';
import type { SimSettlement } from './run-record.js';
import { type ByzantineBehaviour, type Fault, type Scenario, type ScenarioSettlement, isByzantineBehaviourV1 } from './scenario.js';

export const SIM_CHAIN_ID = 31337n;
export const SIM_ESCROW = Uint8Array.from({ length: 20 }, (_, i) => 0xe0 + (i % 16));
export const SIM_BANK = { bankId: 'bank', ledger: 'main' } as const;
/** The chain's finality delay in scenarios that reorganise it (else locks are final at once). */
export const SIM_REORG_FINALITY_MS = 500;

/** What the event queue holds. */
export type SimEvent =
  | { readonly kind: 'timer'; readonly node: number; readonly incarnation: number; readonly fn: () => void; readonly cancelled: { v: boolean } }
  | { readonly kind: 'deliver'; readonly from: number; readonly to: number; readonly message: SimMessage }
  | { readonly kind: 'world'; readonly fn: () => void };

/** What every part of the simulator shares: the scenario, the virtual clock, the queue and the history. */
export interface SimCore {
  readonly scenario: Scenario;
  nowMs(): number;
  /** Runs `fn` at virtual time `timeMs` (now, if that has passed). */
  at(timeMs: number, fn: () => void): void;
  push(atMs: number, event: SimEvent): void;
  record(e: HistoryEntry): void;
}

/** A node-to-node message of either protocol (a run carries one kind only). */
export type SimMessage = Message | MessageV2;

/** What the simulator drives of a node runtime, v1 (NodeRuntime) or v2 (NodeRuntimeV2). */
export interface SimRuntime {
  /** Leg calls under way: drained before the next event. */
  readonly inflight: number;
  submit(terms: Terms, auths: Authorizations): unknown;
  receive(from: number, message: SimMessage): void;
  peerConnected(peer: number): void;
  stop(): void;
}

export interface SimNode {
  readonly index: number;
  readonly storage: MemoryStorage;
  /** The node's storage under protocol 2 (unused under 1). */
  readonly storageV2: MemoryStorageV2;
  readonly ctx: NodeContext;
  runtime: SimRuntime | null;
  incarnation: number;
  up: boolean;
  /** Crashed with no restart: faulty for good. */
  crashedForGood: boolean;
  readonly decided: Set<string>; // settlement ids (hex) this node decided, across restarts
}

export interface World {
  readonly cluster: ClusterConfig;
  /** The configuration digest the legs are anchored to: v1's, or v2's (which covers the v2 parameters). */
  readonly configDigest: Uint8Array;
  /** The v2 parameters of a protocol-2 run, else null. */
  readonly v2: V2Params | null;
  readonly partyKeys: ReadonlyMap<string, Uint8Array>;
  readonly settlements: readonly PlannedSettlement[];
  readonly bySettlementHex: ReadonlyMap<string, PlannedSettlement>;
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  readonly nodes: readonly SimNode[];
}

export interface WorldOptions {
  /** The scenario's plan, its terms placed by SIM_PLACEMENT. */
  readonly plan: ScenarioPlan;
  readonly rng: Rng;
  readonly verifier: MemoVerifier;
  readonly consensusParams?: ConsensusParams | undefined;
  /** Each leg's fault hooks (the scenario's leg faults), given the settlements by id. */
  readonly legFaults: (leg: LegName, bySettlementHex: ReadonlyMap<string, SimSettlement>) => MemoryLegFaults;
  /** The v2 parameters of a protocol-2 run (legs anchored to protocol 2 and the v2 digest), else null. */
  readonly v2: V2Params | null;
}

/** Where the simulator places terms: its venues, each settlement's id as the nonce, time 0 at 0. */
export const SIM_PLACEMENT: TermsPlacement = {
  venues: { chainId: SIM_CHAIN_ID, escrow: SIM_ESCROW, bankId: SIM_BANK.bankId, ledger: SIM_BANK.ledger },
  nonceSuffix: '',
  startMs: 0,
};

/** The terms of a scenario settlement in the simulator: times absolute on the virtual clock. */
export function simTerms(s: ScenarioSettlement): Terms {
  return scenarioTerms(s, SIM_PLACEMENT);
}

/** The world of a (drawn) scenario at a seed: every key from `options.rng`, no node started yet. */
export function buildWorld(core: SimCore, options: WorldOptions): World {
  const { scenario } = core;
  const { rng, verifier } = options;
  // Keys: a dealer for the threshold key, Ed25519 identities, party keys. All from the seed.
  const keyRng = rng.fork('keys');
  const n = scenario.nodes;
  const t = quorum(n);
  const dealt = dealerKeygen(n, t, (k) => keyRng.bytes(k));
  const identities = Array.from({ length: n }, () => identityKeygen((k) => keyRng.bytes(k)));
  const cluster: ClusterConfig = {
    networkId: networkIdFromName('tandem-sim'),
    n,
    t,
    members: identities.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
    commitments: dealt.commitments,
  };
  const v2 = options.v2;
  const configDigest = v2 === null ? computeConfigDigest(cluster) : configDigestV2(cluster, v2);
  const partyRng = rng.fork('parties');
  const partyKeys = new Map<string, Uint8Array>();
  const partyPublic = new Map<string, Uint8Array>();
  for (const name of options.plan.parties) {
    const k = identityKeygen((m) => partyRng.bytes(m));
    partyKeys.set(name, k.secretKey);
    partyPublic.set(name, k.publicKey);
  }

  const settlements = options.plan.settlements;
  const bySettlementHex = new Map(settlements.map((s) => [s.idHex, s]));

  // Legs: one chain and one bank shared by all nodes, with the scenario's leg faults as hooks.
  const anchor = { networkId: cluster.networkId, configDigest, groupPublicKey: dealt.commitments[0]!, ...(v2 === null ? {} : { protocol: 2 as const }) };
  const verifyReport = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => verifier.bls(pk, msg, sig);
  const verifyAuthorization = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => verifier.identity(SIGN_DOMAIN.authorization, pk, msg, sig);
  const common = { anchor, parties: partyPublic, verifyReport, verifyAuthorization, logClockMs: () => core.nowMs() };
  // Each leg runs on its own clock: virtual time plus any clock-skew fault on that leg.
  // A scenario with a reorg runs the chain with a finality delay, so there is something to undo.
  const legClockMs = (leg: LegName) => () => core.nowMs() + clockSkewMs(scenario.faults, leg, core.nowMs());
  const finalityMs = scenario.faults.some((f) => f.kind === 'reorg') ? SIM_REORG_FINALITY_MS : 0;
  const asset = new MemoryAssetChain({ ...common, finalityMs, nowMs: legClockMs('asset'), venue: { chainId: SIM_CHAIN_ID, escrow: SIM_ESCROW }, faults: options.legFaults('asset', bySettlementHex) });
  const payment = new MemoryBankLedger({ ...common, nowMs: legClockMs('payment'), venue: SIM_BANK, faults: options.legFaults('payment', bySettlementHex) });
  for (const f of options.plan.funds) (f.leg === 'asset' ? asset : payment).mint(f.account, f.unit, f.amount);

  const world = { cluster, configDigest, v2, partyKeys, settlements, bySettlementHex, asset, payment, nodes: [] as SimNode[] };
  for (let i = 1; i <= n; i++) {
    const share = dealt.shares[i - 1]!;
    // node:crypto, key prepared once: byte-identical to the reference's signatures (Ed25519 is deterministic).
    const identitySigner = nativeIdentitySigner(identities[i - 1]!.secretKey);
    const honestSigner = {
      sign: (domain: string, msg: Uint8Array) => identitySigner.sign(domain, msg),
      partialSign: (msg: Uint8Array) => blsSign(share.secret, msg),
    };
    // A Byzantine signer must be in place before the context is built (consensus signs through it).
    let signer: Signer = honestSigner;
    for (const f of byzantineFaultsV1(scenario, i)) signer = byzantine(f.behaviour, dummyPorts(signer), byzantineEnv(core, world, rng, i, f)).signer;
    const ctx = makeContext(cluster, i, signer, verifier, options.consensusParams);
    world.nodes.push({ index: i, storage: new MemoryStorage(), storageV2: new MemoryStorageV2(), ctx, runtime: null, incarnation: 0, up: false, crashedForGood: false, decided: new Set() });
  }
  return world;
}

type ByzantineFault = Extract<Fault, { kind: 'byzantine' }>;

export function byzantineFaults(scenario: Scenario, node: number): ByzantineFault[] {
  return scenario.faults.filter((f): f is ByzantineFault => f.kind === 'byzantine' && f.node === node);
}

/** The node's Byzantine faults whose behaviour protocol 1 knows (every one, in a protocol-1 run). */
function byzantineFaultsV1(scenario: Scenario, node: number): (ByzantineFault & { behaviour: ByzantineBehaviour })[] {
  return byzantineFaults(scenario, node).filter((f): f is ByzantineFault & { behaviour: ByzantineBehaviour } => isByzantineBehaviourV1(f.behaviour));
}

export function byzantineEnv(core: SimCore, world: Pick<World, 'cluster' | 'configDigest' | 'bySettlementHex'>, rng: Rng, node: number, f: ByzantineFault): ByzantineEnv {
  const own = rng.fork(`byzantine-${node}-${f.behaviour}`);
  return {
    self: node,
    n: world.cluster.n,
    networkId: world.cluster.networkId,
    configDigest: world.configDigest,
    groupPublicKey: world.cluster.commitments[0]!,
    termsOf: (hex) => world.bySettlementHex.get(hex)?.terms,
    randomBytes: (k) => own.bytes(k),
    active: () => faultActive(f, core.nowMs()),
  };
}

/** Ports to wrap when only the signer matters (the signer is chosen before the node starts). */
function dummyPorts(signer: Signer): ByzantinePorts {
  const none = () => {
    throw new Error('not used');
  };
  const leg = { leg: 'asset' as const, prepare: none, observe: none, applyReport: none, reclaim: none };
  return { signer, transport: { broadcast: none, send: none }, storage: { put: none, all: none, archive: none }, legs: { asset: leg, payment: { ...leg, leg: 'payment' } } };
}

/** What a node's runtime needs from the rest of the simulator. */
export interface NodeWiring {
  readonly send: (from: number, to: number, message: SimMessage) => void;
  readonly runtimeParams: RuntimeParams;
}

/** A node's clock: virtual time plus the clock-skew faults on it. */
export function nodeClock(core: SimCore, node: SimNode): Clock {
  return { nowMs: () => core.nowMs() + clockSkewMs(core.scenario.faults, node.index, core.nowMs()) };
}

/** A node's timers on the event queue; those of an earlier incarnation never fire (the queue checks). */
export function nodeTimers(core: SimCore, node: SimNode, incarnation: number): Timers {
  return {
    after: (delayMs, fn) => {
      const cancelled = { v: false };
      core.push(core.nowMs() + Math.max(0, delayMs), { kind: 'timer', node: node.index, incarnation, fn, cancelled });
      return () => {
        cancelled.v = true;
      };
    },
  };
}

/** Starts (or restarts, with its storage) a node: a new NodeRuntime over the simulated ports. */
export function startNode(core: SimCore, world: World, rng: Rng, node: SimNode, wiring: NodeWiring): void {
  node.incarnation++;
  node.up = true;
  const incarnation = node.incarnation;
  let ports: ByzantinePorts = {
    signer: node.ctx.signer,
    transport: {
      broadcast: (m) => {
        for (const peer of world.nodes) if (peer.index !== node.index) wiring.send(node.index, peer.index, m);
      },
      send: (to, m) => wiring.send(node.index, to, m),
    },
    storage: node.storage,
    legs: { asset: world.asset as LegAdapter, payment: world.payment as LegAdapter },
  };
  for (const f of byzantineFaultsV1(core.scenario, node.index)) ports = { ...byzantine(f.behaviour, ports, byzantineEnv(core, world, rng, node.index, f)), signer: ports.signer };
  const runtime = new NodeRuntime({
    ctx: node.ctx,
    clock: nodeClock(core, node),
    timers: nodeTimers(core, node, incarnation),
    transport: ports.transport,
    storage: ports.storage,
    legs: ports.legs,
    log: {
      event: (event: NodeEvent) => {
        if (event.type === 'decided') node.decided.add(event.settlementIdHex);
        core.record({ t: core.nowMs(), node: node.index, type: 'node', event });
      },
    },
    params: wiring.runtimeParams,
  });
  node.runtime = runtime;
  runtime.start();
}
