/**
 * Write-ahead storage on the file system, with a tamper-evident index. One file per settlement,
 * DATA/settlements/<id>.json, moved to DATA/settlements/archive/ once the runtime archives it;
 * every change is listed, with the file's SHA-256 and size, in DATA/manifest, a hash chain
 * (manifest.ts). On open the directory is checked against the manifest (storage-check.ts): a
 * record missing, truncated, altered or renamed, a file the manifest does not list, or a broken
 * chain, and the node does not start (StorageCheckError: exit 2, naming the file), since it could
 * otherwise sign against what it signed before. Only the operator's explicit `--recover
 * observe-only` starts it anyway, fenced (storage-recovery.ts).
 *
 * The order of writes, and why a crash at any instant is recovered with no false alarm and no
 * lost record accepted. `put` (and `archive`) return only when all of their steps are durable;
 * the runtime sends nothing a record covers before `put` returned.
 *
 *   put(id, record):
 *     1. write settlements/<id>.json.tmp, fsync it, fsync settlements/ (its name is durable too);
 *     2. append the entry {put, file, sha256, bytes} to the manifest, fsync it: the commit point;
 *     3. rename the temp file over settlements/<id>.json, fsync settlements/.
 *   archive(id):
 *     1. append {archive, from, file, sha256, bytes}, fsync: the commit point;
 *     2. rename settlements/<id>.json to settlements/archive/<id>.json, fsync both directories.
 *
 *  - A crash before the entry is durable: the manifest ends with the previous entry, or with a
 *    torn line that was never fsynced (dropped at start); every file still matches the previous
 *    entries; a leftover temp file is removed. The put had not returned, so nothing it covers was
 *    sent: the record that is kept covers everything sent.
 *  - A crash after the entry, before the rename is durable: the entry names content that only the
 *    temp file (put) or the live file (archive) holds, complete, because it was fsynced before
 *    the entry was written: the rename is finished at start. Only the manifest's last entry can be
 *    in this state, since each change is wholly durable before the next entry is appended.
 *  - Anything else the manifest lists that is missing, shorter, different or somewhere else, or a
 *    file it does not list: no crash leaves that, so it is damage or tampering, and refused.
 *  - The other order (record first, entry after) was rejected: after a crash a record newer than
 *    the manifest could not be told from one altered on purpose, so the check would either raise
 *    a false alarm or have to trust an unlisted record.
 *
 * The manifest is compacted once it is much longer than the list of files: a checkpoint (one
 * `file` entry per file, the fences in force, chained on from the old head) is written to
 * manifest.tmp and renamed over it. A crash leaves either manifest whole; manifest.tmp is removed.
 *
 * What it cannot see: a directory wiped whole (manifest and all) is a new node's, and the tail of
 * the chain cut off together with the records it names, restored to an older state, looks like
 * that older state. Nothing in the directory can tell those apart; keep it on storage that does not
 * lose acknowledged writes, readable and writable by the node's user only (it is made 0700).
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PersistedSettlement } from '@tandem/consensus';
import type { FenceClause, Storage } from '@tandem/node';
import { ConfigKeyError } from './errors.js';
import { fsyncDir, makeDirs, sha256Hex, writeSynced } from './durable.js';
import { fromJson, toJson } from './json.js';
import { type ChainHead, type EntryBody, type FileFact, type RecoverBody, encodeEntry, writeChain } from './manifest.js';
import { type StorageProblem, checkDataDir } from './storage-check.js';
import { ARCHIVE_DIR, LIVE_DIR, MANIFEST, archivePath, livePath } from './storage-layout.js';
import { recoverDataDir } from './storage-recovery.js';

/** The manifest is compacted once it holds more than this many entries per file it lists (and at least COMPACT_ENTRIES_MIN). */
const COMPACT_ENTRIES_PER_FILE = 4;
const COMPACT_ENTRIES_MIN = 4_096;
/** Problems listed in a StorageCheckError's message (the first is what matters; the count is given). */
const PROBLEMS_SHOWN_MAX = 20;

