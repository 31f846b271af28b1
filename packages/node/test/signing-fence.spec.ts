import { describe, expect, it } from 'vitest';
import { type Message, type Terms, reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import { proposerOf } from '@tandem/consensus';
import { MemoryStorage, type NodeEvent, SigningFence, silencedInputAllowed } from '../src/index.js';
import { World } from './world.js';

/** What node `from` signed itself and sent about `idHex` (its proposals, votes and observations), from `sent[since]` on. */
function ownSigned(w: World, from: number, idHex: string, since: number): Message[] {
  return w.sent.slice(since).filter(({ from: f, message: m }) => {
    if (f !== from) return false;
    if (m.kind === 'vote') return m.vote.voter === from && toHex(m.vote.settlementId) === idHex;
    if (m.kind === 'proposal') return m.proposal.proposer === from && toHex(m.proposal.settlementId) === idHex;
    if (m.kind === 'observation') return m.observation.signer === from && toHex(m.observation.settlementId) === idHex;
    return false;
  }).map((x) => x.message);
}

function equivocations(events: readonly NodeEvent[]): NodeEvent[] {
  return events.filter((e) => e.type === 'evidence' && e.misbehaviour.kind === 'equivocation');
}

/**
 * The equivocation: node V prevotes nil in round 0 (the round-0 proposer does not know the
 * settlement yet), is killed, and loses that settlement's record; then the proposer proposes COMMIT
 * in round 0 and V restarts. Returns the world just after V's restart, with the index into `sent`
 * where the restart begins.
 */
async function lostRecordAfterNilPrevote(fence: SigningFence | 'none'): Promise<{ w: World; terms: Terms; idHex: string; v: number; witness: number; restartAt: number; eventsAt: number }> {
  const w = new World();
  w.startAll();
  const terms = w.terms('lost-record', 60_000); // the deadline stays far: no deadline observation
  const idHex = toHex(settlementId(terms));
  const p0 = proposerOf(settlementId(terms), 0, w.n);
  const [v, witness, x] = [1, 2, 3, 4].filter((i) => i !== p0) as [number, number, number];
  // Only V and the witness have the intent: both see the legs locked (COMMIT is valid for them), enter
  // round 0, wait in vain for the proposer, and prevote nil.
  w.intent(terms, [v, witness]);
  await w.runUntil(2_000);
  const nil = w.node(v).storage.liveRecord(idHex)?.votes.find((x) => x.round === 0 && x.step === 'prevote');
  expect(nil?.value).toBeNull();
  expect(w.sent.some((s) => s.from === v && s.to === witness && s.message.kind === 'vote' && s.message.vote.voter === v && s.message.vote.value === null)).toBe(true);
  w.crash(v);
  w.node(v).storage = new MemoryStorage(); // its record of that settlement is gone
  w.intent(terms, [p0, x]); // now the proposer learns of it and proposes COMMIT in round 0
  const restartAt = w.sent.length;
  const eventsAt = w.node(v).events.length;
  w.start(v, fence === 'none' ? undefined : fence);
  return { w, terms, idHex, v, witness, restartAt, eventsAt };
}

describe('observe-only after a storage loss (signing-fence.ts)', () => {
  it('without a fence, a node that lost its record prevotes COMMIT where it prevoted nil: the equivocation the fence prevents', async () => {
    const { w, idHex, v, witness, restartAt } = await lostRecordAfterNilPrevote('none');
    await w.runUntil(10_000);
    const again = ownSigned(w, v, idHex, restartAt).filter((m) => m.kind === 'vote' && m.vote.round === 0 && m.vote.step === 'prevote');
    expect(again.map((m) => (m.kind === 'vote' ? m.vote.value : 'other'))).toContain('COMMIT');
    expect(equivocations(w.node(witness).events)).toContainEqual(expect.objectContaining({ misbehaviour: expect.objectContaining({ kind: 'equivocation', member: v, round: 0, step: 'prevote', first: 'null', second: 'COMMIT' }) }));
  });

  it('fenced, it signs nothing for that settlement, nobody sees an equivocation, and it still takes and relays the report', async () => {
    const fence = new SigningFence([{ fromMs: 2_000, settlementIdsHex: null }]);
    const { w, terms, idHex, v, restartAt, eventsAt } = await lostRecordAfterNilPrevote(fence);
    await w.runUntil(30_000);
    expect(ownSigned(w, v, idHex, restartAt)).toEqual([]);
    expect(w.node(v).events.slice(eventsAt).filter((e) => e.type === 'signed')).toEqual([]);
    for (let i = 1; i <= w.n; i++) expect(equivocations(w.node(i).events)).toEqual([]);
    // The other three decide without it; it learns the report, relays it and delivers it.
    for (let i = 1; i <= w.n; i++) expect(w.runtime(i).settlementStatus(idHex)?.report?.decision).toBe('COMMIT');
    expect(w.sent.slice(restartAt).some((s) => s.from === v && s.message.kind === 'report')).toBe(true);
    expect(w.node(v).storage.liveRecord(idHex)).toMatchObject({ votes: [], proposals: [], deadlineObservation: null });
    for (const leg of [w.asset, w.payment]) expect((await leg.observe(settlementId(terms))).state).toBe('committed');
  });

  it('a fence that names settlements leaves the others signed as usual', async () => {
    const w = new World();
    const fenced = w.terms('fenced');
    const free = w.terms('free');
    const fence = new SigningFence([{ fromMs: 0, settlementIdsHex: [toHex(settlementId(fenced))] }]);
    for (let i = 1; i <= w.n; i++) w.start(i, i === 1 ? fence : undefined);
    w.intent(fenced);
    w.intent(free);
    await w.runUntil(3_000); // decided and closed, not yet archived (reclaim time 3.5 s)
    for (const t of [fenced, free]) for (let i = 1; i <= w.n; i++) expect(w.runtime(i).settlementStatus(toHex(settlementId(t)))?.report?.decision).toBe('COMMIT');
    expect(ownSigned(w, 1, toHex(settlementId(fenced)), 0)).toEqual([]);
    expect(ownSigned(w, 1, toHex(settlementId(free)), 0).some((m) => m.kind === 'vote')).toBe(true);
  });

  it('a silenced node given every message of a run, a forged report and its own restarts still signs nothing', async () => {
    const w = new World();
    const terms = w.terms('all-messages');
    const idHex = toHex(settlementId(terms));
    const fence = new SigningFence([{ fromMs: 0, settlementIdsHex: null }]);
    for (let i = 1; i <= w.n; i++) w.start(i, i === 4 ? fence : undefined);
    w.intent(terms);
    w.runtime(4).receive(1, { kind: 'report', report: { ...w.report(terms), signature: w.report(w.terms('other')).signature }, terms });
    await w.runUntil(300);
    w.crash(4);
    w.start(4, fence); // resumes whatever it persisted, fenced
    await w.runUntil(3_000);
    expect(ownSigned(w, 4, idHex, 0)).toEqual([]);
    expect(w.runtime(4).settlementStatus(idHex)?.report?.decision).toBe('COMMIT');
  });
});

describe('SigningFence', () => {
  const w = new World();
  const terms = w.terms('t');
  const reclaimMs = reclaimAtMs(terms);

  it('covers a settlement whose reclaim time is after the clause start, among the ones it names (null: all)', () => {
    expect(new SigningFence([]).silences(terms)).toBe(false);
    expect(new SigningFence([{ fromMs: reclaimMs - 1, settlementIdsHex: null }]).silences(terms)).toBe(true);
    expect(new SigningFence([{ fromMs: reclaimMs, settlementIdsHex: null }]).silences(terms)).toBe(false);
    expect(new SigningFence([{ fromMs: 0, settlementIdsHex: ['00'.repeat(32)] }]).silences(terms)).toBe(false);
    expect(new SigningFence([{ fromMs: 0, settlementIdsHex: ['00'.repeat(32)] }, { fromMs: 0, settlementIdsHex: [toHex(settlementId(terms))] }]).silences(terms)).toBe(true);
  });

  it('lets a silenced instance take only a report until it decided, then messages and resends (answered with the report)', () => {
    const report: Message = { kind: 'report', report: w.report(terms), terms };
    const proposal: Message = { kind: 'proposal', proposal: w.proposal(terms) };
    const observe = { type: 'observe', asset: { state: 'none' }, payment: { state: 'none' }, deadline: false } as const;
    expect(silencedInputAllowed({ type: 'message', from: 2, message: report }, false)).toBe(true);
    expect(silencedInputAllowed({ type: 'message', from: 2, message: proposal }, false)).toBe(false);
    expect(silencedInputAllowed({ type: 'message', from: 2, message: proposal }, true)).toBe(true);
    expect(silencedInputAllowed({ type: 'resend' }, false)).toBe(false);
    expect(silencedInputAllowed({ type: 'resend' }, true)).toBe(true);
    expect(silencedInputAllowed({ type: 'timeout', step: 'propose', round: 0 }, false)).toBe(false);
    expect(silencedInputAllowed(observe as never, false)).toBe(false);
    expect(silencedInputAllowed(observe as never, true)).toBe(false);
  });
});
