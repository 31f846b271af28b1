/**
 * A small deterministic test harness for the consensus instance: a cluster made with the real
 * dealer and real Ed25519 identities, a Verifier and Signers that call the crypto package directly,
 * helpers to build leg views and to forge messages as any member (Byzantine behaviour), and a
 * hand-routable network of instances with a virtual clock for timeouts.
 *
 * Nothing here reads a clock or Math.random: the same test produces the same bytes every run.
 */
import {
  TANDEM_BLS_DST,
  type RandomBytes,
  blsSign,
  blsVerify,
  combineVerified,
  dealerKeygen,
  identityKeygen,
  identitySign,
  identityVerify,
} from '@tandem/crypto';
import {
  type ClusterConfig,
  type Decision,
  type LegName,
  type LegState,
  type LegView,
  type Message,
  type Report,
  type ReportBody,
  type SignedObservation,
  type SignedProposal,
  type SignedVote,
  type Terms,
  type VoteStep,
  type VoteValue,
  encodeVoteBody,
  equalBytes,
  expectedLock,
  faultsTolerated,
  networkIdFromName,
  quorum,
  reportDigest,
  settlementId,
  toHex,
  validUntilMs,
} from '@tandem/protocol';
import {
  type ConsensusParams,
  DEFAULT_PARAMS,
  type Effect,
  type Input,
  type NodeContext,
  type PersistedSettlement,
  type Signer,
  type Step,
  type Verifier,
  SettlementInstance,
  makeContext,
  proposerOf,
  signObservation,
  signProposal,
  signVote,
} from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** A 32-bit integer mixer (the finaliser of MurmurHash3): spreads a counter over all bits. */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Counter-based byte source: word k is mix32(seed·φ + k). Not cryptographic — test keys only —
 * but deterministic, so every test run deals the same keys.
 */
