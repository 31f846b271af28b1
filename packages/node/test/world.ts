/**
 * A small deterministic world for runtime tests: n real NodeRuntimes over a virtual clock, a
 * fixed-latency network, in-memory storage kept across crashes and the in-memory legs. Much less
 * than the simulator (no faults, no history): just enough to drive the runtime end to end.
 */
import {
  type ClusterConfig,
  type Message,
  type Report,
  type ReportBody,
  type SignedProposal,
  type Terms,
  configDigest as computeConfigDigest,
  networkIdFromName,
  quorum,
  reportDigest,
  settlementId,
  validUntilMs,
} from '@tandem/protocol';
import { blsSign, combinePartials, dealerKeygen, identityKeygen, identitySign } from '@tandem/crypto';
import { type NodeContext, makeContext, proposerOf, signProposal } from '@tandem/consensus';
import { MemoryAssetChain, MemoryBankLedger } from '@tandem/legs';
import { authorize, seededRandomBytes } from '@tandem/legs/fixture';
import { MemoryStorage, MemoVerifier, type NodeEvent, NodeRuntime, type RuntimeParams, type SigningFence } from '../src/index.js';

const CHAIN_ID = 31337n;
const ESCROW = new Uint8Array(20).fill(0xe5);
const BANK = { bankId: 'bank', ledger: 'main' } as const;
const LATENCY_MS = 10;
/** A runaway loop fails the test instead of hanging it. */
const EVENTS_MAX = 1_000_000;
const DRAIN_SPINS_MAX = 1_000;

interface Scheduled {
  readonly atMs: number;
  readonly fn: () => void;
}

interface WorldNode {
  readonly ctx: NodeContext;
  /** Kept across crashes; a test that loses it replaces it. */
  storage: MemoryStorage;
  runtime: NodeRuntime | null;
  incarnation: number;
  readonly events: NodeEvent[];
}

export class World {
  nowMs = 0;
  readonly n: number;
  readonly cluster: ClusterConfig;
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  readonly nodes: WorldNode[] = [];
  /** Every message a node handed to its transport, in order. */
  readonly sent: { from: number; to: number; message: Message }[] = [];
  private readonly shares: { index: number; secret: Uint8Array }[];
  private readonly parties = new Map<string, Uint8Array>();
  /** Ordered by time, first in first out at equal times. */
  private readonly queue: Scheduled[] = [];

  constructor(
    n = 4,
    seed = 'tandem/node/test',
    private readonly params?: RuntimeParams,
  ) {
    this.n = n;
    const random = seededRandomBytes(seed);
    const dealt = dealerKeygen(n, quorum(n), random);
    this.shares = dealt.shares.map((s) => ({ index: s.index, secret: s.secret }));
    const identities = Array.from({ length: n }, () => identityKeygen(random));
    this.cluster = {
      networkId: networkIdFromName(seed),
      n,
      t: quorum(n),
      members: identities.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
      commitments: dealt.commitments,
    };
    const partyPublic = new Map<string, Uint8Array>();
    for (const name of ['alice', 'bob']) {
      const k = identityKeygen(random);
      this.parties.set(name, k.secretKey);
      partyPublic.set(name, k.publicKey);
    }
    const anchor = { networkId: this.cluster.networkId, configDigest: computeConfigDigest(this.cluster), groupPublicKey: dealt.commitments[0]! };
    const common = { anchor, parties: partyPublic, nowMs: () => this.nowMs };
    this.asset = new MemoryAssetChain({ ...common, venue: { chainId: CHAIN_ID, escrow: ESCROW } });
    this.payment = new MemoryBankLedger({ ...common, venue: BANK });
    this.asset.mint('alice', 'OUSG', 1_000n);
    this.payment.mint('bob', 'USD', 1_000_000n);
    const verifier = new MemoVerifier();
    for (let i = 1; i <= n; i++) {
      const secretKey = identities[i - 1]!.secretKey;
      const share = this.shares[i - 1]!;
      const signer = { sign: (domain: string, msg: Uint8Array) => identitySign(domain, secretKey, msg), partialSign: (msg: Uint8Array) => blsSign(share.secret, msg) };
      this.nodes.push({ ctx: makeContext(this.cluster, i, signer, verifier), storage: new MemoryStorage(), runtime: null, incarnation: 0, events: [] });
    }
  }

  node(i: number): WorldNode {
    const node = this.nodes[i - 1];
    if (node === undefined) throw new Error(`no node ${i}`);
    return node;
  }

  runtime(i: number): NodeRuntime {
    const rt = this.node(i).runtime;
    if (rt === null) throw new Error(`node ${i} is down`);
    return rt;
  }

