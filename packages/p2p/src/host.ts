/**
 * A libp2p host for one Tandem member: TCP + Noise + Yamux, gossipsub and identify, keyed by the
 * member's own Ed25519 identity key, admitting only cluster members, and keeping a connection to
 * every member whose address it knows (redialled while it is down).
 */
import './polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { type GossipSub, gossipsub } from '@libp2p/gossipsub';
import { type Identify, identify } from '@libp2p/identify';
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { type ClusterConfig, MESSAGE_BYTES_MAX, toHex } from '@tandem/protocol';
import { MemberDirectory } from './members.js';
import type { WireVersion } from './wire.js';

/** The direct (one recipient) stream protocol of wire version 1: length-prefixed encoded messages, one way. */
export const DIRECT_PROTOCOL = '/tandem/1/direct';

/** The direct stream protocol of a wire version (wire.ts: a host speaks one). */
export function directProtocol(version: WireVersion = 1): string {
  return version === 1 ? DIRECT_PROTOCOL : `/tandem/${version}/direct`;
}

/** The gossip topic of a network and wire version: every member of the cluster publishes and subscribes here. */
export function gossipTopic(networkId: Uint8Array, version: WireVersion = 1): string {
  return `/tandem/${version}/${toHex(networkId)}/msgs`;
}

/** Bounds on what a host and its transport accept, hold and wait for. */
export interface P2pLimits {
  /** Largest encoded message sent or accepted, in bytes. */
  readonly messageBytesMax: number;
  /** Messages per second accepted from one member (gossip and direct together)... */
  readonly ratePerSecond: number;
  /** ...with bursts up to this many. Beyond it messages are dropped and counted. */
  readonly rateBurst: number;
  /** Direct messages waiting to be written to one peer; the oldest is dropped beyond this. */
  readonly sendQueueMax: number;
  /** Messages held back by a link filter's delay, all peers together; beyond it they are dropped. */
  readonly delayedMax: number;
  /** Inbound direct streams one connection may hold open (a sender needs one). */
  readonly directStreamsMax: number;
  /** Time allowed for one dial or one direct stream to open. */
  readonly dialTimeoutMs: number;
  /** Time a write may wait for the stream to drain before the stream is given up. */
  readonly sendTimeoutMs: number;
  /** How often members that are not connected are dialled again. */
  readonly redialIntervalMs: number;
}

export const DEFAULT_P2P_LIMITS: P2pLimits = {
  messageBytesMax: MESSAGE_BYTES_MAX,
  // Consensus traffic is a few messages per open settlement per resend period (500 ms): these
  // leave room for thousands of open settlements and only cut a member that floods.
  ratePerSecond: 5_000,
  rateBurst: 10_000,
  sendQueueMax: 1_024,
  delayedMax: 10_000,
  directStreamsMax: 8,
  dialTimeoutMs: 5_000,
  sendTimeoutMs: 10_000,
  redialIntervalMs: 1_000,
};

/** Bytes a gossipsub RPC adds around one message (topic, seqno, from, key, signature, framing). */
const GOSSIP_RPC_OVERHEAD_BYTES = 16 * 1024;
/** Ed25519 identity seeds are 32 bytes (the same secret `@tandem/crypto` signs with). */
const IDENTITY_SEED_BYTES = 32;

export interface PeerAddresses {
  readonly index: number;
  /** Multiaddrs of the member, with or without a trailing /p2p/<its PeerId>. */
  readonly multiaddrs: readonly string[];
}

export interface TandemHostOptions {
  readonly cluster: ClusterConfig;
  /** This member's index (1..n). */
  readonly self: number;
  /** This member's 32-byte Ed25519 identity seed: its libp2p key, so its PeerId is the cluster file's. */
  readonly identitySecretKey: Uint8Array;
  /** Multiaddrs to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. */
  readonly listen: readonly string[];
  /** Where the other members listen (members missing here are still accepted when they dial in). */
  readonly peers: readonly PeerAddresses[];
  readonly limits?: Partial<P2pLimits>;
  /** The wire version the cluster's configuration runs (default 1): it picks the topic and the direct protocol. */
  readonly protocol?: WireVersion;
}

export type TandemLibp2p = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

export interface HostStats {
  /** Connections refused by the gater because the peer is not a member (or is this node). */
  readonly deniedPeers: number;
  /** Dials to members that failed (the redial loop tries again). */
  readonly dialFailures: number;
}

