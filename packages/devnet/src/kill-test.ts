/**
 * The kill test: settlements on a cluster with the real legs while components are SIGKILLed at
 * random instants and restarted — a node, the leg host (which holds the bank and the chain), or
 * the chain alone — then the simulator's checker (`buildResult`, as cluster mode uses it) over
 * every node's history and both legs' own event histories: every settlement must end
 * all-or-nothing, nothing applied twice, and every invariant hold. The seed draws the whole plan
 * (kill-plan.ts) and is printed: the same seed gives the same trades and kill schedule.
 *
 * Under either protocol (`protocol`, default DEFAULT_PROTOCOL, 2): the cluster is brought up with it, the runner
 * follows settlements through that protocol's control API (follow.ts) and collects that
 * protocol's run (cluster-collect.ts), which the checker judges by its own invariants.
 *
 * How each component comes back: a node with `restartNode` (its write-ahead storage kept), the leg
 * host with `restartLegHost` (its bank and chain state kept: nothing is redeployed), the chain by
 * the leg host itself, which restarts its anvil from the state file (local-chain.ts in leg-evm).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { type LoadedCluster, loadClusterFile } from '@tandem/daemon';
import { HttpLegAdapter, LegHostAdminClient } from '@tandem/leg-host';
import { type LegName, encodeTerms, fromHex, settlementId, toHex } from '@tandem/protocol';
import { type HistoryEntry, type RunResult, type Scenario, type ScenarioSettlement, type SettlementResult, type SimSettlement, buildResult, scenarioTerms } from '@tandem/sim';
import { collectRun } from './cluster-collect.js';
import { clusterDown, restartLegHost, restartNode } from './cluster.js';
import { type SettlementFollower, settlementFollower } from './follow.js';
import { getJson, postAnswered, waitFor } from './http.js';
import { type KillPlan, type KillTarget, type PlannedTrade, describeTarget, planKillTest } from './kill-plan.js';
import { type AuthorizationBody, type PartySigner, partySigner } from './parties.js';
import { type ClusterNode, clusterPaths, readState } from './paths.js';
import { alive } from './processes.js';
import { type ClusterCredentials, clusterCredentials } from './secrets.js';
import { DEFAULT_PROTOCOL } from './protocol.js';
import { clusterUp } from './up.js';

export interface KillTestOptions {
  readonly seed: number;
  /** Settlements to run (at least 50 for the recorded run). */
  readonly settlements: number;
  readonly kills: number;
  /** A cluster directory of its own (created; left in place for its logs). */
  readonly dir: string;
  readonly nodes?: number;
  /** Mean gap between two trades (default 1.5 s). */
  readonly tradeIntervalMs?: number;
  /** The protocol the cluster runs (default DEFAULT_PROTOCOL, 2). */
  readonly protocol?: 1 | 2;
  readonly say?: (line: string) => void;
}

/** One kill as it happened. */
export interface KillRecord {
  readonly target: string;
  /** When it was SIGKILLed and when it answered again, in ms after the run's start. */
  readonly atMs: number;
  readonly backAtMs: number;
}

export interface KillTestResult {
  readonly seed: number;
  readonly protocol: 1 | 2;
  readonly plan: KillPlan;
  readonly kills: readonly KillRecord[];
  /** The checker's verdict over the run (invariants, each settlement's decision and leg states). */
  readonly result: RunResult;
  /** Settlements that did not end all-or-nothing: split, undecided, or with value still locked. */
  readonly problems: readonly string[];
  readonly counts: { readonly commit: number; readonly abort: number; readonly undecided: number };
  readonly ok: boolean;
  readonly wallMs: number;
}

/** Terms of every trade: a deadline well after the decision, a report window far above any downtime. */
const DEADLINE_AFTER_MS = 20_000;
const REPORT_WINDOW_MS = 60_000;
const MARGIN_MS = 10_000;
/** How long a restarted component may take to answer again. */
const BACK_TIMEOUT_MS = 60_000;
/** How often the end of the run is looked for. */
const POLL_MS = 500;
/** After the last trade's reclaim time, the run gives up (everything should have closed long before). */
const HARD_STOP_AFTER_RECLAIM_MS = 30_000;
const LEG_TIMEOUT_MS = 5_000;

