/**
 * Cluster benchmark: a real 4-node cluster on loopback — one leg host serving the in-memory legs
 * over HTTP and four node processes talking over libp2p, started with
 * `tandem cluster up --legs memory` — measuring
 *
 *   1. decision latency, one settlement at a time: from both legs locked (the later of the leg
 *      host's `lock` and `hold` events) to the first node's `decided` log line, next to a floor
 *      measured in the same run (gossip one-way latency × 4 message delays + one BLS partial sign
 *      + one combine at t = 3 + one BLS verify);
 *   2. decided settlements per wall second at saturation: settlements submitted as fast as the
 *      cluster decides them, with a bounded number in flight, counted over a fixed window.
 *
 * Run with `pnpm bench:cluster` (it builds first). Options for shorter runs while developing:
 * `--latency K` (settlements in the latency phase), `--window S` (seconds per saturation window),
 * `--in-flight A,B` (in-flight bounds, one saturation window each), `--keep` (keep the cluster
 * directory and its logs). Prints markdown tables.
 *
 * "Both legs locked" is read from the leg host's own event log (GET /admin/events: the asset leg's
 * `lock` and the payment leg's `hold`, stamped when the leg made the change), not from a node: it
 * is the moment the condition became true, whoever noticed it, so the latency includes the nodes'
 * reading of the legs (an HTTP call after their prepare returns, or the next 100 ms poll). The
 * first node log line that signs an observation of both legs locked is reported beside it, so the
 * detection share can be told apart.
 *
 * Clocks: every process runs on this machine and stamps events with Date.now() (the leg host its
 * leg events, the nodes their log lines), so times from different processes compare directly, to
 * the millisecond the stamps carry. The floor's gossip latency uses performance.now() inside this
 * process.
 *
 * The cluster is started and stopped through the CLI (`tandem cluster up` / `down`, the same code
 * as `clusterUp` / `clusterDown`, which @tandem/cli does not export); everything it started is
 * stopped on every exit path, SIGINT and SIGTERM included.
 */
import '@tandem/p2p/polyfill';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { blsSign, blsVerify, combinePartials, dealerKeygen, groupPublicKey, identityKeygen, identitySign, identityVerify } from '@tandem/crypto';
import { P2pTransport, type TandemHost, createTandemHost } from '@tandem/p2p';
import { type ClusterConfig, type Message, type Terms, SIGN_DOMAIN, encodeMessage, encodeTerms, fromHex, networkIdFromName, quorum, settlementId, toHex } from '@tandem/protocol';
import { machineLines, markdownTable, median } from './table.js';

const NODES = 4;
/**
 * Message delays from both legs locked to the first report (docs/protocol.md, "Consensus"):
 * observations (the round's proposer needs f + 1 = 2 signed observations, its own and one
 * received), the proposal, the prevotes and the precommits; the first node holding q precommits
 * combines and verifies. Reading the legs is an HTTP call, not a message delay, and is not in it.
 */
const MESSAGE_DELAYS = 4;
/**
 * Durable writes on that path (consensus/src/instance.ts persists before the effects that follow):
 * the proposer's round start and proposal, a prevote, a precommit, and the decision itself.
 */
const WRITE_AHEAD_ON_PATH = 5;
/** Unreported settlements first: the nodes' JIT and first-use costs (the very first one took round 1). */
const WARMUP_SETTLEMENTS = 3;
const LATENCY_SETTLEMENTS_DEFAULT = 30;
const IN_FLIGHT_DEFAULT = [1, 2, 4, 8] as const;
const WINDOW_MS_DEFAULT = 20_000;
/** Before each counting window the pipeline fills: decisions in the ramp are not counted. */
const RAMP_MS = 3_000;
/** Time for both legs to lock, in the terms: far above any latency here, so no deadline decides. */
const DEADLINE_MS = 30_000;
const REPORT_WINDOW_MS = 30_000;
const MARGIN_MS = 10_000;
/** One settlement, alone on the cluster, must be decided and closed on every node within this. */
const SETTLEMENT_TIMEOUT_MS = 30_000;
/** After a saturation window: time for what is still in flight to be decided and closed. */
const DRAIN_TIMEOUT_MS = 90_000;
const TAIL_POLL_MS = 25;
const READ_BYTES_MAX = 4 * 1024 * 1024;
const CLI_TIMEOUT_MS = 120_000;
const HTTP_TIMEOUT_MS = 10_000;
const EVENT_PAGES_MAX = 10_000;
const EVENTS_PAGE = 1_000;
/** Extra tokens for alice (the demo funding is 1,000 OUSG; every settlement here moves 1). */
const EXTRA_OUSG = 1_000_000;
/** Floor sampling: warm-up rounds before the cluster starts, then one sample after each measured settlement. */
const FLOOR_WARMUP_ROUNDS = 5;
const GOSSIP_PROBES_PER_SAMPLE = 8;
const GOSSIP_GAP_MS = 5;
const GOSSIP_WAIT_MS = 30_000;

const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Nearest-rank percentile (as the simulator's metrics): the smallest sample with ≥ p % at or below it. */
function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new RangeError('percentile of an empty sample');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  readonly latencySettlements: number;
  readonly windowMs: number;
  readonly inFlight: readonly number[];
  readonly keep: boolean;
}

function positiveInt(flag: string, v: string | undefined, max: number): number {
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} ${v ?? ''}: expected an integer from 1 to ${max}`);
  return n;
}

function parseOptions(args: readonly string[]): Options {
  let latencySettlements = LATENCY_SETTLEMENTS_DEFAULT;
  let windowMs = WINDOW_MS_DEFAULT;
  let inFlight: readonly number[] = IN_FLIGHT_DEFAULT;
  let keep = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--latency') latencySettlements = positiveInt(a, args[++i], 1_000);
    else if (a === '--window') windowMs = positiveInt(a, args[++i], 600) * 1_000;
    else if (a === '--in-flight') inFlight = (args[++i] ?? '').split(',').map((x) => positiveInt(a, x, 256));
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown argument ${a} (expected --latency K, --window S, --in-flight A,B, --keep)`);
  }
  return { latencySettlements, windowMs, inFlight, keep };
}

