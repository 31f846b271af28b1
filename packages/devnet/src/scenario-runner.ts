/**
 * Cluster mode (`tandem simulate FILE --mode cluster`): runs a scenario on real processes — N
 * nodes over libp2p on loopback and the in-memory legs behind a leg host — and checks it with the
 * simulator's checker. The scenario's times become wall-clock offsets from the start.
 *
 * How each fault is realised:
 *   crash            SIGKILL at `at`; the same node process is started again at `until`, with its
 *                    write-ahead storage
 *   partition,       each node's link-fault shim (POST /faults/links): cut links are dropped both
 *   isolate          ways, on every node concerned
 *   drop, delay,     loss and extra latency on arrival, per author, at each receiver; the network's
 *   network latency  latency range is added on arrival too (loopback itself adds ~1 ms)
 *   leg reject,      the leg host's fault API (reject-prepare, fail-apply, unavailable until)
 *   apply-error,
 *   unavailable
 *   never-lock,      the runner is the parties' agent: it withholds that leg's authorization from
 *   late-lock        the intent (and sends it `after` the settlement's `at` for late-lock)
 * Refused, before anything starts: Byzantine behaviours, clock-skew, reorg and duplication, which
 * only the simulator realises (a node process runs honest code on the system clock, the in-memory
 * chain has no reorgs, and libp2p does not duplicate).
 *
 * What is collected: every node's full-fidelity history file (packages/daemon/src/history.ts), the
 * runner's own entries (intents, faults, crashes, restarts, reclaims) and both legs' event logs
 * from the leg host. The checker reads them exactly as it reads a simulated run. Differences from
 * the simulator, by nature: the run is not reproducible (keys, scheduling and loss are real), so
 * `historyHash` differs between runs; there are no per-message entries (the report's space-time
 * diagram shows decisions and faults only); metrics.messages counts signed messages.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identitySign } from '@tandem/crypto';
import { UsageError, loadClusterFile, parseHistory } from '@tandem/daemon';
import { HttpLegAdapter, LegHostAdminClient } from '@tandem/leg-host';
import type { LegEvent } from '@tandem/legs';
import { type LegName, type Terms, SIGN_DOMAIN, configDigest, encodeTerms, fromHex, reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import { type Fault, type HistoryEntry, HistoryHasher, MemoVerifier, type RunRecord, type Scenario, type SimSettlement, describeFault, drawScenario, historyLine, partiesOf } from '@tandem/sim';
import { clusterDown, restartNode } from './cluster.js';
import { getJson, postJson, retried, waitFor } from './http.js';
import { readLegEvents } from './leg-events.js';
import type { Funding } from './parties.js';
import { type ClusterState, clusterPaths, readState, readStateOrNull } from './paths.js';
import { alive } from './processes.js';
import { clusterUp } from './up.js';

/** Node processes a scenario may ask for: each is a full libp2p node, and this runs on one machine. */
export const CLUSTER_NODES_MAX = 10;
/** How often the runner reads each node's view of the open settlements. */
const POLL_MS = 250;
/** Lead time between the cluster being up and the scenario's time 0 (intents are built before). */
const START_LEAD_MS = 300;
/** A restarted node gets this long to open its control API. */
const RESTART_READY_MS = 30_000;

/** Why `scenario` cannot run on a cluster: one line per refused part, empty when it can. */
export function clusterModeProblems(scenario: Scenario): string[] {
  const out: string[] = [];
  if (scenario.nodes > CLUSTER_NODES_MAX) out.push(`nodes: ${scenario.nodes} node processes; cluster mode runs at most ${CLUSTER_NODES_MAX} on one machine`);
  if (scenario.network.duplicate > 0) out.push('network.duplicate: duplication is realised by the simulator only (libp2p does not duplicate)');
  for (const f of scenario.faults) {
    const why = refusal(f);
    if (why !== null) out.push(`faults: ${describeFault(f)}: ${why}`);
  }
  return out;
}

