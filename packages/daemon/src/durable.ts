/**
 * Durable file-system steps for the write-ahead storage: a step returns once what it did survives
 * a power cut (file contents fsynced, and the directory holding a new or renamed name fsynced too).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Writes `text` to `path` in one write, replacing the file (`w`) or appending to it (`a`), created
 * with mode 0600, and fsyncs it; a new file's directory entry is the caller's to fsync.
 */
export function writeSynced(path: string, text: string, flag: 'w' | 'a' = 'w'): void {
  const fd = openSync(path, flag, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the names in `dir` (files created, renamed or removed there) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `mkdir -p` (mode 0700 for what it creates), one level at a time: Node's recursive mkdir never
 * returns where a parent refuses new entries with ENOENT (under /proc), this throws.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  for (const d of missing.reverse()) mkdirSync(d, { mode: 0o700 });
}
