// Four consensus instances for one settlement, wired together in memory: each observes both legs
// locked, the messages they broadcast are handed to the others, and every node decides COMMIT
// with the same threshold report. Timers never fire here (no message is lost). After `pnpm build`:
//   node packages/consensus/examples/four-nodes.mjs
import { randomBytes } from 'node:crypto';
import { SettlementInstance, makeContext } from '@tandem/consensus';
import { TANDEM_BLS_DST, blsSign, blsVerify, combineVerified, dealerKeygen, identityKeygen, identitySign, identityVerify } from '@tandem/crypto';
import { expectedLock, networkIdFromName, quorum, reportDigest, settlementId, toHex } from '@tandem/protocol';

const n = 4;
const dealt = dealerKeygen(n, quorum(n), randomBytes);
const ids = Array.from({ length: n }, () => identityKeygen(randomBytes));
const cluster = {
  networkId: networkIdFromName('example'),
  n,
  t: quorum(n),
  members: ids.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
  commitments: dealt.commitments,
};
const verifier = {
  identity: identityVerify,
  bls: (pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST),
  combine: (commitments, msg, partials, t) => combineVerified(commitments, msg, partials, t, TANDEM_BLS_DST),
};
const terms = {
  nonce: 'example-1',
  asset: { chainId: 31337n, escrow: new Uint8Array(20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 100n },
  payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
  deadlineMs: 10_000,
  reportWindowMs: 30_000,
  marginMs: 10_000,
};
const id = settlementId(terms);
const groupKey = dealt.commitments[0];
// Both legs locked with exactly the terms: what each node reads from the legs.
const view = (leg) => ({ state: 'locked', finalityHeight: 1n, lock: expectedLock(terms, leg, id, groupKey) });

const nodes = ids.map((identity, i) => {
  const signer = { sign: (domain, msg) => identitySign(domain, identity.secretKey, msg), partialSign: (msg) => blsSign(dealt.shares[i].secret, msg) };
  return SettlementInstance.create(makeContext(cluster, i + 1, signer, verifier), terms);
});

// The network: a FIFO of (to, from, message); broadcasts go to every other node.
const queue = [];
const run = (self, effects) => {
  for (const e of effects) {
    if (e.type === 'broadcast') for (let to = 1; to <= n; to++) if (to !== self) queue.push([to, self, e.message]);
    if (e.type === 'send') queue.push([e.to, self, e.message]);
    if (e.type === 'decided') console.log(`n${self} decides ${e.report.decision} in round ${e.report.round}`);
  }
};
nodes.forEach((node, i) => run(i + 1, node.step({ type: 'observe', asset: view('asset'), payment: view('payment'), deadline: false })));
for (let delivered = 0; queue.length > 0 && delivered < 10_000; delivered++) {
  const [to, from, message] = queue.shift();
  run(to, nodes[to - 1].step({ type: 'message', from, message }));
}
const reports = nodes.map((x) => x.report);
console.log(`report signature ${toHex(reports[0].signature).slice(0, 32)}…, the same at every node: ${reports.every((r) => toHex(r.signature) === toHex(reports[0].signature))}`);
console.log(`verifies under the group key: ${blsVerify(groupKey, reportDigest(reports[0]), reports[0].signature, TANDEM_BLS_DST)}`);