export interface OpenStorageOptions {
  /** Whose directory it is (`n1@<network id>`): the genesis entry names it, and another node's directory is refused. */
  readonly owner: string;
  /** The operator's explicit choice to start although the check failed: quarantine and fence (storage-recovery.ts). */
  readonly recover?: 'observe-only';
  /** The clock a recovery's fence starts from (Unix ms). */
  readonly nowMs?: () => number;
  /** Compact the manifest past this many entries (and COMPACT_ENTRIES_PER_FILE per file); tests lower it. */
  readonly compactEntriesMin?: number;
}

export interface OpenedStorage {
  readonly storage: FileStorage;
  /** The fence of every recovery this directory went through: empty means sign as usual. */
  readonly fence: readonly FenceClause[];
  /** Crash leftovers put right at this start, one line each (for the log). */
  readonly repaired: readonly string[];
  /** Why this start recovered and where the damaged files went; null when it did not. */
  readonly recovered: { readonly problems: readonly StorageProblem[]; readonly quarantine: string } | null;
}

/** The data directory failed its check: names every file that is wrong (exit 2, key "dataDir"). */
export class StorageCheckError extends ConfigKeyError {
  constructor(
    readonly dataDir: string,
    readonly problems: readonly StorageProblem[],
  ) {
    const lines = problems.slice(0, PROBLEMS_SHOWN_MAX).map((p) => `${join(dataDir, p.file)}: ${p.what}`);
    const more = problems.length > PROBLEMS_SHOWN_MAX ? [`… and ${problems.length - PROBLEMS_SHOWN_MAX} more`] : [];
    super(
      'dataDir',
      [
        `${lines[0]}`,
        ...lines.slice(1),
        ...more,
        `The write-ahead storage in ${dataDir} failed its check, so this node could sign against what it signed before: it does not start.`,
        'Restore the directory as it was; or start the node once with --recover observe-only to run it without signing for any settlement it may have signed for (packages/daemon/README.md).',
      ].join('\n'),
    );
  }
}

export class FileStorage implements Storage {
  private head: ChainHead;
  private entries: number;

  private constructor(
    private readonly dataDir: string,
    private readonly owner: string,
    private readonly files: Map<string, FileFact>,
    private readonly recoveries: readonly RecoverBody[],
    head: ChainHead,
    entries: number,
    private readonly compactEntriesMin: number,
  ) {
    this.head = head;
    this.entries = entries;
  }

  /**
   * Opens (or creates) the storage in `dataDir`: checks it, puts a crash's leftovers right, and
   * refuses a directory that fails the check (StorageCheckError) unless `options.recover` says so.
   */
  static open(dataDir: string, options: OpenStorageOptions): OpenedStorage {
    makeDirs(dataDir);
    let check = checkDataDir(dataDir, options.owner);
    let recovered: OpenedStorage['recovered'] = null;
    if (check.problems.length > 0) {
      if (options.recover !== 'observe-only') throw new StorageCheckError(dataDir, check.problems);
      const quarantine = recoverDataDir(dataDir, check, options.owner, (options.nowMs ?? Date.now)());
      recovered = { problems: check.problems, quarantine };
      check = checkDataDir(dataDir, options.owner);
      if (check.problems.length > 0) throw new StorageCheckError(dataDir, check.problems); // a bug, or a change under our feet
    }
    const repaired = check.repairs.map((r) => r.what);
    if (check.repairs.length > 0) {
      for (const r of check.repairs) r.run(dataDir);
      check = checkDataDir(dataDir, options.owner);
    }
    if (check.fresh) {
      writeChain(dataDir, [{ op: 'genesis', owner: options.owner }], null);
      check = checkDataDir(dataDir, options.owner);
    }
    const state = check.state;
    if (state === null || check.problems.length > 0 || check.repairs.length > 0) throw new Error(`${dataDir}: the storage did not settle after its repairs`);
    makeDirs(join(dataDir, ARCHIVE_DIR));
    const storage = new FileStorage(dataDir, options.owner, state.files, state.recoveries, state.head, state.count, options.compactEntriesMin ?? COMPACT_ENTRIES_MIN);
    storage.compactIfLong();
    const fence = state.recoveries.map((r) => ({ fromMs: r.fromMs, settlementIdsHex: r.settlements }));
    return { storage, fence, repaired, recovered };
  }

