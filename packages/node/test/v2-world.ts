/**
 * A deterministic world for the v2 runtime tests: n NodeRuntimeV2 over one virtual clock, a
 * network with a fixed latency, v2 storage kept across crashes, and the in-memory legs anchored to
 * the v2 configuration digest (protocol 2). Enough to drive heights end to end; the simulator is
 * where faults and the checker live.
 */
import { expect } from 'vitest';
import {
  type ClusterConfig,
  type LegName,
  type LegState,
  type MessageV2,
  type Terms,
  type V2Params,
  configDigestV2,
  defaultV2Params,
  networkIdFromName,
  quorum,
  settlementId,
  toHex,
} from '@tandem/protocol';
import { blsSign, dealerKeygen, identityKeygen } from '@tandem/crypto';
import { type ConsensusParams, type NodeContext, makeContext } from '@tandem/consensus';
import { MemoryAssetChain, MemoryBankLedger } from '@tandem/legs';
import { authorize, seededRandomBytes } from '@tandem/legs/fixture';
import { type Authorizations, MemoVerifier, MemoryStorageV2, type NodeEventV2, NodeRuntimeV2, type RuntimeV2Deps, nativeIdentitySigner } from '../src/index.js';

const CHAIN_ID = 31337n;
const ESCROW = new Uint8Array(20).fill(0xe6);
const VENUE_BANK = { bankId: 'bank-v2', ledger: 'main' } as const;
const QUEUE_ITEMS_MAX = 5_000_000;
const SETTLE_SPINS_MAX = 1_000;

export interface WorldV2Options {
  readonly n?: number;
  readonly seed?: string;
  readonly latencyMs?: number;
  readonly v2?: Partial<V2Params>;
  /** Payment prepares of these settlement ids (hex) are rejected by the bank (policy). */
  readonly rejectPayment?: Set<string>;
  /** Node i's runtime is built from what this returns (a Byzantine node's wrapped dependencies). */
  readonly deps?: (i: number, deps: RuntimeV2Deps) => RuntimeV2Deps;
  /** Consensus timeouts and the mutation of every node (default: DEFAULT_PARAMS). */
  readonly consensus?: ConsensusParams;
  /**
   * A fault (asynchrony before GST): a message from → to handed over now is delivered at the
   * later of now + latencyMs and the time this returns. Default: latency alone.
   */
  readonly deliverNotBeforeMs?: (from: number, to: number, m: MessageV2) => number;
}

interface Peer {
  readonly ctx: NodeContext;
  readonly storage: MemoryStorageV2;
  runtime: NodeRuntimeV2 | null;
  /** Bumped on each start: timers of a crashed incarnation never fire. */
  life: number;
  readonly events: NodeEventV2[];
}

interface Pending {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

export class WorldV2 {
  nowMs = 0;
  readonly n: number;
  readonly v2: V2Params;
  readonly latencyMs: number;
  readonly cluster: ClusterConfig;
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
  readonly peers: Peer[] = [];
  /** Messages handed to the transport, by kind. */
  readonly messages = new Map<MessageV2['kind'], number>();
  private readonly partyKeys = new Map<string, Uint8Array>();
  private readonly wrapDeps: (i: number, deps: RuntimeV2Deps) => RuntimeV2Deps;
  private readonly notBeforeMs: (from: number, to: number, m: MessageV2) => number;
  private pending: Pending[] = [];
  private seq = 0;