function refusal(f: Fault): string | null {
  switch (f.kind) {
    case 'byzantine':
      return 'Byzantine behaviours run in the simulator only (node processes run honest code)';
    case 'clock-skew':
      return typeof f.target === 'number' ? 'clock skew is realised by the simulator only (node processes read the system clock)' : 'clock skew is realised by the simulator only (the leg host reads the system clock)';
    case 'reorg':
      return 'reorgs are realised by the simulator only (the leg host\'s chain has none)';
    case 'duplicate':
      return 'duplication is realised by the simulator only';
    default:
      return null;
  }
}

const active = (f: Fault, tMs: number) => tMs >= f.atMs && (f.untilMs === null || tMs < f.untilMs);

/** Each node's link faults at scenario time `tMs` (the body of its POST /faults/links). */
export function linkFaultsAt(scenario: Scenario, tMs: number): Map<number, { block: number[]; drop: Record<string, number>; delay: Record<string, [number, number]> }> {
  const n = scenario.nodes;
  const out = new Map<number, { block: number[]; drop: Record<string, number>; delay: Record<string, [number, number]> }>();
  for (let r = 1; r <= n; r++) {
    const block = new Set<number>();
    const keep = new Map<number, number>(); // author → probability a message survives
    const delay = new Map<number, [number, number]>();
    for (let a = 1; a <= n; a++) {
      if (a === r) continue;
      keep.set(a, 1 - scenario.network.drop);
      delay.set(a, [scenario.network.latencyMinMs, scenario.network.latencyMaxMs]);
    }
    for (const f of scenario.faults) {
      if (!active(f, tMs)) continue;
      if (f.kind === 'isolate') {
        if (f.node === r) for (let a = 1; a <= n; a++) if (a !== r) block.add(a);
        if (f.node !== r) block.add(f.node);
      } else if (f.kind === 'partition') {
        const group = (x: number) => f.groups.findIndex((g) => g.includes(x)); // -1: the unlisted nodes, together
        for (let a = 1; a <= n; a++) if (a !== r && group(a) !== group(r)) block.add(a);
      } else if (f.kind === 'drop' && f.to.includes(r)) {
        for (const a of f.from) if (a !== r) keep.set(a, keep.get(a)! * (1 - f.rate));
      } else if (f.kind === 'delay') {
        const add = (a: number) => {
          const d = delay.get(a)!;
          delay.set(a, [d[0] + f.extraMs, d[1] + f.extraMs]);
        };
        if (f.node === r) for (const a of delay.keys()) add(a);
        else add(f.node);
      }
    }
    const drop: Record<string, number> = {};
    for (const [a, k] of keep) if (k < 1 && !block.has(a)) drop[String(a)] = 1 - k;
    const delays: Record<string, [number, number]> = {};
    for (const [a, d] of delay) if (d[1] > 0 && !block.has(a)) delays[String(a)] = d;
    out.set(r, { block: [...block].sort((x, y) => x - y), drop, delay: delays });
  }
  return out;
}

/** The scenario times at which some node's link faults change (time 0 included). */
function linkChangeTimes(scenario: Scenario): number[] {
  const times = new Set<number>([0]);
  for (const f of scenario.faults) {
    if (!['isolate', 'partition', 'drop', 'delay'].includes(f.kind)) continue;
    times.add(f.atMs);
    if (f.untilMs !== null) times.add(f.untilMs);
  }
  return [...times].sort((a, b) => a - b);
}

function fundsOf(scenario: Scenario): Funding[] {
  const out: Funding[] = [];
  for (const leg of ['asset', 'payment'] as const) {
    for (const [account, units] of scenario.accounts[leg]) for (const [unit, amount] of units) if (amount > 0n) out.push({ leg, account, unit, amount: amount.toString() });
  }
  return out;
}

interface Action {
  readonly atMs: number;
  readonly what: string;
  readonly run: () => Promise<void>;
  /** A party's reclaim: the run may end before it (it only matters if nothing closed the settlement). */
  readonly reclaim?: true;
}

export interface ClusterRunOptions {
  readonly seed: number;
  /** Progress lines (stderr in the CLI). */
  readonly say?: (line: string) => void;
}

export interface ClusterRun {
  readonly run: RunRecord;
  /** The cluster directory with every node's log and history; kept when the caller asks (else removed). */
  readonly dir: string;
}

