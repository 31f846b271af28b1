/**
 * One cluster-mode run: the simulator's scenario plan (`planScenario`) carried out on real
 * processes — faults through SIGKILL and restarts, each node's link-fault shim and the leg host's
 * fault API; the parties' intents, late authorizations and reclaims by this runner as their agent —
 * until the run ends as the simulator's does (docs/results.md), then collected for the checker.
 */
import { randomBytes } from 'node:crypto';
import { type LoadedCluster, loadClusterFile } from '@tandem/daemon';
import { HttpLegAdapter, LegHostAdminClient } from '@tandem/leg-host';
import { type LegName, encodeTerms, fromHex, toHex } from '@tandem/protocol';
import { type HistoryEntry, type PlannedFault, type PlannedSettlement, type RunRecord, type Scenario, type ScenarioPlan, describeFault, linkChangeTimes, linkFaultsAt, planScenario } from '@tandem/sim';
import { restartNode } from './cluster.js';
import { collectRun } from './cluster-collect.js';
import { type SettlementFollower, settlementFollower } from './follow.js';
import { getJson, postAnswered, postJson, waitFor } from './http.js';
import { type AuthorizationBody, type PartySigner, partySigner } from './parties.js';
import { type ClusterNode, clusterPaths, readState } from './paths.js';
import { alive } from './processes.js';
import { type ClusterCredentials, clusterCredentials } from './secrets.js';

/** How often the runner reads each node's view of the open settlements. */
const POLL_MS = 250;
/** Lead time between the cluster being up and the scenario's time 0 (intents are built before). */
const START_LEAD_MS = 300;
/** A restarted node gets this long to open its control API. */
const RESTART_READY_MS = 30_000;
/** A killed process gets this long to be gone before its restart. */
const EXIT_WAIT_MS = 5_000;
const LEG_HOST_TIMEOUT_MS = 5_000;
/** Longest sleep of the run loop, so the end condition is looked at often enough. */
const LOOP_SLEEP_MS_MAX = 20;

interface Action {
  readonly atMs: number;
  readonly what: string;
  readonly run: () => Promise<void>;
  /** A party's reclaim: the run may end before it (it only matters if nothing closed the settlement). */
  readonly reclaim?: true;
}

export class ClusterScenarioRun {
  private readonly cluster: LoadedCluster;
  private readonly signer: PartySigner;
  /** The cluster's tokens: control (the nodes), legs (reclaims on the parties' behalf), admin (faults, events). */
  private readonly credentials: ClusterCredentials;
  private readonly admin: LegHostAdminClient;
  private readonly legs: Record<LegName, HttpLegAdapter>;
  private readonly t0Ms: number;
  private readonly plan: ScenarioPlan;
  private readonly entries: HistoryEntry[] = [];
  private readonly down = new Set<number>();
  private readonly crashedForGood = new Set<number>();
  /** Restarted, its control API not answering yet: up for the end of the run (as a restarted simulated node), so the run waits for it. */
  private readonly restarting = new Set<number>();
  /** What the nodes' control APIs showed of each settlement (follow.ts), and the settlements whose intent went out. */
  private readonly follower: SettlementFollower;
  private readonly sent: string[] = [];
  /** The cluster's nodes as state.json recorded them at the start; a restart replaces its entry's pid. */
  private nodes: readonly ClusterNode[];