  /** Starts (or restarts, with its storage) node i; with a fence, observe-only for what it covers (signing-fence.ts). */
  start(i: number, fence?: SigningFence): NodeRuntime {
    const node = this.node(i);
    node.incarnation++;
    const incarnation = node.incarnation;
    const runtime = new NodeRuntime({
      ctx: node.ctx,
      transport: {
        broadcast: (m) => {
          for (let to = 1; to <= this.n; to++) if (to !== i) this.send(i, to, m);
        },
        send: (to, m) => this.send(i, to, m),
      },
      clock: { nowMs: () => this.nowMs },
      timers: {
        after: (delayMs, fn) => {
          let cancelled = false;
          this.at(this.nowMs + delayMs, () => {
            if (!cancelled && node.incarnation === incarnation && node.runtime !== null) fn();
          });
          return () => {
            cancelled = true;
          };
        },
      },
      storage: node.storage,
      legs: { asset: this.asset, payment: this.payment },
      log: { event: (e) => node.events.push(e) },
      ...(this.params !== undefined ? { params: this.params } : {}),
      ...(fence !== undefined ? { fence } : {}),
    });
    node.runtime = runtime;
    runtime.start();
    return runtime;
  }

  startAll(): void {
    for (let i = 1; i <= this.n; i++) this.start(i);
  }

  crash(i: number): void {
    const node = this.node(i);
    node.runtime?.stop();
    node.runtime = null;
  }

  /** Terms of a settlement whose deadline is `deadlineAfterMs` from now (report window 1 s, margin 0.5 s). */
  terms(nonce: string, deadlineAfterMs = 2_000): Terms {
    return {
      nonce,
      asset: { chainId: CHAIN_ID, escrow: ESCROW, token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 10n },
      payment: { bankId: BANK.bankId, ledger: BANK.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000n },
      deadlineMs: this.nowMs + deadlineAfterMs,
      reportWindowMs: 1_000,
      marginMs: 500,
    };
  }

  /** The intent with both parties' authorizations, handed to the given nodes (default: every node up). */
  intent(terms: Terms, nodes: readonly number[] = this.nodes.map((_, i) => i + 1)): void {
    this.intentWith(terms, ['asset', 'payment'], nodes);
  }

  /** The intent with the authorizations of `legs` only (none: an intent nobody authorized); each node's answer (null from a node down). */
  intentWith(terms: Terms, legs: readonly ('asset' | 'payment')[], nodes: readonly number[] = this.nodes.map((_, i) => i + 1)): ReturnType<NodeRuntime['submit']>[] {
    const id = settlementId(terms);
    const auths = {
      ...(legs.includes('asset') ? { asset: authorize('alice', this.parties.get('alice')!, this.cluster.networkId, id) } : {}),
      ...(legs.includes('payment') ? { payment: authorize('bob', this.parties.get('bob')!, this.cluster.networkId, id) } : {}),
    };
    return nodes.map((i) => this.node(i).runtime?.submit(terms, auths) ?? null);
  }

  /** A threshold report for the terms (the body changed by `edit`), signed by the dealer's first q shares. */
  report(terms: Terms, decision: Report['decision'] = 'COMMIT', edit: Partial<ReportBody> = {}): Report {
    const body = { networkId: this.cluster.networkId, configDigest: computeConfigDigest(this.cluster), settlementId: settlementId(terms), decision, round: 0, validUntilMs: validUntilMs(terms), ...edit };
    const digest = reportDigest(body);
    const partials = this.shares.slice(0, quorum(this.n)).map((s) => ({ index: s.index, signature: blsSign(s.secret, digest) }));
    return { ...body, signature: combinePartials(partials) };
  }

  /**
   * A round's proposal for the terms, in the name of the round's designated proposer and signed
   * with `signedBy`'s key (default: the proposer's own, an authentic proposal).
   */
  proposal(terms: Terms, round = 0, signedBy?: number): SignedProposal {
    const sid = settlementId(terms);
    const proposer = proposerOf(sid, round, this.n);
    const header = { networkId: this.cluster.networkId, configDigest: computeConfigDigest(this.cluster), settlementId: sid };
    return signProposal(this.node(signedBy ?? proposer).ctx, { ...header, round, proposer, value: 'COMMIT', validRound: -1, terms, evidence: [], polka: [] });
  }

  /** Runs every event up to and including `untilMs`, letting leg calls settle after each. */
  async runUntil(untilMs: number): Promise<void> {
    for (let events = 0; ; events++) {
      if (events > EVENTS_MAX) throw new Error('the world did not quiesce: a runaway loop');
      const next = this.queue[0];
      if (next === undefined || next.atMs > untilMs) break;
      this.queue.shift();
      this.nowMs = next.atMs;
      next.fn();
      await this.settle();
    }
    this.nowMs = untilMs;
  }

  private async settle(): Promise<void> {
    for (let spins = 0; this.nodes.some((x) => (x.runtime?.inflight ?? 0) > 0); spins++) {
      if (spins > DRAIN_SPINS_MAX) throw new Error('leg calls did not settle');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private send(from: number, to: number, message: Message): void {
    this.sent.push({ from, to, message });
    this.at(this.nowMs + LATENCY_MS, () => this.node(to).runtime?.receive(from, message));
  }

  private at(atMs: number, fn: () => void): void {
    const item = { atMs, fn };
    const i = this.queue.findIndex((q) => q.atMs > atMs);
    if (i === -1) this.queue.push(item);
    else this.queue.splice(i, 0, item);
  }
}
