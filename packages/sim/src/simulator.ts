/**
 * The deterministic discrete-event simulator. It runs the real node runtime (packages/node) and the
 * real consensus core with simulated ports: a virtual clock, an event queue with a total order, a
 * seeded PRNG tree, a lossy network with partitions, crashes that keep storage, in-memory legs with
 * fault hooks, and party agents that authorize prepares and reclaim after the timelock.
 *
 * Same (scenario, seed, code) → same history, byte for byte: nothing here reads the wall clock or
 * an unseeded random source, and async leg calls are drained before the next event runs.
 *
 * This file holds the event loop (`Simulation.run`), the schedule it starts from (the scenario's
 * plan, plan.ts, as events) and the end of a run. The parts it drives: sim-world.ts (keys, legs,
 * nodes), sim-network.ts (send, partitions, reconnects), sim-faults.ts (fault scheduling, leg
 * fault hooks, clock skew) and sim-parties.ts (intents, authorizations, reclaims).
 */
import type { ClusterConfig } from '@tandem/protocol';
import type { ConsensusParams } from '@tandem/consensus';
import { LegStateTracker, type MemoryAssetChain, type MemoryBankLedger, isLegClosed } from '@tandem/legs';
import { DEFAULT_RUNTIME_PARAMS, MemoVerifier, type RuntimeParams } from '@tandem/node';
import { clockSkewMs } from './fault.js';
import { type HistoryEntry, HistoryHasher, historyLine } from './history.js';
import { messageSummary } from './history-v2.js';
import { type ScenarioPlan, planScenario } from './plan.js';
import { EventQueue } from './queue.js';
import { drawScenario } from './random.js';
import { Rng } from './rng.js';
import type { RunRecord, SimSettlement } from './run-record.js';
import type { Scenario } from './scenario.js';
import { SimFaults, legFaultHooks, virtualTimeWhenLegReads } from './sim-faults.js';
import { SimNetwork } from './sim-network.js';
import { PartyAgents } from './sim-parties.js';
import { startNodeV2 } from './sim-world-v2.js';
import { scenarioV2Params } from './scenario-v2.js';
import { SIM_PLACEMENT, type SimCore, type SimEvent, type SimNode, type World, buildWorld, startNode } from './sim-world.js';

export { SIM_BANK, SIM_CHAIN_ID, SIM_ESCROW, SIM_PLACEMENT, SIM_REORG_FINALITY_MS, simTerms } from './sim-world.js';

/** Upper bound on events in one run: a runaway loop fails loudly instead of hanging CI. */
const EVENTS_MAX = 20_000_000;
/** How often the end-of-run condition is evaluated, in virtual ms. */
const END_CHECK_MS = 50;
/** Bound on the microtask drains after one event: in-memory legs settle within a few. */
const DRAIN_SPINS_MAX = 1_000;

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

export class Simulation {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly cluster: ClusterConfig;
  readonly configDigest: Uint8Array;
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  private nowMs = 0;
  private readonly queue = new EventQueue<SimEvent>(EVENTS_MAX);
  private readonly history: HistoryEntry[] = [];
  private readonly hasher = new HistoryHasher();
  private readonly core: SimCore;
  private readonly world: World;
  private readonly network: SimNetwork;
  private readonly faults: SimFaults;
  private readonly parties: PartyAgents;
  /** Starts (or restarts, with its storage) a node. */
  private readonly startNode: (node: SimNode) => void;
  private readonly verifier: MemoVerifier;
  private messagesDelivered = 0;
  private readonly plan: ScenarioPlan;
  private finished = false;
  private readonly legStates = { asset: new LegStateTracker(), payment: new LegStateTracker() };

  constructor(family: Scenario, private readonly options: SimOptions = {}) {
    this.seed = options.seed ?? family.seed;
    // A scenario with a `random:` block is a family; the seed picks the member (the same one
    // `tandem explore` ran, so its replay command reproduces the run).
    const scenario = drawScenario(family, this.seed);
    this.scenario = scenario;
    const rng = Rng.fromSeed(this.seed);
    this.verifier = options.verifier ?? new MemoVerifier();
    this.core = {
      scenario,
      nowMs: () => this.nowMs,
      at: (timeMs, fn) => this.queue.push(Math.max(timeMs, this.nowMs), { kind: 'world', fn }),
      push: (atMs, event) => this.queue.push(atMs, event),
      record: (e) => this.record(e),
    };
    this.plan = planScenario(scenario, SIM_PLACEMENT);
    const v2 = scenarioV2Params(scenario);
    this.world = buildWorld(this.core, { plan: this.plan, rng, verifier: this.verifier, consensusParams: options.consensusParams, legFaults: (leg, ids) => legFaultHooks(this.core, leg, ids), v2 });
    this.cluster = this.world.cluster;
    this.configDigest = this.world.configDigest;
    this.asset = this.world.asset;
    this.payment = this.world.payment;
    this.network = new SimNetwork(this.core, this.world.nodes, rng.fork('network'));
    // The scenario's `admission:` block overrides the runtime parameters it names, for every node.
    const wiring = { send: this.network.send.bind(this.network), runtimeParams: { ...(options.runtimeParams ?? DEFAULT_RUNTIME_PARAMS), ...scenario.admission } };
    this.startNode = v2 === null ? (node) => startNode(this.core, this.world, rng, node, wiring) : (node) => startNodeV2(this.core, this.world, rng, node, wiring);
    this.faults = new SimFaults(this.core, this.world, this.network, this.startNode);
    this.parties = new PartyAgents(this.core, this.world);
  }

