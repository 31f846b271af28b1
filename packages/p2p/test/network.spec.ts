/**
 * Real libp2p hosts on 127.0.0.1 (port 0): four members of one cluster, plus strangers and
 * misbehaving members. Every host a test starts is stopped in afterAll or in the test itself.
 */
import '../src/polyfill.js'; // before any libp2p module, as in every entry point
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { MESSAGE_BYTES_MAX, type MessageV2, encodeMessage, encodeMessageV2, toHex } from '@tandem/protocol';
import { encodeFrame } from '../src/frames.js';
import { P2pTransport } from '../src/transport.js';
import { WIRE_V1 } from '../src/wire.js';
import { DIRECT_PROTOCOL, createTandemHost, directProtocol } from '../src/host.js';
import { type Member, type TestCluster, addressesOf, bigProposal, makeCluster, nonceOf, sleep, startMember, termsMessage, waitFor } from './helpers.js';

const N = 4;
let cluster: TestCluster;
let members: Member[] = [];
const m = (i: number): Member => members[i - 1]!;

/** Waits until every member has seen every other one become reachable. */
async function allConnected(): Promise<void> {
  await waitFor('every member reachable from every other', () =>
    members.every((x) => members.every((y) => x === y || x.connected.includes(y.index))),
  );
}

function receivedNonces(x: Member, nonce: string): number {
  return x.received.filter((r) => nonceOf(r.message) === nonce).length;
}

beforeAll(async () => {
  cluster = makeCluster(N);
  // Member k knows the addresses of members 1..k-1 only; each one dials the earlier ones.
  for (let i = 1; i <= N; i++) members.push(await startMember(cluster, i, members.map(addressesOf)));
  await allConnected();
});

afterAll(async () => {
  for (const x of members) await x.stop();
});

describe('identity', () => {
  it('each host runs under the PeerId derived from its cluster-file identity key', async () => {
    for (const x of members) {
      expect(x.host.peerId.toString()).toBe(x.host.libp2p.peerId.toString());
      expect(x.host.members.indexOf(x.host.libp2p.peerId)).toBe(x.index);
    }
  });

  it('refuses a secret key that is not the member’s', async () => {
    await expect(
      createTandemHost({ cluster: cluster.config, self: 1, identitySecretKey: cluster.seeds[1]!, listen: [], peers: [] }),
    ).rejects.toThrow(/not the key of member 1/);
  });

  it('refuses a peer address that names another PeerId', async () => {
    const other = members[1]!.host.multiaddrs()[0]!; // ends in member 2's /p2p/
    await expect(
      createTandemHost({ cluster: cluster.config, self: 1, identitySecretKey: cluster.seeds[0]!, listen: [], peers: [{ index: 3, multiaddrs: [other] }] }),
    ).rejects.toThrow(/names PeerId/);
  });
});

describe('delivery', () => {
  it('a broadcast reaches the three other members as the same message, not the sender', async () => {
    const sent = termsMessage('broadcast-1');
    m(1).transport.broadcast(sent);
    await waitFor('three deliveries', () => [2, 3, 4].every((i) => receivedNonces(m(i), 'broadcast-1') === 1));
    for (const i of [2, 3, 4]) {
      const got = m(i).received.find((r) => nonceOf(r.message) === 'broadcast-1')!;
      expect(got.from).toBe(1);
      expect(got.message).toEqual(sent);
      expect(encodeMessage(got.message)).toEqual(encodeMessage(sent));
    }
    await sleep(50);
    expect(receivedNonces(m(1), 'broadcast-1')).toBe(0);
  });

  it('send(to) reaches exactly that member', async () => {
    m(2).transport.send(3, termsMessage('direct-1'));
    await waitFor('delivery to 3', () => receivedNonces(m(3), 'direct-1') === 1);
    expect(m(3).received.find((r) => nonceOf(r.message) === 'direct-1')!.from).toBe(2);
    await sleep(50);
    for (const i of [1, 2, 4]) expect(receivedNonces(m(i), 'direct-1')).toBe(0);
  });

  it('keeps order and loses nothing when a burst of large direct messages fills the stream buffer', async () => {
    // About 4 MB through one stream: far past yamux's window, so send() returns false and the
    // pump has to wait for drain.
    const count = 40;
    const big = (k: number) => bigProposal(`bulk-${k}`, 50); // about 100 kB each
    expect(encodeMessage(big(0)).length).toBeGreaterThan(90_000);
    for (let k = 0; k < count; k++) m(4).transport.send(1, big(k));
    await waitFor('all bulk messages', () => m(1).received.filter((r) => nonceOf(r.message).startsWith('bulk-')).length === count, 15_000);
    const order = m(1).received.filter((r) => nonceOf(r.message).startsWith('bulk-')).map((r) => Number(nonceOf(r.message).split('-')[1]));
    expect(order).toEqual(Array.from({ length: count }, (_, k) => k));
    expect(m(4).transport.stats().sendFailures).toBe(0);
    expect(m(4).transport.stats().drainWaits).toBeGreaterThan(0);
  });
});

