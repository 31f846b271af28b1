/**
 * The node runtime's Transport over libp2p: broadcasts on the network's gossipsub topic, sends to
 * one member on a direct length-prefixed stream, and hands received messages to the runtime only
 * after they pass, in this order: the size limit, membership of the sender, the sender's rate
 * limit, decoding, and the link filter (the fault shim). Signatures inside messages are not checked
 * here: consensus checks every one of them against the member it names. It carries the messages of
 * the host's wire version (wire.ts): `P2pTransport` for v1 (the `Transport` port), and
 * `P2pTransport<MessageV2>` on a host made with `protocol: 2` (the `TransportV2` port).
 */
import './polyfill.js';
import { type GossipSub, type Message as GossipMessage, type SubscriptionChangeData, TopicValidatorResult } from '@libp2p/gossipsub';
import type { Connection, PeerId, Stream, StreamMessageEvent } from '@libp2p/interface';
import type { Message, MessageV2 } from '@tandem/protocol';
import { FrameDecoder, encodeFrame } from './frames.js';
import type { TandemHost } from './host.js';
import { PeerRateLimiter } from './rate-limit.js';
import { type WireCodec, wireCodec } from './wire.js';

/** Where a link filter is consulted: before a direct send, and before delivering what arrived. */
export type LinkStage = 'send' | 'receive';
/** `pass`, `drop`, or pass after an extra delay. */
export type LinkVerdict = 'pass' | 'drop' | { readonly delayMs: number };
/**
 * The fault shim for cluster-mode scenarios, called once per message at each stage: on `send`
 * with (self, to) for a direct message, on `receive` with (author, self) for every message that
 * passed the other checks. Broadcasts are filtered on receive only: gossip fans out through
 * relays, so only the receiver knows which link (author → itself) a copy crossed. A runner that
 * installs one filter on every node should act on one stage for probabilistic drops and delays
 * (else a direct message meets them twice); deterministic cuts (partition, isolate) can ignore it.
 */
export type LinkFilter = (from: number, to: number, stage: LinkStage) => LinkVerdict;

export type MessageHandler<M = Message> = (from: number, message: M) => void;
export type PeerConnectedHandler = (index: number) => void;

/** Counters since the transport was created. Every message dropped anywhere is counted once. */
export interface TransportStats {
  /** Broadcasts handed to gossipsub. */
  broadcasts: number;
  /** Direct frames written to a stream. */
  directSent: number;
  /** Times a direct write found the stream's buffer full and waited for it to drain. */
  drainWaits: number;
  /** Messages handed to the message handler. */
  delivered: number;
  /** Received messages larger than messageBytesMax (a direct stream carrying one is reset). */
  oversize: number;
  /** Received bytes that did not decode (DecodeError). */
  malformed: number;
  /** Received messages whose author is not a member (or unsigned gossip). */
  notMember: number;
  /** Our own broadcasts relayed back to us (never delivered: broadcast skips the sender). */
  ownEchoes: number;
  /** Received messages beyond the author's rate limit. */
  rateLimited: number;
  /** Messages dropped by the link filter (send or receive). */
  filtered: number;
  /** Messages a link filter delayed that were dropped because delayedMax were already held. */
  delayedDrops: number;
  /** Direct messages dropped because the peer's send queue was full (the oldest goes). */
  sendQueueDrops: number;
  /** Direct messages lost because no stream could be opened or a write failed or timed out. */
  sendFailures: number;
  /** Broadcasts gossipsub refused. */
  publishFailures: number;
  /** Messages that could not be encoded (too large); never sent. */
  encodeFailures: number;
  /** Messages received before a message handler was set. */
  noHandler: number;
  /** Exceptions thrown by the message or peer-connected handler (also passed to onError). */
  handlerErrors: number;
}

