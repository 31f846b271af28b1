/**
 * Cluster mode (`tandem simulate FILE --mode cluster`): runs a scenario on real processes — N
 * nodes over libp2p on loopback and the in-memory legs behind a leg host — and checks it with the
 * simulator's checker. The scenario's times become wall-clock offsets from the start. The cluster
 * runs the scenario's protocol (`protocol: 2`: batches, with its `batching:` parameters in every
 * node config and the legs anchored to their v2 digest), and the run is judged by that protocol's
 * checker.
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
 * What is collected: every node's full-fidelity history file (packages/daemon/src/history.ts;
 * protocol 2: history-v2.ts, with the bundles each node broadcast and its leg calls), the
 * runner's own entries (intents, faults, crashes, restarts, reclaims) and both legs' event logs
 * from the leg host. The checker reads them exactly as it reads a simulated run. Differences from
 * the simulator, by nature: the run is not reproducible (keys, scheduling and loss are real), so
 * `historyHash` differs between runs; there are no per-message entries (the report's space-time
 * diagram shows decisions and faults only); metrics.messages counts signed messages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '@tandem/daemon';
import { type Fault, type RunRecord, type Scenario, describeFault, drawScenario, fundsOf, partiesOf } from '@tandem/sim';
import { clusterDown } from './cluster.js';
import { ClusterScenarioRun } from './cluster-run.js';
import { readStateOrNull } from './paths.js';
import { clusterUp } from './up.js';

/** Node processes a scenario may ask for: each is a full libp2p node, and this runs on one machine. */
export const CLUSTER_NODES_MAX = 10;

/** Why `scenario` cannot run on a cluster: one line per refused part, empty when it can. */
export function clusterModeProblems(scenario: Scenario): string[] {
  const out: string[] = [];
  if (scenario.nodes > CLUSTER_NODES_MAX) out.push(`nodes: ${scenario.nodes} node processes; cluster mode runs at most ${CLUSTER_NODES_MAX} on one machine`);
  if (scenario.network.duplicate > 0) out.push('network.duplicate: duplication is realised by the simulator only (libp2p does not duplicate)');
  if (scenario.admission !== undefined) out.push('admission: node admission parameters are set by the simulator only (node processes take their config\'s)');
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
    const funds = fundsOf(scenario).map((f) => ({ ...f, amount: f.amount.toString() }));
    // The one place the nodes' link-fault injectors are switched on: partitions, isolation, loss and delay go through them.
    // The scenario's protocol; under 2 its `batching:` parameters, which the simulator would run too (scenarioV2Params).
    const protocol = scenario.protocol ?? 1;
    await clusterUp(dir, { nodes: String(scenario.nodes), legs: 'memory', parties: partiesOf(scenario), funds, say, linkFaults: true, protocol: String(protocol), ...(protocol === 2 ? { v2: { ...scenario.batching } } : {}) });
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

/** Removes a run's cluster directory (the caller keeps it when asked to). */
export function removeRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