describe('handlers', () => {
  it('counts a handler that throws, and keeps delivering', async () => {
    const errors: unknown[] = [];
    const small = makeCluster(2);
    const a = await startMember(small, 1, [], { onError: (e) => errors.push(e) });
    const b = await startMember(small, 2, [addressesOf(a)]);
    try {
      const good: string[] = [];
      a.transport.onMessage((_from, msg) => {
        if (nonceOf(msg) === 'boom') throw new Error('handler bug');
        good.push(nonceOf(msg));
      });
      b.transport.send(1, termsMessage('boom'));
      b.transport.send(1, termsMessage('fine'));
      await waitFor('the message after the throw', () => good.includes('fine'));
      expect(a.transport.stats().handlerErrors).toBe(1);
      expect(a.transport.stats().delivered).toBe(2);
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('handler bug');
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe('what the transport drops', () => {
  it('drops and counts malformed bytes on the direct stream, then keeps reading', async () => {
    const before = m(1).transport.stats();
    const stream = await m(2).host.libp2p.dialProtocol(m(1).host.peerId, DIRECT_PROTOCOL);
    stream.send(encodeFrame(new Uint8Array([1, 99, 0, 0]))); // version 1, unknown tag
    stream.send(encodeFrame(new Uint8Array(0)));
    stream.send(encodeFrame(encodeMessage(termsMessage('after-garbage'))));
    await waitFor('the valid frame', () => receivedNonces(m(1), 'after-garbage') === 1);
    const after = m(1).transport.stats();
    expect(after.malformed - before.malformed).toBe(2);
    expect(after.delivered - before.delivered).toBe(1);
    await stream.close();
  });

  it('drops and counts malformed gossip from a member, delivering nothing', async () => {
    const before = [2, 3, 4].map((i) => m(i).transport.stats());
    await m(1).host.libp2p.services.pubsub.publish(m(1).host.topic, new Uint8Array([7, 7, 7]));
    await waitFor('malformed counted by 2, 3, 4', () => [2, 3, 4].every((i, k) => m(i).transport.stats().malformed === before[k]!.malformed + 1));
    [2, 3, 4].forEach((i, k) => expect(m(i).transport.stats().delivered).toBe(before[k]!.delivered));
  });

  it('drops an oversize direct frame (resetting that stream) and accepts the next message', async () => {
    const before = m(1).transport.stats();
    const stream = await m(3).host.libp2p.dialProtocol(m(1).host.peerId, DIRECT_PROTOCOL);
    // Only the length prefix is needed: the reader refuses the frame before reading its body.
    const oversize = encodeFrame(new Uint8Array(MESSAGE_BYTES_MAX + 1));
    stream.send(oversize.subarray(0, 64 * 1024));
    await waitFor('oversize counted', () => m(1).transport.stats().oversize === before.oversize + 1);
    await waitFor('the stream reset', () => stream.status !== 'open');
    m(3).transport.send(1, termsMessage('after-oversize'));
    await waitFor('the next message', () => receivedNonces(m(1), 'after-oversize') === 1);
    expect(m(1).transport.stats().delivered).toBe(before.delivered + 1);
  });

  it('drops oversize gossip', async () => {
    const before = m(2).transport.stats();
    await m(1).host.libp2p.services.pubsub.publish(m(1).host.topic, new Uint8Array(MESSAGE_BYTES_MAX + 1));
    await waitFor('oversize counted', () => m(2).transport.stats().oversize === before.oversize + 1);
    expect(m(2).transport.stats().delivered).toBe(before.delivered);
  });

  it('refuses to send a message above the size limit', () => {
    const before = m(1).transport.stats();
    m(1).transport.broadcast(bigProposal('too-big', 1000, 256)); // about 2 MB
    expect(m(1).transport.stats().encodeFailures).toBe(before.encodeFailures + 1);
    expect(m(1).transport.stats().broadcasts).toBe(before.broadcasts);
  });
});

describe('strangers', () => {
  it('a host with a valid libp2p key that is not a member cannot connect, open the direct protocol or publish', async () => {
    // The stranger runs the same code with a cluster file that lists it, so its own gater lets it
    // dial the members; the members' gaters must refuse it.
    const key = await generateKeyPair('Ed25519');
    const strangerCluster = {
      ...cluster.config,
      n: N + 1,
      members: [...cluster.config.members, { index: N + 1, id: `n${N + 1}`, identityKey: key.publicKey.raw }],
    };
    const seed = key.raw.subarray(0, 32);
    const stranger = await createTandemHost({ cluster: strangerCluster, self: N + 1, identitySecretKey: seed, listen: ['/ip4/127.0.0.1/tcp/0'], peers: [] });
    const opened: string[] = [];
    const onOpen = (evt: CustomEvent<Connection>): void => void opened.push(evt.detail.remotePeer.toString());
    m(1).host.libp2p.addEventListener('connection:open', onOpen);
    try {
      const deniedBefore = m(1).host.stats().deniedPeers;
      const deliveredBefore = members.map((x) => x.transport.stats().delivered);
      const target = multiaddr(m(1).host.multiaddrs()[0]!);
      // The stranger's side may report its dial as done for a moment (its muxer selection is
      // optimistic); member 1 refuses right after the Noise handshake and the connection dies.
      const conn = await stranger.libp2p.dial(target, { signal: AbortSignal.timeout(3_000) }).catch(() => null);
      if (conn !== null) await waitFor('the refused connection to be torn down', () => conn.status !== 'open', 3_000);
      await expect(stranger.libp2p.dialProtocol(target, DIRECT_PROTOCOL, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
      expect(m(1).host.stats().deniedPeers).toBeGreaterThanOrEqual(deniedBefore + 2);
      // Member 1 never created a connection for it, so no protocol (identify, gossipsub, direct) ran.
      expect(opened).not.toContain(stranger.peerId.toString());
      expect(m(1).host.libp2p.getConnections(stranger.peerId)).toHaveLength(0);
      stranger.libp2p.services.pubsub.subscribe(stranger.topic);
      await stranger.libp2p.services.pubsub.publish(stranger.topic, encodeMessage(termsMessage('from-stranger')));
      await sleep(100);
      expect(m(1).host.libp2p.services.pubsub.getSubscribers(m(1).host.topic).map(String)).not.toContain(stranger.peerId.toString());
      members.forEach((x, k) => {
        expect(x.transport.stats().delivered).toBe(deliveredBefore[k]);
        expect(receivedNonces(x, 'from-stranger')).toBe(0);
      });
    } finally {
      m(1).host.libp2p.removeEventListener('connection:open', onOpen);
      await stranger.stop();
    }
  });

  it('a member never dials a stranger', async () => {
    const key = await generateKeyPair('Ed25519');
    const strangerId = peerIdFromPrivateKey(key);
    const target = multiaddr(`/ip4/127.0.0.1/tcp/9/p2p/${strangerId.toString()}`);
    await expect(m(1).host.libp2p.dial(target, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow(/gater|denied|blocked/i);
  });
});

describe('fault shim', () => {
  it('drops on receive by author, for broadcasts and direct messages alike', async () => {
    m(2).transport.setLinkFilter((from, to) => (from === 1 && to === 2 ? 'drop' : 'pass'));
    try {
      const filteredBefore = m(2).transport.stats().filtered;
      m(1).transport.broadcast(termsMessage('cut-1'));
      m(1).transport.send(2, termsMessage('cut-2'));
      await waitFor('3 and 4 get the broadcast', () => receivedNonces(m(3), 'cut-1') === 1 && receivedNonces(m(4), 'cut-1') === 1);
      await waitFor('2 filtered both', () => m(2).transport.stats().filtered === filteredBefore + 2);
      expect(receivedNonces(m(2), 'cut-1') + receivedNonces(m(2), 'cut-2')).toBe(0);
    } finally {
      m(2).transport.setLinkFilter(null);
    }
  });

  it('drops direct messages on send', async () => {
    m(1).transport.setLinkFilter((_from, to, stage) => (stage === 'send' && to === 4 ? 'drop' : 'pass'));
    try {
      const sentBefore = m(1).transport.stats().directSent;
      m(1).transport.send(4, termsMessage('cut-3'));
      m(1).transport.send(3, termsMessage('cut-4'));
      await waitFor('3 gets its message', () => receivedNonces(m(3), 'cut-4') === 1);
      expect(m(1).transport.stats().filtered).toBeGreaterThanOrEqual(1);
      expect(m(1).transport.stats().directSent).toBe(sentBefore + 1);
      await sleep(50);
      expect(receivedNonces(m(4), 'cut-3')).toBe(0);
    } finally {
      m(1).transport.setLinkFilter(null);
    }
  });

  it('delays delivery by the verdict’s delayMs', async () => {
    const delayMs = 150;
    m(3).transport.setLinkFilter((from, _to, stage) => (stage === 'receive' && from === 2 ? { delayMs } : 'pass'));
    try {
      const sentAt = performance.now();
      m(2).transport.broadcast(termsMessage('slow-1'));
      m(4).transport.broadcast(termsMessage('fast-1'));
      await waitFor('slow message', () => receivedNonces(m(3), 'slow-1') === 1);
      const slow = m(3).received.find((r) => nonceOf(r.message) === 'slow-1')!;
      const fast = m(3).received.find((r) => nonceOf(r.message) === 'fast-1')!;
      expect(slow.atMs - sentAt).toBeGreaterThanOrEqual(delayMs - 1);
      expect(fast.atMs).toBeLessThan(slow.atMs);
    } finally {
      m(3).transport.setLinkFilter(null);
    }
  });
});

describe('rate limit', () => {
  it('drops messages beyond a member’s bucket and counts them', async () => {
    const small = makeCluster(2);
    const limits = { ratePerSecond: 1, rateBurst: 5 };
    const a = await startMember(small, 1, [], { limits });
    const b = await startMember(small, 2, [addressesOf(a)], { limits });
    try {
      await waitFor('connected', () => a.connected.includes(2));
      const count = 20;
      for (let k = 0; k < count; k++) b.transport.send(1, termsMessage(`rate-${k}`));
      await waitFor('all accounted for', () => a.transport.stats().delivered + a.transport.stats().rateLimited === count);
      const { delivered, rateLimited } = a.transport.stats();
      // The burst, plus at most one token refilled while the 20 arrived.
      expect(delivered).toBeGreaterThanOrEqual(5);
      expect(delivered).toBeLessThanOrEqual(6);
      expect(rateLimited).toBe(count - delivered);
      expect(a.received.map((r) => nonceOf(r.message)).slice(0, 5)).toEqual(['rate-0', 'rate-1', 'rate-2', 'rate-3', 'rate-4']);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe('reconnect', () => {
  it('fires onPeerConnected again when a member restarts, and traffic flows both ways', async () => {
    // Member 1 learns every address so that it, too, redials.
    for (const x of members.slice(1)) await m(1).host.setPeerAddresses(x.index, x.host.multiaddrs());
    const listen = m(4).host.multiaddrs()[0]!.replace(/\/p2p\/.*$/, '');
    const connectsBefore = m(1).connected.filter((i) => i === 4).length;
    // Like the runtime, member 1 broadcasts from its handler: that broadcast must reach the member
    // that just came back (the handler waits for the gossip stream to be open).
    const m1 = m(1);
    m1.transport.onPeerConnected((i) => {
      m1.connected.push(i);
      if (i === 4) m1.transport.broadcast(termsMessage('hello-on-connect'));
    });
    await m(4).stop();
    await waitFor('1 sees 4 gone', () => !m(1).host.connectedMembers().includes(4));

    members[3] = await startMember(cluster, 4, members.slice(0, 3).map(addressesOf), { listen });
    await waitFor('1 sees 4 reachable again', () => m(1).connected.filter((i) => i === 4).length === connectsBefore + 1, 10_000);
    await waitFor('4 sees 1, 2, 3', () => [1, 2, 3].every((i) => m(4).connected.includes(i)), 10_000);

    m(1).transport.send(4, termsMessage('after-restart-direct'));
    m(4).transport.broadcast(termsMessage('after-restart-gossip'));
    await waitFor('direct to the restarted member', () => receivedNonces(m(4), 'after-restart-direct') === 1);
    await waitFor('gossip from the restarted member', () => [1, 2, 3].every((i) => receivedNonces(m(i), 'after-restart-gossip') === 1));
    await waitFor('the broadcast made on reconnect', () => receivedNonces(m(4), 'hello-on-connect') >= 1);
  });
});

describe('protocol v2', () => {
  /** An empty v2 bundle from `signer` whose time tells it apart (signatures are consensus's to check). */
  const bundle = (signer: number, timeMs: number): MessageV2 => ({
    kind: 'bundle',
    bundle: { header: { networkId: cluster.config.networkId, configDigest: new Uint8Array(32).fill(9), signer, timeMs, count: 0, root: new Uint8Array(32).fill(8), signature: new Uint8Array(64).fill(7) }, entries: [] },
  });

  it('carries v2 messages between members on the v2 topic and direct protocol, apart from v1', async () => {
    const small = makeCluster(3);
    const a = await startMember<MessageV2>(small, 1, [], { protocol: 2 });
    const b = await startMember<MessageV2>(small, 2, [addressesOf(a)], { protocol: 2 });
    // Member 3 runs v1 on the same network: it must see none of the v2 traffic, nor send into it.
    const c = await startMember(small, 3, [addressesOf(a), addressesOf(b)]);
    try {
      expect(a.host.topic).toBe(`/tandem/2/${toHex(small.config.networkId)}/msgs`);
      expect(a.host.directProtocol).toBe(directProtocol(2));
      // A transport never decodes one version's bytes with the other's codec.
      expect(() => new P2pTransport(a.host, { codec: WIRE_V1 })).toThrow(/a wire version 1 codec on a host speaking version 2/);
      await waitFor('a and b reachable', () => a.connected.includes(2) && b.connected.includes(1));
      const sent = bundle(1, 1_000);
      a.transport.broadcast(sent);
      b.transport.send(1, { kind: 'catch-up', fromHeight: 5, count: 3 });
      await waitFor('the bundle at b', () => b.received.length === 1);
      await waitFor('the catch-up at a', () => a.received.length === 1);
      expect(b.received[0]!.from).toBe(1);
      expect(encodeMessageV2(b.received[0]!.message)).toEqual(encodeMessageV2(sent));
      expect(a.received[0]).toMatchObject({ from: 2, message: { kind: 'catch-up', fromHeight: 5, count: 3 } });
      // The v1 member cannot open the v2 direct protocol, and its v1 messages never reach a v2 handler.
      c.transport.send(1, termsMessage('v1-to-v2'));
      c.transport.broadcast(termsMessage('v1-broadcast'));
      await waitFor('the v1 send failed', () => c.transport.stats().sendFailures === 1, 10_000);
      await sleep(100);
      expect(c.received).toHaveLength(0);
      expect(a.received).toHaveLength(1);
      expect(b.received).toHaveLength(1);
    } finally {
      for (const x of [c, b, a]) await x.stop();
    }
  });

  it('drops v1 bytes arriving on the v2 direct protocol as malformed', async () => {
    const small = makeCluster(2);
    const a = await startMember<MessageV2>(small, 1, [], { protocol: 2 });
    const b = await startMember<MessageV2>(small, 2, [addressesOf(a)], { protocol: 2 });
    try {
      await waitFor('connected', () => a.connected.includes(2));
      const stream = await b.host.libp2p.dialProtocol(a.host.peerId, directProtocol(2));
      stream.send(encodeFrame(encodeMessage(termsMessage('v1-bytes'))));
      stream.send(encodeFrame(encodeMessageV2(bundle(2, 2_000))));
      await waitFor('the v2 frame', () => a.received.length === 1);
      expect(a.transport.stats().malformed).toBe(1);
      expect(a.received[0]!.message.kind).toBe('bundle');
      await stream.close();
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it('a stranger cannot open the v2 direct protocol or publish on the v2 topic', async () => {
    const small = makeCluster(2);
    const a = await startMember<MessageV2>(small, 1, [], { protocol: 2 });
    const key = await generateKeyPair('Ed25519');
    const strangerCluster = { ...small.config, n: 3, members: [...small.config.members, { index: 3, id: 'n3', identityKey: key.publicKey.raw }] };
    const stranger = await createTandemHost({ cluster: strangerCluster, self: 3, identitySecretKey: key.raw.subarray(0, 32), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], protocol: 2 });
    try {
      const deniedBefore = a.host.stats().deniedPeers;
      const target = multiaddr(a.host.multiaddrs()[0]!);
      await expect(stranger.libp2p.dialProtocol(target, directProtocol(2), { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();
      expect(a.host.stats().deniedPeers).toBeGreaterThan(deniedBefore);
      stranger.libp2p.services.pubsub.subscribe(stranger.topic);
      await stranger.libp2p.services.pubsub.publish(stranger.topic, encodeMessageV2(bundle(3, 3_000)));
      await sleep(100);
      expect(a.host.libp2p.getConnections(stranger.peerId)).toHaveLength(0);
      expect(a.received).toHaveLength(0);
      expect(a.transport.stats().delivered).toBe(0);
    } finally {
      await stranger.stop();
      await a.stop();
    }
  });
});
