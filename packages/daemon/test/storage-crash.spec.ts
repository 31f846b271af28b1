/**
 * A crash at every point of a write (storage.ts gives the order): the states it can leave are
 * rebuilt from the directory before and after the write, and each must open without a false
 * alarm, with the new record exactly when the write had reached its commit point (the manifest
 * entry), so a record `put` returned is never lost; and a node that resumes from it never signs
 * against what it sent. A state no crash can leave (the entry durable, its record gone) is refused.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Message, type SignedObservation, type Terms, configDigest, settlementId, toHex } from '@tandem/protocol';
import { type Effect, type PersistedSettlement, SettlementInstance, proposerOf, signProposal } from '@tandem/consensus';
import { StorageCheckError } from '../src/storage.js';
import { checkDataDir } from '../src/storage-check.js';
import { World } from '../../node/test/world.js';
import { OWNER, type Stored, dataDir, materialize, open, records, snapshot } from './storage-fixture.js';

interface CrashState {
  readonly name: string;
  readonly files: Map<string, Buffer>;
  /** The write's manifest entry is durable: the change must survive. */
  readonly committed: boolean;
}

/** Where an entry's line can be cut: after its first byte, half way, before its newline. */
function cuts(line: Buffer): number[] {
  return [1, Math.floor(line.length / 2), line.length - 1];
}

function withFiles(base: Map<string, Buffer>, changes: Record<string, Buffer>): Map<string, Buffer> {
  return new Map([...base, ...Object.entries(changes)]);
}

/** The states a crash during `put` of `file` leaves, from the directory before (s0) and after (s1). */
function putCrashStates(s0: Map<string, Buffer>, s1: Map<string, Buffer>, file: string): CrashState[] {
  const record = s1.get(file)!;
  const manifest0 = s0.get('manifest')!;
  const manifest1 = s1.get('manifest')!;
  const line = manifest1.subarray(manifest0.length);
  const tmp = `${file}.tmp`;
  return [
    { name: 'temp file half written', files: withFiles(s0, { [tmp]: record.subarray(0, record.length >> 1) }), committed: false },
    { name: 'temp file written, no entry', files: withFiles(s0, { [tmp]: record }), committed: false },
    ...cuts(line).map((k) => ({ name: `entry cut after ${k} of ${line.length} bytes`, files: withFiles(s0, { [tmp]: record, manifest: Buffer.concat([manifest0, line.subarray(0, k)]) }), committed: false })),
    { name: 'entry written, temp file not yet renamed', files: withFiles(s0, { [tmp]: record, manifest: manifest1 }), committed: true },
    { name: 'done', files: s1, committed: true },
  ];
}

/** The states a crash during `archive` leaves. */
function archiveCrashStates(s0: Map<string, Buffer>, s1: Map<string, Buffer>): CrashState[] {
  const manifest0 = s0.get('manifest')!;
  const line = s1.get('manifest')!.subarray(manifest0.length);
  return [
    ...cuts(line).map((k) => ({ name: `entry cut after ${k} of ${line.length} bytes`, files: withFiles(s0, { manifest: Buffer.concat([manifest0, line.subarray(0, k)]) }), committed: false })),
    { name: 'entry written, not yet renamed', files: withFiles(s0, { manifest: s1.get('manifest')! }), committed: true },
    { name: 'done', files: s1, committed: true },
  ];
}

function byId(recs: readonly PersistedSettlement[]): Map<string, PersistedSettlement> {
  return new Map(recs.map((r) => [toHex(settlementId(r.terms)), r]));
}

/** A directory with one record put, and its snapshot. */
function oneRecord() {
  const [a] = records(1) as [Stored];
  const dir = dataDir();
  const { storage } = open(dir);
  storage.put(a.idHex, a.rec);
  return { a, dir, storage, s0: snapshot(dir) };
}

/** Opens a crash state; checks that it opens, settles (a second open repairs nothing) and leaves no temp file. */
function openCrashState(state: CrashState) {
  const dir = materialize(state.files);
  const opened = open(dir);
  expect(open(dir).repaired).toEqual([]);
  expect(checkDataDir(dir, OWNER)).toMatchObject({ problems: [], repairs: [] });
  expect(existsSync(join(dir, 'manifest.tmp'))).toBe(false);
  return opened;
}

