import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Message, type SignedVote, type Terms, settlementId, toHex } from '@tandem/protocol';
import { type Effect, type PersistedSettlement, SettlementInstance, signObservation, signVote } from '@tandem/consensus';
import { WriteAheadGuard } from '../src/write-ahead.js';
import { World } from './world.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Node `self`'s prevote of round 0 for `value`, validly signed. */
function prevote(w: World, self: number, terms: Terms, value: 'COMMIT' | null): SignedVote {
  const header = { networkId: w.cluster.networkId, configDigest: w.node(self).ctx.configDigest, settlementId: settlementId(terms) };
  return signVote(w.node(self).ctx, { ...header, round: 0, step: 'prevote', voter: self, value, partial: null });
}

/**
 * Every instance the runtime creates answers its first message with `effectsOf(instance)` instead
 * of running consensus: a consensus core with a write-ahead bug, as far as the runtime can tell.
 */
function consensusAnswering(effectsOf: (instance: SettlementInstance) => Effect[]): void {
  const create = SettlementInstance.create.bind(SettlementInstance);
  vi.spyOn(SettlementInstance, 'create').mockImplementation((ctx, terms) => {
    const instance = create(ctx, terms);
    const step = instance.step.bind(instance);
    let answered = false;
    instance.step = (input) => {
      if (input.type !== 'message' || answered) return step(input);
      answered = true;
      return effectsOf(instance);
    };
    return instance;
  });
}

function withVote(instance: SettlementInstance, vote: SignedVote): PersistedSettlement {
  return { ...instance.snapshot(), votes: [vote] };
}

describe('the runtime asserts the write-ahead rule', () => {
  it('an honest run, with a crash and a restart in the middle, passes and decides', async () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('honest');
    w.intent(terms);
    await w.runUntil(40);
    expect(w.node(2).storage.all()).toHaveLength(1); // it signed something: the restart resumes it
    w.crash(2);
    await w.runUntil(400);
    w.start(2); // resumes what it persisted and resends it
    await w.runUntil(2_000);
    const idHex = toHex(settlementId(terms));
    for (let i = 1; i <= w.n; i++) expect(w.runtime(i).settlementStatus(idHex)?.report?.decision).toBe('COMMIT');
    // The check ran on real traffic: every node sent votes it signed.
    for (let i = 1; i <= w.n; i++) expect(w.sent.some((x) => x.from === i && x.message.kind === 'vote' && x.message.vote.voter === i)).toBe(true);
  });

  it('fails a step that broadcasts a vote before persisting it', () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('broadcast-first');
    consensusAnswering((instance) => {
      const vote = prevote(w, 1, terms, 'COMMIT');
      return [
        { type: 'broadcast', message: { kind: 'vote', vote } },
        { type: 'persist', record: withVote(instance, vote) },
      ];
    });
    const p = w.proposal(terms);
    expect(() => w.runtime(1).receive(p.proposer, { kind: 'proposal', proposal: p })).toThrow(/write-ahead: n1 sent its prevote of round 0 of settlement [0-9a-f]{16} before persisting it/);
    expect(w.sent.filter((x) => x.from === 1)).toEqual([]);
  });

  it('fails a vote whose slot was persisted with different content (a restart could contradict it)', () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('other-content');
    consensusAnswering((instance) => [
      { type: 'persist', record: withVote(instance, prevote(w, 1, terms, 'COMMIT')) },
      { type: 'broadcast', message: { kind: 'vote', vote: prevote(w, 1, terms, null) } },
    ]);
    const p = w.proposal(terms);
    expect(() => w.runtime(1).receive(p.proposer, { kind: 'proposal', proposal: p })).toThrow(/write-ahead: n1 sent its prevote of round 0/);
  });

  it('passes the same effects in write-ahead order', () => {
    const w = new World();
    w.startAll();
    const terms = w.terms('persist-first');
    const vote = prevote(w, 1, terms, 'COMMIT');
    consensusAnswering((instance) => [
      { type: 'persist', record: withVote(instance, vote) },
      { type: 'broadcast', message: { kind: 'vote', vote } },
    ]);
    const p = w.proposal(terms);
    w.runtime(1).receive(p.proposer, { kind: 'proposal', proposal: p });
    expect(w.sent.filter((x) => x.from === 1).map((x) => x.message)).toEqual(Array(w.n - 1).fill({ kind: 'vote', vote }));
    expect(w.node(1).storage.liveRecord(toHex(settlementId(terms)))?.votes).toEqual([vote]);
  });
});

describe('WriteAheadGuard', () => {
  const w = new World();
  const terms = w.terms('guard');
  const sid = settlementId(terms);
  const header = { networkId: w.cluster.networkId, configDigest: w.node(1).ctx.configDigest, settlementId: sid };
  const view = { state: 'none' as const, finalityHeight: 0n, lock: null };
  const deadline = signObservation(w.node(1).ctx, { ...header, signer: 1, deadline: true, asset: view, payment: view });
  const ordinary = signObservation(w.node(1).ctx, { ...header, signer: 1, deadline: false, asset: view, payment: view });
  const ownVote = prevote(w, 1, terms, 'COMMIT');
  const proposal = w.proposal(terms, 0);
  const report = w.report(terms);
  const record: PersistedSettlement = {
    terms,
    round: 0,
    lockedValue: null,
    lockedRound: -1,
    validValue: null,
    validRound: -1,
    validPolka: [],
    proposals: [proposal],
    votes: [ownVote],
    deadlineObservation: deadline,
    report,
  };
  const covered: [string, Message][] = [
    ['its proposal', { kind: 'proposal', proposal }],
    ['its vote', { kind: 'vote', vote: ownVote }],
    ['its deadline observation', { kind: 'observation', observation: deadline }],
    ['the report', { kind: 'report', report, terms }],
  ];

  it.each(covered)('lets %s out once persisted, not before', (_what, m) => {
    const guard = new WriteAheadGuard(m.kind === 'proposal' ? proposal.proposer : 1, toHex(sid));
    expect(guard.uncovered(m)).not.toBeNull();
    guard.persisted(record);
    expect(guard.uncovered(m)).toBeNull();
  });

  it('checks nothing it is not asked to keep: ordinary observations, other members\' messages, terms', () => {
    const guard = new WriteAheadGuard(1, toHex(sid));
    expect(guard.uncovered({ kind: 'observation', observation: ordinary })).toBeNull();
    expect(guard.uncovered({ kind: 'vote', vote: prevote(w, 2, terms, 'COMMIT') })).toBeNull();
    expect(guard.uncovered({ kind: 'terms', terms })).toBeNull();
  });
});
