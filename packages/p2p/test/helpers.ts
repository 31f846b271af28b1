import '../src/polyfill.js';
import { randomBytes } from 'node:crypto';
import { dealerKeygen, identityKeygen } from '@tandem/crypto';
import { type ClusterConfig, type LegView, type Message, type MessageV2, type SignedObservation, type Terms, networkIdFromName, quorum, settlementId } from '@tandem/protocol';
import { type P2pLimits, type PeerAddresses, type TandemHost, createTandemHost } from '../src/host.js';
import { P2pTransport } from '../src/transport.js';

const rb = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export interface TestCluster {
  readonly config: ClusterConfig;
  /** Identity seeds, by member index - 1. */
  readonly seeds: readonly Uint8Array[];
}

/** A real cluster (dealt BLS commitments, fresh Ed25519 identities) on its own network name. */
export function makeCluster(n: number, networkName = `p2p-test-${Math.random()}`): TestCluster {
  const t = quorum(n);
  const { commitments } = dealerKeygen(n, t, rb);
  const ids = Array.from({ length: n }, () => identityKeygen(rb));
  const config: ClusterConfig = {
    networkId: networkIdFromName(networkName),
    n,
    t,
    members: ids.map((id, k) => ({ index: k + 1, id: `n${k + 1}`, identityKey: id.publicKey })),
    commitments,
  };
  return { config, seeds: ids.map((id) => id.secretKey) };
}

function testTerms(nonce: string): Terms {
  return {
    nonce,
    asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(7), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 100n },
    payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
    deadlineMs: 1_700_000_030_000,
    reportWindowMs: 60_000,
    marginMs: 5_000,
  };
}

export function termsMessage(nonce: string): Message {
  return { kind: 'terms', terms: testTerms(nonce) };
}

/**
 * A proposal carrying `evidenceCount` observations whose lock records hold strings of
 * `stringBytes` (each observation is about 8 × stringBytes on the wire): a real, encodable message
 * of a chosen size. Signatures are filler: the transport never checks them, consensus does.
 */
export function bigProposal(nonce: string, evidenceCount: number, stringBytes = 200): Message {
  const terms = testTerms(nonce);
  const sid = settlementId(terms);
  const networkId = new Uint8Array(32).fill(1);
  const configDigest = new Uint8Array(32).fill(2);
  const s = 'z'.repeat(stringBytes);
  const view: LegView = {
    state: 'locked',
    finalityHeight: 12n,
    lock: { settlementId: sid, amount: 100n, from: s, to: s, unit: s, venue: s, validUntilMs: 1, reclaimAtMs: 2, groupPublicKey: new Uint8Array(96).fill(3) },
  };
  const evidence: SignedObservation[] = Array.from({ length: evidenceCount }, (_, k) => ({
    networkId, configDigest, settlementId: sid, signer: (k % 4) + 1, deadline: false, asset: view, payment: view, signature: new Uint8Array(64).fill(4),
  }));
  return {
    kind: 'proposal',
    proposal: { networkId, configDigest, settlementId: sid, round: 0, proposer: 1, value: 'COMMIT', validRound: -1, terms, evidence, polka: [], signature: new Uint8Array(64).fill(5) },
  };
}

/** The nonce of the terms a terms message or a proposal carries. */
export function nonceOf(m: Message): string {
  if (m.kind === 'terms') return m.terms.nonce;
  if (m.kind === 'proposal') return m.proposal.terms.nonce;
  throw new Error(`expected a terms message or a proposal, got ${m.kind}`);
}

/** A member's host and transport, with everything the transport reported. */
export interface Member<M extends Message | MessageV2 = Message> {
  readonly index: number;
  readonly host: TandemHost;
  readonly transport: P2pTransport<M>;
  readonly received: { from: number; message: M; atMs: number }[];
  readonly connected: number[];
  stop(): Promise<void>;
}

export const LOOPBACK = '/ip4/127.0.0.1/tcp/0';

/** Starts member `index`; `protocol: 2` makes a v2 host (type the call `startMember<MessageV2>`). */
export async function startMember<M extends Message | MessageV2 = Message>(
  cluster: TestCluster,
  index: number,
  peers: readonly PeerAddresses[],
  opts: { listen?: string; limits?: Partial<P2pLimits>; onError?: (err: unknown) => void; protocol?: 1 | 2 } = {},
): Promise<Member<M>> {
  const host = await createTandemHost({
    cluster: cluster.config,
    self: index,
    identitySecretKey: cluster.seeds[index - 1]!,
    listen: [opts.listen ?? LOOPBACK],
    peers,
    limits: { redialIntervalMs: 200, ...opts.limits },
    ...(opts.protocol !== undefined ? { protocol: opts.protocol } : {}),
  });
  const transport = new P2pTransport<M>(host, { onError: opts.onError ?? (() => {}) });
  const received: Member<M>['received'] = [];
  const connected: number[] = [];
  transport.onMessage((from, message) => received.push({ from, message, atMs: performance.now() }));
  transport.onPeerConnected((i) => connected.push(i));
  await transport.start();
  return {
    index,
    host,
    transport,
    received,
    connected,
    async stop() {
      await transport.stop();
      await host.stop();
    },
  };
}

export function addressesOf(m: Member<Message> | Member<MessageV2>): PeerAddresses {
  return { index: m.index, multiaddrs: m.host.multiaddrs() };
}

/** Polls `cond` every 5 ms; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