  private record(e: HistoryEntry): void {
    this.history.push(e);
    this.hasher.add(historyLine(e));
    this.options.onEntry?.(e);
  }

  // ---------------------------------------------------------------------------------------------
  // The plan, as events on the virtual clock

  private schedule(): void {
    const { core, parties } = this;
    for (const node of this.world.nodes) core.at(0, () => this.startNode(node));
    for (const s of this.plan.settlements) {
      for (const late of s.lateAuthorizations) core.at(late.atMs, () => parties.lateAuthorization(s, late));
      core.at(s.intentAtMs, () => parties.intent(s, s.authorizedAtIntent));
      // Refused by a leg where a report was applied; a skewed leg clock reads the time earlier or later.
      for (const r of s.reclaims) core.at(virtualTimeWhenLegReads(this.scenario.faults, r.leg, r.legClockMs), () => parties.reclaim(s, r.leg));
    }
    for (const f of this.plan.faults) this.faults.schedule(f);
    core.at(END_CHECK_MS, () => this.endCheck());
  }

  // ---------------------------------------------------------------------------------------------
  // The end of a run

  /** Every node up has decided `s` (what the end of a run waits for, and what closes a rejected leg). */
  private decidedByAllUp(s: SimSettlement): boolean {
    return this.world.nodes.every((node) => !node.up || node.decided.has(s.idHex));
  }

  private legsClosed(s: SimSettlement, decided: boolean): boolean {
    const asset = this.legStates.asset.state(this.asset.events(), s.idHex);
    const payment = this.legStates.payment.state(this.payment.events(), s.idHex);
    return isLegClosed(asset, decided) && isLegClosed(payment, decided);
  }

  /** The end of a run (docs/results.md): faults done, every settlement closed on both legs, every correct up node decided. */
  private done(): boolean {
    if (this.nowMs < this.plan.lastFaultEventMs) return false;
    for (const s of this.world.settlements) {
      if (this.nowMs < s.spec.atMs) return false;
      const decided = this.decidedByAllUp(s);
      if (!decided || !this.legsClosed(s, decided)) return false;
    }
    return true;
  }

  private endCheck(): void {
    if (this.done() || this.nowMs >= this.plan.hardStopMs) {
      this.finished = true;
      return;
    }
    this.core.at(this.nowMs + END_CHECK_MS, () => this.endCheck());
  }

  private inflight(): number {
    let k = this.parties.inflight;
    for (const n of this.world.nodes) if (n.runtime !== null) k += n.runtime.inflight;
    return k;
  }

  // ---------------------------------------------------------------------------------------------
  // The event loop

  /** Runs the scenario to its end and returns everything the checker and the result need. */
  async run(): Promise<SimRun> {
    this.schedule();
    while (!this.finished) {
      const item = this.queue.pop();
      if (item === null) break;
      this.nowMs = item.atMs;
      const ev = item.event;
      switch (ev.kind) {
        case 'world':
          ev.fn();
          break;
        case 'timer': {
          const node = this.world.nodes[ev.node - 1]!;
          if (!ev.cancelled.v && node.up && node.incarnation === ev.incarnation) ev.fn();
          break;
        }
        case 'deliver':
          this.deliver(ev.from, this.world.nodes[ev.to - 1]!, ev.message);
          break;
      }
      // Leg calls resolve as microtasks: let them all settle before the next event runs.
      for (let spins = 0; this.inflight() > 0; spins++) {
        if (spins > DRAIN_SPINS_MAX) throw new Error('leg calls did not settle: an adapter is not synchronous');
        await drainMicrotasks();
      }
    }
    return this.result();
  }

  private deliver(from: number, node: SimNode, message: Extract<SimEvent, { kind: 'deliver' }>['message']): void {
    if (node.up && node.runtime !== null) {
      this.messagesDelivered++;
      node.runtime.receive(from, message);
      return;
    }
    this.record({ t: this.nowMs, node: from, type: 'msg', to: node.index, ...messageSummary(message), deliverAtMs: null, lost: 'receiver down' });
  }

  private result(): SimRun {
    const { scenario, world } = this;
    const v2 = this.world.v2 === null ? {} : { protocol: 2 as const, v2Params: this.world.v2 };
    return {
      ...v2,
      scenario,
      seed: this.seed,
      cluster: this.cluster,
      configDigest: this.configDigest,
      settlements: world.settlements,
      history: this.history,
      historyHash: this.hasher.digestHex(),
      asset: this.asset,
      payment: this.payment,
      faultyForGood: new Set(world.nodes.filter((n) => n.crashedForGood).map((n) => n.index)),
      legTimeMs: (leg, t) => t + clockSkewMs(scenario.faults, leg, t),
      byzantine: new Set(scenario.faults.flatMap((f) => (f.kind === 'byzantine' ? [f.node] : []))),
      skewed: new Set(scenario.faults.flatMap((f) => (f.kind === 'clock-skew' && typeof f.target === 'number' ? [f.target] : []))),
      upAtEnd: new Set(world.nodes.filter((n) => n.up).map((n) => n.index)),
      endMs: this.nowMs,
      messagesSent: this.network.sent,
      messagesDelivered: this.messagesDelivered,
      verifier: this.verifier,
    };
  }
}

/** Lets every already-queued microtask (and the ones they queue) run. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function simulate(scenario: Scenario, options: SimOptions = {}): Promise<SimRun> {
  return new Simulation(scenario, options).run();
}
