import { describe, expect, it } from 'vitest';
import { equalBytes } from '@tandem/protocol';
import { DEFAULT_PARAMS, HeightInstance } from '../src/index.js';
import { type Fixture, makeFixture } from './harness.js';
import {
  HeightNet,
  decidedVerifies,
  digestHex,
  forgeProposal2,
  forgeVote2,
  fromMember,
  heightContext,
  makeBatch,
  PortsState,
  proposal2Msg,
  proposerAt,
  signedVotes2,
  thresholdDecided,
  vote2Msg,
  votedFor,
} from './v2-height-harness.js';

const fx = makeFixture();

describe('a v2 height', () => {
  it('decides with four honest instances, in round 0, on the proposer’s batch, with a report valid under the group key', () => {
    const net = new HeightNet(fx);
    net.startAll();
    net.run();
    const proposer = proposerAt(fx, 1, 0);
    expect(proposer).toBe(2);
    expect(net.decidedDigests()).toEqual(fx.members.map(() => digestHex(makeBatch(proposer))));
    for (const node of net.nodes) {
      const b = node.decidedBatch!;
      expect([b.report.height, b.report.round]).toEqual([1, 0]);
      expect(decidedVerifies(fx, b)).toBe(true);
      expect(b.entries).toEqual(makeBatch(proposer).entries);
    }
  });

  it('decides with one non-proposer crashed', () => {
    const net = new HeightNet(fx);
    net.down.add(4);
    net.startAll();
    net.run();
    expect(net.decidedDigests().slice(0, 3)).toEqual([1, 2, 3].map(() => digestHex(makeBatch(2))));
    expect(net.node(4).decided).toBe(false);
  });

  it('moves to round 1 after the crashed proposer’s timeout and decides the next proposer’s batch', () => {
    const net = new HeightNet(fx);
    net.down.add(2);
    net.startAll();
    net.run();
    const next = proposerAt(fx, 1, 1);
    expect(next).toBe(3);
    for (const m of [1, 3, 4]) {
      expect(net.node(m).decidedBatch!.report.round).toBe(1);
      expect(net.decidedDigests()[m - 1]).toBe(digestHex(makeBatch(next)));
    }
  });

  it('survives an equivocating proposer: the equivocation is recorded and every correct node decides one batch', () => {
    const net = new HeightNet(fx);
    net.down.add(2); // Byzantine: it sends only what the test forges
    const a = makeBatch(20);
    const b = makeBatch(21);
    net.input(1, fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a))));
    net.input(3, fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, b))));
    net.input(4, fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, b))));
    net.input(4, fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a))));
    expect(net.node(4).misbehaviour.some((m) => m.kind === 'equivocation' && m.member === 2 && m.step === 'proposal')).toBe(true);
    net.startAll();
    net.run();
    const decided = [1, 3, 4].map((m) => net.decidedDigests()[m - 1]);
    expect(decided[0]).not.toBeNull();
    expect(new Set(decided).size).toBe(1);
  });

  it('does not count a precommit whose partial is bad: it is named as evidence and left out of the combine', () => {
    const ports = new PortsState();
    const node = HeightInstance.create(heightContext(fx, 1, ports), 1);
    const a = makeBatch(30);
    const prevote = signedVotes2(node.step(fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a)))), 'prevote');
    expect(prevote.map(votedFor)).toEqual([digestHex(a)]);
    const wrongPartial = forgeVote2(fx, 4, 1, 'precommit', a).partial!; // a partial over another round's digest
    for (const m of [2, 3]) node.step(fromMember(m, vote2Msg(forgeVote2(fx, m, 0, 'precommit', a))));
    node.step(fromMember(4, vote2Msg(forgeVote2(fx, 4, 0, 'precommit', a, { partial: wrongPartial }))));
    expect(node.decided).toBe(false);
    expect(node.misbehaviour).toContainEqual({ kind: 'bad-partial', member: 4, round: 0, value: digestHex(a) });
    // Its own precommit (after a polka) is the third good partial: now it decides.
    for (const m of [2, 3]) node.step(fromMember(m, vote2Msg(forgeVote2(fx, m, 0, 'prevote', a))));
    expect(node.decided).toBe(true);
    expect(decidedVerifies(fx, node.decidedBatch!)).toBe(true);
  });

  it('never combines partials across rounds', () => {
    const node = HeightInstance.create(heightContext(fx, 1, new PortsState()), 1);
    const a = makeBatch(31);
    node.step(fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a))));
    node.step(fromMember(2, vote2Msg(forgeVote2(fx, 2, 0, 'precommit', a))));
    node.step(fromMember(3, vote2Msg(forgeVote2(fx, 3, 1, 'precommit', a))));
    node.step(fromMember(4, vote2Msg(forgeVote2(fx, 4, 1, 'precommit', a))));
    expect(node.decided).toBe(false);
    expect(node.misbehaviour).toEqual([]);
  });

  it('decides a lagging instance from a report v2 with its entries, and refuses a forged or mismatched one', () => {
    const net = new HeightNet(fx);
    net.link = (from, to) => from !== 4 && to !== 4;
    net.startAll();
    net.run(() => [1, 2, 3].every((m) => net.node(m).decided));
    expect(net.node(4).decided).toBe(false);
    const batch = net.node(1).decidedBatch!;
    const tampered = { ...batch, entries: makeBatch(99).entries };
    net.input(4, fromMember(1, { kind: 'decided', batch: tampered }));
    const badSig = { ...batch, report: { ...batch.report, signature: thresholdDecided(fx, 5, makeBatch(2)).report.signature } };
    net.input(4, fromMember(1, { kind: 'decided', batch: badSig }));
    expect(net.node(4).decided).toBe(false);
    expect(net.node(4).misbehaviour.map((m) => m.kind)).toEqual(['bad-signature', 'bad-signature']);
    net.input(4, fromMember(1, { kind: 'decided', batch }));
    expect(net.node(4).decided).toBe(true);
    expect(equalBytes(net.node(4).decidedBatch!.report.signature, batch.report.signature)).toBe(true);
  });

  it('answers a message of its height with the decided batch once decided', () => {
    const node = HeightInstance.create(heightContext(fx, 1, new PortsState()), 1);
    const batch = thresholdDecided(fx, 0, makeBatch(40));
    node.step(fromMember(3, { kind: 'decided', batch }));
    const out = node.step(fromMember(3, vote2Msg(forgeVote2(fx, 3, 0, 'prevote', null))));
    expect(out).toEqual([{ type: 'send', to: 3, message: { kind: 'decided', batch } }]);
  });

  it('re-sends its latest proposal, prevote and precommit of the current round on resend', () => {
    const net = new HeightNet(fx);
    net.down.add(3);
    net.down.add(4); // no quorum: node 2 stays in round 0 after its proposal and votes
    net.startAll();
    net.deliver();
    const out = net.input(2, { type: 'resend' });
    const kinds = out.filter((e) => e.type === 'broadcast').map((e) => (e.type === 'broadcast' && e.message.kind === 'vote2' ? e.message.vote.step : e.type === 'broadcast' ? e.message.kind : ''));
    expect(kinds).toEqual(['proposal2', 'prevote']);
    expect(out.filter((e) => e.type === 'signed')).toEqual([]);
  });
});