export async function runKillTest(o: KillTestOptions): Promise<KillTestResult> {
  const say = o.say ?? (() => {});
  const nodes = o.nodes ?? 4;
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const plan = planKillTest({ seed: o.seed, settlements: o.settlements, kills: o.kills, nodes, tradeIntervalMs: o.tradeIntervalMs ?? 1_500 });
  say(`kill test, seed ${o.seed}, protocol ${protocol}: ${plan.trades.length} settlements, ${plan.kills.length} kills (rerun with the same seed for the same schedule)`);
  const startedMs = Date.now();
  await clusterUp(o.dir, { nodes: String(nodes), legs: 'real', say, protocol: String(protocol) });
  try {
    const run = new KillRun(o.dir, plan, protocol, say);
    const out = await run.run();
    return { ...out, wallMs: Date.now() - startedMs };
  } finally {
    await clusterDown(o.dir);
  }
}

class KillRun {
  private readonly cluster: LoadedCluster;
  private readonly signer: PartySigner;
  private readonly t0Ms: number;
  private readonly settlements: SimSettlement[];
  private readonly withheld = new Set<string>();
  private readonly entries: HistoryEntry[] = [];
  private readonly down = new Set<number>();
  private readonly kills: KillRecord[] = [];
  /** What the nodes' control APIs showed of each settlement: see follow(). */
  private readonly follower: SettlementFollower;
  /** The settlements whose intent went out so far (hex). */
  private readonly sent: string[] = [];
  private followDone = false;
  private nodes: readonly ClusterNode[];
  private readonly credentials: ClusterCredentials;