function zeroStats(): TransportStats {
  return {
    broadcasts: 0, directSent: 0, drainWaits: 0, delivered: 0, oversize: 0, malformed: 0, notMember: 0, ownEchoes: 0, rateLimited: 0,
    filtered: 0, delayedDrops: 0, sendQueueDrops: 0, sendFailures: 0, publishFailures: 0, encodeFailures: 0, noHandler: 0,
    handlerErrors: 0,
  };
}

export interface P2pTransportOptions<M = Message> {
  /**
   * The codec of the host's wire version; by default the one `host.protocol` names (give it only
   * to type a transport whose message type the compiler cannot infer). Must match the host.
   */
  readonly codec?: WireCodec<M>;
  /** Errors thrown by handlers, and unexpected failures; by default they are only counted. */
  readonly onError?: (err: unknown) => void;
  /** Clock for the rate limiter, in ms (default performance.now). */
  readonly nowMs?: () => number;
}

/** How often a newly subscribed peer is checked for a ready gossip stream. */
const READY_POLL_MS = 10;

/** Direct messages waiting for one peer, and the stream they go out on. */
interface Outbox {
  readonly index: number;
  readonly peerId: PeerId;
  readonly queue: Uint8Array[];
  stream: Stream | null;
  pumping: boolean;
}

/**
 * The decoded message keeps views of its input for as long as the runtime holds it: decode from a
 * plain Uint8Array that is exactly the message (a direct frame already is), never from a view into
 * a larger pooled Buffer of libp2p's.
 */
function ownBytes(b: Uint8Array): Uint8Array {
  const exact = Object.getPrototypeOf(b) === Uint8Array.prototype && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
  return exact ? b : new Uint8Array(b);
}

type Admission<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly reject: boolean };

export class P2pTransport<M extends Message | MessageV2 = Message> {
  private readonly counters = zeroStats();
  private readonly limiter: PeerRateLimiter;
  private readonly outboxes = new Map<number, Outbox>();
  /** Gossip messages that passed validation, waiting for gossipsub's 'message' event. */
  private readonly validated = new WeakMap<GossipMessage, { readonly from: number; readonly message: M }>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly awaitingReady = new Set<number>();
  private messageHandler: MessageHandler<M> | null = null;
  private peerConnectedHandler: PeerConnectedHandler | null = null;
  private linkFilter: LinkFilter | null = null;
  private delayedCount = 0;
  private started = false;
  private stopped = false;
  private readonly nowMs: () => number;
  private readonly codec: WireCodec<M>;

  constructor(
    private readonly host: TandemHost,
    private readonly options: P2pTransportOptions<M> = {},
  ) {
    // The default codec is the host's: M is the caller's promise about it, checked where it can be.
    this.codec = options.codec ?? (wireCodec(host.protocol) as unknown as WireCodec<M>);
    if (this.codec.version !== host.protocol) throw new RangeError(`a wire version ${this.codec.version} codec on a host speaking version ${host.protocol}`);
    this.limiter = new PeerRateLimiter(host.limits.ratePerSecond, host.limits.rateBurst);
    this.nowMs = options.nowMs ?? (() => performance.now());
  }

  private get pubsub(): GossipSub {
    return this.host.libp2p.services.pubsub;
  }

  // ---------------------------------------------------------------------------------------------
  // Wiring

  /** Sets the handler for admitted messages (`node.receive`). Replaces any earlier one. */
  onMessage(handler: MessageHandler<M>): void {
    this.messageHandler = handler;
  }

  /**
   * Sets the handler called when a member becomes reachable (`node.peerConnected`): it is
   * connected, subscribed to the topic, and our gossip stream to it is open, so a broadcast made
   * from the handler reaches it. Called again after every reconnect.
   */
  onPeerConnected(handler: PeerConnectedHandler): void {
    this.peerConnectedHandler = handler;
  }

  /** Installs (or with null removes) the fault shim. */
  setLinkFilter(filter: LinkFilter | null): void {
    this.linkFilter = filter;
  }