const a = makeBatch(50);
const b = makeBatch(51);

/** Node 1, locked on `a` in round 0 (proposal from 2, prevotes from 2 and 3, its own prevote). */
function lockedNode(f: Fixture, ports: PortsState = new PortsState()): HeightInstance {
  const node = HeightInstance.create(heightContext(f, 1, ports), 1);
  node.step(fromMember(2, proposal2Msg(forgeProposal2(f, 2, 0, a))));
  for (const m of [2, 3]) node.step(fromMember(m, vote2Msg(forgeVote2(f, m, 0, 'prevote', a))));
  expect([node.lockedValue, node.lockedRound]).toEqual([digestHex(a), 0]);
  return node;
}

/**
 * Brings node 1 into `round` (two other members' nil precommits there: the f+1 skip), then hands it
 * the round's proposal of `batch`; returns what it prevoted in that round.
 */
function enterRound(f: Fixture, node: HeightInstance, round: number, batch: typeof a, validRound = -1): (string | null)[] {
  const proposer = ((1 + round) % f.n) + 1;
  const out = f.members
    .filter((m) => m !== 1 && m !== proposer)
    .slice(0, f.f + 1)
    .flatMap((m) => node.step(fromMember(m, vote2Msg(forgeVote2(f, m, round, 'precommit', null)))));
  expect(node.round).toBe(round);
  const polka = validRound < 0 ? [] : [2, 3, 4].map((m) => forgeVote2(f, m, validRound, 'prevote', batch));
  out.push(...node.step(fromMember(proposer, proposal2Msg(forgeProposal2(f, proposer, round, batch, validRound, polka)))));
  return signedVotes2(out, 'prevote').map(votedFor);
}