  constructor(
    private readonly dir: string,
    private readonly plan: KillPlan,
    private readonly protocol: 1 | 2,
    private readonly say: (line: string) => void,
  ) {
    this.cluster = loadClusterFile(clusterPaths(dir).cluster);
    this.credentials = clusterCredentials(dir);
    this.follower = settlementFollower(protocol, this.credentials.control);
    this.signer = partySigner(dir);
    const st = readState(dir);
    this.nodes = st.nodes;
    this.t0Ms = Date.now() + 300;
    const placement = { venues: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), bankId: st.venues.bankId, ledger: st.venues.ledger }, nonceSuffix: toHex(randomBytes(4)), startMs: this.t0Ms };
    this.settlements = plan.trades.map((t) => {
      const spec = tradeSpec(t);
      const terms = scenarioTerms(spec, placement);
      if (t.kind === 'seller-silent') this.withheld.add(t.id);
      return { spec, terms, idHex: toHex(settlementId(terms)) };
    });
  }

  private nowMs(): number {
    return Date.now() - this.t0Ms;
  }

  async run(): Promise<Omit<KillTestResult, 'wallMs'>> {
    const following = this.follow();
    await Promise.all([this.trade(), this.kill()]);
    const last = this.settlements[this.settlements.length - 1]!.terms;
    const hardStopMs = last.deadlineMs + last.reportWindowMs + last.marginMs + HARD_STOP_AFTER_RECLAIM_MS - this.t0Ms;
    this.say(`  ${this.nowMs()} ms: every trade sent and every kill done; waiting for all ${this.settlements.length} settlements to close on both legs`);
    await this.waitForEnd(hardStopMs);
    this.followDone = true;
    await following;
    const st = readState(this.dir);
    const admin = new LegHostAdminClient({ url: st.legHost.url, credential: this.credentials.admin, timeoutMs: LEG_TIMEOUT_MS });
    const record = await collectRun(
      { scenario: this.scenario(), seed: this.plan.seed, cluster: this.cluster, settlements: this.settlements, runnerEntries: this.entries, nodes: this.nodes, dataDir: clusterPaths(this.dir).data, down: this.down, crashedForGood: new Set(), t0Ms: this.t0Ms, endMs: this.nowMs() },
      admin,
    );
    const result = buildResult(record);
    const problems = result.settlements.flatMap((s) => (endedAllOrNothing(s) ? [] : [`${s.id}: decided ${s.decision ?? 'nothing'}, asset ${s.asset}, payment ${s.payment}`]));
    const count = (d: 'commit' | 'abort' | null) => result.settlements.filter((s) => s.decision === d).length;
    return { seed: this.plan.seed, protocol: this.protocol, plan: this.plan, kills: this.kills, result, problems, counts: { commit: count('commit'), abort: count('abort'), undecided: count(null) }, ok: result.ok && problems.length === 0 };
  }

  /** What the checker reads of the run's intent: the settlements, and the withheld authorizations as never-lock faults. */
  private scenario(): Scenario {
    return {
      name: `kill-test-${this.plan.seed}`,
      description: 'settlements on the real legs while nodes, the leg host and the chain are SIGKILLed and restarted',
      seed: this.plan.seed,
      nodes: this.cluster.config.n,
      network: { latencyMinMs: 0, latencyMaxMs: 0, drop: 0, duplicate: 0 },
      accounts: { asset: new Map(), payment: new Map() },
      settlements: this.settlements.map((s) => s.spec),
      faults: this.plan.trades.filter((t) => t.kind === 'seller-silent').map((t) => ({ kind: 'leg' as const, atMs: t.atMs, untilMs: null, settlement: t.id, leg: 'asset' as const, fail: 'never-lock' as const, afterMs: 0, times: 0 })),
      expect: { outcomes: Object.fromEntries(this.plan.trades.map((t) => [t.id, t.kind === 'commit' ? 'any' : 'abort'] as const)), decideWithinMs: null, violations: [] },
      random: null,
    };
  }

  // --- The trades ------------------------------------------------------------------------------

  private async trade(): Promise<void> {
    for (const s of this.settlements) {
      await sleepUntil(this.t0Ms + s.spec.atMs);
      this.entries.push({ t: this.nowMs(), node: 0, type: 'intent', settlement: s.spec.id, settlementIdHex: s.idHex });
      this.sent.push(s.idHex);
      await Promise.all(this.nodes.map((node, i) => (this.down.has(i + 1) ? this.undelivered(i + 1, s) : this.submit(node, s, i + 1))));
    }
  }

  /** The parties hand one node the terms with their authorizations (a node that knows them already ignores it). */
  private async submit(node: ClusterNode, s: SimSettlement, index: number): Promise<void> {
    const legs: LegName[] = this.withheld.has(s.spec.id) ? ['payment'] : ['asset', 'payment'];
    const authorizations: Record<string, AuthorizationBody> = {};
    for (const leg of legs) authorizations[leg] = this.signer.authorize(leg === 'asset' ? s.terms.asset.seller : s.terms.payment.payer, fromHex(s.idHex, 32));
    if (!(await postAnswered(`${node.control}/intents`, { terms: toHex(encodeTerms(s.terms)), authorizations }, this.credentials.control))) this.undelivered(index, s);
  }

  /**
   * The intent did not reach node `index`: it was down (killed, or restarted but not answering yet —
   * the history's crash/restart entries alone would count it as handed), or its control API gave no
   * answer. Recorded so the admission check does not expect an answer.
   */
  private undelivered(index: number, s: SimSettlement): void {
    this.entries.push({ t: this.nowMs(), node: index, type: 'intent-undelivered', settlementIdHex: s.idHex });
  }

  // --- The kills -------------------------------------------------------------------------------

  /** One kill at a time: each waits for the previous victim to answer again. */
  private async kill(): Promise<void> {
    for (const k of this.plan.kills) {
      await sleepUntil(this.t0Ms + k.atMs);
      const atMs = this.nowMs();
      this.say(`  ${atMs} ms: SIGKILL ${describeTarget(k.target)}; back in ${k.downMs} ms`);
      await this.killAndRestart(k.target, k.downMs);
      const backAtMs = this.nowMs();
      this.kills.push({ target: describeTarget(k.target), atMs, backAtMs });
      this.say(`  ${backAtMs} ms: ${describeTarget(k.target)} answers again`);
    }
  }

  private async killAndRestart(target: KillTarget, downMs: number): Promise<void> {
    const st = readState(this.dir);
    switch (target.kind) {
      case 'node': {
        const node = this.nodes[target.node - 1]!;
        this.down.add(target.node);
        await killDead(node.pid);
        this.entries.push({ t: this.nowMs(), node: target.node, type: 'crash' });
        await sleep(downMs);
        const pid = restartNode(this.dir, node.id);
        this.nodes = this.nodes.map((x) => (x.id === node.id ? { ...x, pid } : x));
        this.entries.push({ t: this.nowMs(), node: target.node, type: 'restart' });
        await waitFor(`${node.id}'s control API`, BACK_TIMEOUT_MS, async () => ((await getJson(`${node.control}/status`, this.credentials.control)) !== null ? true : null));
        this.down.delete(target.node);
        // Nothing is handed to it again: it resumes every intent it accepted (persisted before
        // it answered) and learns the ones it missed while down from the others' proposals.
        return;
      }
      case 'leg-host': {
        const chain = childPids(st.legHost.pid, 'anvil');
        await killDead(st.legHost.pid);
        for (const pid of chain) await waitFor(`anvil ${pid} to die with its leg host`, BACK_TIMEOUT_MS, async () => (alive(pid) ? null : true));
        await sleep(downMs);
        await restartLegHost(this.dir);
        return;
      }
      case 'chain': {
        const chain = childPids(st.legHost.pid, 'anvil');
        if (chain.length !== 1) throw new Error(`the leg host (pid ${st.legHost.pid}) runs ${chain.length} anvil processes, expected 1`);
        await killDead(chain[0]!);
        // The leg host restarts it from its state file; the asset leg answers once it has.
        const asset = new HttpLegAdapter({ url: st.legHost.url, leg: 'asset', credential: this.credentials.legs, timeoutMs: LEG_TIMEOUT_MS });
        await waitFor('the chain to be restarted by its leg host', BACK_TIMEOUT_MS, async () => {
          await asset.observe(new Uint8Array(32));
          return true;
        });
        return;
      }
    }
  }

  // --- The end -----------------------------------------------------------------------------------

  /**
   * Reads every node's view of the settlements every POLL_MS from the start (follow.ts): a node
   * drops a settlement from its list once it is archived (protocol 1: past its reclaim time;
   * protocol 2: once closed), so a late first look would miss it.
   */
  private async follow(): Promise<void> {
    while (!this.followDone) {
      await this.follower.poll(this.nodes, this.down, this.sent);
      await sleep(POLL_MS);
    }
  }

  /** Until every settlement is closed on both legs and decided by every node (all are up by now), or the hard stop. */
  private async waitForEnd(hardStopMs: number): Promise<void> {
    for (;;) {
      const open = this.settlements.filter((s) => !this.follower.closed(s.idHex) || this.nodes.some((_, i) => !this.follower.decidedAt(s.idHex, i + 1)));
      if (open.length === 0) return;
      if (this.nowMs() > hardStopMs) {
        this.say(`  ${this.nowMs()} ms: gave up waiting; still open: ${open.map((s) => s.spec.id).join(', ')}`);
        return;
      }
      await sleep(POLL_MS);
    }
  }
}

