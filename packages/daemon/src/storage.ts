import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PersistedSettlement } from '@tandem/consensus';
import type { Storage } from '@tandem/node';
import { fromJson, toJson } from './json.js';

/**
 * Write-ahead storage on the file system: one file per settlement, replaced atomically (write a
 * temp file, fsync it, rename it over the old one, fsync the directory). `put` returns only once
 * the record is durable, so the runtime never sends a vote before it is on disk.
 */
export class FileStorage implements Storage {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'settlements');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  put(settlementIdHex: string, record: PersistedSettlement): void {
    if (!/^[0-9a-f]{64}$/.test(settlementIdHex)) throw new Error(`not a settlement id: ${settlementIdHex}`);
    const path = join(this.dir, `${settlementIdHex}.json`);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, toJson(record));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  all(): PersistedSettlement[] {
    return readdirSync(this.dir)
      .filter((f) => /^[0-9a-f]{64}\.json$/.test(f))
      .sort()
      .map((f) => fromJson<PersistedSettlement>(readFileSync(join(this.dir, f), 'utf8')));
  }
}
