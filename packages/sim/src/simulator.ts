/**
 * The deterministic discrete-event simulator. It runs the real node runtime (packages/node) and the
 * real consensus core with simulated ports: a virtual clock, an event queue with a total order, a
 * seeded PRNG tree, a lossy network with partitions, crashes that keep storage, in-memory legs with
 * fault hooks, and party agents that authorize prepares and reclaim after the timelock.
 *
 * Same (scenario, seed, code) → same history, byte for byte: nothing here reads the wall clock or
 * an unseeded random source, and async leg calls are drained before the next event runs.
 */
import {
  type Authorization,
  type ClusterConfig,
  type LegName,
  type LegState,
  type Message,
  type Terms,
  SIGN_DOMAIN,
  configDigest as computeConfigDigest,
  networkIdFromName,
  quorum,
  reclaimAtMs,
  settlementId,
  toHex,
} from '@tandem/protocol';
import { blsSign, dealerKeygen, identityKeygen, identitySign } from '@tandem/crypto';
import { type ConsensusParams, type NodeContext, type PersistedSettlement, type Signer, makeContext } from '@tandem/consensus';
import { MemoryAssetChain, MemoryBankLedger, type LegAdapter, type LegEvent, type LegEventKind } from '@tandem/legs';
import { type Authorizations, type ByzantineEnv, type ByzantinePorts, type NodeEvent, NodeRuntime, type RuntimeParams, DEFAULT_RUNTIME_PARAMS, byzantine } from '@tandem/node';
import { EventQueue } from './queue.js';
import { Rng } from './rng.js';
import type { Fault, Scenario, ScenarioSettlement } from './scenario.js';
import { drawScenario } from './random.js';
import { type HistoryEntry, HistoryHasher, historyLine, messageSettlementHex, summarizeMessage } from './history.js';
import { MemoVerifier } from '@tandem/node';

export const SIM_CHAIN_ID = 31337n;
export const SIM_ESCROW = Uint8Array.from({ length: 20 }, (_, i) => 0xe0 + (i % 16));
export const SIM_BANK = { bankId: 'bank', ledger: 'main' } as const;
/** The chain's finality delay in scenarios that reorganise it (else locks are final at once). */
export const SIM_REORG_FINALITY_MS = 500;
/** Upper bound on events in one run: a runaway loop fails loudly instead of hanging CI. */
const EVENTS_MAX = 20_000_000;
/** How often the end-of-run condition is evaluated, in virtual ms. */
const END_CHECK_MS = 50;

type SimEvent =
  | { readonly kind: 'timer'; readonly node: number; readonly incarnation: number; readonly fn: () => void; readonly cancelled: { v: boolean } }
  | { readonly kind: 'deliver'; readonly from: number; readonly to: number; readonly message: Message }
  | { readonly kind: 'world'; readonly fn: () => void };

interface SimNode {
  readonly index: number;
  readonly storage: Map<string, PersistedSettlement>;
  readonly ctx: NodeContext;
  runtime: NodeRuntime | null;
  incarnation: number;
  up: boolean;
  /** Crashed with no restart: faulty for good. */
  crashedForGood: boolean;
  readonly decided: Set<string>; // settlement ids (hex) this node decided, across restarts
}

export interface SimSettlement {
  readonly spec: ScenarioSettlement;
  readonly terms: Terms;
  readonly idHex: string;
}

/** What the checker reads of a leg: its event log (times on the run's timeline) and its own conservation check. */
export interface LegRecord {
  events(): readonly LegEvent[];
  conservationProblem(): string | null;
}

/**
 * A finished run as the checker, the result builder and the report read it: the simulator's, or
 * one collected from real processes (`tandem simulate --mode cluster`). Times are ms since the
 * run's start: virtual in the simulator, wall-clock offsets on a cluster.
 */
