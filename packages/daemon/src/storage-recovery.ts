/**
 * Recovery of a data directory that failed its check, done only on the operator's explicit
 * `--recover observe-only`. Nothing is deleted: everything in the directory moves to
 * damaged-<ms>/ inside it (for whoever looks into what happened), and a new manifest starts with
 * a `recover` entry that fences signing (@tandem/node, signing-fence.ts) from now on, at every later
 * start too:
 *  - when the old manifest was a valid chain of this node's, it named every settlement this node
 *    ever wrote a record for (a record is listed before it exists, and a node persists before it
 *    sends), so the fence covers exactly those that were live, and the fences it carried;
 *  - otherwise nothing says what this node signed: the fence covers every settlement whose
 *    reclaim time is after now, including ones it learns of later (it cannot tell them from ones
 *    it signed for). Such a node signs for nothing new any more; give it a new identity (new keys)
 *    to have it sign again.
 * The quarantine directory is covered by the manifest through a digest of its listing: changed,
 * it fails the check; deleted as a whole, it is simply gone.
 *
 * Each step is durable before the next: (1) make damaged-<ms>/ and move every entry into it, fsync;
 * (2) write the new manifest (manifest.tmp, fsync, rename, fsync). A crash in between leaves files
 * and no manifest: refused again, or recovered again (nesting what was moved), never taken for
 * the empty directory of a new node.
 */
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './durable.js';
import { type EntryBody, writeChain } from './manifest.js';
import { type StorageCheck, quarantineListing } from './storage-check.js';
import { LIVE_FILE_PATTERN, recordIdOf } from './storage-layout.js';

/** Attempts at a free damaged-<ms> name (a clash needs two recoveries in the same millisecond). */
const QUARANTINE_NAME_TRIES_MAX = 1_000;

/** Moves the directory's content aside and starts a fenced manifest; returns the quarantine directory's name. */
export function recoverDataDir(dataDir: string, check: StorageCheck, owner: string, nowMs: number): string {
  const quarantine = quarantineAll(dataDir, nowMs);
  const state = check.trusted ? check.state : null;
  // Older quarantines now sit inside this one, covered by its listing.
  const carried: EntryBody[] = (state?.recoveries ?? []).map((r) => ({ ...r, quarantine: null, listing: null }));
  const settlements = state === null ? null : fencedIds(check);
  writeChain(dataDir, [{ op: 'genesis', owner }, ...carried, { op: 'recover', fromMs: nowMs, settlements, quarantine, listing: quarantineListing(dataDir, quarantine) }], null);
  return quarantine;
}

/**
 * Step (1) of a recovery, v1's and v2's (storage-v2.ts): makes damaged-<ms>/ in `dataDir`, moves
 * every other entry of the directory into it (older quarantines too), and fsyncs both directories;
 * returns the quarantine's name. Nothing is deleted.
 */
export function quarantineAll(dataDir: string, nowMs: number): string {
  const quarantine = freeName(dataDir, nowMs);
  mkdirSync(join(dataDir, quarantine), { mode: 0o700 });
  for (const name of readdirSync(dataDir)) if (name !== quarantine) renameSync(join(dataDir, name), join(dataDir, quarantine, name));
  fsyncDir(join(dataDir, quarantine));
  fsyncDir(dataDir);
  return quarantine;
}

/** Every settlement a trusted manifest lists live, and any the problems name. */
function fencedIds(check: StorageCheck): string[] {
  const ids = new Set<string>();
  for (const file of check.state?.files.keys() ?? []) if (LIVE_FILE_PATTERN.test(file)) ids.add(recordIdOf(file)!);
  for (const p of check.problems) {
    const id = recordIdOf(p.file);
    if (id !== null) ids.add(id);
  }
  return [...ids].sort();
}

function freeName(dataDir: string, nowMs: number): string {
  for (let i = 0; i < QUARANTINE_NAME_TRIES_MAX; i++) {
    const name = `damaged-${nowMs + i}`;
    if (!existsSync(join(dataDir, name))) return name;
  }
  throw new Error(`${dataDir}: no free damaged-<ms> name after ${QUARANTINE_NAME_TRIES_MAX} tries`);
}
