/**
 * Write-ahead storage of a protocol-v2 node on the file system: the v2 runtime's StorageV2 port
 * (@tandem/node). The runtime stages puts and calls `commit` once per tick and per height step,
 * before it sends anything a staged put covers; here a commit is one line appended to
 * DATA/v2.log and fsynced, and returns only once it is durable:
 *
 *   {"seq":0,"prev":"000…","op":"genesis","owner":"n1@<network id>/v2","hash":"…"}
 *   {"seq":1,"prev":"<hash of line 0>","op":"commit","puts":[["intent","<id>",{…}],["height",{…}],…],"hash":"…"}
 *   {"seq":7,"prev":"<hash of the replaced log's head>","op":"checkpoint","owner":"…","state":{…},"hash":"…"}
 *
 * `hash` is the SHA-256 of the line without its `hash` field, so each line commits to every line
 * before it (the manifest's chain, manifest.ts): a line altered, removed or moved is refused at
 * start, naming the line (exit 2, key "dataDir"). Replaying the lines gives the committed state.
 *
 * A crash at any instant: a commit whose line is not wholly durable had not returned, so nothing
 * it covers was sent; at start the bytes after the last newline (an append cut short) are
 * dropped, and the node resumes from the commits before it. A line written whole is durable
 * before `commit` returns, so what was sent is always covered.
 *
 * The log is compacted when it has grown well past its state: a checkpoint line (the whole state,
 * chained on from the old head) is written to v2.log.tmp, fsynced, renamed over v2.log, and the
 * directory fsynced; a crash leaves either log whole, and a leftover v2.log.tmp is removed.
 *
 * The directory is a v2 node's only: one that holds a v1 node's storage (its manifest) is refused,
 * as is another node's (the owner differs), and v1 storage refuses this one (an unlisted file).
 * What it cannot see is v1's too (storage.ts): a directory wiped whole, or its tail cut off and
 * restored to an older state.
 *
 * A log that fails its check is refused, unless the operator starts the node with `--recover
 * observe-only`. Then everything in the directory moves to damaged-<ms>/ (storage-recovery.ts,
 * nothing deleted), and a new log starts with its genesis and a `recover` line, chained as any:
 *
 *   {"seq":1,"prev":"<hash of line 0>","op":"recover","fromMs":1732490000123,"quarantine":"damaged-1732490000123","hash":"…"}
 *
 * A log holding a recover line (a checkpoint carries it on) is silenced at every start: its node
 * signs nothing, for good (@tandem/node v2/silenced.ts): it cannot know what it signed before, so
 * any bundle, proposal or vote could contradict one. A recover line anywhere but right after the
 * genesis is refused, and so is a damaged-<ms>/ no recover line names (a recovery cut short by a
 * crash: refused again, or recovered again, nesting what was moved; never taken for a new node).
 * A log that passes its check is never recovered (the flag is ignored), nor is a protocol-1 node's
 * directory (a configuration mistake, not damage).
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type BundleEntry, type DecidedBatch, toHex } from '@tandem/protocol';
import type { PersistedHeight } from '@tandem/consensus';
import type { PersistedIntent, StorageV2, StoredV2 } from '@tandem/node';
import { ConfigKeyError } from './errors.js';
import { fsyncDir, makeDirs, sha256Hex, writeSynced } from './durable.js';
import { fromJson, toJson } from './json.js';
import { QUARANTINE_DIR_PATTERN } from './storage-layout.js';
import { quarantineAll } from './storage-recovery.js';

export const V2_LOG = 'v2.log';
const V2_LOG_TMP = 'v2.log.tmp';
const GENESIS_PREV = '0'.repeat(64);
/** Compact once the lines since the last checkpoint hold this many bytes, and twice the checkpoint's. */
const COMPACT_BYTES_MIN = 8 * 1024 * 1024;
/** Problems listed in the error (the first is what matters). */
const PROBLEMS_SHOWN_MAX = 10;

/** One staged put, as a commit line lists it. */
type Put =
  | readonly ['intent', string, PersistedIntent]
  | readonly ['drop-intent', string]
  | readonly ['own', BundleEntry]
  | readonly ['bundle-time', number]
  | readonly ['height', PersistedHeight]
  | readonly ['decided', DecidedBatch]
  | readonly ['drop-decided-below', number];