/** What a node locked on `a` prevotes in round 1 (fresh `b`) and round 2 (`b` re-proposed with its round-1 polka). */
function lockScenario(f: Fixture): { round1: (string | null)[]; round2: (string | null)[] } {
  const node = lockedNode(f);
  return { round1: enterRound(f, node, 1, b), round2: enterRound(f, node, 2, b, 1) };
}

describe('v2 height locks', () => {
  it('a locked node prevotes nil on another fresh header, and that header after a later polka for it', () => {
    expect(lockScenario(fx)).toEqual({ round1: [null], round2: [digestHex(b)] });
  });

  it('the same scenario with the lock rule removed prevotes the other header: the test above sees the lock', () => {
    const broken = makeFixture({ params: { ...DEFAULT_PARAMS, mutationForTesting: 'ignore-lock' } });
    expect(lockScenario(broken).round1).toEqual([digestHex(b)]);
  });

  it('a locked node re-proposes its locked batch with its proof of lock when it is the proposer', () => {
    const node = lockedNode(fx);
    // Round 3 is node 1's: ((1 + 3) mod 4) + 1 = 1. Skip there on f+1 members' messages.
    const out = [2, 3].flatMap((m) => node.step(fromMember(m, vote2Msg(forgeVote2(fx, m, 3, 'prevote', null)))));
    const proposals = out.flatMap((e) => (e.type === 'signed' && e.message.kind === 'proposal2' ? [e.message.proposal] : []));
    expect(proposals.map((p) => [p.round, p.validRound, digestHex(p)])).toEqual([[3, 0, digestHex(a)]]);
    expect(proposals[0]!.polka.map((v) => v.voter)).toEqual([1, 2, 3]);
    expect(proposals[0]!.entries).toEqual(a.entries);
  });

  it('the fresh-COMMIT filter turns a fresh prevote into nil, is not asked when locked on the header, and spares re-proposals', () => {
    const ports = new PortsState();
    ports.fresh = false;
    const fresh = HeightInstance.create(heightContext(fx, 1, ports), 1);
    const out = fresh.step(fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a))));
    expect(signedVotes2(out, 'prevote').map(votedFor)).toEqual([null]);
    expect(ports.freshAsked).toBe(1);

    const lockedPorts = new PortsState();
    const locked = lockedNode(fx, lockedPorts);
    lockedPorts.fresh = false;
    const asked = lockedPorts.freshAsked;
    expect(enterRound(fx, locked, 1, a)).toEqual([digestHex(a)]); // fresh proposal of its locked header
    expect(lockedPorts.freshAsked).toBe(asked);
    expect(enterRound(fx, locked, 2, b, 1)).toEqual([digestHex(b)]); // a re-proposal: no filter
  });

  it('prevotes nil on a batch that is not valid here, and starts no round on it', () => {
    const ports = new PortsState();
    ports.validOnly = new Set();
    const node = HeightInstance.create(heightContext(fx, 1, ports), 1);
    expect(node.step(fromMember(2, proposal2Msg(forgeProposal2(fx, 2, 0, a))))).toEqual([]);
    expect(node.round).toBe(-1);
    const out = node.step({ type: 'start' });
    expect(signedVotes2(out, 'prevote').map(votedFor)).toEqual([null]);
    ports.validOnly.add(digestHex(a)); // validity only grows: the next round's proposal of it passes
    expect(enterRound(fx, node, 1, a)).toEqual([digestHex(a)]);
  });

  it('takes a re-proposal only with q authentic prevotes for its header in validRound', () => {
    const node = HeightInstance.create(heightContext(fx, 1, new PortsState()), 1);
    node.step({ type: 'start' });
    const short = [2, 3].map((m) => forgeVote2(fx, m, 0, 'prevote', b));
    const out = node.step(fromMember(3, proposal2Msg(forgeProposal2(fx, 3, 1, b, 0, short))));
    expect(out.filter((e) => e.type === 'signed')).toEqual([]);
    expect(node.round).toBe(0);
  });
});