export function counterRandomBytes(seed: number): RandomBytes {
  let counter = 0;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const w = mix32(Math.imul(seed, 0x9e37_79b9) + counter++);
      for (let b = 0; b < 4 && i + b < n; b++) out[i + b] = (w >>> (8 * b)) & 0xff;
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Crypto wiring

/** The Verifier contract implemented with direct crypto calls (no memo). */
export const directVerifier: Verifier = {
  identity: (domain, publicKey, message, signature) => identityVerify(domain, publicKey, message, signature),
  bls: (publicKey, message, signature) => blsVerify(publicKey, message, signature, TANDEM_BLS_DST),
  combine: (commitments, message, partials, t) => combineVerified(commitments, message, partials, t, TANDEM_BLS_DST),
};

/** Bound on memoized results; past it the memo starts over (results stay correct, only slower). */
const MEMO_ENTRIES_MAX = 100_000;

/**
 * The direct verifier behind a memo keyed by the exact inputs. The checks are pure, so this
 * changes no outcome, only the wall time: the property test, which replays many runs over the
 * same keys and mostly the same signed bytes, uses it to stay within its time budget.
 */
export function memoVerifier(inner: Verifier = directVerifier): Verifier {
  const memo = new Map<string, unknown>();
  function remember<T>(key: string, compute: () => T): T {
    if (memo.has(key)) return memo.get(key) as T;
    if (memo.size >= MEMO_ENTRIES_MAX) memo.clear();
    const v = compute();
    memo.set(key, v);
    return v;
  }
  return {
    identity: (domain, pk, msg, sig) => remember(`id|${domain}|${toHex(pk)}|${toHex(msg)}|${toHex(sig)}`, () => inner.identity(domain, pk, msg, sig)),
    bls: (pk, msg, sig) => remember(`bls|${toHex(pk)}|${toHex(msg)}|${toHex(sig)}`, () => inner.bls(pk, msg, sig)),
    combine: (commitments, msg, partials, t) =>
      remember(`combine|${t}|${commitments.map(toHex).join(',')}|${toHex(msg)}|${partials.map((p) => `${p.index}:${toHex(p.signature)}`).join(',')}`, () =>
        inner.combine(commitments, msg, partials, t),
      ),
  };
}

export interface MemberKeys {
  readonly index: number;
  readonly identitySecret: Uint8Array;
  readonly shareSecret: Uint8Array;
}

export function signerFor(keys: MemberKeys): Signer {
  return {
    sign: (domain, message) => identitySign(domain, keys.identitySecret, message),
    partialSign: (message) => blsSign(keys.shareSecret, message),
  };
}

// ---------------------------------------------------------------------------------------------
// Cluster fixture

export interface Fixture {
  readonly n: number;
  readonly f: number;
  readonly q: number;
  readonly cluster: ClusterConfig;
  readonly keys: readonly MemberKeys[]; // keys[m - 1] for member m
  readonly terms: Terms;
  readonly sid: Uint8Array;
  readonly groupKey: Uint8Array;
  readonly params: ConsensusParams;
  /** Member indices 1..n. */
  readonly members: readonly number[];
  ctx(member: number): NodeContext;
  keysOf(member: number): MemberKeys;
  /** The proposer of round r of this settlement. */
  proposer(round: number): number;
}

interface DealtCluster {
  readonly cluster: ClusterConfig;
  readonly keys: readonly MemberKeys[];
}

/** Dealing costs t G2 multiplications: deal once per (n, seed) and share across tests. */
const dealt = new Map<string, DealtCluster>();

function dealCluster(n: number, seed: number): DealtCluster {
  const cacheKey = `${n}:${seed}`;
  const hit = dealt.get(cacheKey);
  if (hit !== undefined) return hit;
  const rb = counterRandomBytes(seed);
  const t = quorum(n);
  const { commitments, shares } = dealerKeygen(n, t, rb);
  const identities = shares.map(() => identityKeygen(rb));
  const cluster: ClusterConfig = {
    networkId: networkIdFromName('tandem-consensus-test'),
    n,
    t,
    members: identities.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
    commitments,
  };
  const keys = shares.map((s, i) => ({ index: s.index, identitySecret: identities[i]!.secretKey, shareSecret: s.secret }));
  const out = { cluster, keys };
  dealt.set(cacheKey, out);
  return out;
}

export function makeTerms(nonce = 'settlement-1'): Terms {
  return {
    nonce,
    asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(0xe5), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 1_000n },
    payment: { bankId: 'bank-1', ledger: 'usd-deposits', payer: 'bob', payee: 'alice', currency: 'USD', amount: 105_000_00n },
    deadlineMs: 60_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

export interface FixtureOptions {
  readonly n?: number;
  readonly seed?: number;
  readonly nonce?: string;
  readonly params?: ConsensusParams;
  readonly verifier?: Verifier;
}

export function makeFixture(opts: FixtureOptions = {}): Fixture {
  const n = opts.n ?? 4;
  const { cluster, keys } = dealCluster(n, opts.seed ?? 1);
  const terms = makeTerms(opts.nonce);
  const sid = settlementId(terms);
  const params = opts.params ?? DEFAULT_PARAMS;
  const verifier = opts.verifier ?? directVerifier;
  const contexts = keys.map((k) => makeContext(cluster, k.index, signerFor(k), verifier, params));
  const members = keys.map((k) => k.index);
  return {
    n,
    f: faultsTolerated(n),
    q: quorum(n),
    cluster,
    keys,
    terms,
    sid,
    groupKey: cluster.commitments[0]!,
    params,
    members,
    ctx: (m) => at(contexts, m),
    keysOf: (m) => at(keys, m),
    proposer: (r) => proposerOf(sid, r, n),
  };
}

/** arr[m - 1] with a clear failure for a bad member index. */
function at<T>(arr: readonly T[], member: number): T {
  const v = arr[member - 1];
  if (v === undefined) throw new Error(`no member ${member}`);
  return v;
}

/** Members other than those listed, in index order. */
export function others(fx: Fixture, ...excluded: number[]): number[] {
  return fx.members.filter((m) => !excluded.includes(m));
}

// ---------------------------------------------------------------------------------------------
// Leg views

const FINALITY_HEIGHT = 12n;

/** A leg locked with exactly the lock the terms call for (COMMIT evidence when both are). */
export function lockedView(fx: Fixture, leg: LegName): LegView {
  return { state: 'locked', finalityHeight: FINALITY_HEIGHT, lock: expectedLock(fx.terms, leg, fx.sid, fx.groupKey) };
}

/** A leg locked with a lock that differs from the terms (here: the amount). */
export function wrongLockView(fx: Fixture, leg: LegName): LegView {
  const lock = expectedLock(fx.terms, leg, fx.sid, fx.groupKey);
  return { state: 'locked', finalityHeight: FINALITY_HEIGHT, lock: { ...lock, amount: lock.amount + 1n } };
}

export function stateView(state: Exclude<LegState, 'locked'>, fx?: Fixture, leg?: LegName): LegView {
  // A leg that applied a report still shows the lock it had; none/rejected have no lock.
  const lock = fx !== undefined && leg !== undefined && state !== 'none' && state !== 'rejected' ? expectedLock(fx.terms, leg, fx.sid, fx.groupKey) : null;
  return { state, finalityHeight: FINALITY_HEIGHT, lock };
}

export const noneView = (): LegView => stateView('none');
export const rejectedView = (): LegView => stateView('rejected');

export interface LegPair {
  readonly asset: LegView;
  readonly payment: LegView;
}

export const bothLocked = (fx: Fixture): LegPair => ({ asset: lockedView(fx, 'asset'), payment: lockedView(fx, 'payment') });
/** What a deadline reading shows when the payment leg never locked: ABORT evidence. */
export const paymentMissing = (fx: Fixture): LegPair => ({ asset: lockedView(fx, 'asset'), payment: noneView() });

export function observeInput(legs: LegPair, deadline = false): Input {
  return { type: 'observe', asset: legs.asset, payment: legs.payment, deadline };
}

// ---------------------------------------------------------------------------------------------
// Forging messages as any member (for Byzantine inputs and for messages from peers not simulated)

function header(fx: Fixture) {
  return { networkId: fx.cluster.networkId, configDigest: fx.ctx(1).configDigest, settlementId: fx.sid };
}

export function forgeObservation(fx: Fixture, signer: number, legs: LegPair, deadline = false, finalityHeight = FINALITY_HEIGHT): SignedObservation {
  return signObservation(fx.ctx(signer), {
    ...header(fx),
    signer,
    deadline,
    asset: { ...legs.asset, finalityHeight },
    payment: { ...legs.payment, finalityHeight },
  });
}

export function reportBodyOf(fx: Fixture, decision: Decision, round: number, validUntil = validUntilMs(fx.terms)): ReportBody {
  return { ...header(fx), decision, round, validUntilMs: validUntil };
}

/** The partial signature member `m` puts in a precommit for (decision, round). */
export function partialOf(fx: Fixture, m: number, decision: Decision, round: number): Uint8Array {
  return blsSign(fx.keysOf(m).shareSecret, reportDigest(reportBodyOf(fx, decision, round)));
}

export interface VoteOptions {
  /** Override the partial (a wrong one, for bad-partial tests). */
  readonly partial?: Uint8Array;
  /** Override header fields (another network, configuration or settlement). */
  readonly header?: Partial<ReturnType<typeof header>>;
}

export function forgeVote(fx: Fixture, voter: number, round: number, step: VoteStep, value: VoteValue, opts: VoteOptions = {}): SignedVote {
  const partial = step === 'precommit' && value !== null ? (opts.partial ?? partialOf(fx, voter, value, round)) : null;
  return signVote(fx.ctx(voter), { ...header(fx), ...opts.header, round, step, voter, value, partial });
}

export interface ProposalOptions {
  readonly proposer?: number;
  readonly validRound?: number;
  readonly polka?: readonly SignedVote[];
}

export function forgeProposal(fx: Fixture, round: number, value: Decision, evidence: readonly SignedObservation[], opts: ProposalOptions = {}): SignedProposal {
  const proposer = opts.proposer ?? fx.proposer(round);
  return signProposal(fx.ctx(proposer), {
    ...header(fx),
    round,
    proposer,
    value,
    validRound: opts.validRound ?? -1,
    terms: fx.terms,
    evidence,
    polka: opts.polka ?? [],
  });
}

/** A report threshold-signed by the first q members, over any body (e.g., a wrong validUntil). */
export function thresholdReport(fx: Fixture, body: ReportBody): Report {
  const digest = reportDigest(body);
  const partials = fx.members.slice(0, fx.q).map((m) => ({ index: m, signature: blsSign(fx.keysOf(m).shareSecret, digest) }));
  const out = combineVerified(fx.cluster.commitments, digest, partials, fx.q, TANDEM_BLS_DST);
  if (!out.ok) throw new Error('honest partials must combine');
  return { ...body, signature: out.signature };
}

export const msgObs = (observation: SignedObservation): Message => ({ kind: 'observation', observation });
export const msgVote = (vote: SignedVote): Message => ({ kind: 'vote', vote });
export const msgProposal = (proposal: SignedProposal): Message => ({ kind: 'proposal', proposal });
export const msgReport = (fx: Fixture, report: Report): Message => ({ kind: 'report', report, terms: fx.terms });

/** The input "message m arrived from member `from`". The sender defaults to the signer. */
export function fromPeer(message: Message, from?: number): Input {
  return { type: 'message', from: from ?? signerOfMessage(message), message };
}

export function signerOfMessage(m: Message): number {
  switch (m.kind) {
    case 'observation':
      return m.observation.signer;
    case 'vote':
      return m.vote.voter;
    case 'proposal':
      return m.proposal.proposer;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Effect queries

export function ofType<T extends Effect['type']>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}

/** Votes this node signed (the `signed` effects), optionally of one step. */
export function signedVotes(effects: readonly Effect[], step?: VoteStep): SignedVote[] {
  const out: SignedVote[] = [];
  for (const e of ofType(effects, 'signed')) if (e.message.kind === 'vote' && (step === undefined || e.message.vote.step === step)) out.push(e.message.vote);
  return out;
}

/** Votes broadcast (new or re-sent), optionally of one step. */
export function broadcastVotes(effects: readonly Effect[], step?: VoteStep): SignedVote[] {
  const out: SignedVote[] = [];
  for (const e of ofType(effects, 'broadcast')) if (e.message.kind === 'vote' && (step === undefined || e.message.vote.step === step)) out.push(e.message.vote);
  return out;
}

export function broadcastProposals(effects: readonly Effect[]): SignedProposal[] {
  const out: SignedProposal[] = [];
  for (const e of ofType(effects, 'broadcast')) if (e.message.kind === 'proposal') out.push(e.message.proposal);
  return out;
}

export function sameVoteContent(a: SignedVote, b: SignedVote): boolean {
  return equalBytes(encodeVoteBody(a), encodeVoteBody(b));
}

/**
 * Write-ahead check over one node's whole effect sequence: every proposal, vote, deadline
 * observation or report this node sends must be in the last `persist` record emitted before it.
 */
export function writeAheadViolations(effects: readonly Effect[], self: number): string[] {
  const problems: string[] = [];
  let record: PersistedSettlement | null = null;
  effects.forEach((e, i) => {
    if (e.type === 'persist') {
      record = e.record;
      return;
    }
    if (e.type !== 'broadcast' && e.type !== 'send') return;
    const problem = uncovered(e.message, self, record);
    if (problem !== null) problems.push(`effect ${i}: ${problem}`);
  });
  return problems;
}

function uncovered(m: Message, self: number, rec: PersistedSettlement | null): string | null {
  switch (m.kind) {
    case 'vote':
      if (m.vote.voter !== self) return null;
      return rec !== null && rec.votes.some((v) => sameVoteContent(v, m.vote)) ? null : `vote r${m.vote.round} ${m.vote.step} sent before persisted`;
    case 'proposal':
      if (m.proposal.proposer !== self) return null;
      return rec !== null && rec.proposals.some((p) => p.round === m.proposal.round && p.value === m.proposal.value) ? null : `proposal r${m.proposal.round} sent before persisted`;
    case 'observation':
      if (m.observation.signer !== self || !m.observation.deadline) return null; // only deadline observations are persisted
      return rec?.deadlineObservation != null && equalBytes(rec.deadlineObservation.signature, m.observation.signature) ? null : 'deadline observation sent before persisted';
    case 'report':
      return rec?.report != null && equalBytes(rec.report.signature, m.report.signature) ? null : 'report sent before persisted';
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// A hand-routable network of instances

export interface Envelope<M = Message> {
  readonly from: number;
  readonly to: number;
  readonly message: M;
}

export interface Timer {
  readonly member: number;
  readonly step: Step;
  readonly round: number;
  readonly atMs: number;
  readonly seq: number;
}

/** Bound on events one `run` call processes, so a livelock fails a test instead of hanging it. */
const RUN_EVENTS_MAX = 5_000;

/** What a network of instances needs of one (v1 settlement or v2 height): both take the same timeout, message and resend inputs. */
export interface NetInstance<In, Ef> {
  step(input: In): Ef[];
  readonly decided: boolean;
}

/** The effects a network routes, as both protocol versions shape them. */
type Routed<M> =
  | { readonly type: 'broadcast'; readonly message: M }
  | { readonly type: 'send'; readonly to: number; readonly message: M }
  | { readonly type: 'schedule'; readonly step: Step; readonly round: number; readonly delayMs: number }
  | { readonly type: 'persist'; readonly record: unknown };

/**
 * n instances, one per member, with an in-flight message queue and scheduled timeouts on a
 * virtual clock. Broadcasts go to every other member for which `link(from, to)` holds at send
 * time; the rest are lost (a lossy network, as docs/protocol.md's Delivery assumes).
 */
export class InstanceNet<I extends NetInstance<In, Ef>, In, Ef extends { readonly type: string }, M, Rec> {
  readonly nodes: I[];
  /** Every effect each node emitted, in order (log[m - 1]). */
  readonly log: Ef[][];
  inflight: Envelope<M>[] = [];
  timers: Timer[] = [];
  nowMs = 0;
  /** Is a message from `from` to `to` delivered? Evaluated when the message is sent. */
  link: (from: number, to: number) => boolean = () => true;
  /** Crashed members: they get no input, and nothing reaches or leaves them. */
  readonly down = new Set<number>();
  private timerSeq = 0;

  constructor(
    readonly members: readonly number[],
    create: (m: number) => I,
    private readonly resume: (m: number, rec: Rec) => { instance: I; effects: Ef[] },
  ) {
    this.nodes = members.map(create);
    this.log = members.map(() => []);
  }

  node(m: number): I {
    return at(this.nodes, m);
  }

  /** Feeds one input to member m and routes its effects (nothing happens to a crashed member). */
  input(m: number, input: In): Ef[] {
    if (this.down.has(m)) return [];
    const out = this.node(m).step(input);
    this.route(m, out);
    return out;
  }

  /** Replaces member m's instance (a restart) and routes the effects of resuming. */
  restart(m: number, rec: Rec): Ef[] {
    this.timers = this.timers.filter((t) => t.member !== m); // timers die with the process
    const { instance, effects } = this.resume(m, rec);
    this.nodes[m - 1] = instance;
    this.route(m, effects);
    return effects;
  }

  private reaches(from: number, to: number): boolean {
    return !this.down.has(from) && !this.down.has(to) && this.link(from, to);
  }

  route(m: number, effects: readonly Ef[]): void {
    at(this.log, m).push(...effects);
    for (const effect of effects) {
      const e = effect as unknown as Routed<M>;
      if (e.type === 'broadcast') {
        for (const to of this.members) if (to !== m && this.reaches(m, to)) this.inflight.push({ from: m, to, message: e.message });
      } else if (e.type === 'send') {
        if (this.reaches(m, e.to)) this.inflight.push({ from: m, to: e.to, message: e.message });
      } else if (e.type === 'schedule') {
        this.timers.push({ member: m, step: e.step, round: e.round, atMs: this.nowMs + e.delayMs, seq: this.timerSeq++ });
      }
    }
  }

  private inputMessage(from: number, to: number, message: M): void {
    this.input(to, { type: 'message', from, message } as In);
  }

  private inputTimeout(t: Timer): void {
    this.nowMs = Math.max(this.nowMs, t.atMs);
    this.input(t.member, { type: 'timeout', step: t.step, round: t.round } as In);
  }

  /** Delivers (in FIFO order) and removes the in-flight messages matching `pred`; returns how many. */
  deliver(pred: (e: Envelope<M>) => boolean = () => true, limit = RUN_EVENTS_MAX): number {
    let count = 0;
    for (let i = 0; i < this.inflight.length && count < limit; ) {
      const env = this.inflight[i]!;
      if (!pred(env)) {
        i++;
        continue;
      }
      this.inflight.splice(i, 1);
      this.inputMessage(env.from, env.to, env.message);
      count++;
      // Earlier entries did not match and still do not; new messages were appended at the end,
      // so the scan continues at i and delivery stays FIFO.
    }
    return count;
  }

  /** Fires the earliest scheduled timeout (ties by scheduling order); false when none is left. */
  fireNext(): boolean {
    if (this.timers.length === 0) return false;
    let best = 0;
    for (let i = 1; i < this.timers.length; i++) {
      const t = this.timers[i]!;
      const b = this.timers[best]!;
      if (t.atMs < b.atMs || (t.atMs === b.atMs && t.seq < b.seq)) best = i;
    }
    const [t] = this.timers.splice(best, 1);
    this.inputTimeout(t!);
    return true;
  }

  resendAll(): void {
    for (const m of this.members) this.input(m, { type: 'resend' } as In);
  }

  /**
   * Delivers everything in flight, then fires the earliest timeout, until `until` holds (by
   * default: every live node decided) or nothing is left to do. Returns the events processed.
   */
  run(until: () => boolean = () => this.allDecided(), maxEvents = RUN_EVENTS_MAX): number {
    let events = 0;
    while (events < maxEvents && !until()) {
      if (this.inflight.length > 0) {
        this.deliverOne(0);
      } else if (!this.fireNext()) {
        break;
      }
      events++;
    }
    return events;
  }

  /** Delivers the in-flight message at position i. */
  deliverOne(i: number): void {
    const [env] = this.inflight.splice(i, 1);
    if (env === undefined) throw new Error(`no in-flight message at ${i}`);
    this.inputMessage(env.from, env.to, env.message);
  }

  /** Fires the scheduled timeout at position i (any order: the instance ignores stale ones). */
  fireAt(i: number): void {
    const [t] = this.timers.splice(i, 1);
    if (t === undefined) throw new Error(`no timer at ${i}`);
    this.inputTimeout(t);
  }

  live(): number[] {
    return this.members.filter((m) => !this.down.has(m));
  }

  allDecided(): boolean {
    return this.live().every((m) => this.node(m).decided);
  }

  /** The last record member m asked to persist. */
  lastPersist(m: number): Rec | null {
    const persists = at(this.log, m).filter((e) => e.type === 'persist') as unknown as { readonly record: Rec }[];
    return persists.length === 0 ? null : persists[persists.length - 1]!.record;
  }

  effectsOf(m: number): Ef[] {
    return at(this.log, m);
  }
}

/** n instances of one settlement (v1). */
export class Net extends InstanceNet<SettlementInstance, Input, Effect, Message, PersistedSettlement> {
  constructor(readonly fx: Fixture) {
    super(
      fx.members,
      (m) => SettlementInstance.create(fx.ctx(m), fx.terms),
      (m, rec) => SettlementInstance.resume(fx.ctx(m), rec),
    );
  }

  observe(m: number, legs: LegPair, deadline = false): Effect[] {
    return this.input(m, observeInput(legs, deadline));
  }

  reports(): (Report | null)[] {
    return this.nodes.map((n) => n.report);
  }
}

export function reportVerifies(fx: Fixture, r: Report): boolean {
  return blsVerify(fx.groupKey, reportDigest(r), r.signature, TANDEM_BLS_DST);
}