/** A recovery (`--recover observe-only`): when (the node's clock, Unix ms), and where the damaged content went. */
export interface RecoveryV2 {
  readonly fromMs: number;
  readonly quarantine: string;
}

/** The committed state as a checkpoint line holds it. */
interface StateJson {
  readonly intents: readonly (readonly [string, PersistedIntent])[];
  readonly ownEntries: readonly BundleEntry[];
  readonly bundleTimeMs: number;
  readonly height: PersistedHeight | null;
  readonly decided: readonly DecidedBatch[];
  /** The log's recoveries: carried by every checkpoint, so the fence outlives compaction (absent: none). */
  readonly recoveries?: readonly RecoveryV2[];
}

type Body =
  | { readonly op: 'genesis'; readonly owner: string }
  | ({ readonly op: 'recover' } & RecoveryV2)
  | { readonly op: 'checkpoint'; readonly owner: string; readonly state: StateJson }
  | { readonly op: 'commit'; readonly puts: readonly Put[] };

interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** The line for `body` at `seq` after the line hashing to `prev`. */
function encodeLine(body: Body, seq: number, prev: string): { line: string; hash: string } {
  const unsigned = toJson({ seq, prev, ...body });
  const hash = sha256Hex(unsigned);
  return { line: `${unsigned.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** What is committed, kept in memory; `load` hands out copies. */
class V2State {
  readonly intents = new Map<string, PersistedIntent>();
  /** By `${id hex}:${kind}`: one deadline and one guard entry per settlement. */
  readonly ownEntries = new Map<string, BundleEntry>();
  bundleTimeMs = 0;
  height: PersistedHeight | null = null;
  readonly decided = new Map<number, DecidedBatch>();
  readonly recoveries: RecoveryV2[] = [];

  static of(j: StateJson): V2State {
    const s = new V2State();
    s.recoveries.push(...(j.recoveries ?? []));
    for (const [id, intent] of j.intents) s.intents.set(id, intent);
    for (const e of j.ownEntries) s.apply(['own', e]);
    s.bundleTimeMs = j.bundleTimeMs;
    s.height = j.height;
    for (const b of j.decided) s.decided.set(b.report.height, b);
    return s;
  }

  apply(p: Put): void {
    switch (p[0]) {
      case 'intent':
        this.intents.set(p[1], p[2]);
        break;
      case 'drop-intent':
        this.intents.delete(p[1]);
        this.ownEntries.delete(`${p[1]}:deadline`);
        this.ownEntries.delete(`${p[1]}:guard`);
        break;
      case 'own':
        this.ownEntries.set(`${toHex(p[1].settlementId)}:${p[1].kind}`, p[1]);
        break;
      case 'bundle-time':
        this.bundleTimeMs = Math.max(this.bundleTimeMs, p[1]);
        break;
      case 'height':
        this.height = p[1];
        break;
      case 'decided':
        this.decided.set(p[1].report.height, p[1]);
        break;
      case 'drop-decided-below':
        for (const h of [...this.decided.keys()]) if (h < p[1]) this.decided.delete(h);
        break;
    }
  }

  toJson(): StateJson {
    return {
      intents: [...this.intents],
      ownEntries: [...this.ownEntries.values()],
      bundleTimeMs: this.bundleTimeMs,
      height: this.height,
      decided: [...this.decided.values()].sort((a, b) => a.report.height - b.report.height),
      ...(this.recoveries.length > 0 ? { recoveries: [...this.recoveries] } : {}),
    };
  }
}

export interface OpenedStorageV2 {
  readonly storage: FileStorageV2;
  /** Crash leftovers put right at this start, one line each (for the log). */
  readonly repaired: readonly string[];
  /** Every recovery the log went through: any at all silences the node (it signs nothing). */
  readonly fence: readonly RecoveryV2[];
  /** Why this start recovered and where the damaged content went; null when it did not. */
  readonly recovered: { readonly problems: readonly string[]; readonly quarantine: string } | null;
}

export interface OpenStorageV2Options {
  /** Whose directory it is (`n1@<network id>/v2`): another node's is refused. */
  readonly owner: string;
  /** Compact past this many bytes of commits (tests lower it). */
  readonly compactBytesMin?: number;
  /** The operator's explicit choice to start although the check failed: quarantine, and a silenced new log. */
  readonly recover?: 'observe-only';
  /** The clock a recovery is dated by (Unix ms). */
  readonly nowMs?: () => number;
}

/** The v2 log failed its check: names the line and what is wrong (exit 2, key "dataDir"). */
export class StorageV2CheckError extends ConfigKeyError {
  constructor(dataDir: string, problems: readonly string[], recoverable = true) {
    super(
      'dataDir',
      [
        ...problems.slice(0, PROBLEMS_SHOWN_MAX).map((p) => `${join(dataDir, V2_LOG)}: ${p}`),
        `The protocol-v2 write-ahead storage in ${dataDir} failed its check, so this node could sign against what it signed before: it does not start.`,
        recoverable
          ? 'Restore the directory as it was; or start the node once with --recover observe-only to run it silenced: it then signs nothing, for good (give it a new identity to have it sign again; packages/daemon/README.md).'
          : 'Restore the directory as it was, or use a new data directory (--recover observe-only does not apply to this).',
      ].join('\n'),
    );
  }
}

export class FileStorageV2 implements StorageV2 {
  private staged: Put[] = [];
  private bytesSinceCheckpoint: number;

  private constructor(
    private readonly dataDir: string,
    private readonly owner: string,
    private readonly state: V2State,
    private head: Head,
    private checkpointBytes: number,
    logBytes: number,
    private readonly compactBytesMin: number,
  ) {
    this.bytesSinceCheckpoint = logBytes - checkpointBytes;
  }

  /**
   * Opens (or creates) the v2 storage in `dataDir`: checks the directory and its log (changing
   * nothing), refuses damage — or, on `options.recover`, sets it aside and starts a silenced log —
   * then puts a crash's leftovers right (a compaction's temp file, a torn last line).
   */
  static open(dataDir: string, options: OpenStorageV2Options): OpenedStorageV2 {
    makeDirs(dataDir);
    let check = checkDir(dataDir, options.owner);
    let recovered: OpenedStorageV2['recovered'] = null;
    if ('problems' in check) {
      if (options.recover !== 'observe-only' || !check.recoverable) throw new StorageV2CheckError(dataDir, check.problems, check.recoverable);
      recovered = { problems: check.problems, quarantine: recoverDir(dataDir, options.owner, (options.nowMs ?? Date.now)()) };
      check = checkDir(dataDir, options.owner);
      if ('problems' in check) throw new Error(`${dataDir}: the recovered v2 log failed its check (${check.problems.join('; ')})`); // a bug, or a change under our feet
    }
    const repaired: string[] = [];
    if (check.tmp) {
      unlinkSync(join(dataDir, V2_LOG_TMP));
      fsyncDir(dataDir);
      repaired.push(`removed ${V2_LOG_TMP}, left by a compaction that did not finish`);
    }
    const path = join(dataDir, V2_LOG);
    const compactBytesMin = options.compactBytesMin ?? COMPACT_BYTES_MIN;
    if (check.log === null) {
      const { line, hash } = encodeLine({ op: 'genesis', owner: options.owner }, 0, GENESIS_PREV);
      writeSynced(path, line + '\n');
      fsyncDir(dataDir);
      const storage = new FileStorageV2(dataDir, options.owner, new V2State(), { seq: 0, hash }, Buffer.byteLength(line) + 1, Buffer.byteLength(line) + 1, compactBytesMin);
      return { storage, repaired, fence: [], recovered };
    }
    const { replayed, end, tornBytes } = check.log;
    if (tornBytes > 0) {
      truncate(path, end);
      repaired.push(`dropped the last ${tornBytes} byte(s) of ${V2_LOG}: a commit whose append a crash cut short`);
    }
    const storage = new FileStorageV2(dataDir, options.owner, replayed.state, replayed.head, replayed.checkpointBytes, end, compactBytesMin);
    return { storage, repaired, fence: [...replayed.state.recoveries], recovered };
  }

  putIntent(settlementIdHex: string, intent: PersistedIntent): void {
    this.staged.push(['intent', settlementIdHex, intent]);
  }

  dropIntent(settlementIdHex: string): void {
    this.staged.push(['drop-intent', settlementIdHex]);
  }

  putOwnEntry(entry: BundleEntry): void {
    this.staged.push(['own', entry]);
  }

  putBundleTime(timeMs: number): void {
    this.staged.push(['bundle-time', timeMs]);
  }

  putHeight(record: PersistedHeight): void {
    this.staged.push(['height', record]);
  }

  putDecided(batch: DecidedBatch): void {
    this.staged.push(['decided', batch]);
  }

  dropDecidedBelow(height: number): void {
    this.staged.push(['drop-decided-below', height]);
  }

  /** One line for everything staged, appended and fsynced: the commit point. Nothing staged: no write. */
  commit(): void {
    if (this.staged.length === 0) return;
    const puts = this.staged;
    this.staged = [];
    const seq = this.head.seq + 1;
    const { line, hash } = encodeLine({ op: 'commit', puts }, seq, this.head.hash);
    writeSynced(join(this.dataDir, V2_LOG), line + '\n', 'a');
    this.head = { seq, hash };
    this.bytesSinceCheckpoint += Buffer.byteLength(line) + 1;
    for (const p of puts) this.state.apply(p);
    this.compactIfLong();
  }

  load(): StoredV2 {
    const j = this.state.toJson();
    return { intents: new Map(j.intents), ownEntries: j.ownEntries, bundleTimeMs: j.bundleTimeMs, height: j.height, decided: j.decided };
  }

  /** Puts staged and not committed (tests; a crash loses them). */
  get stagedCount(): number {
    return this.staged.length;
  }

  /** Rewrites a long log as one checkpoint line chained on from its head (temp file, fsync, rename, fsync). */
  private compactIfLong(): void {
    if (this.bytesSinceCheckpoint <= Math.max(this.compactBytesMin, 2 * this.checkpointBytes)) return;
    const seq = this.head.seq + 1;
    const { line, hash } = encodeLine({ op: 'checkpoint', owner: this.owner, state: this.state.toJson() }, seq, this.head.hash);
    writeSynced(join(this.dataDir, V2_LOG_TMP), line + '\n');
    renameSync(join(this.dataDir, V2_LOG_TMP), join(this.dataDir, V2_LOG));
    fsyncDir(this.dataDir);
    this.head = { seq, hash };
    this.checkpointBytes = Buffer.byteLength(line) + 1;
    this.bytesSinceCheckpoint = 0;
  }
}

function truncate(path: string, bytes: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

type Replayed = { state: V2State; head: Head; checkpointBytes: number };

/** The directory checked: what is wrong (and whether a recovery may set it aside), or what to open. */
type DirCheck = { readonly problems: readonly string[]; readonly recoverable: boolean } | { readonly tmp: boolean; readonly log: CheckedLog | null };

interface CheckedLog {
  readonly replayed: Replayed;
  readonly end: number;
  readonly tornBytes: number;
}

/**
 * Checks `dataDir` for the v2 node `owner`: its log (up to its last newline: bytes after it are a
 * torn append, dropped at open) and its other names (a compaction's temp file, the quarantines the
 * log's recover lines name). Reads; changes nothing.
 */
function checkDir(dataDir: string, owner: string): DirCheck {
  const names = readdirSync(dataDir);
  const others = names.filter((f) => f !== V2_LOG && f !== V2_LOG_TMP);
  if (others.includes('manifest') || others.includes('settlements')) {
    return { problems: [`the directory holds a protocol-1 node's storage (${others.join(', ')}): a node does not change protocol on its data; use a new data directory`], recoverable: false };
  }
  const problems: string[] = [];
  let log: CheckedLog | null = null;
  if (names.includes(V2_LOG)) {
    const bytes = readFileSync(join(dataDir, V2_LOG));
    const end = bytes.lastIndexOf(0x0a) + 1;
    const replayed = replay(bytes.subarray(0, end).toString('utf8'), owner);
    if ('problem' in replayed) problems.push(replayed.problem);
    else log = { replayed, end, tornBytes: bytes.length - end };
  }
  // Quarantines are judged against a log that checked (or the absence of one): a broken log names none for sure.
  const named = new Set(log?.replayed.state.recoveries.map((r) => r.quarantine) ?? []);
  const unnamed = problems.length > 0 ? [] : others.filter((f) => QUARANTINE_DIR_PATTERN.test(f) && !named.has(f));
  if (unnamed.length > 0) problems.push(`${unnamed.join(', ')}: damaged content no recover line of the log names (a recovery a crash cut short, or the log replaced)`);
  const stray = others.filter((f) => !QUARANTINE_DIR_PATTERN.test(f));
  if (stray.length > 0) problems.push(`the directory holds files the v2 storage never writes: ${stray.join(', ')}`);
  return problems.length > 0 ? { problems, recoverable: true } : { tmp: names.includes(V2_LOG_TMP), log };
}

