/**
 * The end of a cluster-mode run (or a kill test's): every node's history file and both legs' event
 * logs gathered into one run record, on the run's timeline, for the simulator's checker. The
 * nodes' configs say which protocol they ran: a protocol-2 run's record carries its v2 parameters
 * and the v2 configuration digest, and its node entries are the simulator's v2 entries (node2,
 * bundle, leg2: packages/daemon/src/history-v2.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LoadedCluster, loadNodeConfig, parseHistory, parseHistoryV2, v2Params } from '@tandem/daemon';
import type { LegHostAdminClient } from '@tandem/leg-host';
import type { LegEvent } from '@tandem/legs';
import { type LegName, type V2Params, configDigest, configDigestV2 } from '@tandem/protocol';
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

/** Every node's history file text, by node index (a node that never started wrote none). */
function historyFiles(facts: RunFacts): { node: number; file: string; text: string }[] {
  return facts.nodes.flatMap((node, i) => {
    const file = join(facts.dataDir, `${node.id}.history.jsonl`);
    try {
      return [{ node: i + 1, file, text: readFileSync(file, 'utf8') }];
    } catch {
      return [];
    }
  });
}

/** Every node's history entries, on the run's timeline; protocol-2 lines as the simulator's v2 entries (clockMs stays the node's clock). */
function nodeEntries(facts: RunFacts, protocol: 1 | 2): HistoryEntry[] {
  return historyFiles(facts).flatMap(({ node, file, text }): HistoryEntry[] =>
    protocol === 2
      ? parseHistoryV2(text, file).map(({ tMs, item }) => ({ t: tMs - facts.t0Ms, node, ...item }))
      : parseHistory(text, file).map(({ tMs, event }) => ({ t: tMs - facts.t0Ms, node, type: 'node', event })),
  );
}

/**
 * The protocol the nodes ran and, under 2, their v2 parameters: from the nodes' own configs, which
 * must agree (the v2 configuration digest covers the parameters).
 */
function nodesProtocol(facts: RunFacts): { protocol: 1 } | { protocol: 2; v2Params: V2Params } {
  const n = facts.cluster.config.n;
  const runs = facts.nodes.map((node) => {
    const choice = loadNodeConfig(node.config).protocol;
    return choice.version === 1 ? ({ protocol: 1 } as const) : ({ protocol: 2, v2Params: v2Params(choice, n) } as const);
  });
  const first = runs[0] ?? { protocol: 1 };
  for (const [i, r] of runs.entries()) {
    if (JSON.stringify(r) !== JSON.stringify(first)) throw new Error(`${facts.nodes[i]!.config}: runs ${JSON.stringify(r)}, but ${facts.nodes[0]!.config} runs ${JSON.stringify(first)}`);
  }
  return first;
}

/** A leg as the checker reads it: its events on the run's timeline and its own conservation verdict. */
async function legRecord(admin: LegHostAdminClient, leg: LegName, t0Ms: number): Promise<LegRecord> {
  const [events, balances] = await Promise.all([readLegEvents(admin, leg), retried(() => admin.balances(leg))]);
  const onTimeline: LegEvent[] = events.map((e) => ({ ...e, atMs: e.atMs - t0Ms }));
  return { events: () => onTimeline, conservationProblem: () => balances.conservationProblem };
}

export async function collectRun(facts: RunFacts, admin: LegHostAdminClient): Promise<RunRecord> {
  const ran = nodesProtocol(facts);
  // One timeline: runner entries and every node's, by time (stable: each source keeps its order).
  const history = [...facts.runnerEntries, ...nodeEntries(facts, ran.protocol)].sort((a, b) => a.t - b.t);
  const hasher = new HistoryHasher();
  for (const e of history) hasher.add(historyLine(e));
  const [asset, payment] = await Promise.all([legRecord(admin, 'asset', facts.t0Ms), legRecord(admin, 'payment', facts.t0Ms)]);
  const config = facts.cluster.config;
  return {
    ...(ran.protocol === 2 ? { protocol: 2, v2Params: ran.v2Params, configDigest: configDigestV2(config, ran.v2Params) } : { configDigest: configDigest(config) }),
    scenario: facts.scenario,
    seed: facts.seed,
    cluster: config,
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
    // What the nodes signed and sent: v1 messages; v2 votes, proposals and bundles.
    messagesSent: history.filter((e) => (e.type === 'node' && e.event.type === 'signed') || (e.type === 'node2' && e.event.type === 'signed') || e.type === 'bundle').length,
    messagesDelivered: 0,
    verifier: new MemoVerifier(),
  };
}
