/**
 * The start-up check of a node's data directory against its manifest (manifest.ts): every file
 * the manifest lists is there with its SHA-256, and nothing else is. A mismatch is a problem, named
 * by file: the node refuses to start (storage.ts). What a crash in the middle of a write leaves
 * behind is not a problem but a repair, made only when nothing is wrong (storage.ts explains why
 * each one is safe):
 *  - bytes after the manifest's last newline: an append cut short, dropped;
 *  - the last entry's change half done (a put whose temp file is complete but not yet renamed, an
 *    archive whose rename did not happen): finished;
 *  - a temp file no entry names (a put that stopped before its entry): removed.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDir, makeDirs, sha256Hex } from './durable.js';
import { type FileFact, type ManifestState, parseManifest, replay } from './manifest.js';
import { type EntryKind, LIVE_DIR, ARCHIVE_DIR, LIVE_TMP_PATTERN, MANIFEST, MANIFEST_TMP, QUARANTINE_DIR_PATTERN, walk } from './storage-layout.js';

/** What is wrong with one file (path relative to the data directory). */
export interface StorageProblem {
  readonly file: string;
  readonly what: string;
}

/** A crash's leftover and how to put it right. */
export interface StorageRepair {
  readonly what: string;
  run(dataDir: string): void;
}

export interface StorageCheck {
  /** Nothing is stored here yet (no manifest entry and no file): a new node. */
  readonly fresh: boolean;
  /** What the manifest says, when it could be read as a valid chain. */
  readonly state: ManifestState | null;
  /**
   * The manifest is a valid chain from this node, so it names every settlement this node ever
   * wrote a record for (a record is listed before it exists): what a recovery may fence precisely.
   */
  readonly trusted: boolean;
  readonly problems: StorageProblem[];
  readonly repairs: StorageRepair[];
}

/** Checks `dataDir` (which exists) for the node named `owner`. Reads every file once; changes nothing. */
export function checkDataDir(dataDir: string, owner: string): StorageCheck {
  const tree = walk(dataDir);
  const repairs: StorageRepair[] = [];
  if (tree.has(MANIFEST_TMP)) repairs.push(removal(MANIFEST_TMP, 'a manifest rewrite that did not finish'));
  const bytes = tree.get(MANIFEST) === 'file' ? readFileSync(join(dataDir, MANIFEST)) : null;
  const parsed = bytes === null ? null : parseManifest(bytes);
  const others = [...tree].filter(([p, kind]) => kind !== 'dir' && p !== MANIFEST && p !== MANIFEST_TMP).map(([p]) => p);
  if (parsed === null || (parsed.entries.length === 0 && parsed.broken === null)) {
    if (others.length === 0 && (tree.get(MANIFEST) ?? 'file') === 'file') return { fresh: true, state: null, trusted: false, problems: [], repairs };
    const what = parsed === null ? (tree.has(MANIFEST) ? 'not a regular file' : 'missing') : 'holds no complete entry';
    const moved = others.find((p) => tree.get(p) === 'file' && !p.includes('/') && parseManifest(readFileSync(join(dataDir, p))).entries.length > 0);
    return failed({ file: MANIFEST, what: `${what}, but the directory holds ${others.length} file(s): ${moved !== undefined ? `${join(dataDir, moved)} is a manifest (renamed)` : `first ${join(dataDir, others[0]!)}`}` });
  }
  if (parsed.broken !== null) return failed({ file: MANIFEST, what: `line ${parsed.broken.line}: ${parsed.broken.what}` });
  const replayed = replay(parsed.entries);
  if ('broken' in replayed) return failed({ file: MANIFEST, what: `line ${replayed.broken.line}: ${replayed.broken.what}` });
  const state = replayed.state;
  const problems: StorageProblem[] = [];
  if (state.owner !== owner) problems.push({ file: MANIFEST, what: `belongs to ${state.owner}, not to ${owner}: this is another node's data directory` });
  if (parsed.tornBytes > 0) repairs.push(tornTail(bytes!.length - parsed.tornBytes, parsed.tornBytes));
  compareFiles(dataDir, state, tree, problems, repairs);
  if (parsed.tornBytes > 0 && problems.length > 0) {
    // A crash cuts at most the entry being appended, which nothing on disk depends on yet.
    problems.unshift({ file: MANIFEST, what: `ends in ${parsed.tornBytes} byte(s) of an unfinished entry, and the files do not match the entries before it: it was cut short (truncated)` });
  }
  return { fresh: false, state, trusted: state.owner === owner, problems, repairs };

  function failed(problem: StorageProblem): StorageCheck {
    return { fresh: false, state: null, trusted: false, problems: [problem], repairs: [] };
  }
}

