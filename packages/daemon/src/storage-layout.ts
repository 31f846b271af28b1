/**
 * What a node's data directory holds, by path relative to it (`/` separated):
 *
 *   manifest                              the hash-chained index of everything below (manifest.ts)
 *   settlements/<id>.json                 a live write-ahead record, one per settlement
 *   settlements/archive/<id>.json         an archived record (closed, past its reclaim time)
 *   damaged-<ms>/…                        what a recovery moved aside (storage-recovery.ts)
 *
 * and, only for an instant during a write, `settlements/<id>.json.tmp` and `manifest.tmp`.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST = 'manifest';
export const MANIFEST_TMP = 'manifest.tmp';
export const LIVE_DIR = 'settlements';
export const ARCHIVE_DIR = 'settlements/archive';
export const LIVE_FILE_PATTERN = /^settlements\/[0-9a-f]{64}\.json$/;
export const ARCHIVE_FILE_PATTERN = /^settlements\/archive\/[0-9a-f]{64}\.json$/;
export const LIVE_TMP_PATTERN = /^settlements\/[0-9a-f]{64}\.json\.tmp$/;
export const QUARANTINE_DIR_PATTERN = /^damaged-[0-9]+$/;
/** A record path's settlement id. */
const RECORD_ID = /^settlements\/(?:archive\/)?([0-9a-f]{64})\.json(?:\.tmp)?$/;

/** Each recovery nests the one before it one level deeper; past this the walk stops (a loop, or far too many recoveries). */
const DEPTH_MAX = 48;

export function isSettlementIdHex(v: unknown): v is string {
  return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
}

export function livePath(settlementIdHex: string): string {
  if (!isSettlementIdHex(settlementIdHex)) throw new Error(`not a settlement id: ${settlementIdHex}`);
  return `${LIVE_DIR}/${settlementIdHex}.json`;
}

export function archivePath(settlementIdHex: string): string {
  return `${ARCHIVE_DIR}/${livePath(settlementIdHex).slice(LIVE_DIR.length + 1)}`;
}

/** The settlement a record path (live, archived or temporary) belongs to, or null. */
export function recordIdOf(path: string): string | null {
  return RECORD_ID.exec(path)?.[1] ?? null;
}

export type EntryKind = 'file' | 'dir' | 'other';

/**
 * Every entry under `root/under` (or the whole of `root`), by path relative to `root`, in sorted
 * order. Symbolic links and other special files are listed as `other`, never followed.
 */
export function walk(root: string, under = ''): Map<string, EntryKind> {
  const out = new Map<string, EntryKind>();
  const visit = (rel: string, depth: number): void => {
    if (depth > DEPTH_MAX) throw new Error(`${join(root, rel)}: nested deeper than ${DEPTH_MAX} levels`);
    for (const name of readdirSync(join(root, rel)).sort()) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(root, child));
      const kind: EntryKind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
      out.set(child, kind);
      if (kind === 'dir') visit(child, depth + 1);
    }
  };
  visit(under, 0);
  return out;
}