  constructor(options: WorldV2Options = {}) {
    this.n = options.n ?? 4;
    this.latencyMs = options.latencyMs ?? 10;
    this.v2 = { ...defaultV2Params(this.n), ...options.v2 };
    this.wrapDeps = options.deps ?? ((_, deps) => deps);
    this.notBeforeMs = options.deliverNotBeforeMs ?? (() => 0);
    const seed = options.seed ?? 'tandem/node/v2';
    const random = seededRandomBytes(seed);
    const dealt = dealerKeygen(this.n, quorum(this.n), random);
    const ids = Array.from({ length: this.n }, () => identityKeygen(random));
    this.cluster = {
      networkId: networkIdFromName(seed),
      n: this.n,
      t: quorum(this.n),
      members: ids.map((k, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: k.publicKey })),
      commitments: dealt.commitments,
    };
    const publicKeys = new Map<string, Uint8Array>();
    for (const party of ['alice', 'bob']) {
      const k = identityKeygen(random);
      this.partyKeys.set(party, k.secretKey);
      publicKeys.set(party, k.publicKey);
    }
    const anchor = { networkId: this.cluster.networkId, configDigest: configDigestV2(this.cluster, this.v2), groupPublicKey: dealt.commitments[0]!, protocol: 2 as const };
    const rejected = options.rejectPayment ?? new Set<string>();
    this.asset = new MemoryAssetChain({ anchor, parties: publicKeys, nowMs: () => this.nowMs, venue: { chainId: CHAIN_ID, escrow: ESCROW } });
    this.payment = new MemoryBankLedger({ anchor, parties: publicKeys, nowMs: () => this.nowMs, venue: VENUE_BANK, faults: { rejectPrepare: (idHex) => rejected.has(idHex) } });
    this.asset.mint('alice', 'OUSG', 10_000n);
    this.payment.mint('bob', 'USD', 10_000_000n);
    const verifier = new MemoVerifier();
    ids.forEach((k, i) => {
      const share = dealt.shares[i]!;
      const identity = nativeIdentitySigner(k.secretKey);
      const signer = { sign: identity.sign, partialSign: (msg: Uint8Array) => blsSign(share.secret, msg) };
      this.peers.push({ ctx: makeContext(this.cluster, i + 1, signer, verifier, options.consensus), storage: new MemoryStorageV2(), runtime: null, life: 0, events: [] });
    });
  }

  peer(i: number): Peer {
    const p = this.peers[i - 1];
    if (p === undefined) throw new Error(`no node ${i}`);
    return p;
  }

  runtime(i: number): NodeRuntimeV2 {
    const rt = this.peer(i).runtime;
    if (rt === null) throw new Error(`node ${i} is down`);
    return rt;
  }

  /** Starts (or restarts from its storage) node i. */
  start(i: number): NodeRuntimeV2 {
    const p = this.peer(i);
    const life = ++p.life;
    const deps: RuntimeV2Deps = {
      ctx: p.ctx,
      v2: this.v2,
      transport: {
        broadcast: (m) => {
          for (let to = 1; to <= this.n; to++) if (to !== i) this.deliver(i, to, m);
        },
        send: (to, m) => this.deliver(i, to, m),
      },
      clock: { nowMs: () => this.nowMs },
      timers: {
        after: (delayMs, fn) => {
          let live = true;
          this.at(this.nowMs + delayMs, () => {
            if (live && p.life === life && p.runtime !== null) fn();
          });
          return () => {
            live = false;
          };
        },
      },
      storage: p.storage,
      legs: { asset: this.asset, payment: this.payment },
      log: { event: (e) => p.events.push({ ...e, atMs: this.nowMs } as NodeEventV2) },
    };
    const runtime = new NodeRuntimeV2(this.wrapDeps(i, deps));
    p.runtime = runtime;
    runtime.start();
    return runtime;
  }

  startAll(except: readonly number[] = []): void {
    for (let i = 1; i <= this.n; i++) if (!except.includes(i)) this.start(i);
  }

  crash(i: number): void {
    const p = this.peer(i);
    p.runtime?.stop();
    p.runtime = null;
  }

  /** Terms whose deadline is `deadlineAfterMs` from now; the report window clears the commit guard. */
  terms(nonce: string, deadlineAfterMs = 3_000): Terms {
    return {
      nonce,
      asset: { chainId: CHAIN_ID, escrow: ESCROW, token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 10n },
      payment: { bankId: VENUE_BANK.bankId, ledger: VENUE_BANK.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000n },
      deadlineMs: this.nowMs + deadlineAfterMs,
      reportWindowMs: this.v2.commitGuardMs * 3,
      marginMs: 5_000,
    };
  }