/**
 * `--recover observe-only`: moves the directory's content to damaged-<ms>/ (fsynced), then starts a
 * new log of two lines, its genesis and the recover line (temp file, fsync, rename, fsync). A crash
 * before the rename leaves a quarantine no log names: refused, or recovered again.
 */
function recoverDir(dataDir: string, owner: string, nowMs: number): string {
  const quarantine = quarantineAll(dataDir, nowMs);
  const genesis = encodeLine({ op: 'genesis', owner }, 0, GENESIS_PREV);
  const recover = encodeLine({ op: 'recover', fromMs: nowMs, quarantine }, 1, genesis.hash);
  writeSynced(join(dataDir, V2_LOG_TMP), `${genesis.line}\n${recover.line}\n`);
  renameSync(join(dataDir, V2_LOG_TMP), join(dataDir, V2_LOG));
  fsyncDir(dataDir);
  return quarantine;
}

function isRecovery(r: unknown): r is RecoveryV2 {
  const o = r as Partial<RecoveryV2> | null;
  return typeof o === 'object' && o !== null && Number.isSafeInteger(o.fromMs) && o.fromMs! >= 0 && typeof o.quarantine === 'string' && QUARANTINE_DIR_PATTERN.test(o.quarantine);
}

/** The lines of a log, each checked as the link after the one before; the state they build. */
function replay(text: string, owner: string): Replayed | { problem: string } {
  const lines = text.split('\n').slice(0, -1);
  if (lines.length === 0) return { problem: 'holds no complete line (not even its genesis)' };
  let state = new V2State();
  let head: Head = { seq: -1, hash: GENESIS_PREV };
  let checkpointBytes = 0;
  let genesisFirst = false;
  for (let i = 0; i < lines.length; i++) {
    const where = `line ${i + 1}`;
    const signed = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/.exec(lines[i]!);
    if (signed === null || sha256Hex(`${signed[1]}}`) !== signed[2]) return { problem: `${where}: altered (its hash does not match its content)` };
    let o: Body & { seq: unknown; prev: unknown };
    try {
      o = fromJson<Body & { seq: unknown; prev: unknown }>(lines[i]!);
    } catch {
      return { problem: `${where}: not a JSON line` };
    }
    const first = i === 0;
    if (o.op === 'genesis' || o.op === 'checkpoint') {
      if (!first) return { problem: `${where}: a ${o.op} line after the first line` };
      if (o.owner !== owner) return { problem: `belongs to ${String(o.owner)}, not to ${owner}: this is another node's data directory` };
      genesisFirst = first && o.op === 'genesis';
    } else if (first) return { problem: `${where}: the first line is not a genesis or checkpoint` };
    else if (o.op === 'recover') {
      // A recovery starts a new log: its recover line is the genesis's next, and nowhere else.
      if (i !== 1 || !genesisFirst) return { problem: `${where}: a recover line that does not directly follow the genesis` };
      if (!isRecovery(o)) return { problem: `${where}: a recover line without a valid fromMs and quarantine` };
    } else if (o.op !== 'commit' || !Array.isArray(o.puts)) return { problem: `${where}: not a commit line` };
    if (first && o.op === 'genesis' && (o.seq !== 0 || o.prev !== GENESIS_PREV)) return { problem: `${where}: a genesis line that does not start a chain` };
    if (first && (!Number.isSafeInteger(o.seq) || typeof o.prev !== 'string')) return { problem: `${where}: no valid seq and prev` };
    if (!first && (o.seq !== head.seq + 1 || o.prev !== head.hash)) return { problem: `${where}: broken chain (seq ${String(o.seq)} after ${head.seq}, or its prev is not the hash of the line before it): a line was removed, moved or altered` };
    if (first) head = { seq: (o.seq as number) - 1, hash: o.prev as string };
    if (o.op === 'checkpoint') {
      if (!(o.state.recoveries ?? []).every(isRecovery)) return { problem: `${where}: a checkpoint whose recoveries are not valid` };
      state = V2State.of(o.state);
      checkpointBytes = Buffer.byteLength(lines[i]!) + 1;
    }
    if (o.op === 'recover') state.recoveries.push({ fromMs: o.fromMs, quarantine: o.quarantine });
    if (o.op === 'commit') for (const p of o.puts) state.apply(p);
    head = { seq: head.seq + 1, hash: signed[2]! };
  }
  return { state, head, checkpointBytes };
}
