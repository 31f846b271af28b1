/**
 * Data directories for the storage tests: temporary ones (removed after each test), records of
 * distinct settlements, a stopped node's directory with every record kind, damage done to one
 * file, and snapshots (a directory as a value, to rebuild the states a crash leaves).
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import fc from 'fast-check';
import { settlementId, toHex } from '@tandem/protocol';
import type { PersistedSettlement } from '@tandem/consensus';
import { decision, report, signedObservation, signedProposal, signedVote, terms } from '../../protocol/test/arbitraries.js';
import { FileStorage, type OpenStorageOptions } from '../src/storage.js';
import { walk } from '../src/storage-layout.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tandem-storage-'));
  dirs.push(d);
  return d;
}

export const OWNER = `n1@${'11'.repeat(32)}`;

export function open(dir: string, options: Partial<OpenStorageOptions> = {}) {
  return FileStorage.open(dir, { owner: OWNER, ...options });
}

/** Any write-ahead record: terms, signed votes and proposals, a deadline observation, a report. */
export const persisted: fc.Arbitrary<PersistedSettlement> = fc.record({
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

export interface Stored {
  readonly idHex: string;
  readonly rec: PersistedSettlement;
}

/** Records of distinct settlements, the same ones every run. */
export function records(n: number): Stored[] {
  const out = fc.sample(persisted, { seed: 7, numRuns: n }).map((rec) => ({ idHex: toHex(settlementId(rec.terms)), rec }));
  if (new Set(out.map((s) => s.idHex)).size !== n) throw new Error('the sample did not give distinct settlements');
  return out;
}

/** Every file of a directory tree with its bytes (a stopped node's data directory, as a value). */
export function snapshot(dir: string): Map<string, Buffer> {
  return new Map([...walk(dir)].filter(([, kind]) => kind === 'file').map(([p]) => [p, readFileSync(join(dir, p))]));
}

/** A new directory holding exactly the files of `files`. */
export function materialize(files: ReadonlyMap<string, Buffer>): string {
  const dir = dataDir();
  for (const [p, bytes] of files) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), bytes);
  }
  return dir;
}

/** A stopped node's directory with two live records (one put twice) and one archived. */
export function populated(dir = dataDir(), options: Partial<OpenStorageOptions> = {}): { dir: string; live: Stored; other: Stored; archived: Stored } {
  const [live, other, archived] = records(3) as [Stored, Stored, Stored];
  const { storage } = open(dir, options);
  storage.put(live.idHex, live.rec);
  storage.put(other.idHex, other.rec);
  storage.put(archived.idHex, archived.rec);
  storage.put(live.idHex, { ...live.rec, round: live.rec.round + 1 });
  storage.archive(archived.idHex);
  return { dir, live, other, archived };
}

export type Damage = 'delete' | 'truncate' | 'alter' | 'rename';
export const DAMAGES: readonly Damage[] = ['delete', 'truncate', 'alter', 'rename'];

/** Damages `file` (relative to `dir`) the given way; returns the paths the refusal must name and what it must say. */
export function damage(dir: string, file: string, how: Damage): { names: string[]; what: RegExp } {
  const path = join(dir, file);
  switch (how) {
    case 'delete':
      unlinkSync(path);
      return { names: [path], what: /missing/ };
    case 'truncate':
      truncateSync(path, Math.floor(readFileSync(path).length / 2));
      return { names: [path], what: /truncated|cut short/ };
    case 'alter': {
      // One byte in the middle, changed to another: the file keeps its length.
      const bytes = readFileSync(path);
      const i = Math.floor(bytes.length / 2);
      bytes[i] = bytes[i] === 0x30 ? 0x31 : 0x30;
      writeFileSync(path, bytes);
      return { names: [path], what: /altered/ };
    }
    case 'rename':
      renameSync(path, `${path}.bak`);
      return { names: [path, `${path}.bak`], what: /missing|renamed/ };
  }
}
