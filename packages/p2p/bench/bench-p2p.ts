/**
 * Loopback benchmark of the p2p transport: four members of one cluster in this process on
 * 127.0.0.1, measuring
 *   - gossip one-way latency: member 1 broadcasts, members 2..4 receive (median and p99 over
 *     every (message, receiver) pair; one process, so one clock);
 *   - direct round trip: member 1 sends to member 2, whose handler sends straight back;
 *   - gossip throughput: ~1 kB broadcasts from member 1 until all three have everything. Each
 *     gossip message carries a libp2p Ed25519 signature (StrictSign) that every receiver checks,
 *     so in one process this is mostly 3 signature checks per message.
 * All four nodes share this process's event loop (and the machine's cores with whatever else
 * runs), so the figures include that contention; they are a floor for decisions, not a SLA.
 *
 * Run: `pnpm exec tsc -b packages/p2p && pnpm exec tsc -p packages/p2p/bench && node packages/p2p/bench/dist/bench-p2p.js`
 */
import '@tandem/p2p/polyfill';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { dealerKeygen, identityKeygen } from '@tandem/crypto';
import { type ClusterConfig, type Message, encodeMessage, networkIdFromName, quorum } from '@tandem/protocol';
import { P2pTransport, type TandemHost, createTandemHost } from '@tandem/p2p';

const N = 4;
const WARMUP_MESSAGES = 50;
const LATENCY_MESSAGES = 300;
const LATENCY_GAP_MS = 5;
const ROUND_TRIPS = 300;
const THROUGHPUT_MESSAGES = 2_000;
const THROUGHPUT_PADDING_BYTES = 256; // four strings of this size: about 1 kB per message
const WAIT_LIMIT_MS = 120_000;

interface Node {
  readonly host: TandemHost;
  readonly transport: P2pTransport;
  onMessage: (from: number, m: Message) => void;
  readonly connected: Set<number>;
}

const rb = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function makeCluster(): { config: ClusterConfig; seeds: Uint8Array[] } {
  const ids = Array.from({ length: N }, () => identityKeygen(rb));
  const config: ClusterConfig = {
    networkId: networkIdFromName('bench-p2p'),
    n: N,
    t: quorum(N),
    members: ids.map((id, k) => ({ index: k + 1, id: `n${k + 1}`, identityKey: id.publicKey })),
    commitments: dealerKeygen(N, quorum(N), rb).commitments,
  };
  return { config, seeds: ids.map((id) => id.secretKey) };
}

/** A terms message whose nonce carries a sequence number (and optional padding in the parties). */
function probe(seq: number, padBytes = 0): Message {
  const pad = 'p'.repeat(padBytes);
  return {
    kind: 'terms',
    terms: {
      nonce: `bench-${seq}`,
      asset: { chainId: 1n, escrow: new Uint8Array(20), token: 'OUSG', seller: `alice${pad}`.slice(0, 256), buyer: `bob${pad}`.slice(0, 256), amount: 1n },
      payment: { bankId: 'bank', ledger: 'l', payer: `bob${pad}`.slice(0, 256), payee: `alice${pad}`.slice(0, 256), currency: 'USD', amount: 1n },
      deadlineMs: 1_000,
      reportWindowMs: 1_000,
      marginMs: 1_000,
    },
  };
}

function seqOf(m: Message): number {
  return m.kind === 'terms' ? Number(m.terms.nonce.slice('bench-'.length)) : -1;
}

