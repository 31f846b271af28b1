// Two members of a four-member cluster on loopback: one broadcasts a message, the other sends one
// back directly. Run from the repository root after a build:
//   pnpm build && node packages/p2p/examples/two-members.mjs
import '@tandem/p2p/polyfill'; // before anything that loads libp2p (here: @tandem/p2p itself)
import { randomBytes } from 'node:crypto';
import { dealerKeygen, identityKeygen } from '@tandem/crypto';
import { networkIdFromName, quorum } from '@tandem/protocol';
import { P2pTransport, createTandemHost } from '@tandem/p2p';

// A cluster file's content, dealt here (`tandem keygen` writes the same thing to cluster.json).
const rb = (n) => new Uint8Array(randomBytes(n));
const n = 4;
const ids = Array.from({ length: n }, () => identityKeygen(rb));
const cluster = {
  networkId: networkIdFromName('example'),
  n,
  t: quorum(n),
  members: ids.map((id, k) => ({ index: k + 1, id: `n${k + 1}`, identityKey: id.publicKey })),
  commitments: dealerKeygen(n, quorum(n), rb).commitments,
};

const reachable = new Set(); // "n1->n2": n1 saw n2 become reachable

async function member(self, peers) {
  const host = await createTandemHost({
    cluster,
    self,
    identitySecretKey: ids[self - 1].secretKey,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    peers,
  });
  const transport = new P2pTransport(host);
  transport.onMessage((from, m) => console.log(`n${self} got a ${m.kind} message from n${from}: nonce ${m.terms.nonce}`));
  transport.onPeerConnected((i) => {
    console.log(`n${self} can reach n${i}`); // a node runtime resends here (node.peerConnected)
    reachable.add(`n${self}->n${i}`);
  });
  await transport.start();
  return { host, transport };
}

const a = await member(1, []);
const b = await member(2, [{ index: 1, multiaddrs: a.host.multiaddrs() }]);
console.log(`n1 is ${a.host.peerId} at ${a.host.multiaddrs().join(' ')}`);

// Broadcasts are best effort: one made before a peer is reachable misses it (the runtime resends
// on onPeerConnected). Wait until each side has seen the other, then talk.
while (!(reachable.has('n1->n2') && reachable.has('n2->n1'))) await new Promise((r) => setTimeout(r, 10));
const terms = (nonce) => ({
  nonce,
  asset: { chainId: 31337n, escrow: new Uint8Array(20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 100n },
  payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
  deadlineMs: Date.now() + 30_000,
  reportWindowMs: 60_000,
  marginMs: 5_000,
});
a.transport.broadcast({ kind: 'terms', terms: terms('hello-by-gossip') });
b.transport.send(1, { kind: 'terms', terms: terms('hello-direct') });
await new Promise((r) => setTimeout(r, 200));

console.log('n1 stats', a.transport.stats());
for (const x of [a, b]) {
  await x.transport.stop();
  await x.host.stop();
}
