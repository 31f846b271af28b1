/**
 * The protocol-v2 write-ahead log (storage-v2.ts): what was committed comes back after a restart,
 * exactly (against MemoryStorageV2 as the model, over random puts and commits, across
 * compactions); what was only staged does not; a crash anywhere in a commit's append opens
 * without a false alarm, with the commit exactly when its line was whole; and damage, another
 * node's log or a v1 directory are refused, naming the line or the files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PersistedHeight } from '@tandem/consensus';
import { MemoryStorageV2, type PersistedIntent, type StorageV2 } from '@tandem/node';
import { terms } from '../../protocol/test/arbitraries.js';
import { bundleEntry, decidedBatch, fullProposal2, signedVote2 } from '../../protocol/test/v2-arbitraries.js';
import { FileStorageV2, StorageV2CheckError, V2_LOG } from '../src/storage-v2.js';
import { UsageError } from '../src/errors.js';
import { dataDir, materialize, snapshot, open as openV1 } from './storage-fixture.js';

const OWNER = `n1@${'22'.repeat(32)}/v2`;
const openV2 = (dir: string, compactBytesMin?: number) => FileStorageV2.open(dir, { owner: OWNER, ...(compactBytesMin !== undefined ? { compactBytesMin } : {}) });

const intent: fc.Arbitrary<PersistedIntent> = fc.record({ terms, auths: fc.constant({}) });
const persistedHeight: fc.Arbitrary<PersistedHeight> = fc
  .record({ proposal: fullProposal2, votes: fc.array(signedVote2, { maxLength: 3 }), decided: fc.option(decidedBatch), locked: fc.boolean() })
  .map(({ proposal, votes, decided, locked }) => ({
    height: proposal.height,
    round: proposal.round,
    lockedValue: locked ? 'ab'.repeat(32) : null,
    lockedRound: locked ? proposal.round : -1,
    validValue: locked ? 'ab'.repeat(32) : null,
    validRound: locked ? proposal.round : -1,
    validPolka: proposal.polka,
    batches: [{ header: proposal.header, entries: proposal.entries, terms: proposal.terms, justification: proposal.justification }],
    proposals: [proposal],
    votes,
    decided,
  }));

/** One call on the storage port; `commit` makes the ones before it durable. */
type Op = (s: StorageV2) => void;
/** Intents are put and dropped under a few ids, so that drops meet puts. */
const IDS = ['01', '02', '03'].map((b) => b.repeat(32));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(fc.nat(2), intent).map(([k, i]): Op => (s) => s.putIntent(IDS[k]!, i)),
  fc.nat(2).map((k): Op => (s) => s.dropIntent(IDS[k]!)),
  bundleEntry.map((e): Op => (s) => s.putOwnEntry(e)),
  fc.nat().map((t): Op => (s) => s.putBundleTime(t)),
  persistedHeight.map((h): Op => (s) => s.putHeight(h)),
  decidedBatch.map((b): Op => (s) => s.putDecided(b)),
  fc.nat(20).map((h): Op => (s) => s.dropDecidedBelow(h)),
  fc.constant((s: StorageV2) => s.commit()),
);

describe('v2 write-ahead log: round trip', () => {
  it('a restart loads exactly what was committed (MemoryStorageV2 as the model), across compactions', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), fc.constantFrom(undefined, 2_000), (ops, compactBytesMin) => {
        const dir = dataDir();
        const file = openV2(dir, compactBytesMin).storage;
        const model = new MemoryStorageV2();
        let staged: Op[] = [];
        for (const o of ops) {
          o(file);
          staged.push(o);
          // The model applies at once: give it the staged calls only when the file storage commits.
          if (file.stagedCount === 0) {
            for (const s of staged) s(model);
            staged = [];
          }
        }
        const reopened = openV2(dir, compactBytesMin);
        expect(reopened.repaired).toEqual([]);
        expect(reopened.storage.load()).toEqual(model.load());
        expect(file.load()).toEqual(model.load());
      }),
      { numRuns: 60 },
    );
  });

  it('a commit with nothing staged writes nothing; staged puts not committed are lost in a crash', () => {
    const dir = dataDir();
    const { storage } = openV2(dir);
    const before = readFileSync(join(dir, V2_LOG));
    storage.commit();
    expect(readFileSync(join(dir, V2_LOG))).toEqual(before);
    storage.putBundleTime(5);
    storage.commit();
    storage.putBundleTime(9);
    expect(openV2(dir).storage.load().bundleTimeMs).toBe(5);
  });

  it('compacts a long log into one checkpoint line and resumes from it', () => {
    const dir = dataDir();
    const { storage } = openV2(dir, 1_000);
    const [b1, b2] = fc.sample(decidedBatch, { seed: 3, numRuns: 2 });
    for (let t = 1; t <= 200; t++) {
      storage.putBundleTime(t);
      if (t === 10) storage.putDecided(b1!);
      if (t === 20) storage.putDecided(b2!);
      storage.commit();
    }
    const lines = readFileSync(join(dir, V2_LOG), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThan(200);
    expect(lines[0]).toContain('"op":"checkpoint"');
    const loaded = openV2(dir, 1_000).storage.load();
    expect(loaded.bundleTimeMs).toBe(200);
    expect(new Set(loaded.decided.map((b) => b.report.height))).toEqual(new Set([b1!.report.height, b2!.report.height]));
  });
});