async function startNode(cluster: ReturnType<typeof makeCluster>, index: number, peers: Node[]): Promise<Node> {
  const host = await createTandemHost({
    cluster: cluster.config,
    self: index,
    identitySecretKey: cluster.seeds[index - 1]!,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    peers: peers.map((p) => ({ index: p.host.self, multiaddrs: p.host.multiaddrs() })),
  });
  const transport = new P2pTransport(host);
  const node: Node = { host, transport, onMessage: () => {}, connected: new Set() };
  transport.onMessage((from, m) => node.onMessage(from, m));
  transport.onPeerConnected((i) => node.connected.add(i));
  await transport.start();
  return node;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > WAIT_LIMIT_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Member 1 broadcasts `count` probes `gapMs` apart; returns every receiver's latency in ms. */
async function gossipLatencies(nodes: Node[], count: number, gapMs: number, firstSeq: number): Promise<number[]> {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  for (const n of nodes.slice(1)) {
    n.onMessage = (_from, m) => {
      const t0 = sentAt.get(seqOf(m));
      if (t0 !== undefined) latencies.push(performance.now() - t0);
    };
  }
  for (let k = 0; k < count; k++) {
    const seq = firstSeq + k;
    sentAt.set(seq, performance.now());
    nodes[0]!.transport.broadcast(probe(seq));
    await sleep(gapMs);
  }
  await until('every gossip probe', () => latencies.length === count * (N - 1));
  return latencies;
}

async function directRoundTrips(nodes: Node[], count: number): Promise<number[]> {
  const [a, b] = [nodes[0]!, nodes[1]!];
  b.onMessage = (from, m) => b.transport.send(from, m);
  const rtts: number[] = [];
  for (let k = 0; k < count; k++) {
    const back = new Promise<void>((resolve) => {
      a.onMessage = () => resolve();
    });
    const t0 = performance.now();
    a.transport.send(2, probe(k));
    await back;
    rtts.push(performance.now() - t0);
  }
  return rtts;
}

interface Throughput {
  readonly perSecond: number;
  readonly bytes: number;
  /** CPU time of this process per message (all four nodes: one sign, three verifies, I/O). */
  readonly cpuMsPerMessage: number;
}

async function gossipThroughput(nodes: Node[], count: number): Promise<Throughput> {
  const received = nodes.map(() => 0);
  nodes.forEach((n, i) => {
    n.onMessage = () => void received[i]!++;
  });
  const bytes = encodeMessage(probe(0, THROUGHPUT_PADDING_BYTES)).length;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    nodes[0]!.transport.broadcast(probe(k, THROUGHPUT_PADDING_BYTES));
    if (k % 100 === 99) await sleep(0); // let gossipsub write what it was given
  }
  await until('every throughput message', () => received.slice(1).every((r) => r === count));
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: count / ((performance.now() - t0) / 1000), bytes, cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / count };
}

async function main(): Promise<void> {
  const cluster = makeCluster();
  const nodes: Node[] = [];
  const t0 = performance.now();
  for (let i = 1; i <= N; i++) nodes.push(await startNode(cluster, i, nodes));
  await until('all members reachable', () => nodes.every((n) => n.connected.size === N - 1));
  const connectMs = performance.now() - t0;
  try {
    await gossipLatencies(nodes, WARMUP_MESSAGES, LATENCY_GAP_MS, 1_000_000);
    const gossip = await gossipLatencies(nodes, LATENCY_MESSAGES, LATENCY_GAP_MS, 0);
    const rtt = await directRoundTrips(nodes, ROUND_TRIPS);
    const tput = await gossipThroughput(nodes, THROUGHPUT_MESSAGES);
    const drops = nodes.map((n) => n.transport.stats()).reduce((s, x) => s + x.rateLimited + x.sendFailures + x.publishFailures + x.sendQueueDrops, 0);
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(`p2p loopback, ${N} members in one process; node ${process.version}; ${os.cpus().length} × ${cpu}; load ${os.loadavg()[0]!.toFixed(1)}`);
    console.log('');
    console.log('| measure | median | p99 | samples |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| start 4 hosts and connect all (ms) | ${connectMs.toFixed(0)} | | 1 |`);
    console.log(`| gossip one-way latency to 3 peers (ms) | ${quantile(gossip, 0.5).toFixed(2)} | ${quantile(gossip, 0.99).toFixed(2)} | ${gossip.length} |`);
    console.log(`| direct stream round trip (ms) | ${quantile(rtt, 0.5).toFixed(3)} | ${quantile(rtt, 0.99).toFixed(3)} | ${rtt.length} |`);
    console.log(`| gossip throughput, ${tput.bytes} B messages to 3 peers (msg/s) | ${tput.perSecond.toFixed(0)} | | ${THROUGHPUT_MESSAGES} |`);
    console.log(`| CPU per gossip message, all 4 nodes (ms) | ${tput.cpuMsPerMessage.toFixed(2)} | | ${THROUGHPUT_MESSAGES} |`);
    console.log('');
    console.log(`messages dropped anywhere: ${drops}`);
  } finally {
    for (const n of nodes) {
      await n.transport.stop();
      await n.host.stop();
    }
  }
}

await main();
