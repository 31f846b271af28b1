import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { settlementId, toHex } from '@tandem/protocol';
import { FileStorage, StorageCheckError } from '../src/storage.js';
import { checkDataDir } from '../src/storage-check.js';
import { walk } from '../src/storage-layout.js';
import { DAMAGES, OWNER, type Stored, damage, dataDir, open, persisted, populated, records, snapshot } from './storage-fixture.js';

describe('FileStorage', () => {
  it('keeps the last record of each settlement across a restart, bytes and big integers intact', () => {
    const dir = dataDir();
    const [a] = records(1);
    const { storage } = open(dir);
    storage.put(a!.idHex, a!.rec);
    storage.put(a!.idHex, { ...a!.rec, round: a!.rec.round + 1 });
    expect(open(dir).storage.all()).toEqual([{ ...a!.rec, round: a!.rec.round + 1 }]);
  });

  it('gives back any record as it was put', () => {
    const { storage } = open(dataDir());
    fc.assert(
      fc.property(persisted, (rec) => {
        const idHex = toHex(settlementId(rec.terms));
        storage.put(idHex, rec);
        expect(storage.all().find((r) => toHex(settlementId(r.terms)) === idHex)).toEqual(rec);
      }),
      { numRuns: 30 },
    );
  });

  it('archives a record: out of the live set (a restart does not resume it), into settlements/archive', () => {
    const dir = dataDir();
    const [a, b] = records(2) as [Stored, Stored];
    const { storage } = open(dir);
    storage.put(a.idHex, a.rec);
    storage.put(b.idHex, b.rec);
    storage.archive(a.idHex);
    expect(storage.all()).toEqual([b.rec]);
    const restarted = open(dir).storage;
    expect(restarted.all()).toEqual([b.rec]);
    expect(restarted.archived()).toEqual([a.rec]);
    expect(readdirSync(join(dir, 'settlements', 'archive'))).toEqual([`${a.idHex}.json`]);
    expect(readdirSync(join(dir, 'settlements')).sort()).toEqual([`${b.idHex}.json`, 'archive'].sort());
  });

  it('archiving an id with no live record changes nothing', () => {
    const dir = dataDir();
    const [a, never] = records(2) as [Stored, Stored];
    const { storage } = open(dir);
    storage.put(a.idHex, a.rec);
    storage.archive(never.idHex);
    storage.archive(a.idHex);
    storage.archive(a.idHex);
    expect(storage.all()).toEqual([]);
    expect(storage.archived()).toEqual([a.rec]);
  });

  it('refuses a key that is not a settlement id, naming it', () => {
    const { storage } = open(dataDir());
    expect(() => storage.put('../etc', records(1)[0]!.rec)).toThrow('not a settlement id: ../etc');
    expect(() => storage.archive('../etc')).toThrow('not a settlement id: ../etc');
  });

  it('lists every file of the directory in the manifest: a chain from genesis, one entry per put and archive', () => {
    const dir = dataDir();
    const [a, b] = records(2) as [Stored, Stored];
    const { storage } = open(dir);
    storage.put(a.idHex, a.rec);
    storage.put(b.idHex, b.rec);
    storage.put(a.idHex, { ...a.rec, round: 7 });
    storage.archive(b.idHex);
    const lines = readFileSync(join(dir, 'manifest'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['op'])).toEqual(['genesis', 'put', 'put', 'put', 'archive']);
    expect(lines.map((l) => l['seq'])).toEqual([0, 1, 2, 3, 4]);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!['prev']).toBe(lines[i - 1]!['hash']);
    const check = checkDataDir(dir, OWNER);
    expect(check.problems).toEqual([]);
    const files = [...walk(dir)].filter(([, k]) => k === 'file').map(([p]) => p);
    expect(files.sort()).toEqual(['manifest', ...check.state!.files.keys()].sort());
  });

  it('compacts a long manifest into a checkpoint that still covers every file and every fence', () => {
    const dir = dataDir();
    const [a, b] = records(2) as [Stored, Stored];
    const { storage } = open(dir, { compactEntriesMin: 20 });
    storage.put(b.idHex, b.rec);
    storage.archive(b.idHex);
    for (let round = 0; round < 50; round++) storage.put(a.idHex, { ...a.rec, round });
    const lines = readFileSync(join(dir, 'manifest'), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(21);
    expect(JSON.parse(lines[0]!)).toMatchObject({ op: 'checkpoint', owner: OWNER });
    const reopened = open(dir);
    expect(reopened.storage.all()).toEqual([{ ...a.rec, round: 49 }]);
    expect(reopened.storage.archived()).toEqual([b.rec]);
  });
});

describe('the start-up check refuses a damaged directory, naming the file', () => {
  const kinds = {
    'a live record': (x: ReturnType<typeof populated>) => `settlements/${x.live.idHex}.json`,
    'an archived record': (x: ReturnType<typeof populated>) => `settlements/archive/${x.archived.idHex}.json`,
    'the manifest': () => 'manifest',
  };
  for (const [kind, fileOf] of Object.entries(kinds)) {
    for (const how of DAMAGES) {
      it(`${kind}: ${how}`, () => {
        const x = populated();
        const expected = damage(x.dir, fileOf(x), how);
        const before = snapshot(x.dir);
        let error: unknown;
        try {
          open(x.dir);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(StorageCheckError);
        const message = (error as Error).message;
        expect(message.split('\n')[0]).toContain(`key "dataDir": ${expected.names[0]}`);
        for (const name of expected.names) expect(message).toContain(name);
        expect(message.split('\n')[0]).toMatch(expected.what);
        expect(snapshot(x.dir)).toEqual(before); // a refused directory is left exactly as it was
      });
    }
  }

  it('a file the manifest does not list', () => {
    const x = populated();
    writeFileSync(join(x.dir, 'settlements', 'notes.txt'), 'hello');
    expect(() => open(x.dir)).toThrow(`${join(x.dir, 'settlements', 'notes.txt')}: not in the manifest`);
  });

  it('a record copied from another settlement over this one (the same length)', () => {
    const x = populated();
    const other = readdirSync(join(x.dir, 'settlements')).find((f) => f.endsWith('.json') && !f.startsWith(x.live.idHex))!;
    writeFileSync(join(x.dir, 'settlements', `${x.live.idHex}.json`), readFileSync(join(x.dir, 'settlements', other)));
    expect(() => open(x.dir)).toThrow(/altered|truncated/);
  });

  it("another node's data directory", () => {
    const x = populated();
    expect(() => FileStorage.open(x.dir, { owner: `n2@${'11'.repeat(32)}` })).toThrow(/belongs to n1@1111.*, not to n2@1111/);
  });

  it('a manifest with a line removed, or two lines swapped', () => {
    for (const edit of [(ls: string[]) => ls.splice(2, 1), (ls: string[]) => ls.splice(1, 2, ls[2]!, ls[1]!)]) {
      const x = populated();
      const lines = readFileSync(join(x.dir, 'manifest'), 'utf8').split('\n');
      edit(lines);
      writeFileSync(join(x.dir, 'manifest'), lines.join('\n'));
      expect(() => open(x.dir)).toThrow(/manifest: line [23]: (seq|broken chain)/);
    }
  });
});