describe('a crash at any point of a write: no false alarm, nothing returned lost', () => {
  it('put: over an older record and of a first record', () => {
    const [a, b] = records(2) as [Stored, Stored];
    const newer = { ...a.rec, round: a.rec.round + 1 };
    const dir = dataDir();
    const { storage } = open(dir);
    storage.put(b.idHex, b.rec);
    for (const [before, rec] of [[null, a.rec], [a.rec, newer]] as const) {
      const s0 = snapshot(dir);
      storage.put(a.idHex, rec);
      const s1 = snapshot(dir);
      for (const state of putCrashStates(s0, s1, `settlements/${a.idHex}.json`)) {
        const got = openCrashState(state).storage.all();
        const expected = state.committed ? rec : before;
        expect(byId(got), state.name).toEqual(byId(expected === null ? [b.rec] : [expected, b.rec]));
      }
    }
  });

  it('archive', () => {
    const { a, dir, storage, s0 } = oneRecord();
    storage.archive(a.idHex);
    for (const state of archiveCrashStates(s0, snapshot(dir))) {
      const { storage: s } = openCrashState(state);
      expect({ live: s.all(), archived: s.archived() }, state.name).toEqual(state.committed ? { live: [], archived: [a.rec] } : { live: [a.rec], archived: [] });
    }
  });

  it('the other order (the entry durable, its record not): refused, never taken for the older record', () => {
    const { a, dir, storage, s0 } = oneRecord();
    storage.put(a.idHex, { ...a.rec, round: a.rec.round + 1 });
    const file = `settlements/${a.idHex}.json`;
    const record = snapshot(dir).get(file)!;
    const manifest1 = snapshot(dir).get('manifest')!;
    for (const files of [withFiles(s0, { manifest: manifest1 }), withFiles(s0, { manifest: manifest1, [`${file}.tmp`]: record.subarray(0, record.length - 1) })]) {
      expect(() => open(materialize(files))).toThrow(StorageCheckError);
      expect(() => open(materialize(files))).toThrow(`${file}: altered`);
    }
  });
});

/** Node `self`'s round-0 prevotes among effects. */
function prevotes(effects: readonly Effect[], self: number): (string | null)[] {
  return effects.flatMap((e) => (e.type === 'broadcast' && e.message.kind === 'vote' && e.message.vote.voter === self && e.message.vote.round === 0 && e.message.vote.step === 'prevote' ? [e.message.vote.value] : []));
}

describe('a crash while persisting a nil prevote: the restarted node never prevotes COMMIT in that round once the nil could have been sent', () => {
  it('at every point of the put', async () => {
    // V and a witness have the intent, the round-0 proposer does not: both prevote nil in round 0.
    const w = new World();
    const terms: Terms = w.terms('crash-points', 60_000);
    const sid = settlementId(terms);
    const p0 = proposerOf(sid, 0, w.n);
    const [v, witness] = [1, 2, 3, 4].filter((i) => i !== p0) as [number, number];
    const puts: PersistedSettlement[] = [];
    const put = w.node(v).storage.put.bind(w.node(v).storage);
    w.node(v).storage.put = (id, rec) => (puts.push(rec), put(id, rec));
    w.startAll();
    w.intent(terms, [v, witness]);
    await w.runUntil(2_000);
    const at = puts.findIndex((r) => r.votes.some((x) => x.round === 0 && x.step === 'prevote' && x.value === null));
    expect(at).toBeGreaterThan(0);
    const [before, withNil] = [puts[at - 1]!, puts[at]!];

    // The proposer's COMMIT proposal for round 0, with the observations V and the witness signed.
    const evidence = w.sent.flatMap(({ message: m }) => (m.kind === 'observation' && !m.observation.deadline && m.observation.asset.state === 'locked' && m.observation.payment.state === 'locked' ? [m.observation] : []));
    const bySigner = [...new Map(evidence.map((o): [number, SignedObservation] => [o.signer, o])).values()];
    const header = { networkId: w.cluster.networkId, configDigest: configDigest(w.cluster), settlementId: sid };
    const proposal = signProposal(w.node(p0).ctx, { ...header, round: 0, proposer: p0, value: 'COMMIT', validRound: -1, terms, evidence: bySigner, polka: [] });
    const commitProposal: Message = { kind: 'proposal', proposal };

    const dir = dataDir();
    const idHex = toHex(sid);
    const { storage } = open(dir);
    storage.put(idHex, before);
    const s0 = snapshot(dir);
    storage.put(idHex, withNil);
    for (const state of putCrashStates(s0, snapshot(dir), `settlements/${idHex}.json`)) {
      const [rec] = openCrashState(state).storage.all();
      expect(rec, state.name).toEqual(state.committed ? withNil : before);
      const { instance, effects } = SettlementInstance.resume(w.node(v).ctx, rec!);
      const sent = [...prevotes(effects, v), ...prevotes(instance.step({ type: 'message', from: p0, message: commitProposal }), v)];
      // `put` returned only in the state "done": only then could the nil prevote have gone out.
      if (state.committed) expect(sent, state.name).toEqual(sent.map(() => null));
      else expect(sent, state.name).toEqual(['COMMIT']); // the nil never left: prevoting COMMIT now is no equivocation
    }
  });
});