  put(settlementIdHex: string, record: PersistedSettlement): void {
    const file = livePath(settlementIdHex);
    const path = join(this.dataDir, file);
    const text = toJson(record);
    writeSynced(`${path}.tmp`, text);
    fsyncDir(dirname(path));
    const fact = this.append({ op: 'put', file, sha256: sha256Hex(text), bytes: Buffer.byteLength(text) });
    renameSync(`${path}.tmp`, path);
    fsyncDir(dirname(path));
    this.files.set(file, fact);
    this.compactIfLong();
  }

  /** The live records, each checked against the manifest as it is read. */
  all(): PersistedSettlement[] {
    return this.read(LIVE_DIR);
  }

  /** One rename within one file system, committed by its manifest entry first: live or archived, never neither. */
  archive(settlementIdHex: string): void {
    const from = livePath(settlementIdHex);
    const live = this.files.get(from);
    if (live === undefined) return;
    const file = archivePath(settlementIdHex);
    const fact = this.append({ op: 'archive', from, file, sha256: live.sha256, bytes: live.bytes });
    renameSync(join(this.dataDir, from), join(this.dataDir, file));
    fsyncDir(join(this.dataDir, ARCHIVE_DIR));
    fsyncDir(join(this.dataDir, LIVE_DIR));
    this.files.delete(from);
    this.files.set(file, fact);
    this.compactIfLong();
  }

  /** The archived records (inspection and tests; never resumed). */
  archived(): PersistedSettlement[] {
    return this.read(ARCHIVE_DIR);
  }

  /** The records the manifest lists directly in `dir`, in path order, each checked as it is read. */
  private read(dir: string): PersistedSettlement[] {
    const out: PersistedSettlement[] = [];
    for (const [file, fact] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (dirname(file) !== dir) continue;
      const text = existsSync(join(this.dataDir, file)) ? readFileSync(join(this.dataDir, file), 'utf8') : null;
      if (text === null || sha256Hex(text) !== fact.sha256) throw new StorageCheckError(this.dataDir, [{ file, what: `${text === null ? 'missing' : 'altered'} since the storage was opened` }]);
      out.push(fromJson<PersistedSettlement>(text));
    }
    return out;
  }

  /** Appends one entry (fsynced) and returns the fact it records. */
  private append(body: Extract<EntryBody, { sha256: string }>): FileFact {
    const seq = this.head.seq + 1;
    const { line, hash } = encodeEntry(body, seq, this.head.hash);
    writeSynced(join(this.dataDir, MANIFEST), line + '\n', 'a');
    this.head = { seq, hash };
    this.entries++;
    return { sha256: body.sha256, bytes: body.bytes, seq };
  }

  /** Rewrites a long manifest as a checkpoint: its files and fences, chained on from the current head. */
  private compactIfLong(): void {
    if (this.entries <= Math.max(this.compactEntriesMin, COMPACT_ENTRIES_PER_FILE * (this.files.size + this.recoveries.length + 1))) return;
    const files = [...this.files].sort(([a], [b]) => (a < b ? -1 : 1));
    const bodies: EntryBody[] = [{ op: 'checkpoint', owner: this.owner }, ...this.recoveries, ...files.map(([file, f]): EntryBody => ({ op: 'file', file, sha256: f.sha256, bytes: f.bytes }))];
    this.head = writeChain(this.dataDir, bodies, this.head);
    this.entries = bodies.length;
  }
}