  /**
   * Starts receiving: handles the direct protocol, validates and subscribes to the topic, and
   * reports the members that are already reachable. Set the handlers first.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { libp2p, topic, limits } = this.host;
    await libp2p.handle(this.host.directProtocol, (stream, connection) => this.readDirect(stream, connection), {
      maxInboundStreams: limits.directStreamsMax,
      maxOutboundStreams: limits.directStreamsMax,
    });
    this.pubsub.topicValidators.set(topic, this.validateGossip);
    this.pubsub.addEventListener('message', this.onGossip);
    this.pubsub.addEventListener('subscription-change', this.onSubscriptionChange);
    libp2p.addEventListener('peer:disconnect', this.onPeerDisconnect);
    // A host stopped first (a crash path) must not leave timers that call handlers later.
    libp2p.addEventListener('stop', () => void this.stop(), { once: true });
    this.pubsub.subscribe(topic);
    for (const peer of this.pubsub.getSubscribers(topic)) this.whenReady(peer);
  }

  /**
   * Stops sending and delivering; pending delays are cancelled. Call before host.stop() (stopping
   * the host first also stops the transport, without the clean unsubscribe).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.started) return;
    const { libp2p, topic } = this.host;
    this.pubsub.removeEventListener('message', this.onGossip);
    this.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange);
    libp2p.removeEventListener('peer:disconnect', this.onPeerDisconnect);
    this.pubsub.topicValidators.delete(topic);
    for (const o of this.outboxes.values()) {
      o.queue.length = 0;
      o.stream?.abort(new Error('transport stopped'));
      o.stream = null;
    }
    if (libp2p.status === 'started') {
      this.pubsub.unsubscribe(topic);
      await libp2p.unhandle(this.host.directProtocol);
    }
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  broadcast(message: M): void {
    if (this.stopped) return;
    const bytes = this.encode(message);
    if (bytes === null) return;
    this.counters.broadcasts++;
    this.pubsub.publish(this.host.topic, bytes).catch((err: unknown) => {
      this.counters.publishFailures++;
      this.options.onError?.(err);
    });
  }

  send(to: number, message: M): void {
    if (this.stopped) return;
    if (to === this.host.self) throw new RangeError('send: a node does not send to itself');
    const peerId = this.host.members.peerId(to); // throws for a non-member index: a caller bug
    const bytes = this.encode(message);
    if (bytes === null) return;
    this.throughFilter(this.host.self, to, 'send', () => this.enqueue(to, peerId, bytes));
  }

  private encode(message: M): Uint8Array | null {
    try {
      const bytes = this.codec.encode(message);
      if (bytes.length <= this.host.limits.messageBytesMax) return bytes;
    } catch (err) {
      this.options.onError?.(err);
    }
    this.counters.encodeFailures++;
    return null;
  }

  private enqueue(to: number, peerId: PeerId, bytes: Uint8Array): void {
    if (this.stopped) return;
    let o = this.outboxes.get(to);
    if (o === undefined) {
      o = { index: to, peerId, queue: [], stream: null, pumping: false };
      this.outboxes.set(to, o);
    }
    if (o.queue.length >= this.host.limits.sendQueueMax) {
      o.queue.shift(); // newer messages supersede older ones (resends repeat the latest state)
      this.counters.sendQueueDrops++;
    }
    o.queue.push(encodeFrame(bytes));
    if (!o.pumping) void this.pump(o);
  }

  /** Writes queued frames in order, one stream per peer, waiting for drain when the buffer is full. */
  private async pump(o: Outbox): Promise<void> {
    o.pumping = true;
    try {
      for (let frame = o.queue.shift(); frame !== undefined && !this.stopped; frame = o.queue.shift()) {
        let stream: Stream;
        try {
          stream = await this.openStream(o);
        } catch {
          // The peer is unreachable: what waits for it is stale by the time it is back, and the
          // runtime resends on reconnect (docs/protocol.md, Delivery). Drop it all rather than retry per frame.
          this.counters.sendFailures += 1 + o.queue.length;
          o.queue.length = 0;
          return;
        }
        try {
          if (!stream.send(frame)) {
            // The frame is buffered; wait before adding more, so a slow reader bounds our memory.
            this.counters.drainWaits++;
            await stream.onDrain({ signal: AbortSignal.timeout(this.host.limits.sendTimeoutMs) });
          }
          this.counters.directSent++;
        } catch (err) {
          this.counters.sendFailures++;
          stream.abort(err instanceof Error ? err : new Error(String(err)));
          if (o.stream === stream) o.stream = null;
        }
      }
    } finally {
      o.pumping = false;
    }
  }