export interface RunRecord {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly cluster: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly settlements: readonly SimSettlement[];
  readonly history: readonly HistoryEntry[];
  readonly historyHash: string;
  readonly asset: LegRecord;
  readonly payment: LegRecord;
  /** Nodes that are faulty for the liveness assumption (crashed for good). */
  readonly faultyForGood: ReadonlySet<number>;
  /** What `leg`'s own clock read at run time `runMs` (leg clock-skew faults; the epoch on a cluster). */
  readonly legTimeMs: (leg: 'asset' | 'payment', runMs: number) => number;
  /** Byzantine members, and members whose clock was skewed: faulty for the liveness assumption. */
  readonly byzantine: ReadonlySet<number>;
  readonly skewed: ReadonlySet<number>;
  /** Nodes up at the end of the run. */
  readonly upAtEnd: ReadonlySet<number>;
  readonly endMs: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly verifier: { bls(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean };
}

/** A simulated run: its legs are the in-memory chain and bank themselves. */
export interface SimRun extends RunRecord {
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  readonly verifier: MemoVerifier;
}

export interface SimOptions {
  readonly seed?: number;
  readonly runtimeParams?: RuntimeParams;
  /** Called with every history entry as it happens (the demo narrates from it). */
  readonly onEntry?: (e: HistoryEntry) => void;
  /** Share one memo across runs (benchmarks, seed sweeps); a fresh one by default. */
  readonly verifier?: MemoVerifier;
  /** Consensus parameters for every node (default: DEFAULT_PARAMS). */
  readonly consensusParams?: ConsensusParams;
}

/** Builds the terms of a scenario settlement: times absolute on the virtual clock. */
export function simTerms(s: ScenarioSettlement): Terms {
  return {
    nonce: s.id,
    asset: { chainId: SIM_CHAIN_ID, escrow: SIM_ESCROW, token: s.asset.token, seller: s.asset.seller, buyer: s.asset.buyer, amount: s.asset.amount },
    payment: { bankId: SIM_BANK.bankId, ledger: SIM_BANK.ledger, payer: s.payment.payer, payee: s.payment.payee, currency: s.payment.currency, amount: s.payment.amount },
    deadlineMs: s.atMs + s.deadlineMs,
    reportWindowMs: s.reportWindowMs,
    marginMs: s.marginMs,
  };
}

/** Every party a scenario names (accounts and settlements), sorted: who needs a key. */
export function partiesOf(scenario: Scenario): string[] {
  const names = new Set<string>();
  for (const m of [scenario.accounts.asset, scenario.accounts.payment]) for (const k of m.keys()) names.add(k);
  for (const s of scenario.settlements) {
    names.add(s.asset.seller);
    names.add(s.asset.buyer);
    names.add(s.payment.payer);
    names.add(s.payment.payee);
  }
  return [...names].sort();
}

export class Simulation {
  readonly scenario: Scenario;
  readonly seed: number;
  private nowMs = 0;
  private readonly queue = new EventQueue<SimEvent>(EVENTS_MAX);
  private readonly rng: Rng;
  private readonly netRng: Rng;
  private readonly nodes: SimNode[] = [];
  private readonly history: HistoryEntry[] = [];
  private readonly hasher = new HistoryHasher();
  private readonly settlements: SimSettlement[];
  private readonly bySettlementHex = new Map<string, SimSettlement>();
  readonly cluster: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  private readonly partyKeys = new Map<string, Uint8Array>();
  private readonly verifier: MemoVerifier;
  private readonly runtimeParams: RuntimeParams;
  private messagesSent = 0;
  private messagesDelivered = 0;
  private eventsRun = 0;
  private readonly applyErrorsLeft = new Map<string, number>(); // `${idHex}:${leg}` → count
  private readonly lastFaultEventMs: number;
  private readonly hardStopMs: number;
  private finished = false;
  /** Party-agent leg calls under way (node calls are counted by each runtime). */
  private worldInflight = 0;
  private readonly legStates = { asset: new LegStateTracker(), payment: new LegStateTracker() };