/** The files on disk against the manifest's list; the last entry may be half done (a crash). */
function compareFiles(dataDir: string, state: ManifestState, tree: Map<string, EntryKind>, problems: StorageProblem[], repairs: StorageRepair[]): void {
  const read = (p: string) => readFileSync(join(dataDir, p));
  const accounted = new Set<string>([MANIFEST, MANIFEST_TMP]);
  const missing = new Map<string, string>(); // sha256 → the missing file that should hold it
  for (const [file, fact] of state.files) {
    accounted.add(file);
    const kind = tree.get(file);
    const actual = kind === 'file' ? read(file) : null;
    if (actual !== null && sha256Hex(actual) === fact.sha256) continue;
    const rollForward = unfinishedChange(state, file, fact, tree, read);
    if (rollForward !== null) {
      accounted.add(rollForward.source);
      repairs.push(rollForward);
      continue;
    }
    if (kind === undefined) {
      problems.push({ file, what: `missing (manifest entry ${fact.seq} lists it)` });
      missing.set(fact.sha256, file);
    } else if (actual === null) problems.push({ file, what: 'not a regular file' });
    else if (actual.length < fact.bytes) problems.push({ file, what: `truncated: ${actual.length} of ${fact.bytes} bytes (manifest entry ${fact.seq})` });
    else problems.push({ file, what: `altered: its SHA-256 is not the one manifest entry ${fact.seq} lists` });
  }
  for (const r of state.recoveries) {
    if (r.quarantine === null || !tree.has(r.quarantine)) continue; // removed as a whole once looked at: allowed
    for (const p of tree.keys()) if (p === r.quarantine || p.startsWith(`${r.quarantine}/`)) accounted.add(p);
    if (tree.get(r.quarantine) !== 'dir' || quarantineListing(dataDir, r.quarantine) !== r.listing) problems.push({ file: r.quarantine, what: 'changed since the recovery that made it (its listing digest differs); delete it as a whole or restore it' });
  }
  for (const [p, kind] of tree) {
    if (accounted.has(p) || (kind === 'dir' && (p === LIVE_DIR || p === ARCHIVE_DIR))) continue;
    if (kind === 'file' && LIVE_TMP_PATTERN.test(p)) {
      repairs.push(removal(p, 'a put that stopped before its manifest entry'));
      continue;
    }
    const moved = kind === 'file' ? missing.get(sha256Hex(read(p))) : undefined;
    problems.push({ file: p, what: moved !== undefined ? `not in the manifest: it holds what the manifest lists as ${moved} (renamed)` : kind === 'dir' ? 'a directory the storage never makes' : 'not in the manifest (an extra file)' });
  }
}

/**
 * A repair for the last entry's change, if a crash left it half done and its content is intact:
 * a put whose temp file holds exactly the listed bytes, or an archive whose live file does.
 */
function unfinishedChange(state: ManifestState, file: string, fact: FileFact, tree: Map<string, EntryKind>, read: (p: string) => Buffer): (StorageRepair & { source: string }) | null {
  const last = state.last;
  if (fact.seq !== last.seq) return null; // only the last entry's change can be half done
  // A put renames its temp file over the record; an archive renames the live record away.
  const source = last.op === 'put' ? `${file}.tmp` : last.op === 'archive' && !tree.has(file) ? last.from : null;
  if (source === null || tree.get(source) !== 'file' || sha256Hex(read(source)) !== fact.sha256) return null;
  return {
    source,
    what: `finished ${last.op === 'put' ? 'writing' : 'archiving'} ${file} (manifest entry ${last.seq}; the crash came before its rename)`,
    run: (dataDir) => {
      makeDirs(dirname(join(dataDir, file)));
      renameSync(join(dataDir, source), join(dataDir, file));
      fsyncDir(dirname(join(dataDir, file)));
      fsyncDir(dirname(join(dataDir, source)));
    },
  };
}

function removal(file: string, why: string): StorageRepair {
  return {
    what: `removed ${file}, left by ${why}`,
    run: (dataDir) => {
      unlinkSync(join(dataDir, file));
      fsyncDir(dirname(join(dataDir, file)));
    },
  };
}

function tornTail(keepBytes: number, droppedBytes: number): StorageRepair {
  return {
    what: `dropped the last ${droppedBytes} byte(s) of ${MANIFEST}: an entry whose append a crash cut short`,
    run: (dataDir) => {
      const fd = openSync(join(dataDir, MANIFEST), 'r+');
      try {
        ftruncateSync(fd, keepBytes);
      } finally {
        closeSync(fd);
      }
      fsyncDir(dataDir);
    },
  };
}

/** A digest of every path under `dir` (relative to `dataDir`) and of every file's content. */
export function quarantineListing(dataDir: string, dir: string): string {
  if (!QUARANTINE_DIR_PATTERN.test(dir)) throw new Error(`not a quarantine directory: ${dir}`);
  let listing = '';
  for (const [p, kind] of walk(dataDir, dir)) listing += `${p}\t${kind === 'file' ? sha256Hex(readFileSync(join(dataDir, p))) : kind}\n`;
  return sha256Hex(listing);
}