/**
 * Runs `loaded` (the member of its family `seed` draws) on a fresh local cluster and returns the
 * collected run. Everything started is stopped before this returns, also on error.
 */
export async function runOnCluster(loaded: Scenario, opts: ClusterRunOptions): Promise<ClusterRun> {
  const scenario = drawScenario(loaded, opts.seed);
  const problems = clusterModeProblems(scenario);
  if (problems.length > 0) throw new UsageError(`${scenario.name}: cannot run in cluster mode:\n  ${problems.join('\n  ')}\n(run it in the simulator: --mode sim)`);
  const say = opts.say ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), `tandem-scenario-${scenario.name}-`));
  // Ctrl-C must not leave node processes behind (they run detached, in their own groups).
  const stopOnSignal = () => {
    void (readStateOrNull(dir) !== null ? clusterDown(dir) : Promise.resolve(0)).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  try {
    await clusterUp(dir, { nodes: String(scenario.nodes), legs: 'memory', parties: partiesOf(scenario), funds: fundsOf(scenario), say });
    const run = await new ClusterScenarioRun(dir, scenario, opts.seed, say).run();
    return { run, dir };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ClusterRunError(`${(e as Error).message} (the cluster's logs are kept in ${join(dir, 'logs')})`, dir);
  } finally {
    process.off('SIGINT', stopOnSignal);
    if (readStateOrNull(dir) !== null) await clusterDown(dir);
  }
}

/** The cluster could not be started or driven (not a verdict on the scenario); `dir` keeps its logs. */
export class ClusterRunError extends Error {
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super(message);
  }
}

/** One run: the schedule, the party agent, the end condition and the collection. */
class ClusterScenarioRun {
  private readonly paths;
  private readonly cluster;
  private readonly secrets: Record<string, string>;
  private readonly admin: LegHostAdminClient;
  private readonly legs: Record<LegName, HttpLegAdapter>;
  private readonly t0Ms: number;
  private readonly settlements: SimSettlement[];
  private readonly history: HistoryEntry[] = [];
  private readonly down = new Set<number>();
  private readonly crashedForGood = new Set<number>();
  private readonly decided = new Map<string, Set<number>>(); // settlement → nodes that decided it
  private readonly closed = new Set<string>();
  /** The cluster's nodes as state.json recorded them at the start; a restart replaces its entry's pid. */
  private nodeList: ClusterState['nodes'];