  /** The parties' authorizations of `legs` (default both) for the terms. */
  authorizations(terms: Terms, legs: readonly LegName[] = ['asset', 'payment']): Authorizations {
    const id = settlementId(terms);
    const net = this.cluster.networkId;
    return {
      ...(legs.includes('asset') ? { asset: authorize('alice', this.partyKeys.get('alice')!, net, id) } : {}),
      ...(legs.includes('payment') ? { payment: authorize('bob', this.partyKeys.get('bob')!, net, id) } : {}),
    };
  }

  /** The intent with the authorizations of `legs` (default both), to the nodes up (default all); each node's answer (undefined: down). */
  intent(terms: Terms, nodes: readonly number[] = this.peers.map((_, i) => i + 1), legs: readonly LegName[] = ['asset', 'payment']) {
    const auths = this.authorizations(terms, legs);
    return nodes.map((i) => this.peer(i).runtime?.submit(terms, auths));
  }

  /**
   * Fills `nodes` with an intent nobody authorized, far from its deadline (it stays undecided): with
   * openSettlementsMax 1 the next intent they get is refused `full`.
   */
  fill(nodes: readonly number[]): void {
    const filler = this.terms('filler', 30_000);
    expect(nodes.map((i) => this.runtime(i).submit(filler, {}))).toEqual(nodes.map(() => null));
  }

  /** What the leg holds for the terms now. */
  async legState(leg: LegName, terms: Terms): Promise<LegState> {
    const adapter = leg === 'asset' ? this.asset : this.payment;
    return (await adapter.observe(settlementId(terms))).state;
  }

  /** Events of one type at node i. */
  eventsOf<T extends NodeEventV2['type']>(i: number, type: T): (Extract<NodeEventV2, { type: T }> & { atMs: number })[] {
    return this.peer(i).events.filter((e) => e.type === type) as (Extract<NodeEventV2, { type: T }> & { atMs: number })[];
  }

  /** The height at which node i saw the terms decided, and the decision, or null. */
  decisionAt(i: number, terms: Terms): { height: number; decision: string } | null {
    const idHex = toHex(settlementId(terms));
    const e = this.eventsOf(i, 'settlement-decided').find((x) => x.settlementIdHex === idHex);
    return e === undefined ? null : { height: e.height, decision: e.decision };
  }

  /** Runs every event up to `untilMs`, letting leg calls settle after each. */
  async runUntil(untilMs: number): Promise<void> {
    for (let steps = 0; ; steps++) {
      if (steps > QUEUE_ITEMS_MAX) throw new Error('the world did not quiesce: a runaway loop');
      const next = this.pending[0];
      if (next === undefined || next.atMs > untilMs) break;
      this.pending.shift();
      this.nowMs = next.atMs;
      next.run();
      await this.settle();
    }
    this.nowMs = untilMs;
  }

  async runFor(ms: number): Promise<void> {
    await this.runUntil(this.nowMs + ms);
  }

  private async settle(): Promise<void> {
    for (let spins = 0; this.peers.some((p) => (p.runtime?.inflight ?? 0) > 0); spins++) {
      if (spins > SETTLE_SPINS_MAX) throw new Error('leg calls did not settle');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private deliver(from: number, to: number, m: MessageV2): void {
    this.messages.set(m.kind, (this.messages.get(m.kind) ?? 0) + 1);
    const atMs = Math.max(this.nowMs + this.latencyMs, this.notBeforeMs(from, to, m));
    this.at(atMs, () => this.peer(to).runtime?.receive(from, m));
  }

  /** Time order, then first in first out. */
  private at(atMs: number, run: () => void): void {
    const item = { atMs, seq: this.seq++, run };
    let lo = 0;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.pending[mid]!.atMs <= atMs) lo = mid + 1;
      else hi = mid;
    }
    this.pending.splice(lo, 0, item);
  }
}