  constructor(family: Scenario, private readonly options: SimOptions = {}) {
    this.seed = options.seed ?? family.seed;
    // A scenario with a `random:` block is a family; the seed picks the member (the same one
    // `tandem explore` ran, so its replay command reproduces the run).
    const scenario = drawScenario(family, this.seed);
    this.scenario = scenario;
    this.rng = Rng.fromSeed(this.seed);
    this.netRng = this.rng.fork('network');
    this.verifier = options.verifier ?? new MemoVerifier();
    this.runtimeParams = options.runtimeParams ?? DEFAULT_RUNTIME_PARAMS;

    // Keys: a dealer for the threshold key, Ed25519 identities, party keys. All from the seed.
    const keyRng = this.rng.fork('keys');
    const n = scenario.nodes;
    const t = quorum(n);
    const dealt = dealerKeygen(n, t, (k) => keyRng.bytes(k));
    const identities = Array.from({ length: n }, () => identityKeygen((k) => keyRng.bytes(k)));
    this.cluster = {
      networkId: networkIdFromName('tandem-sim'),
      n,
      t,
      members: identities.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
      commitments: dealt.commitments,
    };
    this.configDigest = computeConfigDigest(this.cluster);
    const partyRng = this.rng.fork('parties');
    const partyPublic = new Map<string, Uint8Array>();
    for (const name of partiesOf(scenario)) {
      const k = identityKeygen((m) => partyRng.bytes(m));
      this.partyKeys.set(name, k.secretKey);
      partyPublic.set(name, k.publicKey);
    }

    this.settlements = scenario.settlements.map((spec) => {
      const terms = simTerms(spec);
      return { spec, terms, idHex: toHex(settlementId(terms)) };
    });
    for (const s of this.settlements) this.bySettlementHex.set(s.idHex, s);

    // Legs: one chain and one bank shared by all nodes, with the scenario's leg faults as hooks.
    const anchor = { networkId: this.cluster.networkId, configDigest: this.configDigest, groupPublicKey: dealt.commitments[0]! };
    const verifyReport = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => this.verifier.bls(pk, msg, sig);
    const verifyAuthorization = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => this.verifier.identity(SIGN_DOMAIN.authorization, pk, msg, sig);
    const common = { anchor, parties: partyPublic, verifyReport, verifyAuthorization, logClockMs: () => this.nowMs };
    // Each leg runs on its own clock: virtual time plus any clock-skew fault on that leg.
    // A scenario with a reorg runs the chain with a finality delay, so there is something to undo.
    const finalityMs = scenario.faults.some((f) => f.kind === 'reorg') ? SIM_REORG_FINALITY_MS : 0;
    this.asset = new MemoryAssetChain({ ...common, finalityMs, nowMs: () => this.nowMs + this.skewOf('asset', this.nowMs), venue: { chainId: SIM_CHAIN_ID, escrow: SIM_ESCROW }, faults: this.legFaults('asset') });
    this.payment = new MemoryBankLedger({ ...common, nowMs: () => this.nowMs + this.skewOf('payment', this.nowMs), venue: SIM_BANK, faults: this.legFaults('payment') });
    for (const [account, units] of scenario.accounts.asset) for (const [unit, amount] of units) if (amount > 0n) this.asset.mint(account, unit, amount);
    for (const [account, units] of scenario.accounts.payment) for (const [unit, amount] of units) if (amount > 0n) this.payment.mint(account, unit, amount);

    for (let i = 1; i <= n; i++) {
      const share = dealt.shares[i - 1]!;
      const secretKey = identities[i - 1]!.secretKey;
      const honestSigner = {
        sign: (domain: string, msg: Uint8Array) => identitySign(domain, secretKey, msg),
        partialSign: (msg: Uint8Array) => blsSign(share.secret, msg),
      };
      const behaviours = this.byzantineFaults(i);
      // A Byzantine signer must be in place before the context is built (consensus signs through it).
      let signer: Signer = honestSigner;
      for (const f of behaviours) signer = byzantine(f.behaviour, this.dummyPorts(signer), this.byzantineEnv(i, f)).signer;
      const ctx = makeContext(this.cluster, i, signer, this.verifier, options.consensusParams);
      this.nodes.push({ index: i, storage: new Map(), ctx, runtime: null, incarnation: 0, up: false, crashedForGood: false, decided: new Set() });
    }

    let lastFault = 0;
    for (const f of scenario.faults) lastFault = Math.max(lastFault, f.atMs, f.untilMs ?? 0, f.kind === 'leg' && f.fail === 'late-lock' ? this.settlementByNonce(f.settlement).spec.atMs + f.afterMs : 0);
    this.lastFaultEventMs = lastFault;
    let latestReclaim = 0;
    for (const s of this.settlements) latestReclaim = Math.max(latestReclaim, reclaimAtMs(s.terms));
    this.hardStopMs = Math.max(latestReclaim, lastFault) + 1_000;
  }