  constructor(
    private readonly dir: string,
    private readonly scenario: Scenario,
    private readonly seed: number,
    private readonly say: (line: string) => void,
  ) {
    this.paths = clusterPaths(dir);
    this.cluster = loadClusterFile(this.paths.cluster);
    this.secrets = JSON.parse(readFileSync(this.paths.partiesSecret, 'utf8')) as Record<string, string>;
    const st = readState(dir);
    this.nodeList = st.nodes;
    this.admin = new LegHostAdminClient({ url: st.legHost.url, timeoutMs: 5_000 });
    this.legs = { asset: new HttpLegAdapter({ url: st.legHost.url, leg: 'asset', timeoutMs: 5_000 }), payment: new HttpLegAdapter({ url: st.legHost.url, leg: 'payment', timeoutMs: 5_000 }) };
    this.t0Ms = Date.now() + START_LEAD_MS;
    const nonceSuffix = toHex(randomBytes(4)); // a fresh id per run, though keys differ anyway
    this.settlements = scenario.settlements.map((spec) => {
      const terms: Terms = {
        nonce: `${spec.id}-${nonceSuffix}`,
        asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token: spec.asset.token, seller: spec.asset.seller, buyer: spec.asset.buyer, amount: spec.asset.amount },
        payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: spec.payment.payer, payee: spec.payment.payee, currency: spec.payment.currency, amount: spec.payment.amount },
        deadlineMs: this.t0Ms + spec.atMs + spec.deadlineAfterMs,
        reportWindowMs: spec.reportWindowMs,
        marginMs: spec.marginMs,
      };
      return { spec, terms, idHex: toHex(settlementId(terms)) };
    });
  }

  private nowMs(): number {
    return Date.now() - this.t0Ms;
  }

  private record(e: HistoryEntry): void {
    this.history.push(e);
  }

  private nodes(): ClusterState['nodes'] {
    return this.nodeList;
  }

  private settlementOf(nonce: string): SimSettlement {
    return this.settlements.find((s) => s.spec.id === nonce)!; // the loader checked the name
  }

  // --- The schedule --------------------------------------------------------------------------

  private actions(): Action[] {
    const out: Action[] = [];
    const withheld = new Map<string, Set<LegName>>();
    for (const f of this.scenario.faults) {
      if (f.kind === 'leg' && (f.fail === 'never-lock' || f.fail === 'late-lock')) {
        const set = withheld.get(f.settlement) ?? new Set<LegName>();
        set.add(f.leg);
        withheld.set(f.settlement, set);
      }
    }
    // At equal times, faults go first (a leg must refuse the prepare the intent triggers, and a
    // partition at 0 s must be in place before the first message): the sort below is stable.
    for (const tMs of linkChangeTimes(this.scenario)) out.push({ atMs: tMs, what: `link faults at ${tMs} ms`, run: () => this.pushLinkFaults(tMs) });
    for (const f of this.scenario.faults) out.push(...this.faultActions(f));
    for (const s of this.settlements) {
      const missing = withheld.get(s.spec.id) ?? new Set<LegName>();
      out.push({ atMs: s.spec.atMs, what: `intent ${s.spec.id}`, run: () => this.intent(s, (['asset', 'payment'] as const).filter((l) => !missing.has(l))) });
      for (const leg of ['asset', 'payment'] as const) out.push({ atMs: reclaimAtMs(s.terms) - this.t0Ms, what: `reclaim ${s.spec.id} ${leg}`, run: () => this.reclaim(s, leg), reclaim: true });
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private faultActions(f: Fault): Action[] {
    const what = describeFault(f);
    const mark = (phase: 'start' | 'end') => this.record({ t: this.nowMs(), node: 0, type: 'fault', fault: f, phase });
    const out: Action[] = [];
    const window = (start: () => Promise<void>, end: () => Promise<void>) => {
      out.push({ atMs: f.atMs, what, run: async () => (mark('start'), await start()) });
      if (f.untilMs !== null) out.push({ atMs: f.untilMs, what: `end of ${what}`, run: async () => (mark('end'), await end()) });
    };
    const nothing = async () => {};
    switch (f.kind) {
      case 'crash':
        window(
          async () => this.crash(f.node, f.untilMs === null),
          async () => this.restart(f.node),
        );
        return out;
      case 'partition':
      case 'isolate':
      case 'drop':
      case 'delay':
        window(nothing, nothing); // realised by pushLinkFaults at the same times
        return out;
      case 'leg': {
        const s = this.settlementOf(f.settlement);
        const id = fromHex(s.idHex, 32);
        switch (f.fail) {
          case 'reject':
            out.push({ atMs: f.atMs, what, run: async () => (mark('start'), void (await this.admin.setFault(f.leg, { kind: 'reject-prepare', settlementId: id }))) }); // from `at`, as in the simulator
            return out;
          case 'apply-error':
            out.push({ atMs: f.atMs, what, run: async () => (mark('start'), void (await this.admin.setFault(f.leg, { kind: 'fail-apply', settlementId: id, times: f.times }))) });
            return out;
          case 'unavailable':
            window(
              async () => void (await this.admin.setFault(f.leg, { kind: 'unavailable', untilMs: f.untilMs === null ? Number.MAX_SAFE_INTEGER : this.t0Ms + f.untilMs })),
              nothing, // the leg host ends the outage itself at untilMs on its clock
            );
            return out;
          case 'never-lock':
            return out; // the intent goes without that leg's authorization
          case 'late-lock':
            out.push({ atMs: s.spec.atMs + f.afterMs, what, run: async () => (mark('start'), await this.intent(s, [f.leg])) });
            return out;
        }
        return out;
      }
      default:
        throw new Error(`unrealisable fault ${what}`); // clusterModeProblems refused it already
    }
  }

  // --- Actions -----------------------------------------------------------------------------

  /** The parties' agent hands the intent, with authorizations for `legs`, to every node up. */
  private async intent(s: SimSettlement, legs: readonly LegName[]): Promise<void> {
    const party = (leg: LegName) => (leg === 'asset' ? s.spec.asset.seller : s.spec.payment.payer);
    const authorizations: Record<string, { party: string; signature: string }> = {};
    for (const leg of legs) {
      const who = party(leg);
      authorizations[leg] = { party: who, signature: toHex(identitySign(SIGN_DOMAIN.authorization, fromHex(this.secrets[who]!, 32), fromHex(s.idHex, 32))) };
    }
    const body = { terms: toHex(encodeTerms(s.terms)), authorizations };
    if (legs.length === 2 || !this.history.some((e) => e.type === 'intent' && e.settlement === s.spec.id)) {
      this.record({ t: this.nowMs(), node: 0, type: 'intent', settlement: s.spec.id, settlementIdHex: s.idHex });
    }
    await Promise.all(this.nodes().map((node, i) => (this.down.has(i + 1) ? null : postJson(`${node.control}/intents`, body).catch(() => null))));
  }

  private async pushLinkFaults(tMs: number): Promise<void> {
    const faults = linkFaultsAt(this.scenario, tMs);
    await Promise.all(
      this.nodes().map(async (node, i) => {
        if (this.down.has(i + 1)) return;
        await postJson(`${node.control}/faults/links`, faults.get(i + 1)).catch(() => null); // a node that just died is caught up on restart
      }),
    );
  }

  private async crash(index: number, forGood: boolean): Promise<void> {
    const node = this.nodes()[index - 1]!;
    this.down.add(index);
    if (forGood) this.crashedForGood.add(index);
    if (alive(node.pid)) process.kill(node.pid, 'SIGKILL');
    this.record({ t: this.nowMs(), node: index, type: 'crash' });
    this.say(`  ${this.nowMs()} ms: n${index} killed (SIGKILL)${forGood ? ' for good' : ''}`);
  }

  private async restart(index: number): Promise<void> {
    const id = `n${index}`;
    await waitFor(`${id} to exit`, 5_000, async () => (alive(this.nodes()[index - 1]!.pid) ? null : true));
    const pid = restartNode(this.dir, id);
    this.nodeList = this.nodeList.map((x) => (x.id === id ? { ...x, pid } : x));
    this.record({ t: this.nowMs(), node: index, type: 'restart' });
    this.say(`  ${this.nowMs()} ms: n${index} restarted (pid ${pid})`);
    // Its link faults, once it listens (the process takes a second or two to start).
    void waitFor(`${id}'s control API`, RESTART_READY_MS, async () => ((await getJson(`${this.nodes()[index - 1]!.control}/status`)) !== null ? true : null))
      .then(async () => {
        this.down.delete(index);
        await postJson(`${this.nodes()[index - 1]!.control}/faults/links`, linkFaultsAt(this.scenario, this.nowMs()).get(index));
      })
      .catch((e: unknown) => this.say(`  ${id} did not come back: ${(e as Error).message}`));
  }

  /** The party takes its value back once the timelock passed, unless the settlement closed. */
  private async reclaim(s: SimSettlement, leg: LegName): Promise<void> {
    if (this.closed.has(s.idHex)) return;
    const outcome = await this.legs[leg].reclaim(fromHex(s.idHex, 32)).catch((e: unknown) => ({ kind: 'refused' as const, reason: `leg unavailable: ${(e as Error).message}` }));
    this.record({ t: this.nowMs(), node: 0, type: 'reclaim', settlement: s.spec.id, leg, outcome: outcome.kind === 'refused' ? `refused: ${outcome.reason}` : outcome.kind });
  }

  // --- The run -----------------------------------------------------------------------------

  /** DESIGN §5's end: every fault event happened, every settlement closed and decided by every node up. */
  private async finished(): Promise<boolean> {
    const nodes = this.nodes();
    // One request per node for all settlements: a run may follow a hundred at once.
    const lists = await Promise.all(
      nodes.map((node, i) => (this.down.has(i + 1) ? null : (getJson(`${node.control}/settlements`).catch(() => null) as Promise<{ settlements: { id: string; decided: boolean; closed: boolean }[] } | null>))),
    );
    lists.forEach((list, i) => {
      for (const v of list?.settlements ?? []) {
        if (v.decided) {
          const set = this.decided.get(v.id) ?? new Set<number>();
          set.add(i + 1);
          this.decided.set(v.id, set);
        }
        if (v.closed) this.closed.add(v.id);
      }
    });
    const up = nodes.map((_, i) => i + 1).filter((x) => !this.down.has(x));
    return this.settlements.every((s) => this.closed.has(s.idHex) && up.every((x) => this.decided.get(s.idHex)?.has(x)));
  }

  async run(): Promise<RunRecord> {
    const schedule = this.actions();
    let latestReclaim = 0;
    for (const s of this.settlements) latestReclaim = Math.max(latestReclaim, reclaimAtMs(s.terms) - this.t0Ms);
    const lastFault = Math.max(0, ...schedule.filter((a) => a.reclaim !== true).map((a) => a.atMs));
    const hardStopMs = Math.max(latestReclaim, lastFault) + 1_000;
    this.say(`running ${this.scenario.name} on ${this.scenario.nodes} node processes (seed ${this.seed}); gives up at ${Math.round(hardStopMs / 1000)} s`);
    let next = 0;
    let lastPollMs = -Infinity;
    for (;;) {
      const now = this.nowMs();
      while (next < schedule.length && schedule[next]!.atMs <= now) {
        const a = schedule[next++]!;
        await a.run().catch((e: unknown) => this.say(`  ${a.what}: ${(e as Error).message}`));
      }
      if (now >= hardStopMs) break;
      if (now - lastPollMs >= POLL_MS) {
        lastPollMs = now;
        const faultsDone = schedule.slice(next).every((a) => a.reclaim === true);
        if (faultsDone && (await this.finished())) break;
      }
      const wake = Math.min(schedule[next]?.atMs ?? Infinity, this.nowMs() + 20);
      await new Promise((r) => setTimeout(r, Math.max(1, wake - this.nowMs())));
    }
    return this.collect();
  }

  /** A leg's events, on the run's timeline. */
  private async legEvents(leg: LegName): Promise<LegEvent[]> {
    return (await readLegEvents(this.admin, leg)).map((e) => ({ ...e, atMs: e.atMs - this.t0Ms }));
  }

  private async collect(): Promise<RunRecord> {
    const endMs = this.nowMs();
    const nodes = this.nodes();
    for (let i = 0; i < nodes.length; i++) {
      const file = join(this.paths.data, `${nodes[i]!.id}.history.jsonl`);
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // a node that never started writes nothing
      }
      for (const { tMs, event } of parseHistory(text, file)) this.record({ t: tMs - this.t0Ms, node: i + 1, type: 'node', event });
    }
    // One timeline: runner entries and every node's, by time (stable: a node's own order is kept).
    this.history.sort((a, b) => a.t - b.t);
    const hasher = new HistoryHasher();
    for (const e of this.history) hasher.add(historyLine(e));
    const [assetEvents, paymentEvents, assetBalances, paymentBalances] = await Promise.all([this.legEvents('asset'), this.legEvents('payment'), retried(() => this.admin.balances('asset')), retried(() => this.admin.balances('payment'))]);
    const record = (events: LegEvent[], problem: string | null) => ({ events: () => events, conservationProblem: () => problem });
    const upAtEnd = new Set(nodes.map((_, i) => i + 1).filter((x) => !this.down.has(x)));
    return {
      scenario: this.scenario,
      seed: this.seed,
      cluster: this.cluster.config,
      configDigest: configDigest(this.cluster.config),
      settlements: this.settlements,
      history: this.history,
      historyHash: hasher.digestHex(),
      asset: record(assetEvents, assetBalances.conservationProblem),
      payment: record(paymentEvents, paymentBalances.conservationProblem),
      faultyForGood: this.crashedForGood,
      legTimeMs: (_leg, runMs) => runMs + this.t0Ms,
      byzantine: new Set(),
      skewed: new Set(),
      upAtEnd,
      endMs,
      messagesSent: this.history.filter((e) => e.type === 'node' && e.event.type === 'signed').length,
      messagesDelivered: 0,
      verifier: new MemoVerifier(),
    };
  }
}

/** Removes a run's cluster directory (the caller keeps it when asked to). */
export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