describe('v2 write-ahead log: crashes', () => {
  /** A log with two commits, and the bytes of a third commit's line. */
  function twoCommitsAndALine() {
    const dir = dataDir();
    const { storage } = openV2(dir);
    storage.putBundleTime(100);
    storage.commit();
    const [h] = fc.sample(persistedHeight, { seed: 11, numRuns: 1 });
    storage.putHeight(h!);
    storage.commit();
    const s0 = snapshot(dir);
    storage.putBundleTime(200);
    storage.putIntent('cd'.repeat(32), fc.sample(intent, { seed: 5, numRuns: 1 })[0]!);
    storage.commit();
    const s1 = snapshot(dir);
    const log0 = s0.get(V2_LOG)!;
    return { s0, s1, log0, line: s1.get(V2_LOG)!.subarray(log0.length), height: h! };
  }

  it('anywhere in a commit’s append: opens without alarm, with the commit exactly when its line is whole', () => {
    const { s0, log0, line, height } = twoCommitsAndALine();
    // Both ends byte by byte, and about 100 points between.
    const step = Math.ceil(line.length / 100);
    const at = [0, 1, 2, line.length - 2, line.length - 1, line.length, ...Array.from({ length: 100 }, (_, i) => i * step).filter((k) => k < line.length)];
    for (const k of [...new Set(at)].sort((x, y) => x - y)) {
      const dir = materialize(new Map([...s0, [V2_LOG, Buffer.concat([log0, line.subarray(0, k)])]]));
      const opened = openV2(dir);
      const whole = k === line.length;
      expect(opened.repaired.length, `cut at ${k}`).toBe(k === 0 || whole ? 0 : 1);
      const loaded = opened.storage.load();
      expect(loaded.height).toEqual(height);
      expect(loaded.bundleTimeMs, `cut at ${k}`).toBe(whole ? 200 : 100);
      expect(loaded.intents.size).toBe(whole ? 1 : 0);
      // Settled: a second open repairs nothing, and the next commit chains on.
      opened.storage.putBundleTime(300);
      opened.storage.commit();
      const again = openV2(dir);
      expect(again.repaired).toEqual([]);
      expect(again.storage.load().bundleTimeMs).toBe(300);
    }
  });

  it('a compaction cut short leaves its temp file, removed at start; the log is whole either side of the rename', () => {
    const { s1 } = twoCommitsAndALine();
    const dir = materialize(new Map([...s1, ['v2.log.tmp', Buffer.from('{"seq":3,"pr')]]));
    const opened = openV2(dir);
    expect(opened.repaired).toEqual(['removed v2.log.tmp, left by a compaction that did not finish']);
    expect(opened.storage.load().bundleTimeMs).toBe(200);
  });
});

describe('v2 write-ahead log: refused', () => {
  const refused = (dir: string, message: RegExp) => {
    expect(() => openV2(dir)).toThrow(StorageV2CheckError);
    expect(() => openV2(dir)).toThrow(message);
  };

  it('a line altered, removed or moved, naming the line', () => {
    const { s1 } = (() => {
      const dir = dataDir();
      const { storage } = openV2(dir);
      for (let t = 1; t <= 3; t++) {
        storage.putBundleTime(t);
        storage.commit();
      }
      return { s1: snapshot(dir) };
    })();
    const lines = s1.get(V2_LOG)!.toString('utf8').trimEnd().split('\n');
    const write = (ls: string[]) => materialize(new Map([[V2_LOG, Buffer.from(ls.join('\n') + '\n')]]));
    refused(write(lines.map((l, k) => (k === 2 ? l.replace('"bundle-time",2', '"bundle-time",9') : l))), /v2\.log: line 3: altered/);
    refused(write(lines.filter((_, k) => k !== 1)), /v2\.log: line 2: broken chain/);
    refused(write([lines[0]!, lines[2]!, lines[1]!, lines[3]!]), /v2\.log: line 2: broken chain/);
    refused(write(lines.slice(1)), /line 1: the first line is not a genesis or checkpoint/);
    // The message says what to do, and names the key: exit 2.
    expect(() => openV2(write(lines.slice(1)))).toThrow(/^key "dataDir": .*\n.*failed its check.*\nRestore the directory/);
  });

  it('another node’s log, a v1 directory, or a file the v2 storage never writes', () => {
    const other = dataDir();
    FileStorageV2.open(other, { owner: `n2@${'22'.repeat(32)}/v2` });
    refused(other, /belongs to n2@.*\/v2, not to n1@.*\/v2: this is another node's data directory/);
    const v1 = dataDir();
    openV1(v1);
    refused(v1, /holds a protocol-1 node's storage \(manifest, settlements\): a node does not change protocol on its data/);
    const stray = dataDir();
    openV2(stray);
    writeFileSync(join(stray, 'notes.txt'), 'hello');
    refused(stray, /files the v2 storage never writes: notes\.txt/);
    // And v1 storage refuses a v2 directory (an unlisted file, no manifest).
    expect(() => openV1(stray)).toThrow(UsageError);
  });
});