export interface TandemHost {
  readonly libp2p: TandemLibp2p;
  readonly cluster: ClusterConfig;
  readonly self: number;
  readonly peerId: PeerId;
  readonly members: MemberDirectory;
  readonly limits: P2pLimits;
  /** The wire version this host speaks, and its gossip topic and direct protocol id. */
  readonly protocol: WireVersion;
  readonly topic: string;
  readonly directProtocol: string;
  /** The addresses this host listens on, each ending in /p2p/<PeerId> (ports resolved). */
  multiaddrs(): string[];
  /** Records (or replaces) where member `index` listens, and dials it at the next redial. */
  setPeerAddresses(index: number, multiaddrs: readonly string[]): Promise<void>;
  /** Members with at least one open connection, ascending. */
  connectedMembers(): number[];
  stats(): HostStats;
  /** Stops redialling and stops libp2p (closing every connection). Idempotent. */
  stop(): Promise<void>;
}

/**
 * The gater: only members get past it, checked at every point where the remote PeerId is known.
 * Inbound, the first such point is right after the Noise handshake (which proves the remote holds
 * the key behind its PeerId) and before the muxer is negotiated, so a stranger never reaches
 * multistream-select for yamux, identify, gossipsub or /tandem/<version>/direct. Outbound, a stranger is
 * never even dialled.
 */
export function membersOnlyGater(members: MemberDirectory, self: PeerId, onDeny: () => void): ConnectionGater {
  const deny = (peer: PeerId): boolean => {
    const refused = !members.isMember(peer) || peer.equals(self);
    if (refused) onDeny();
    return refused;
  };
  return {
    denyDialPeer: deny,
    denyOutboundConnection: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    // Defence in depth: nothing can reach the later stages without passing the earlier ones.
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny,
    // Tandem uses no relays.
    denyInboundRelayReservation: () => true,
    denyOutboundRelayedConnection: () => true,
    denyInboundRelayedConnection: () => true,
  };
}

/** Parses a member's multiaddrs, refusing a /p2p/ component that names some other peer. */
function parsePeerAddresses(index: number, expected: PeerId, addrs: readonly string[]): Multiaddr[] {
  return addrs.map((s) => {
    const ma = multiaddr(s);
    const named = ma.getComponents().findLast((c) => c.code === CODE_P2P)?.value;
    if (named !== undefined && named !== expected.toString()) {
      throw new Error(`peer ${index}: multiaddr ${s} names PeerId ${named}, but member ${index} is ${expected.toString()}`);
    }
    return named === undefined ? ma : ma.decapsulateCode(CODE_P2P);
  });
}

/**
 * gossipsub's fast message id: author and sequence number, the fields its StrictSign message id
 * is made of. With it, a copy relayed by another member is recognised as a duplicate before its
 * signature is checked again (in a full mesh each message arrives n-2 extra times). A copy is
 * cached only after it validated, so a forged one cannot shadow the real message.
 */
function authorAndSeqno(msg: { readonly from?: Uint8Array; readonly seqno?: Uint8Array }): string {
  if (msg.from === undefined || msg.seqno === undefined) return ''; // invalid under StrictSign anyway
  return `${Buffer.from(msg.from.buffer, msg.from.byteOffset, msg.from.byteLength).toString('base64')}/${Buffer.from(msg.seqno.buffer, msg.seqno.byteOffset, msg.seqno.byteLength).toString('base64')}`;
}

async function identityPrivateKey(cluster: ClusterConfig, self: number, seed: Uint8Array) {
  if (!Number.isInteger(self) || self < 1 || self > cluster.members.length) {
    throw new RangeError(`self must be a member index in 1..${cluster.members.length}, got ${self}`);
  }
  if (!(seed instanceof Uint8Array) || seed.length !== IDENTITY_SEED_BYTES) {
    throw new Error(`identitySecretKey must be ${IDENTITY_SEED_BYTES} bytes`);
  }
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed);
  const expected = cluster.members[self - 1]!.identityKey;
  const derived = privateKey.publicKey.raw;
  if (toHex(derived) !== toHex(expected)) {
    throw new Error(`identitySecretKey is not the key of member ${self}: its public key differs from the cluster file's identityKey`);
  }
  return privateKey;
}