// ---------------------------------------------------------------------------------------------
// The cluster: started and stopped through the CLI

interface ClusterState {
  readonly legHost: { readonly url: string; readonly pid: number };
  readonly nodes: readonly { readonly id: string; readonly pid: number; readonly control: string; readonly log: string }[];
  readonly venues: { readonly chainId: string; readonly escrow: string; readonly bankId: string; readonly ledger: string };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`state.json: ${what} is not a string`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`state.json: ${what} is not an integer`);
  return v;
}

function readClusterState(dir: string): ClusterState {
  const raw: unknown = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
  if (!isRecord(raw) || !isRecord(raw['legHost']) || !Array.isArray(raw['nodes']) || !isRecord(raw['venues'])) throw new Error('state.json: unexpected shape');
  const v = raw['venues'];
  return {
    legHost: { url: str(raw['legHost']['url'], 'legHost.url'), pid: int(raw['legHost']['pid'], 'legHost.pid') },
    nodes: raw['nodes'].map((x: unknown, i) => {
      if (!isRecord(x)) throw new Error(`state.json: nodes[${i}] is not an object`);
      return { id: str(x['id'], `nodes[${i}].id`), pid: int(x['pid'], `nodes[${i}].pid`), control: str(x['control'], `nodes[${i}].control`), log: str(x['log'], `nodes[${i}].log`) };
    }),
    venues: { chainId: str(v['chainId'], 'venues.chainId'), escrow: str(v['escrow'], 'venues.escrow'), bankId: str(v['bankId'], 'venues.bankId'), ledger: str(v['ledger'], 'venues.ledger') },
  };
}

