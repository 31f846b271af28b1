import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MessageV2, encodeProposal2Body, encodeVote2Body, equalBytes, toHex } from '@tandem/protocol';
import { type HeightEffect, type PersistedHeight, HeightInstance } from '../src/index.js';
import { makeFixture, memoVerifier } from './harness.js';
import { HeightNet, digestHex, makeBatch } from './v2-height-harness.js';

const fx = makeFixture({ verifier: memoVerifier() });

/** Bound on events per run: a livelock fails the property instead of hanging it. */
const EVENTS_MAX = 3_000;

/**
 * Crashes member m and restarts it from its last persisted record (fresh if none); in-flight
 * messages to it are lost. With `timeoutFirst` its first timeout fires before anything reaches it,
 * so a node that forgot what it signed would now sign something else (nil).
 */
function crash(net: HeightNet, m: number, timeoutFirst: boolean): void {
  net.inflight = net.inflight.filter((e) => e.to !== m);
  const rec = net.lastPersist(m);
  if (rec === null) {
    net.timers = net.timers.filter((t) => t.member !== m);
    net.nodes[m - 1] = HeightInstance.create(net.context(m), net.height);
  } else {
    net.restart(m, rec);
  }
  net.input(m, { type: 'start' }); // its ready entries are still there after the restart
  const timer = net.timers.findIndex((t) => t.member === m);
  if (timeoutFirst && timer >= 0) net.fireAt(timer);
}

/** Delivers, resends once when nothing is in flight, then fires timeouts, crashing where told. */
function runWithCrashes(net: HeightNet, crashes: readonly { at: number; member: number; timeoutFirst: boolean }[]): void {
  let resent = false;
  for (let events = 0; events < EVENTS_MAX && !net.allDecided(); events++) {
    for (const c of crashes) if (c.at === events) crash(net, c.member, c.timeoutFirst);
    if (net.inflight.length > 0) {
      net.deliverOne(0);
    } else if (!resent) {
      net.resendAll();
      resent = true;
    } else {
      net.fireNext();
      resent = false;
    }
  }
}

/** Own messages signed more than once with different content for one (round, step), or one round's proposal. */
function doubleSigns(effects: readonly HeightEffect[]): string[] {
  const seen = new Map<string, Uint8Array>();
  const problems: string[] = [];
  for (const e of effects) {
    if (e.type !== 'signed') continue;
    const [key, body] = signedKey(e.message);
    const prior = seen.get(key);
    if (prior !== undefined && !equalBytes(prior, body)) problems.push(`two different ${key}`);
    seen.set(key, body);
  }
  return problems;
}

function signedKey(m: MessageV2): [string, Uint8Array] {
  if (m.kind === 'vote2') return [`r${m.vote.round} ${m.vote.step}`, encodeVote2Body(m.vote)];
  if (m.kind === 'proposal2') return [`r${m.proposal.round} proposal`, encodeProposal2Body(m.proposal)];
  throw new Error(`unexpected signed ${m.kind}`);
}

/** Every own vote or proposal sent is in the last record persisted before it (write-ahead). */
function writeAheadViolations(effects: readonly HeightEffect[], self: number): string[] {
  let rec: PersistedHeight | null = null;
  const problems: string[] = [];
  effects.forEach((e, i) => {
    if (e.type === 'persist') rec = e.record;
    if (e.type !== 'broadcast' && e.type !== 'send') return;
    const m = e.message;
    const r = rec as PersistedHeight | null;
    if (m.kind === 'vote2' && m.vote.voter === self && !(r?.votes.some((v) => equalBytes(encodeVote2Body(v), encodeVote2Body(m.vote))) ?? false)) problems.push(`effect ${i}: vote sent before persisted`);
    if (m.kind === 'proposal2' && m.proposal.proposer === self && !(r?.proposals.some((p) => equalBytes(p.signature, m.proposal.signature)) ?? false)) problems.push(`effect ${i}: proposal sent before persisted`);
    if (m.kind === 'decided' && r?.decided == null) problems.push(`effect ${i}: decided batch sent before persisted`);
  });
  return problems;
}

describe('v2 height restarts', () => {
  it('a restarted node resumes from its record, never signs twice for one (round, step), and the height decides one batch', () => {
    const crashPoint = fc.record({ at: fc.nat({ max: 80 }), member: fc.integer({ min: 1, max: 4 }), timeoutFirst: fc.boolean() });
    fc.assert(
      fc.property(fc.array(crashPoint, { maxLength: 4 }), (crashes) => {
        const net = new HeightNet(fx);
        net.startAll();
        runWithCrashes(net, crashes);
        expect(net.allDecided()).toBe(true);
        const decided = net.decidedDigests();
        expect(new Set(decided).size).toBe(1);
        expect(fx.members.map((m) => digestHex(makeBatch(m)))).toContain(decided[0]);
        for (const m of fx.members) {
          expect(doubleSigns(net.effectsOf(m))).toEqual([]);
          expect(writeAheadViolations(net.effectsOf(m), m)).toEqual([]);
        }
      }),
      { numRuns: 40, seed: 12 },
    );
  });

  it('a node locked before a crash is still locked on the same batch after it, with the batch’s entries', () => {
    const net = new HeightNet(fx);
    net.startAll();
    // Everyone gets the proposal, then only node 1 hears the prevotes: it locks, the others cannot decide.
    net.deliver((e) => e.message.kind === 'proposal2');
    net.deliver((e) => e.to === 1);
    expect(net.node(1).lockedRound).toBe(0);
    const rec = net.lastPersist(1)!;
    expect(rec.lockedValue).toBe(digestHex(makeBatch(2)));
    expect(rec.batches.map((b) => toHex(b.header.root))).toEqual([toHex(makeBatch(2).header.root)]);
    net.restart(1, rec);
    expect([net.node(1).lockedValue, net.node(1).lockedRound, net.node(1).roundStep]).toEqual([rec.lockedValue, 0, 'precommit']);
  });
});
