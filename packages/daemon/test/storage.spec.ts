import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { settlementId, toHex } from '@tandem/protocol';
import type { PersistedSettlement } from '@tandem/consensus';
import { decision, report, signedObservation, signedProposal, signedVote, terms } from '../../protocol/test/arbitraries.js';
import { FileStorage } from '../src/storage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tandem-storage-'));
  dirs.push(d);
  return d;
}

/** Any write-ahead record: terms, signed votes and proposals, a deadline observation, a report. */
const persisted: fc.Arbitrary<PersistedSettlement> = fc.record({
  terms,
  round: fc.integer({ min: -1, max: 1_000 }),
  lockedValue: fc.option(decision),
  lockedRound: fc.integer({ min: -1, max: 1_000 }),
  validValue: fc.option(decision),
  validRound: fc.integer({ min: -1, max: 1_000 }),
  validPolka: fc.array(signedVote, { maxLength: 2 }),
  proposals: fc.array(signedProposal, { maxLength: 2 }),
  votes: fc.array(signedVote, { maxLength: 3 }),
  deadlineObservation: fc.option(signedObservation),
  report: fc.option(report),
});

interface Stored {
  readonly idHex: string;
  readonly rec: PersistedSettlement;
}

/** Two records of distinct settlements, the same ones every run. */
function twoRecords(): [Stored, Stored] {
  const [a, b] = fc.sample(persisted, { seed: 7, numRuns: 2 }).map((rec) => ({ idHex: toHex(settlementId(rec.terms)), rec }));
  if (a === undefined || b === undefined || a.idHex === b.idHex) throw new Error('the sample did not give two distinct settlements');
  return [a, b];
}

describe('FileStorage', () => {
  it('keeps the last record of each settlement across a restart, bytes and big integers intact', () => {
    const dir = dataDir();
    const [a] = twoRecords();
    const s = new FileStorage(dir);
    s.put(a.idHex, a.rec);
    s.put(a.idHex, { ...a.rec, round: a.rec.round + 1 });
    expect(new FileStorage(dir).all()).toEqual([{ ...a.rec, round: a.rec.round + 1 }]);
  });

  it('gives back any record as it was put', () => {
    const s = new FileStorage(dataDir());
    fc.assert(
      fc.property(persisted, (rec) => {
        const idHex = toHex(settlementId(rec.terms));
        s.put(idHex, rec);
        expect(s.all().find((r) => toHex(settlementId(r.terms)) === idHex)).toEqual(rec);
      }),
      { numRuns: 30 },
    );
  });

  it('archives a record: out of the live set (a restart does not resume it), into settlements/archive', () => {
    const dir = dataDir();
    const [a, b] = twoRecords();
    const s = new FileStorage(dir);
    s.put(a.idHex, a.rec);
    s.put(b.idHex, b.rec);
    s.archive(a.idHex);
    expect(s.all()).toEqual([b.rec]);
    const restarted = new FileStorage(dir);
    expect(restarted.all()).toEqual([b.rec]);
    expect(restarted.archived()).toEqual([a.rec]);
    expect(readdirSync(join(dir, 'settlements', 'archive'))).toEqual([`${a.idHex}.json`]);
    expect(readdirSync(join(dir, 'settlements')).sort()).toEqual([`${b.idHex}.json`, 'archive'].sort());
  });

  it('archiving an id with no live record changes nothing', () => {
    const dir = dataDir();
    const [a, never] = twoRecords();
    const s = new FileStorage(dir);
    s.put(a.idHex, a.rec);
    s.archive(never.idHex);
    s.archive(a.idHex);
    s.archive(a.idHex);
    expect(s.all()).toEqual([]);
    expect(s.archived()).toEqual([a.rec]);
  });

  it('ignores stray files and a temp file left by a crash mid-write', () => {
    const dir = dataDir();
    const [a, b] = twoRecords();
    const s = new FileStorage(dir);
    s.put(a.idHex, a.rec);
    writeFileSync(join(dir, 'settlements', `${b.idHex}.json.tmp`), '{"half');
    writeFileSync(join(dir, 'settlements', 'notes.txt'), 'hello');
    expect(new FileStorage(dir).all()).toEqual([a.rec]);
  });

  it('refuses a key that is not a settlement id, naming it', () => {
    const s = new FileStorage(dataDir());
    expect(() => s.put('../etc', twoRecords()[0].rec)).toThrow('not a settlement id: ../etc');
    expect(() => s.archive('../etc')).toThrow('not a settlement id: ../etc');
  });
});