  private async openStream(o: Outbox): Promise<Stream> {
    const s = o.stream;
    // Reusable while both our writing end and the remote's reading end are open (a remote that
    // closed its reading end discards what we write).
    if (s !== null && s.status === 'open' && s.writeStatus === 'writable' && s.remoteReadStatus === 'readable') return s;
    o.stream = null;
    const stream = await this.host.libp2p.dialProtocol(o.peerId, this.host.directProtocol, {
      signal: AbortSignal.timeout(this.host.limits.dialTimeoutMs),
    });
    stream.addEventListener('close', () => {
      if (o.stream === stream) o.stream = null;
    });
    o.stream = stream;
    return stream;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Size, membership, rate and decoding, in that order (cheapest first); counts what it drops. */
  private admit(from: number | null, bytes: Uint8Array): Admission<M> {
    if (bytes.length > this.host.limits.messageBytesMax) {
      this.counters.oversize++;
      return { ok: false, reject: true };
    }
    if (from === null) {
      this.counters.notMember++;
      return { ok: false, reject: true };
    }
    if (from === this.host.self) {
      this.counters.ownEchoes++;
      return { ok: false, reject: false };
    }
    if (!this.limiter.allow(from, this.nowMs())) {
      this.counters.rateLimited++;
      return { ok: false, reject: false }; // a burst is not malice: ignore without penalty
    }
    try {
      return { ok: true, message: this.codec.decode(ownBytes(bytes)) };
    } catch {
      this.counters.malformed++;
      return { ok: false, reject: true };
    }
  }

  /**
   * gossipsub's topic validator: runs once per new message (duplicates are filtered before it),
   * before the message is delivered or forwarded, so a rejected message goes no further.
   */
  private readonly validateGossip = (_source: PeerId, msg: GossipMessage): TopicValidatorResult => {
    if (this.stopped) return TopicValidatorResult.Ignore;
    const from = msg.type === 'signed' ? this.host.members.indexOf(msg.from) : null;
    const a = this.admit(from, msg.data);
    if (a.ok) {
      this.validated.set(msg, { from: from!, message: a.message });
      return TopicValidatorResult.Accept;
    }
    return a.reject ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore;
  };

  private readonly onGossip = (evt: CustomEvent<GossipMessage>): void => {
    const v = this.validated.get(evt.detail);
    if (v === undefined) return; // another topic, or not validated by us
    this.validated.delete(evt.detail);
    this.deliver(v.from, v.message);
  };

  /**
   * Reads frames from one inbound direct stream, synchronously in its 'message' listener: each
   * frame is checked and delivered before the next bytes are taken, so a fast sender is held back
   * by the muxer's flow control instead of filling a buffer here.
   */
  private readDirect(stream: Stream, connection: Connection): void {
    const from = this.host.members.indexOf(connection.remotePeer);
    if (from === null) {
      // The gater keeps strangers out; this is a second lock on the same door.
      this.counters.notMember++;
      stream.abort(new Error('not a cluster member'));
      return;
    }
    const decoder = new FrameDecoder(this.host.limits.messageBytesMax, (frame) => {
      const a = this.admit(from, frame);
      if (a.ok) this.deliver(from, a.message);
    });
    const onData = (evt: StreamMessageEvent): void => {
      const chunks = evt.data instanceof Uint8Array ? [evt.data] : evt.data;
      for (const chunk of chunks) {
        if (this.stopped || stream.status !== 'open') return;
        if (!decoder.push(chunk)) {
          // The frame cannot be skipped without reading it: reset the stream. The sender's next
          // message opens a new one.
          this.counters.oversize++;
          stream.abort(new Error(`frame above ${this.host.limits.messageBytesMax} bytes`));
          return;
        }
      }
    };
    stream.addEventListener('message', onData);
    // The sender closed its end: close ours too, so the stream does not count against the limit.
    stream.addEventListener('remoteCloseWrite', () => void stream.close().catch(() => {}), { once: true });
    stream.addEventListener('close', () => stream.removeEventListener('message', onData), { once: true });
  }

  private deliver(from: number, message: M): void {
    this.throughFilter(from, this.host.self, 'receive', () => {
      const handler = this.messageHandler;
      if (handler === null) {
        this.counters.noHandler++;
        return;
      }
      this.counters.delivered++;
      this.callHandler(() => handler(from, message));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Fault shim

  private throughFilter(from: number, to: number, stage: LinkStage, pass: () => void): void {
    const filter = this.linkFilter;
    const verdict: LinkVerdict = filter === null ? 'pass' : filter(from, to, stage);
    if (verdict === 'pass') return pass();
    if (verdict === 'drop') {
      this.counters.filtered++;
      return;
    }
    if (this.delayedCount >= this.host.limits.delayedMax) {
      this.counters.delayedDrops++;
      return;
    }
    this.delayedCount++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.delayedCount--;
      if (!this.stopped) pass();
    }, Math.max(0, verdict.delayMs));
    this.timers.add(t);
  }

  // ---------------------------------------------------------------------------------------------
  // Peers

  private readonly onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    if (evt.detail.subscriptions.some((s) => s.subscribe && s.topic === this.host.topic)) this.whenReady(evt.detail.peerId);
  };

  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => {
    const index = this.host.members.indexOf(evt.detail);
    const o = index === null ? undefined : this.outboxes.get(index);
    if (o !== undefined) o.stream = null; // its connection is gone; the next send opens a new one
  };

  /**
   * Calls the peer-connected handler once our gossip stream to `peer` is open: its subscription
   * can arrive before our own outbound stream to it is negotiated, and a broadcast made in between
   * would skip it. Polls every READY_POLL_MS, at most for dialTimeoutMs; after that it calls the
   * handler anyway (direct sends do not need the gossip stream, and resends repeat broadcasts).
   */
  private whenReady(peer: PeerId): void {
    const index = this.host.members.indexOf(peer);
    if (index === null || index === this.host.self || this.awaitingReady.has(index) || this.stopped) return;
    this.awaitingReady.add(index);
    let pollsLeft = Math.ceil(this.host.limits.dialTimeoutMs / READY_POLL_MS);
    const check = (): void => {
      if (this.stopped) return;
      if (this.gossipStreamOpen(peer) || pollsLeft-- <= 0) {
        this.awaitingReady.delete(index);
        const handler = this.peerConnectedHandler;
        if (handler !== null) this.callHandler(() => handler(index));
        return;
      }
      const t = setTimeout(() => {
        this.timers.delete(t);
        check();
      }, READY_POLL_MS);
      this.timers.add(t);
    };
    check();
  }

  /**
   * Whether gossipsub holds an outbound stream to `peer`. `streamsOutbound` is a public field of
   * gossipsub's class, though not of its interface; without it we assume the stream is open.
   */
  private gossipStreamOpen(peer: PeerId): boolean {
    const outbound = (this.pubsub as unknown as { streamsOutbound?: Map<string, unknown> }).streamsOutbound;
    return outbound === undefined || outbound.has(peer.toString());
  }

  private callHandler(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.counters.handlerErrors++;
      this.options.onError?.(err);
    }
  }
}