function runCli(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { timeout: CLI_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`tandem ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

/** Synchronous, so it also runs from a signal handler: `cluster down` stops exactly the recorded pids. */
function stopCluster(dir: string): void {
  if (!existsSync(join(dir, 'state.json'))) return;
  const r = spawnSync(process.execPath, [BIN, 'cluster', 'down', '--dir', dir], { timeout: 30_000, encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`bench-cluster: tandem cluster down --dir ${dir} failed (${r.error?.message ?? r.stderr}); stop its pids by hand (see ${dir}/state.json)\n`);
}

async function postJson(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return { status: res.status, text: await res.text() };
}

// ---------------------------------------------------------------------------------------------
// CPU time of the cluster's processes (Linux /proc), to say what a decided settlement costs

/** Clock ticks per second of /proc/PID/stat's utime and stime. */
function clockTicksPerSecond(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number(r.stdout?.trim());
  return Number.isInteger(v) && v > 0 ? v : 100; // 100 on every Linux this runs on
}

const TICKS_PER_S = clockTicksPerSecond();

/** User + system CPU ms of a process so far, or null where /proc is unavailable. */
function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is [0], utime [11], stime [12].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return null;
  }
}

interface CpuSample {
  readonly nodesMs: number | null;
  readonly legHostMs: number | null;
  /** This process (the submitter and log reader) shares the cores too. */
  readonly benchMs: number;
}

function cpuSample(st: ClusterState): CpuSample {
  const nodes = st.nodes.map((n) => processCpuMs(n.pid));
  const u = process.cpuUsage();
  return {
    nodesMs: nodes.every((x) => x !== null) ? nodes.reduce<number>((a, x) => a + x!, 0) : null,
    legHostMs: processCpuMs(st.legHost.pid),
    benchMs: (u.user + u.system) / 1000,
  };
}

/** CPU ms per settlement between two samples, per process group. */
interface CpuPerSettlement {
  readonly nodesMs: number | null;
  readonly legHostMs: number | null;
  readonly benchMs: number;
}

function cpuPer(a: CpuSample, b: CpuSample, settlements: number): CpuPerSettlement {
  const per = (x: number | null, y: number | null) => (x === null || y === null || settlements === 0 ? null : (y - x) / settlements);
  return { nodesMs: per(a.nodesMs, b.nodesMs), legHostMs: per(a.legHostMs, b.legHostMs), benchMs: settlements === 0 ? 0 : (b.benchMs - a.benchMs) / settlements };
}

function cpuText(c: CpuPerSettlement): string {
  const f = (x: number | null) => (x === null ? '?' : x.toFixed(0));
  return `${f(c.nodesMs)} / ${f(c.legHostMs)} / ${f(c.benchMs)}`;
}

// ---------------------------------------------------------------------------------------------
// Intents

interface Intent {
  readonly idHex: string;
  readonly body: string;
}

interface Submission {
  /** Nodes that took the intent (HTTP 202). */
  readonly accepted: number;
  /** Why the others did not: "n2: HTTP 400 …" or "n3: TimeoutError …". */
  readonly problems: readonly string[];
}

interface Submitter {
  make(seq: number): Intent;
  /** Posts to every node at once. Never rejects. */
  submit(intent: Intent): Promise<Submission>;
}

/** An error with its cause (fetch reports "fetch failed" and puts the socket error in `cause`). */
function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause === undefined ? `${e.name} ${e.message}` : `${e.name} ${e.message} (${errorText(e.cause)})`;
}

function makeSubmitter(dir: string, st: ClusterState): Submitter {
  const secrets: unknown = JSON.parse(readFileSync(join(dir, 'parties.secret.json'), 'utf8'));
  if (!isRecord(secrets)) throw new Error('parties.secret.json: unexpected shape');
  const seller = fromHex(str(secrets['alice'], 'alice'), 32);
  const buyer = fromHex(str(secrets['bob'], 'bob'), 32);
  const runTag = toHex(randomBytes(4));
  return {
    make(seq) {
      const terms: Terms = {
        nonce: `bench-${runTag}-${seq}`,
        asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1n },
        payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
        deadlineMs: Date.now() + DEADLINE_MS,
        reportWindowMs: REPORT_WINDOW_MS,
        marginMs: MARGIN_MS,
      };
      const id = settlementId(terms);
      const auth = (party: string, key: Uint8Array) => ({ party, signature: toHex(identitySign(SIGN_DOMAIN.authorization, key, id)) });
      const body = JSON.stringify({ terms: toHex(encodeTerms(terms)), authorizations: { asset: auth('alice', seller), payment: auth('bob', buyer) } });
      return { idHex: toHex(id), body };
    },
    async submit(intent) {
      const answers = await Promise.allSettled(st.nodes.map((n) => postJson(`${n.control}/intents`, intent.body)));
      const problems: string[] = [];
      answers.forEach((a, i) => {
        const node = st.nodes[i]!.id;
        if (a.status === 'rejected') problems.push(`${node}: ${errorText(a.reason)}`);
        else if (a.value.status !== 202) problems.push(`${node}: HTTP ${a.value.status} ${a.value.text.slice(0, 200)}`);
      });
      return { accepted: NODES - problems.length, problems };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Following the nodes' logs (JSON lines, one file per node)

interface Trace {
  /** Earliest `decided` line over all nodes (ms since the epoch), its decision and round. */
  decidedMs: number | null;
  decision: string | null;
  round: number | null;
  /** Earliest signed (non-deadline) observation showing both legs locked. */
  bothLockedObservedMs: number | null;
  /** Round 0: the earliest signed proposal, and when each node signed its prevote / precommit for a value (not nil). */
  readonly round0: { proposalMs: number | null; readonly prevoteMs: number[]; readonly precommitMs: number[] };
  readonly closedBy: Set<string>;
}

class LogTail {
  private readonly traces = new Map<string, Trace>();

  private constructor(private readonly files: { readonly node: string; readonly fh: FileHandle; offset: number; rest: Buffer }[]) {}

  static async open(st: ClusterState): Promise<LogTail> {
    const files = [];
    for (const n of st.nodes) files.push({ node: n.id, fh: await open(n.log, 'r'), offset: 0, rest: Buffer.alloc(0) });
    return new LogTail(files);
  }

  /** Only settlements registered here are traced (the logs hold a 16-hex-digit id prefix). */
  expect(idHex: string): void {
    this.traces.set(idHex.slice(0, 16), { decidedMs: null, decision: null, round: null, bothLockedObservedMs: null, round0: { proposalMs: null, prevoteMs: [], precommitMs: [] }, closedBy: new Set() });
  }

  trace(idHex: string): Trace {
    const t = this.traces.get(idHex.slice(0, 16));
    if (t === undefined) throw new Error(`settlement ${idHex} was never registered`);
    return t;
  }

  async poll(): Promise<void> {
    for (const f of this.files) {
      const size = (await f.fh.stat()).size;
      if (size <= f.offset) continue;
      const buf = Buffer.alloc(Math.min(size - f.offset, READ_BYTES_MAX));
      const { bytesRead } = await f.fh.read(buf, 0, buf.length, f.offset);
      f.offset += bytesRead;
      const text = Buffer.concat([f.rest, buf.subarray(0, bytesRead)]);
      const end = text.lastIndexOf(0x0a);
      f.rest = Buffer.from(text.subarray(end + 1)); // a partial last line waits for its end
      if (end >= 0) for (const line of text.subarray(0, end).toString('utf8').split('\n')) this.take(f.node, line);
    }
  }

  async close(): Promise<void> {
    for (const f of this.files) await f.fh.close();
  }

  private take(node: string, line: string): void {
    if (line.length === 0 || line[0] !== '{') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      return; // not one of the node's JSON lines (e.g. a stack trace)
    }
    if (!isRecord(e) || typeof e['settlement'] !== 'string' || typeof e['t'] !== 'string') return;
    const tr = this.traces.get(e['settlement']);
    if (tr === undefined) return;
    const atMs = Date.parse(e['t']);
    if (e['event'] === 'decided' && (tr.decidedMs === null || atMs < tr.decidedMs)) {
      tr.decidedMs = atMs;
      tr.decision = typeof e['decision'] === 'string' ? e['decision'] : null;
      tr.round = typeof e['round'] === 'number' ? e['round'] : null;
    } else if (e['event'] === 'signed' && e['kind'] === 'obs' && e['deadline'] === false && e['asset'] === 'locked' && e['payment'] === 'locked') {
      if (tr.bothLockedObservedMs === null || atMs < tr.bothLockedObservedMs) tr.bothLockedObservedMs = atMs;
    } else if (e['event'] === 'signed' && e['round'] === 0 && e['value'] !== null) {
      // A node logs `signed` once per message it signs (resends are not re-signed), so one line per node and step.
      if (e['kind'] === 'proposal' && (tr.round0.proposalMs === null || atMs < tr.round0.proposalMs)) tr.round0.proposalMs = atMs;
      else if (e['kind'] === 'prevote') tr.round0.prevoteMs.push(atMs);
      else if (e['kind'] === 'precommit') tr.round0.precommitMs.push(atMs);
    } else if (e['event'] === 'closed') {
      tr.closedBy.add(node);
    }
  }
}

async function waitUntil(what: string, timeoutMs: number, tail: LogTail, done: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await tail.poll();
    if (done()) return;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(TAIL_POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// The leg host's event log: when each leg locked

/** Settlement id (hex) → leg time (ms) of its `kind` event on `leg`. */
async function legEventTimes(legUrl: string, leg: 'asset' | 'payment', kind: 'lock' | 'hold'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let since = 0;
  for (let page = 0; page < EVENT_PAGES_MAX; page++) {
    const res = await fetch(`${legUrl}/admin/events?leg=${leg}&since=${since}&limit=${EVENTS_PAGE}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`${legUrl}/admin/events: HTTP ${res.status}`);
    const body: unknown = await res.json();
    if (!isRecord(body) || !Array.isArray(body['events']) || typeof body['height'] !== 'number') throw new Error('/admin/events: unexpected shape');
    for (const e of body['events'] as unknown[]) {
      if (!isRecord(e) || typeof e['seq'] !== 'number' || typeof e['atMs'] !== 'number') throw new Error('/admin/events: unexpected event');
      since = e['seq'];
      if (e['kind'] === kind && typeof e['settlementIdHex'] === 'string' && !out.has(e['settlementIdHex'])) out.set(e['settlementIdHex'], e['atMs']);
    }
    if (body['events'].length === 0 || since >= body['height']) return out;
  }
  throw new Error(`/admin/events: more than ${EVENT_PAGES_MAX} pages`);
}