  constructor(
    private readonly dir: string,
    private readonly scenario: Scenario,
    private readonly seed: number,
    private readonly say: (line: string) => void,
  ) {
    this.cluster = loadClusterFile(clusterPaths(dir).cluster);
    this.signer = partySigner(dir);
    const st = readState(dir);
    this.nodes = st.nodes;
    this.credentials = clusterCredentials(dir);
    this.follower = settlementFollower(scenario.protocol ?? 1, this.credentials.control);
    this.admin = new LegHostAdminClient({ url: st.legHost.url, credential: this.credentials.admin, timeoutMs: LEG_HOST_TIMEOUT_MS });
    const leg = (name: LegName) => new HttpLegAdapter({ url: st.legHost.url, leg: name, credential: this.credentials.legs, timeoutMs: LEG_HOST_TIMEOUT_MS });
    this.legs = { asset: leg('asset'), payment: leg('payment') };
    this.t0Ms = Date.now() + START_LEAD_MS;
    const venues = { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), bankId: st.venues.bankId, ledger: st.venues.ledger };
    // A fresh nonce per run, though keys differ anyway.
    this.plan = planScenario(scenario, { venues, nonceSuffix: toHex(randomBytes(4)), startMs: this.t0Ms });
  }

  private nowMs(): number {
    return Date.now() - this.t0Ms;
  }

  private record(e: HistoryEntry): void {
    this.entries.push(e);
  }

  // --- The schedule --------------------------------------------------------------------------

  /** The plan as timed actions. At equal times faults go first (the sort is stable), as the plan says. */
  private schedule(): Action[] {
    const out: Action[] = [];
    for (const tMs of linkChangeTimes(this.scenario)) out.push({ atMs: tMs, what: `link faults at ${tMs} ms`, run: () => this.pushLinkFaults(tMs) });
    for (const f of this.plan.faults) out.push(...this.faultActions(f));
    for (const s of this.plan.settlements) {
      out.push({ atMs: s.intentAtMs, what: `intent ${s.spec.id}`, run: () => this.intent(s) });
      for (const late of s.lateAuthorizations) {
        out.push({
          atMs: late.atMs,
          what: `late ${late.leg} authorization of ${s.spec.id}`,
          run: async () => {
            this.record({ t: this.nowMs(), node: 0, type: 'fault', fault: late.fault, phase: 'start', detail: `the ${late.leg} authorization goes out` });
            await this.submit(s, [late.leg]);
          },
        });
      }
      for (const r of s.reclaims) out.push({ atMs: r.atMs, what: `reclaim ${s.spec.id} ${r.leg}`, run: () => this.reclaim(s, r.leg), reclaim: true });
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  private faultActions({ fault: f, startMs, endMs }: PlannedFault): Action[] {
    const what = describeFault(f);
    const mark = (phase: 'start' | 'end') => this.record({ t: this.nowMs(), node: 0, type: 'fault', fault: f, phase });
    const at = (atMs: number, run: () => Promise<void>): Action => ({ atMs, what, run });
    switch (f.kind) {
      case 'crash':
        return [at(startMs, async () => this.crash(f.node, endMs === null)), ...(endMs === null ? [] : [at(endMs, () => this.restart(f.node))])];
      case 'partition':
      case 'isolate':
      case 'drop':
      case 'delay':
        // Realised by pushLinkFaults at the same instants; recorded for the history, as the simulator does.
        return [at(startMs, async () => mark('start')), ...(endMs === null ? [] : [at(endMs, async () => mark('end'))])];
      case 'leg': {
        const id = fromHex(this.settlementOf(f.settlement).idHex, 32);
        switch (f.fail) {
          case 'reject':
            return [at(startMs, async () => void (await this.admin.setFault(f.leg, { kind: 'reject-prepare', settlementId: id })))];
          case 'apply-error':
            return [at(startMs, async () => void (await this.admin.setFault(f.leg, { kind: 'fail-apply', settlementId: id, times: f.times })))];
          case 'unavailable':
            // The leg host ends the outage itself at `until` on its clock.
            return [at(startMs, async () => void (await this.admin.setFault(f.leg, { kind: 'unavailable', untilMs: endMs === null ? Number.MAX_SAFE_INTEGER : this.t0Ms + endMs })))];
          case 'never-lock':
          case 'late-lock':
            return []; // not in plan.faults: the intents and late authorizations realise them
        }
        return [];
      }
      default:
        throw new Error(`unrealisable fault ${what}`); // clusterModeProblems refused it already
    }
  }

  private settlementOf(nonce: string): PlannedSettlement {
    const s = this.plan.settlements.find((x) => x.spec.id === nonce);
    if (s === undefined) throw new Error(`assertion failed: the loader checked that ${nonce} is a settlement`);
    return s;
  }

  // --- Actions -----------------------------------------------------------------------------

  private async intent(s: PlannedSettlement): Promise<void> {
    this.record({ t: this.nowMs(), node: 0, type: 'intent', settlement: s.spec.id, settlementIdHex: s.idHex });
    this.sent.push(s.idHex);
    await this.submit(s, s.authorizedAtIntent);
  }

  /** The parties' agent hands the terms, with authorizations for `legs`, to every node up. */
  private async submit(s: PlannedSettlement, legs: readonly LegName[]): Promise<void> {
    const party = (leg: LegName) => (leg === 'asset' ? s.terms.asset.seller : s.terms.payment.payer);
    const authorizations: Record<string, AuthorizationBody> = {};
    for (const leg of legs) authorizations[leg] = this.signer.authorize(party(leg), fromHex(s.idHex, 32));
    const body = { terms: toHex(encodeTerms(s.terms)), authorizations };
    await Promise.all(
      this.nodes.map(async (node, i) => {
        if (this.down.has(i + 1)) {
          // Down (or restarted but not answering yet): not handed, and recorded as such.
          this.record({ t: this.nowMs(), node: i + 1, type: 'intent-undelivered', settlementIdHex: s.idHex });
          return;
        }
        // No answer (the node was dying) is recorded, so the admission check does not count the intent as handed.
        if (!(await postAnswered(`${node.control}/intents`, body, this.credentials.control))) this.record({ t: this.nowMs(), node: i + 1, type: 'intent-undelivered', settlementIdHex: s.idHex });
      }),
    );
  }

  private async pushLinkFaults(tMs: number): Promise<void> {
    const faults = linkFaultsAt(this.scenario, tMs);
    await Promise.all(
      this.nodes.map(async (node, i) => {
        if (this.down.has(i + 1)) return;
        await postJson(`${node.control}/faults/links`, faults.get(i + 1), this.credentials.control).catch(() => null); // a node that just died is caught up on restart
      }),
    );
  }

  private crash(index: number, forGood: boolean): void {
    const node = this.nodes[index - 1]!;
    this.down.add(index);
    if (forGood) this.crashedForGood.add(index);
    if (alive(node.pid)) process.kill(node.pid, 'SIGKILL');
    this.record({ t: this.nowMs(), node: index, type: 'crash' });
    this.say(`  ${this.nowMs()} ms: n${index} killed (SIGKILL)${forGood ? ' for good' : ''}`);
  }

  private async restart(index: number): Promise<void> {
    const id = `n${index}`;
    await waitFor(`${id} to exit`, EXIT_WAIT_MS, async () => (alive(this.nodes[index - 1]!.pid) ? null : true));
    const pid = restartNode(this.dir, id);
    this.nodes = this.nodes.map((x) => (x.id === id ? { ...x, pid } : x));
    this.record({ t: this.nowMs(), node: index, type: 'restart' });
    this.say(`  ${this.nowMs()} ms: n${index} restarted (pid ${pid})`);
    this.restarting.add(index);
    // Its link faults, once it listens (the process takes a second or two to start).
    const control = this.nodes[index - 1]!.control;
    void waitFor(`${id}'s control API`, RESTART_READY_MS, async () => ((await getJson(`${control}/status`, this.credentials.control)) !== null ? true : null))
      .then(async () => {
        this.down.delete(index);
        this.restarting.delete(index);
        await postJson(`${control}/faults/links`, linkFaultsAt(this.scenario, this.nowMs()).get(index), this.credentials.control);
      })
      .catch((e: unknown) => {
        this.restarting.delete(index);
        this.say(`  ${id} did not come back: ${(e as Error).message}`);
      });
  }

  /** The party takes its value back once the timelock passed, unless the settlement closed. */
  private async reclaim(s: PlannedSettlement, leg: LegName): Promise<void> {
    if (this.follower.closed(s.idHex)) return;
    const outcome = await this.legs[leg].reclaim(fromHex(s.idHex, 32)).catch((e: unknown) => ({ kind: 'refused' as const, reason: `leg unavailable: ${(e as Error).message}` }));
    this.record({ t: this.nowMs(), node: 0, type: 'reclaim', settlement: s.spec.id, leg, outcome: outcome.kind === 'refused' ? `refused: ${outcome.reason}` : outcome.kind });
  }

  // --- The run -----------------------------------------------------------------------------

  /** The end of a run (docs/results.md): every settlement closed on both legs and decided by every node up (a restarted one once it answers). */
  private async finished(): Promise<boolean> {
    if (this.restarting.size > 0) return false;
    // One list per node for all settlements: a run may follow a hundred at once.
    await this.follower.poll(this.nodes, this.down, this.sent);
    const up = this.nodes.map((_, i) => i + 1).filter((x) => !this.down.has(x));
    return this.plan.settlements.every((s) => this.follower.closed(s.idHex) && up.every((x) => this.follower.decidedAt(s.idHex, x)));
  }

  async run(): Promise<RunRecord> {
    const schedule = this.schedule();
    const { hardStopMs } = this.plan;
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
        const faultsDone = now >= this.plan.lastFaultEventMs && schedule.slice(next).every((a) => a.reclaim === true);
        if (faultsDone && (await this.finished())) break;
      }
      const wake = Math.min(schedule[next]?.atMs ?? Infinity, this.nowMs() + LOOP_SLEEP_MS_MAX);
      await new Promise((r) => setTimeout(r, Math.max(1, wake - this.nowMs())));
    }
    const facts = { scenario: this.scenario, seed: this.seed, cluster: this.cluster, settlements: this.plan.settlements, runnerEntries: this.entries, nodes: this.nodes, dataDir: clusterPaths(this.dir).data, down: this.down, crashedForGood: this.crashedForGood, t0Ms: this.t0Ms, endMs: this.nowMs() };
    return collectRun(facts, this.admin);
  }
}
