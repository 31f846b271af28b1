/** The floor of the decision latency, measured in this process between the latency phase's settlements. */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { blsSign, blsVerify, combinePartials, dealerKeygen, groupPublicKey, identityKeygen, identitySign, identityVerify } from '@tandem/crypto';
import { P2pTransport, type TandemHost, createTandemHost } from '@tandem/p2p';
import { type ClusterConfig, type Message, SIGN_DOMAIN, networkIdFromName, quorum, toHex } from '@tandem/protocol';
import { median } from '../table.js';
import { FLOOR_WARMUP_ROUNDS, GOSSIP_GAP_MS, GOSSIP_PROBES_PER_SAMPLE, GOSSIP_WAIT_MS, MESSAGE_DELAYS, NODES, sleep } from './constants.js';

export interface Floor {
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

export function probe(seq: number): Message {
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
export class FloorSampler {
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
