import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PersistedSettlement } from '@tandem/consensus';
import type { Storage } from '@tandem/node';
import { fromJson, toJson } from './json.js';

const RECORD_FILE = /^[0-9a-f]{64}\.json$/;

/**
 * Write-ahead storage on the file system: one file per settlement in DATA/settlements, replaced
 * atomically (write a temp file, fsync it, rename it over the old one, fsync the directory). `put`
 * returns only once the record is durable, so the runtime never sends a vote before it is on disk.
 * Archived records move to DATA/settlements/archive (one rename, then both directories fsynced):
 * a restart resumes only the live ones.
 */
export class FileStorage implements Storage {
  private readonly dir: string;
  private readonly archiveDir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'settlements');
    this.archiveDir = join(this.dir, 'archive');
    mkdirSync(this.archiveDir, { recursive: true, mode: 0o700 });
  }

  put(settlementIdHex: string, record: PersistedSettlement): void {
    const path = this.livePath(settlementIdHex);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, toJson(record));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(this.dir);
  }

  all(): PersistedSettlement[] {
    return readRecords(this.dir);
  }

  /** A rename within one file system is atomic: the record is live or archived, never neither. */
  archive(settlementIdHex: string): void {
    const path = this.livePath(settlementIdHex);
    if (!existsSync(path)) return;
    renameSync(path, join(this.archiveDir, `${settlementIdHex}.json`));
    fsyncDir(this.archiveDir);
    fsyncDir(this.dir);
  }

  /** The archived records (inspection and tests; never resumed). */
  archived(): PersistedSettlement[] {
    return readRecords(this.archiveDir);
  }

  private livePath(settlementIdHex: string): string {
    if (!/^[0-9a-f]{64}$/.test(settlementIdHex)) throw new Error(`not a settlement id: ${settlementIdHex}`);
    return join(this.dir, `${settlementIdHex}.json`);
  }
}

/** Every record file of a directory, in id order (sub-directories and temp files are skipped). */
function readRecords(dir: string): PersistedSettlement[] {
  return readdirSync(dir)
    .filter((f) => RECORD_FILE.test(f))
    .sort()
    .map((f) => fromJson<PersistedSettlement>(readFileSync(join(dir, f), 'utf8')));
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