/** Settlement id (hex) → when both legs were locked: the later of the asset lock and the payment hold. */
async function bothLockedTimes(legUrl: string): Promise<Map<string, number>> {
  const [asset, payment] = await Promise.all([legEventTimes(legUrl, 'asset', 'lock'), legEventTimes(legUrl, 'payment', 'hold')]);
  const out = new Map<string, number>();
  for (const [id, a] of asset) {
    const p = payment.get(id);
    if (p !== undefined) out.set(id, Math.max(a, p));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Phase 1: latency, one settlement at a time

interface Timed {
  readonly idHex: string;
  readonly submittedMs: number;
}

interface LatencyResult {
  readonly k: number;
  readonly fromLocked: number[];
  readonly fromObserved: number[];
  readonly fromSubmit: number[];
  /** Settlements not decided in round 0 (a timeout on the path). */
  readonly laterRounds: number;
  /** Where the time goes, per settlement decided in round 0: consecutive stretches between first events. */
  readonly segments: { readonly name: string; readonly ms: number[] }[];
  /** CPU per settlement over the K measured ones, each from intent to closed on every node. */
  readonly cpu: CpuPerSettlement;
}

/** Submits one settlement and waits until it is decided and closed on every node. */
async function settleAlone(sub: Submitter, tail: LogTail, seq: number): Promise<Timed> {
  const intent = sub.make(seq);
  tail.expect(intent.idHex);
  const submittedMs = Date.now();
  const { accepted, problems } = await sub.submit(intent);
  if (accepted !== NODES) throw new Error(`settlement ${seq}: only ${accepted} of ${NODES} nodes took the intent (${problems.join('; ')})`);
  const tr = tail.trace(intent.idHex);
  await waitUntil(`settlement ${seq} to be decided and closed on every node`, SETTLEMENT_TIMEOUT_MS, tail, () => tr.decidedMs !== null && tr.closedBy.size === NODES);
  if (tr.decision !== 'COMMIT') throw new Error(`settlement ${seq} decided ${tr.decision}: the benchmark would measure a broken path`);
  return { idHex: intent.idHex, submittedMs };
}

/**
 * The stretches between consecutive marks of a settlement decided in round 0 (each mark read from
 * the nodes' `signed` lines: the first observation and proposal, and the moment the q-th node
 * signed its prevote / precommit, i.e. when a quorum of them existed), and what each holds.
 */
const SEGMENTS = [
  { name: 'both legs locked → first observation of both locked', holds: "a node's prepare answer, its read of both legs (HTTP), observation signed" },
  { name: '→ proposal (round 0)', holds: '1 message delay (the proposer needs f + 1 = 2 observations), round start persisted, proposal signed and persisted' },
  { name: '→ q-th prevote signed', holds: '1 message delay (the proposal), proposal and its evidence verified, prevote signed and persisted' },
  { name: '→ q-th precommit signed', holds: '1 message delay (q prevotes), partial signed, precommit persisted' },
  { name: '→ first report', holds: '1 message delay (q precommits), combine and verify, decision persisted' },
] as const;

/**
 * `between` runs after each measured settlement, with the cluster idle (the floor's sampling); the
 * CPU it costs this process is left out of the per-settlement CPU.
 */
async function latencyPhase(st: ClusterState, sub: Submitter, tail: LogTail, k: number, seq0: number, between: () => Promise<void>): Promise<LatencyResult> {
  for (let i = 0; i < WARMUP_SETTLEMENTS; i++) await settleAlone(sub, tail, seq0 + i);
  const runs: Timed[] = [];
  const cpu0 = cpuSample(st);
  let betweenCpuMs = 0;
  for (let i = 0; i < k; i++) {
    runs.push(await settleAlone(sub, tail, seq0 + WARMUP_SETTLEMENTS + i));
    const u0 = process.cpuUsage();
    await between();
    const u = process.cpuUsage(u0);
    betweenCpuMs += (u.user + u.system) / 1000;
  }
  const cpu1 = cpuSample(st);
  const cpu = cpuPer(cpu0, { ...cpu1, benchMs: cpu1.benchMs - betweenCpuMs }, k);
  const locked = await bothLockedTimes(st.legHost.url);
  const segments = SEGMENTS.map((x) => ({ name: x.name, ms: [] as number[] }));
  const out = { k, fromLocked: [] as number[], fromObserved: [] as number[], fromSubmit: [] as number[], laterRounds: 0, segments, cpu };
  const q = quorum(NODES);
  const qth = (xs: readonly number[]) => (xs.length >= q ? [...xs].sort((a, b) => a - b)[q - 1]! : null);
  for (const r of runs) {
    const tr = tail.trace(r.idHex);
    const lockedMs = locked.get(r.idHex);
    if (lockedMs === undefined || tr.decidedMs === null || tr.bothLockedObservedMs === null) throw new Error(`settlement ${r.idHex}: a lock event, decision or observation is missing`);
    out.fromLocked.push(tr.decidedMs - lockedMs);
    out.fromObserved.push(tr.decidedMs - tr.bothLockedObservedMs);
    out.fromSubmit.push(tr.decidedMs - r.submittedMs);
    if (tr.round !== 0) out.laterRounds++;
    const marks = [lockedMs, tr.bothLockedObservedMs, tr.round0.proposalMs, qth(tr.round0.prevoteMs), qth(tr.round0.precommitMs), tr.decidedMs];
    if (tr.round === 0 && marks.every((m) => m !== null)) {
      SEGMENTS.forEach((_, j) => segments[j]!.ms.push(marks[j + 1]! - marks[j]!));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Phase 2: saturation

interface SaturationResult {
  readonly inFlightMax: number;
  readonly submitted: number;
  readonly decidedInWindow: number;
  readonly perSecond: number;
  /** Mean of the in-flight count (submitted, not yet decided) at each poll in the window, before the refill. */
  readonly inFlightMean: number;
  /** Most settlements decided but not yet closed on every node at once (delivery backlog). */
  readonly closingMax: number;
  readonly commits: number;
  readonly aborts: number;
  readonly undecided: number;
  readonly notClosed: number;
  readonly refused: number;
  readonly latencyFromLocked: number[];
  /** Decided in the window but not in round 0. */
  readonly laterRounds: number;
  /** CPU over the window per settlement decided in it. */
  readonly cpu: CpuPerSettlement;
}

async function saturationPhase(st: ClusterState, sub: Submitter, tail: LogTail, inFlightMax: number, windowMs: number, seq0: number): Promise<SaturationResult> {
  const started: Timed[] = [];
  const pending = new Set<string>(); // submitted, not yet decided
  const closing = new Set<string>(); // decided, not yet closed on every node
  const submissions: Promise<Submission>[] = [];
  let closingMax = 0;
  const inFlightSamples: number[] = [];
  const t0 = Date.now();
  const windowStart = t0 + RAMP_MS;
  const windowEnd = windowStart + windowMs;
  const settle = () => {
    for (const id of pending) {
      if (tail.trace(id).decidedMs !== null) {
        pending.delete(id);
        closing.add(id);
      }
    }
    for (const id of closing) if (tail.trace(id).closedBy.size === NODES) closing.delete(id);
    closingMax = Math.max(closingMax, closing.size);
  };
  let cpuStart: CpuSample | null = null;
  while (Date.now() < windowEnd) {
    await tail.poll();
    settle();
    if (cpuStart === null && Date.now() >= windowStart) cpuStart = cpuSample(st);
    // Sampled before the refill: how many were still undecided when this poll came round.
    if (Date.now() >= windowStart) inFlightSamples.push(pending.size);
    // Not awaited: a settlement is in flight from the moment its intent is posted.
    while (pending.size < inFlightMax) {
      const intent = sub.make(seq0 + started.length);
      tail.expect(intent.idHex);
      pending.add(intent.idHex);
      started.push({ idHex: intent.idHex, submittedMs: Date.now() });
      submissions.push(sub.submit(intent));
    }
    await sleep(TAIL_POLL_MS);
  }
  const cpuEnd = cpuSample(st);
  const accepted = await Promise.all(submissions);
  // The table counts refusals; their reasons go to stderr (each distinct one once, a few at most).
  const reasons = [...new Set(accepted.flatMap((a) => a.problems.map((p) => p.replace(/^n\d+: /, ''))))];
  for (const r of reasons.slice(0, 5)) process.stderr.write(`bench-cluster: an intent was refused: ${r}\n`);
  const drainUntil = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < drainUntil && (pending.size > 0 || closing.size > 0)) {
    await tail.poll();
    settle();
    await sleep(TAIL_POLL_MS);
  }
  const locked = await bothLockedTimes(st.legHost.url);
  let decidedInWindow = 0;
  let commits = 0;
  let aborts = 0;
  let laterRounds = 0;
  const latencyFromLocked: number[] = [];
  for (const r of started) {
    const tr = tail.trace(r.idHex);
    if (tr.decision === 'COMMIT') commits++;
    else if (tr.decision === 'ABORT') aborts++;
    if (tr.decidedMs !== null && tr.decidedMs >= windowStart && tr.decidedMs < windowEnd) {
      decidedInWindow++;
      if (tr.round !== 0) laterRounds++;
      const lockedMs = locked.get(r.idHex);
      if (lockedMs !== undefined) latencyFromLocked.push(tr.decidedMs - lockedMs);
    }
  }
  return {
    inFlightMax,
    submitted: started.length,
    decidedInWindow,
    perSecond: decidedInWindow / (windowMs / 1000),
    inFlightMean: inFlightSamples.length > 0 ? inFlightSamples.reduce((s, x) => s + x, 0) / inFlightSamples.length : 0,
    closingMax,
    commits,
    aborts,
    undecided: pending.size,
    notClosed: closing.size,
    refused: accepted.filter((a) => a.accepted !== NODES).length,
    latencyFromLocked,
    laterRounds,
    cpu: cpuPer(cpuStart ?? cpuEnd, cpuEnd, decidedInWindow),
  };
}

// ---------------------------------------------------------------------------------------------
// The floor, measured in this process between the latency phase's settlements

interface Floor {
  readonly gossipMs: number;
  readonly gossipSamples: number;
  readonly partialSignMs: number;
  readonly combineMs: number;
  readonly verifyMs: number;
  readonly cryptoSamples: number;
  readonly ed25519SignMs: number;
  readonly ed25519VerifyMs: number;
  readonly writeAheadMs: number;
  readonly totalMs: number;
}

/** A 32-byte message, like the report digest a precommit's partial signs; varied per call. */
function digestOf(i: number): Uint8Array {
  const d = new Uint8Array(32);
  new DataView(d.buffer).setUint32(0, i);
  return d;
}

const rb = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function probe(seq: number): Message {
  return {
    kind: 'terms',
    terms: {
      nonce: `probe-${seq}`,
      asset: { chainId: 1n, escrow: new Uint8Array(20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1n },
      payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n },
      deadlineMs: 1_000,
      reportWindowMs: 1_000,
      marginMs: 1_000,
    },
  };
}

function timedMs(run: () => unknown): number {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const limit = performance.now() + GOSSIP_WAIT_MS;
  while (!cond()) {
    if (performance.now() > limit) throw new Error(`floor: timed out waiting for ${what}`);
    await sleep(1);
  }
}

/**
 * The floor's parts, sampled a little at a time: `sample()` runs between two settlements of the
 * latency phase (the cluster idle), so on a shared machine the floor sees the same load, over the
 * same minutes, as the latencies it is compared with.
 *
 * Gossip one-way latency: two libp2p hosts of a 2-member cluster in this process (as the p2p
 * package's tests and benchmark run them); host 1 broadcasts probes a few ms apart, host 2 notes
 * their arrival; one process, one clock. Crypto: one BLS partial sign (a fresh digest each time),
 * one combine of t = 3 partials, one verification of the combined signature, per sample.
 */
class FloorSampler {
  private readonly gossip: number[] = [];
  private readonly sign: number[] = [];
  private readonly combine: number[] = [];
  private readonly verify: number[] = [];
  private readonly edSign: number[] = [];
  private readonly edVerify: number[] = [];
  private readonly writeAhead: number[] = [];
  private readonly sentAt = new Map<number, number>();
  private seq = 0;
  private samples = 0;
  private stopped = false;
  /** Latencies of the probes in flight; moved to `gossip` once a sample's probes all arrived. */
  private arrived: number[] = [];

  private constructor(
    /** Where the write-ahead timing writes its file (removed on stop). */
    private readonly scratchDir: string,
    private readonly hosts: readonly TandemHost[],
    private readonly transports: readonly P2pTransport[],
    private readonly crypto: {
      readonly shareSecret: Uint8Array;
      readonly partials: readonly { readonly index: number; readonly signature: Uint8Array }[];
      readonly groupKey: Uint8Array;
      readonly combined: Uint8Array;
      readonly identity: { readonly secretKey: Uint8Array; readonly publicKey: Uint8Array };
      readonly idSig: Uint8Array;
    },
  ) {
    transports[1]!.onMessage((_from, m) => {
      const t0 = m.kind === 'terms' ? this.sentAt.get(Number(m.terms.nonce.slice('probe-'.length))) : undefined;
      if (t0 !== undefined) this.arrived.push(performance.now() - t0);
    });
  }

  /** Starts and connects the two hosts, then warms up (probes and crypto, not recorded). */
  static async start(): Promise<FloorSampler> {
    const n = 2;
    const ids = Array.from({ length: n }, () => identityKeygen(rb));
    const config: ClusterConfig = {
      networkId: networkIdFromName(`bench-cluster-floor-${toHex(rb(4))}`),
      n,
      t: quorum(n),
      members: ids.map((id, k) => ({ index: k + 1, id: `n${k + 1}`, identityKey: id.publicKey })),
      commitments: dealerKeygen(n, quorum(n), rb).commitments,
    };
    const hosts: TandemHost[] = [];
    const transports: P2pTransport[] = [];
    const connected = new Set<number>();
    try {
      for (const self of [1, 2]) {
        const host = await createTandemHost({
          cluster: config,
          self,
          identitySecretKey: ids[self - 1]!.secretKey,
          listen: ['/ip4/127.0.0.1/tcp/0'],
          peers: hosts.map((h) => ({ index: h.self, multiaddrs: h.multiaddrs() })),
        });
        hosts.push(host);
        const transport = new P2pTransport(host);
        transports.push(transport);
        if (self === 1) transport.onPeerConnected((i) => connected.add(i));
        await transport.start();
      }
      await until('the two floor hosts to connect', () => connected.has(2));
    } catch (e) {
      await stopAll(hosts, transports);
      throw e;
    }
    const t = quorum(NODES);
    const dealt = dealerKeygen(NODES, t, rb);
    const groupKey = groupPublicKey(dealt.commitments);
    const partials = dealt.shares.slice(0, t).map((sh) => ({ index: sh.index, signature: blsSign(sh.secret, digestOf(0)) }));
    const combined = combinePartials(partials);
    const identity = identityKeygen(rb);
    const sampler = new FloorSampler(mkdtempSync(join(tmpdir(), 'tandem-bench-floor-')), hosts, transports, {
      shareSecret: dealt.shares[0]!.secret,
      partials,
      groupKey,
      combined,
      identity,
      idSig: identitySign(SIGN_DOMAIN.vote, identity.secretKey, digestOf(0)),
    });
    try {
      if (!blsVerify(groupKey, digestOf(0), combined)) throw new Error('floor: the combined signature does not verify: the floor would measure a broken path');
      for (let i = 0; i < FLOOR_WARMUP_ROUNDS; i++) await sampler.round();
      sampler.clear();
    } catch (e) {
      await sampler.stop();
      throw e;
    }
    return sampler;
  }

  /** One sample of every part of the floor. */
  async sample(): Promise<void> {
    await this.round();
    this.samples++;
  }

  result(): Floor {
    if (this.samples === 0) throw new Error('floor: no samples');
    const gossipMs = median(this.gossip);
    const partialSignMs = median(this.sign);
    const combineMs = median(this.combine);
    const verifyMs = median(this.verify);
    return {
      gossipMs,
      gossipSamples: this.gossip.length,
      partialSignMs,
      combineMs,
      verifyMs,
      cryptoSamples: this.samples,
      ed25519SignMs: median(this.edSign),
      ed25519VerifyMs: median(this.edVerify),
      writeAheadMs: median(this.writeAhead),
      totalMs: MESSAGE_DELAYS * gossipMs + partialSignMs + combineMs + verifyMs,
    };
  }

  /** Idempotent: called once the latency phase is over and again on every exit path. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    rmSync(this.scratchDir, { recursive: true, force: true });
    await stopAll(this.hosts, this.transports);
  }

  private async round(): Promise<void> {
    this.arrived = [];
    for (let k = 0; k < GOSSIP_PROBES_PER_SAMPLE; k++) {
      const seq = this.seq++;
      this.sentAt.set(seq, performance.now());
      this.transports[0]!.broadcast(probe(seq));
      await sleep(GOSSIP_GAP_MS);
    }
    await until('the floor probes', () => this.arrived.length === GOSSIP_PROBES_PER_SAMPLE);
    this.gossip.push(...this.arrived);
    this.sentAt.clear();
    const c = this.crypto;
    const i = this.seq; // a digest not signed before
    this.sign.push(timedMs(() => blsSign(c.shareSecret, digestOf(i))));
    this.combine.push(timedMs(() => combinePartials(c.partials)));
    this.verify.push(timedMs(() => blsVerify(c.groupKey, digestOf(0), c.combined)));
    this.edSign.push(timedMs(() => identitySign(SIGN_DOMAIN.vote, c.identity.secretKey, digestOf(i))));
    this.edVerify.push(timedMs(() => identityVerify(SIGN_DOMAIN.vote, c.identity.publicKey, digestOf(0), c.idSig)));
    this.writeAhead.push(timedMs(() => durablePut(this.scratchDir, WRITE_AHEAD_RECORD)));
  }

  private clear(): void {
    for (const xs of [this.gossip, this.sign, this.combine, this.verify, this.edSign, this.edVerify, this.writeAhead]) xs.length = 0;
  }
}

/** About the size of a node's persisted settlement record (terms, instance state, own messages). */
const WRITE_AHEAD_RECORD = JSON.stringify({ record: 'x'.repeat(1_500) });

/**
 * One durable replace, the way a node persists a settlement before sending a vote (the daemon's
 * FileStorage): write a temp file, fsync it, rename it over the old one, fsync the directory.
 */
function durablePut(dir: string, text: string): void {
  const path = join(dir, 'record.json');
  const fd = openSync(`${path}.tmp`, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

async function stopAll(hosts: readonly TandemHost[], transports: readonly P2pTransport[]): Promise<void> {
  for (const t of transports) await t.stop();
  for (const h of hosts) await h.stop();
}

// ---------------------------------------------------------------------------------------------
// Output

const fmt = (ms: number, digits = 0) => ms.toFixed(digits);

function render(opts: Options, floor: Floor, lat: LatencyResult, sat: readonly SaturationResult[], machine: readonly string[]): string {
  const p50 = percentile(lat.fromLocked, 50);
  // The floor counts from both legs locked; against the intent (which adds the prepares) it means nothing.
  const latencyRow = (what: string, xs: readonly number[], againstFloor: boolean) => [
    what,
    String(xs.length),
    fmt(percentile(xs, 50)),
    fmt(percentile(xs, 99)),
    fmt(Math.min(...xs)),
    againstFloor ? (percentile(xs, 50) / floor.totalMs).toFixed(1) : '–',
  ];
  const peak = sat.reduce<SaturationResult | null>((best, r) => (best === null || r.perSecond > best.perSecond ? r : best), null);
  return [
    `# Tandem cluster benchmark (${NODES} nodes, loopback, in-memory legs)`,
    '',
    ...machine,
    `method: one cluster (tandem cluster up --legs memory); ${WARMUP_SETTLEMENTS} unreported warm-up settlements, then K = ${lat.k} one at a time, each decided and closed on every node before the next; every settlement moves 1 OUSG against 1 USD; times from the leg host's lock/hold events and the nodes' log lines (one machine clock, ms stamps); the floor is sampled in this process after each of the K settlements, with the cluster idle  `,
    '',
    ...markdownTable(
      [
        { header: 'latency (one settlement at a time)', align: 'left' },
        { header: 'settlements', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'min ms', align: 'right' },
        { header: 'p50 / floor', align: 'right' },
      ],
      [
        latencyRow('both legs locked → first report (decided)', lat.fromLocked, true),
        latencyRow('first observation of both locked → first report', lat.fromObserved, true),
        latencyRow('intent posted → first report', lat.fromSubmit, false),
      ],
    ),
    '',
    `decided in a round after 0: ${lat.laterRounds} of ${lat.k}; ratio of the headline p50 to the floor: ${(p50 / floor.totalMs).toFixed(1)}  `,
    `CPU ms per settlement, intent to closed on every node (4 nodes / leg host / this process): ${cpuText(lat.cpu)}  `,
    '',
    ...markdownTable(
      [
        { header: `where the time goes (${lat.segments[0]!.ms.length} settlements decided in round 0; medians do not add up exactly)`, align: 'left' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'what the stretch holds', align: 'left' },
      ],
      lat.segments.map((x, j) => [x.name, x.ms.length > 0 ? fmt(percentile(x.ms, 50)) : '–', x.ms.length > 0 ? fmt(percentile(x.ms, 99)) : '–', SEGMENTS[j]!.holds]),
    ),
    '',
    ...markdownTable(
      [
        { header: `floor component (this process, ${floor.cryptoSamples} samples between settlements)`, align: 'left' },
        { header: 'ms (median)', align: 'right' },
        { header: 'in floor', align: 'right' },
      ],
      [
        [`gossip one-way latency, 2 libp2p hosts (${floor.gossipSamples} probes, ${encodeMessage(probe(0)).length} B each)`, fmt(floor.gossipMs, 2), `× ${MESSAGE_DELAYS} = ${fmt(MESSAGE_DELAYS * floor.gossipMs, 2)}`],
        ['BLS partial sign (32-byte digest)', fmt(floor.partialSignMs, 2), fmt(floor.partialSignMs, 2)],
        [`combine t = ${quorum(NODES)}`, fmt(floor.combineMs, 2), fmt(floor.combineMs, 2)],
        ['BLS verify of the combined signature', fmt(floor.verifyMs, 2), fmt(floor.verifyMs, 2)],
        ['**floor**', '', `**${fmt(floor.totalMs, 2)}**`],
        ['Ed25519 sign (each observation, proposal, vote; not in floor)', fmt(floor.ed25519SignMs, 2), '–'],
        ['Ed25519 verify (each message received; not in floor)', fmt(floor.ed25519VerifyMs, 2), '–'],
        [`write-ahead put, fsync'd (round start, proposal, votes, decision: ${WRITE_AHEAD_ON_PATH} on the path; not in floor)`, fmt(floor.writeAheadMs, 2), '–'],
      ],
    ),
    '',
    `saturation: per row, intents posted to all ${NODES} nodes whenever fewer than the bound are undecided; decisions counted over a ${opts.windowMs / 1000} s window after a ${RAMP_MS / 1000} s ramp; then a drain of up to ${DRAIN_TIMEOUT_MS / 1000} s  `,
    '',
    ...markdownTable(
      [
        { header: 'in-flight bound', align: 'right' },
        { header: 'mean in flight', align: 'right' },
        { header: 'submitted', align: 'right' },
        { header: 'decided in window', align: 'right' },
        { header: 'decided / wall s', align: 'right' },
        { header: 'latency p50 / p99 ms (locked → report)', align: 'right' },
        { header: 'decided after round 0', align: 'right' },
        { header: 'CPU ms / decided (4 nodes / leg host / this process)', align: 'right' },
        { header: 'most decided, not yet closed', align: 'right' },
        { header: 'commit / abort / undecided', align: 'right' },
        { header: 'not closed after drain', align: 'right' },
        { header: 'intents refused', align: 'right' },
      ],
      sat.map((r) => [
        String(r.inFlightMax),
        r.inFlightMean.toFixed(1),
        String(r.submitted),
        String(r.decidedInWindow),
        r.perSecond.toFixed(2),
        r.latencyFromLocked.length > 0 ? `${fmt(percentile(r.latencyFromLocked, 50))} / ${fmt(percentile(r.latencyFromLocked, 99))}` : '–',
        String(r.laterRounds),
        cpuText(r.cpu),
        String(r.closingMax),
        `${r.commits} / ${r.aborts} / ${r.undecided}`,
        String(r.notClosed),
        String(r.refused),
      ]),
    ),
    '',
    peak === null ? '' : `peak: ${peak.perSecond.toFixed(2)} decided settlements / wall s with at most ${peak.inFlightMax} in flight  `,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build`);
  const sampler = await FloorSampler.start();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-cluster-'));
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`bench-cluster: ${sig}: stopping the cluster\n`);
    stopCluster(dir);
    process.stderr.write(`bench-cluster: cluster stopped; its directory and logs are kept in ${dir}\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  try {
    process.stderr.write(`bench-cluster: starting a ${NODES}-node cluster in ${dir}\n`);
    await runCli(['cluster', 'up', '--dir', dir, '--nodes', String(NODES), '--legs', 'memory']);
    const st = readClusterState(dir);
    if (st.nodes.length !== NODES) throw new Error(`expected ${NODES} nodes, state.json has ${st.nodes.length}`);
    const minted = await postJson(`${st.legHost.url}/admin/mint`, JSON.stringify({ leg: 'asset', account: 'alice', unit: 'OUSG', amount: String(EXTRA_OUSG) }));
    if (minted.status !== 200) throw new Error(`minting OUSG for alice: HTTP ${minted.status} ${minted.text}`);
    const sub = makeSubmitter(dir, st);
    const tail = await LogTail.open(st);
    try {
      process.stderr.write(`bench-cluster: latency phase (${WARMUP_SETTLEMENTS} + ${opts.latencySettlements} settlements)\n`);
      const lat = await latencyPhase(st, sub, tail, opts.latencySettlements, 0, () => sampler.sample());
      const floor = sampler.result();
      process.stderr.write(`bench-cluster: latency p50 ${percentile(lat.fromLocked, 50)} ms, floor ${floor.totalMs.toFixed(1)} ms\n`);
      await sampler.stop(); // its hosts stay quiet, but the saturation phase needs nothing of them
      let seq = WARMUP_SETTLEMENTS + opts.latencySettlements;
      const sat: SaturationResult[] = [];
      for (const m of opts.inFlight) {
        process.stderr.write(`bench-cluster: saturation, at most ${m} in flight\n`);
        const r = await saturationPhase(st, sub, tail, m, opts.windowMs, seq);
        seq += r.submitted;
        sat.push(r);
      }
      // Machine lines last: the load average then covers the run.
      process.stdout.write(render(opts, floor, lat, sat, machineLines()));
      ok = true;
    } finally {
      await tail.close();
    }
  } finally {
    stopCluster(dir);
    await sampler.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`bench-cluster: cluster directory and logs kept in ${dir}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-cluster: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