  private byzantineFaults(node: number): Extract<Fault, { kind: 'byzantine' }>[] {
    return this.scenario.faults.filter((f): f is Extract<Fault, { kind: 'byzantine' }> => f.kind === 'byzantine' && f.node === node);
  }

  private byzantineEnv(node: number, f: Extract<Fault, { kind: 'byzantine' }>): ByzantineEnv {
    const rng = this.rng.fork(`byzantine-${node}-${f.behaviour}`);
    return {
      self: node,
      n: this.cluster.n,
      networkId: this.cluster.networkId,
      configDigest: this.configDigest,
      groupPublicKey: this.cluster.commitments[0]!,
      termsOf: (hex) => this.bySettlementHex.get(hex)?.terms,
      randomBytes: (k) => rng.bytes(k),
      active: () => this.nowMs >= f.atMs && (f.untilMs === null || this.nowMs < f.untilMs),
    };
  }

  /** Ports to wrap when only the signer matters (the signer is chosen before the node starts). */
  private dummyPorts(signer: Signer): ByzantinePorts {
    const none = () => {
      throw new Error('not used');
    };
    const leg = { leg: 'asset' as const, prepare: none, observe: none, applyReport: none, reclaim: none };
    return { signer, transport: { broadcast: none, send: none }, storage: { put: none, all: none }, legs: { asset: leg, payment: { ...leg, leg: 'payment' } } };
  }

  /** The clock offset of a node or a leg at virtual time `t` (clock-skew faults). */
  private skewOf(target: number | 'asset' | 'payment', t: number): number {
    let skew = 0;
    for (const f of this.scenario.faults) {
      if (f.kind === 'clock-skew' && f.target === target && t >= f.atMs && (f.untilMs === null || t < f.untilMs)) skew += f.skewMs;
    }
    return skew;
  }

  private settlementByNonce(nonce: string): SimSettlement {
    const s = this.settlements.find((x) => x.spec.id === nonce);
    if (s === undefined) throw new Error(`unknown settlement ${nonce}`);
    return s;
  }

  private legFaultsFor(idHex: string, leg: LegName): Fault[] {
    const s = this.bySettlementHex.get(idHex);
    if (s === undefined) return [];
    return this.scenario.faults.filter((f) => f.kind === 'leg' && f.settlement === s.spec.id && f.leg === leg);
  }

