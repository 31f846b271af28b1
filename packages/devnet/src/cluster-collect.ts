/**
 * The end of a cluster-mode run: every node's history file and both legs' event logs gathered
 * into one run record, on the run's timeline, for the simulator's checker.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadedCluster, parseHistory } from '@tandem/daemon';
import type { LegHostAdminClient } from '@tandem/leg-host';
import type { LegEvent } from '@tandem/legs';
import { type LegName, configDigest } from '@tandem/protocol';
import { type HistoryEntry, HistoryHasher, type LegRecord, MemoVerifier, type RunRecord, type Scenario, type SimSettlement, historyLine } from '@tandem/sim';
import { retried } from './http.js';
import { readLegEvents } from './leg-events.js';
import type { ClusterNode } from './paths.js';

/** What the run itself knows at its end. */
export interface RunFacts {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly cluster: LoadedCluster;
  readonly settlements: readonly SimSettlement[];
  /** The runner's own entries (intents, faults, crashes, restarts, reclaims), in the order they happened. */
  readonly runnerEntries: readonly HistoryEntry[];
  readonly nodes: readonly ClusterNode[];
  /** Where the node history files are (DIR/data). */
  readonly dataDir: string;
  readonly down: ReadonlySet<number>;
  readonly crashedForGood: ReadonlySet<number>;
  /** The wall-clock time of the run's time 0. */
  readonly t0Ms: number;
  readonly endMs: number;
}

/** Every node's history entries, on the run's timeline (a node that never started wrote none). */
function nodeEntries(facts: RunFacts): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  facts.nodes.forEach((node, i) => {
    const file = join(facts.dataDir, `${node.id}.history.jsonl`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const { tMs, event } of parseHistory(text, file)) out.push({ t: tMs - facts.t0Ms, node: i + 1, type: 'node', event });
  });
  return out;
}

/** A leg as the checker reads it: its events on the run's timeline and its own conservation verdict. */
async function legRecord(admin: LegHostAdminClient, leg: LegName, t0Ms: number): Promise<LegRecord> {
  const [events, balances] = await Promise.all([readLegEvents(admin, leg), retried(() => admin.balances(leg))]);
  const onTimeline: LegEvent[] = events.map((e) => ({ ...e, atMs: e.atMs - t0Ms }));
  return { events: () => onTimeline, conservationProblem: () => balances.conservationProblem };
}

export async function collectRun(facts: RunFacts, admin: LegHostAdminClient): Promise<RunRecord> {
  // One timeline: runner entries and every node's, by time (stable: each source keeps its order).
  const history = [...facts.runnerEntries, ...nodeEntries(facts)].sort((a, b) => a.t - b.t);
  const hasher = new HistoryHasher();
  for (const e of history) hasher.add(historyLine(e));
  const [asset, payment] = await Promise.all([legRecord(admin, 'asset', facts.t0Ms), legRecord(admin, 'payment', facts.t0Ms)]);
  const config = facts.cluster.config;
  return {
    scenario: facts.scenario,
    seed: facts.seed,
    cluster: config,
    configDigest: configDigest(config),
    settlements: facts.settlements,
    history,
    historyHash: hasher.digestHex(),
    asset,
    payment,
    faultyForGood: facts.crashedForGood,
    legTimeMs: (_leg, runMs) => runMs + facts.t0Ms,
    byzantine: new Set(),
    skewed: new Set(),
    upAtEnd: new Set(facts.nodes.map((_, i) => i + 1).filter((x) => !facts.down.has(x))),
    endMs: facts.endMs,
    messagesSent: history.filter((e) => e.type === 'node' && e.event.type === 'signed').length,
    messagesDelivered: 0,
    verifier: new MemoVerifier(),
  };
}