/** Decided, and ended so on both legs: released and posted, or neither, with nothing still locked or held. */
function endedAllOrNothing(s: SettlementResult): boolean {
  if (s.decision === 'commit') return s.asset === 'released' && s.payment === 'posted';
  return s.decision === 'abort' && !['released', 'locked'].includes(s.asset) && !['posted', 'held'].includes(s.payment);
}

/** A trade as a scenario settlement: alice sells OUSG to bob for USD. */
function tradeSpec(t: PlannedTrade): ScenarioSettlement {
  return {
    id: t.id,
    atMs: t.atMs,
    deadlineAfterMs: DEADLINE_AFTER_MS,
    reportWindowMs: REPORT_WINDOW_MS,
    marginMs: MARGIN_MS,
    asset: { seller: 'alice', buyer: 'bob', token: 'OUSG', amount: t.assetAmount },
    payment: { payer: 'bob', payee: 'alice', currency: 'USD', amount: t.price },
  };
}

/** SIGKILLs the process (and its process group) and waits until it is gone. */
async function killDead(pid: number): Promise<void> {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await waitFor(`pid ${pid} to die`, BACK_TIMEOUT_MS, async () => (alive(pid) ? null : true));
}

/** The live children of `pid` whose command is `comm` (from /proc: Linux only, as the embedded chain). */
export function childPids(pid: number, comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (stat.slice(stat.indexOf('(') + 1, close) === comm && Number(ppid) === pid && state !== 'Z') out.push(Number(entry));
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function sleepUntil(epochMs: number): Promise<void> {
  return sleep(Math.max(0, epochMs - Date.now()));
}