  private legFaults(leg: LegName) {
    return {
      rejectPrepare: (idHex: string) => this.legFaultsFor(idHex, leg).some((f) => f.kind === 'leg' && f.fail === 'reject' && this.nowMs >= f.atMs),
      failApply: (idHex: string) => {
        const f = this.legFaultsFor(idHex, leg).find((x) => x.kind === 'leg' && x.fail === 'apply-error' && this.nowMs >= x.atMs);
        if (f === undefined || f.kind !== 'leg') return false;
        const key = `${idHex}:${leg}`;
        const left = this.applyErrorsLeft.get(key) ?? f.times;
        if (left <= 0) return false;
        this.applyErrorsLeft.set(key, left - 1);
        return true;
      },
      unavailable: () =>
        this.scenario.faults.some((f) => f.kind === 'leg' && f.leg === leg && f.fail === 'unavailable' && this.nowMs >= f.atMs && (f.untilMs === null || this.nowMs < f.untilMs)),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // History

  private record(e: HistoryEntry): void {
    this.history.push(e);
    this.hasher.add(historyLine(e));
    this.options.onEntry?.(e);
  }

  private nodeLog(node: SimNode) {
    return {
      event: (event: NodeEvent) => {
        if (event.type === 'decided') node.decided.add(event.settlementIdHex);
        this.record({ t: this.nowMs, node: node.index, type: 'node', event });
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduling

  private at(timeMs: number, fn: () => void): void {
    this.queue.push(Math.max(timeMs, this.nowMs), { kind: 'world', fn });
  }

  private startNode(node: SimNode): void {
    node.incarnation++;
    node.up = true;
    const incarnation = node.incarnation;
    let ports: ByzantinePorts = {
      signer: node.ctx.signer,
      transport: {
        broadcast: (m) => {
          for (const peer of this.nodes) if (peer.index !== node.index) this.send(node.index, peer.index, m);
        },
        send: (to, m) => this.send(node.index, to, m),
      },
      storage: {
        put: (idHex, rec) => {
          node.storage.set(idHex, rec);
        },
        all: () => [...node.storage.values()],
      },
      legs: { asset: this.asset as LegAdapter, payment: this.payment as LegAdapter },
    };
    for (const f of this.byzantineFaults(node.index)) ports = { ...byzantine(f.behaviour, ports, this.byzantineEnv(node.index, f)), signer: ports.signer };
    const runtime = new NodeRuntime({
      ctx: node.ctx,
      clock: { nowMs: () => this.nowMs + this.skewOf(node.index, this.nowMs) },
      timers: {
        after: (delayMs, fn) => {
          const cancelled = { v: false };
          this.queue.push(this.nowMs + Math.max(0, delayMs), { kind: 'timer', node: node.index, incarnation, fn, cancelled });
          return () => {
            cancelled.v = true;
          };
        },
      },
      transport: ports.transport,
      storage: ports.storage,
      legs: ports.legs,
      log: this.nodeLog(node),
      params: this.runtimeParams,
    });
    node.runtime = runtime;
    runtime.start();
  }

  private crash(node: SimNode, forGood: boolean): void {
    if (!node.up) return;
    node.runtime?.stop();
    node.runtime = null;
    node.up = false;
    node.crashedForGood = forGood;
    this.record({ t: this.nowMs, node: node.index, type: 'crash' });
  }

  private restart(node: SimNode): void {
    if (node.up) return;
    node.crashedForGood = false;
    this.record({ t: this.nowMs, node: node.index, type: 'restart' });
    this.startNode(node);
    // A restart counts as a reconnect to every peer it can reach (DESIGN §2.3).
    for (const peer of this.nodes) {
      if (peer.index === node.index || !peer.up || this.separated(node.index, peer.index)) continue;
      node.runtime!.peerConnected(peer.index);
      peer.runtime!.peerConnected(node.index);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Network

  /** Is the link a–b cut by an active partition or isolation right now? */
  private separated(a: number, b: number): boolean {
    for (const f of this.scenario.faults) {
      if (f.kind !== 'partition' && f.kind !== 'isolate') continue;
      if (this.nowMs < f.atMs || (f.untilMs !== null && this.nowMs >= f.untilMs)) continue;
      if (f.kind === 'isolate') {
        if (a === f.node || b === f.node) return true;
      } else {
        const ga = f.groups.findIndex((g) => g.includes(a));
        const gb = f.groups.findIndex((g) => g.includes(b));
        if (ga !== gb) return true;
      }
    }
    return false;
  }

  private send(from: number, to: number, message: Message): void {
    this.messagesSent++;
    const base = { t: this.nowMs, node: from, type: 'msg' as const, to, settlementIdHex: messageSettlementHex(message, settlementId), message: summarizeMessage(message) };
    if (this.separated(from, to)) {
      this.record({ ...base, deliverAtMs: null, lost: 'partition' }); // lost, not buffered
      return;
    }
    const net = this.scenario.network;
    let dropRate = net.drop;
    let duplicateRate = net.duplicate;
    let extraMs = 0;
    for (const f of this.scenario.faults) {
      if ((f.kind !== 'drop' && f.kind !== 'duplicate' && f.kind !== 'delay') || this.nowMs < f.atMs || (f.untilMs !== null && this.nowMs >= f.untilMs)) continue;
      if (f.kind === 'delay') {
        if (f.node === from || f.node === to) extraMs += f.extraMs;
      } else if (f.from.includes(from) && f.to.includes(to)) {
        // Independent causes of loss (or duplication) combine: 1 - (1-a)(1-b).
        if (f.kind === 'drop') dropRate = 1 - (1 - dropRate) * (1 - f.rate);
        else duplicateRate = 1 - (1 - duplicateRate) * (1 - f.rate);
      }
    }
    if (this.netRng.chance(dropRate)) {
      this.record({ ...base, deliverAtMs: null, lost: 'loss' });
      return;
    }
    const copies = this.netRng.chance(duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const latency = this.netRng.intBetween(net.latencyMinMs, net.latencyMaxMs) + extraMs;
      this.record({ ...base, deliverAtMs: this.nowMs + latency, lost: null });
      this.queue.push(this.nowMs + latency, { kind: 'deliver', from, to, message });
    }
  }

  /** When a cut heals, the nodes on both sides see each other reconnect. */
  private reconnectAcross(groups: readonly (readonly number[])[]): void {
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a.index >= b.index || !a.up || !b.up) continue;
        const ga = groups.findIndex((g) => g.includes(a.index));
        const gb = groups.findIndex((g) => g.includes(b.index));
        if (ga === gb || this.separated(a.index, b.index)) continue;
        a.runtime!.peerConnected(b.index);
        b.runtime!.peerConnected(a.index);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Scenario events

  private authorization(party: string, idBytes: Uint8Array): Authorization {
    const sk = this.partyKeys.get(party);
    if (sk === undefined) throw new Error(`no key for party ${party}`);
    return { party, signature: identitySign(SIGN_DOMAIN.authorization, sk, idBytes) };
  }

  private partyAuthorizations(s: SimSettlement, legs: readonly LegName[]): Authorizations {
    const id = settlementId(s.terms);
    const out: Authorizations = {};
    if (legs.includes('asset')) out.asset = this.authorization(s.terms.asset.seller, id);
    if (legs.includes('payment')) out.payment = this.authorization(s.terms.payment.payer, id);
    return out;
  }

  private scheduleScenario(): void {
    for (const node of this.nodes) this.at(0, () => this.startNode(node));
    for (const s of this.settlements) {
      const withheld = new Set<LegName>();
      for (const f of this.scenario.faults) {
        if (f.kind !== 'leg' || f.settlement !== s.spec.id) continue;
        if (f.fail === 'never-lock' || f.fail === 'late-lock') withheld.add(f.leg);
        if (f.fail === 'late-lock') {
          this.at(s.spec.atMs + f.afterMs, () => {
            this.record({ t: this.nowMs, node: 0, type: 'fault', what: `late authorization of ${f.leg} for ${s.spec.id}`, phase: 'start' });
            const auths = this.partyAuthorizations(s, [f.leg]);
            for (const node of this.nodes) if (node.up) node.runtime!.submit(s.terms, auths);
          });
        }
      }
      const given = (['asset', 'payment'] as const).filter((l) => !withheld.has(l));
      this.at(s.spec.atMs, () => {
        this.record({ t: this.nowMs, node: 0, type: 'intent', settlement: s.spec.id, settlementIdHex: s.idHex });
        const auths = this.partyAuthorizations(s, given);
        for (const node of this.nodes) if (node.up) node.runtime!.submit(s.terms, auths);
      });
      // Party agents reclaim once the timelock has passed on the leg's own clock (refused if a
      // report was applied there).
      for (const leg of ['asset', 'payment'] as const) this.at(this.virtualTimeWhenLegReads(leg, reclaimAtMs(s.terms)), () => this.reclaim(s, leg));
    }
    for (const f of this.scenario.faults) this.scheduleFault(f);
    this.at(END_CHECK_MS, () => this.endCheck());
  }

  /** The first virtual time at which `leg`'s clock reads at least `legTimeMs`. */
  private virtualTimeWhenLegReads(leg: 'asset' | 'payment', legTimeMs: number): number {
    // Skews are piecewise constant: try the candidate of each skew value in force.
    const candidates = [legTimeMs, ...this.scenario.faults.filter((f) => f.kind === 'clock-skew' && f.target === leg).map((f) => legTimeMs - (f.kind === 'clock-skew' ? f.skewMs : 0))];
    const ok = candidates.filter((t) => t >= 0 && t + this.skewOf(leg, t) >= legTimeMs).sort((a, b) => a - b);
    return ok[0] ?? legTimeMs;
  }

  private reclaim(s: SimSettlement, leg: 'asset' | 'payment'): void {
    const id = settlementId(s.terms);
    const adapter = leg === 'asset' ? this.asset : this.payment;
    this.worldInflight++;
    adapter.reclaim(id).then(
      (out) => {
        this.worldInflight--;
        this.record({ t: this.nowMs, node: 0, type: 'reclaim', settlement: s.spec.id, leg, outcome: out.kind === 'refused' ? `refused: ${out.reason}` : out.kind });
      },
      () => {
        // The leg is unavailable: the party tries again a second later.
        this.worldInflight--;
        this.at(this.nowMs + 1_000, () => this.reclaim(s, leg));
      },
    );
  }

  private scheduleFault(f: Fault): void {
    const describe = JSON.stringify(f);
    switch (f.kind) {
      case 'crash': {
        const node = this.nodes[f.node - 1]!;
        this.at(f.atMs, () => this.crash(node, f.untilMs === null));
        if (f.untilMs !== null) this.at(f.untilMs, () => this.restart(node));
        return;
      }
      case 'partition':
      case 'isolate': {
        this.at(f.atMs, () => this.record({ t: this.nowMs, node: 0, type: 'fault', what: describe, phase: 'start' }));
        if (f.untilMs !== null) {
          const groups = f.kind === 'partition' ? f.groups : [[f.node], this.nodes.map((x) => x.index).filter((i) => i !== f.node)];
          this.at(f.untilMs, () => {
            this.record({ t: this.nowMs, node: 0, type: 'fault', what: describe, phase: 'end' });
            this.reconnectAcross(groups);
          });
        }
        return;
      }
      case 'leg':
        // Leg faults act through the legs' hooks and the party agents (scheduleScenario).
        return;
      case 'delay':
      case 'drop':
      case 'duplicate':
      case 'clock-skew':
      case 'byzantine':
        // Read where they act (send, clocks, wrapped ports); recorded here for the history.
        this.at(f.atMs, () => this.record({ t: this.nowMs, node: 0, type: 'fault', what: describe, phase: 'start' }));
        if (f.untilMs !== null) this.at(f.untilMs, () => this.record({ t: this.nowMs, node: 0, type: 'fault', what: describe, phase: 'end' }));
        return;
      case 'reorg':
        this.at(f.atMs, () => {
          const undone = this.asset.reorg(this.settlementByNonce(f.settlement).idHex);
          this.record({ t: this.nowMs, node: 0, type: 'fault', what: `${describe}: ${undone ? 'the unfinalized lock was undone' : 'nothing to undo'}`, phase: 'start' });
        });
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The event loop and the end of a run

  private legsClosed(s: SimSettlement): boolean {
    const closed = (state: string | undefined) => state === 'committed' || state === 'aborted' || state === 'reclaimed' || state === 'rejected';
    return closed(this.legStates.asset.state(this.asset, s.idHex)) && closed(this.legStates.payment.state(this.payment, s.idHex));
  }

  /** DESIGN §5: faults done, every settlement closed on both legs, every correct up node decided. */
  private done(): boolean {
    if (this.nowMs < this.lastFaultEventMs) return false;
    for (const s of this.settlements) {
      if (this.nowMs < s.spec.atMs || !this.legsClosed(s)) return false;
      for (const node of this.nodes) if (node.up && !node.decided.has(s.idHex)) return false;
    }
    return true;
  }

  private endCheck(): void {
    if (this.done() || this.nowMs >= this.hardStopMs) {
      this.finished = true;
      return;
    }
    this.at(this.nowMs + END_CHECK_MS, () => this.endCheck());
  }

  private inflight(): number {
    let k = this.worldInflight;
    for (const n of this.nodes) if (n.runtime !== null) k += n.runtime.inflight;
    return k;
  }

  /** Runs the scenario to its end and returns everything the checker and the result need. */
  async run(): Promise<SimRun> {
    this.scheduleScenario();
    while (!this.finished) {
      const item = this.queue.pop();
      if (item === null) break;
      this.nowMs = item.atMs;
      this.eventsRun++;
      const ev = item.event;
      switch (ev.kind) {
        case 'world':
          ev.fn();
          break;
        case 'timer': {
          const node = this.nodes[ev.node - 1]!;
          if (!ev.cancelled.v && node.up && node.incarnation === ev.incarnation) ev.fn();
          break;
        }
        case 'deliver': {
          const node = this.nodes[ev.to - 1]!;
          if (node.up && node.runtime !== null) {
            this.messagesDelivered++;
            node.runtime.receive(ev.from, ev.message);
          } else {
            const m = ev.message;
            this.record({ t: this.nowMs, node: ev.from, type: 'msg', to: ev.to, settlementIdHex: messageSettlementHex(m, settlementId), message: summarizeMessage(m), deliverAtMs: null, lost: 'receiver down' });
          }
          break;
        }
      }
      // Leg calls resolve as microtasks: let them all settle before the next event runs.
      for (let spins = 0; this.inflight() > 0; spins++) {
        if (spins > 1_000) throw new Error('leg calls did not settle: an adapter is not synchronous');
        await drainMicrotasks();
      }
    }
    return {
      scenario: this.scenario,
      seed: this.seed,
      cluster: this.cluster,
      configDigest: this.configDigest,
      settlements: this.settlements,
      history: this.history,
      historyHash: this.hasher.digestHex(),
      asset: this.asset,
      payment: this.payment,
      faultyForGood: new Set(this.nodes.filter((n) => n.crashedForGood).map((n) => n.index)),
      legTimeMs: (leg, t) => t + this.skewOf(leg, t),
      byzantine: new Set(this.scenario.faults.flatMap((f) => (f.kind === 'byzantine' ? [f.node] : []))),
      skewed: new Set(this.scenario.faults.flatMap((f) => (f.kind === 'clock-skew' && typeof f.target === 'number' ? [f.target] : []))),
      upAtEnd: new Set(this.nodes.filter((n) => n.up).map((n) => n.index)),
      endMs: this.nowMs,
      messagesSent: this.messagesSent,
      messagesDelivered: this.messagesDelivered,
      verifier: this.verifier,
    };
  }
}

/** Follows a leg's append-only event log to know each settlement's state without an async call. */
export class LegStateTracker {
  private readonly states = new Map<string, LegState>();
  private seen = 0;

  state(leg: LegRecord, idHex: string): LegState {
    const events = leg.events();
    for (; this.seen < events.length; this.seen++) {
      const e = events[this.seen]!;
      if (e.settlementIdHex === undefined) continue;
      const next = LEG_EVENT_STATE[e.kind];
      if (next !== null) this.states.set(e.settlementIdHex, next);
    }
    return this.states.get(idHex) ?? 'none';
  }
}

const LEG_EVENT_STATE: Record<LegEventKind, LegState | null> = {
  mint: null,
  lock: 'locked',
  hold: 'locked',
  reject: 'rejected',
  release: 'committed',
  post: 'committed',
  refund: 'aborted',
  void: 'aborted',
  reclaim: 'reclaimed',
  'abort-closed': 'aborted',
  'abort-recorded': 'rejected',
  reorg: 'none',
};

/** Lets every already-queued microtask (and the ones they queue) run. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function simulate(scenario: Scenario, options: SimOptions = {}): Promise<SimRun> {
  return new Simulation(scenario, options).run();
}