export async function createTandemHost(opts: TandemHostOptions): Promise<TandemHost> {
  const limits: P2pLimits = { ...DEFAULT_P2P_LIMITS, ...opts.limits };
  const privateKey = await identityPrivateKey(opts.cluster, opts.self, opts.identitySecretKey);
  const members = new MemberDirectory(opts.cluster);
  const selfPeerId = members.peerId(opts.self);
  const protocol = opts.protocol ?? 1;
  if (protocol !== 1 && protocol !== 2) throw new RangeError(`protocol must be 1 or 2, got ${String(protocol)}`);
  const topic = gossipTopic(opts.cluster.networkId, protocol);
  // Parse every address before starting anything, so a typo fails fast and leaks no listener.
  const initialPeers = opts.peers.map((p) => {
    if (p.index === opts.self) throw new Error(`peers must not list this node itself (index ${p.index})`);
    const peerId = members.peerId(p.index);
    return { peerId, addrs: parsePeerAddresses(p.index, peerId, p.multiaddrs) };
  });
  const counters = { deniedPeers: 0, dialFailures: 0 };

  const libp2p: TandemLibp2p = await createLibp2p({
    privateKey,
    addresses: { listen: [...opts.listen] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: membersOnlyGater(members, selfPeerId, () => counters.deniedPeers++),
    connectionManager: {
      // A committee is small: room for two connections per member (simultaneous dials).
      maxConnections: Math.max(8, 2 * opts.cluster.n),
      // libp2p accepts 5 inbound connections per second per IP by default; on loopback (or behind
      // one NAT) every member shares an IP, and a whole cluster (re)connects at once.
      inboundConnectionThreshold: Math.max(5, 2 * opts.cluster.n),
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        // Only Tandem nodes talk here, and floodsub is not configured.
        fallbackToFloodsub: false,
        // Every message names and is signed by its author's libp2p key (= the member's identity
        // key), so the transport can attribute relayed messages to their author.
        globalSignaturePolicy: 'StrictSign',
        emitSelf: false,
        floodPublish: true,
        allowedTopics: [topic],
        fastMsgIdFn: authorAndSeqno,
        maxInboundDataLength: limits.messageBytesMax + GOSSIP_RPC_OVERHEAD_BYTES,
      }),
    },
  });

  try {
    for (const p of initialPeers) await libp2p.peerStore.merge(p.peerId, { multiaddrs: p.addrs });
  } catch (err) {
    await libp2p.stop(); // do not leave a listener behind a failed creation
    throw err;
  }

  const dialing = new Set<number>();
  let stopped = false;

  const dialMissing = async (): Promise<void> => {
    for (const index of members.indices()) {
      if (stopped || index === opts.self || dialing.has(index)) continue;
      const peerId = members.peerId(index);
      if (libp2p.getConnections(peerId).length > 0) continue;
      const known = await libp2p.peerStore.get(peerId).catch(() => null);
      if (known === null || known.addresses.length === 0) continue; // it will have to dial us
      dialing.add(index);
      libp2p
        .dial(peerId, { signal: AbortSignal.timeout(limits.dialTimeoutMs) })
        .catch(() => {
          if (!stopped) counters.dialFailures++;
        })
        .finally(() => dialing.delete(index));
    }
  };
  const redial = setInterval(() => void dialMissing(), limits.redialIntervalMs);
  void dialMissing();

  return {
    libp2p,
    cluster: opts.cluster,
    self: opts.self,
    peerId: selfPeerId,
    members,
    limits,
    protocol,
    topic,
    directProtocol: directProtocol(protocol),
    multiaddrs: () => libp2p.getMultiaddrs().map((ma) => ma.toString()),
    async setPeerAddresses(index, addrs) {
      if (index === opts.self) throw new Error('setPeerAddresses: that is this node itself');
      const peerId = members.peerId(index);
      await libp2p.peerStore.patch(peerId, { multiaddrs: parsePeerAddresses(index, peerId, addrs) });
      void dialMissing();
    },
    connectedMembers: () =>
      members
        .indices()
        .filter((i) => i !== opts.self && libp2p.getConnections(members.peerId(i)).length > 0)
        .sort((a, b) => a - b),
    stats: () => ({ ...counters }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(redial);
      await libp2p.stop();
    },
  };
}
