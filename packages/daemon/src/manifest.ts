/**
 * The index of a node's write-ahead storage: DATA/manifest, one JSON line per change to the data
 * directory, each line chained to the one before it by hash:
 *
 *   {"seq":0,"op":"genesis","owner":"n1@<network id>","prev":"000…","hash":"…"}
 *   {"seq":1,"op":"put","file":"settlements/<id>.json","sha256":"…","bytes":812,"prev":"<hash of line 0>","hash":"…"}
 *   {"seq":2,"op":"archive","from":"settlements/<id>.json","file":"settlements/archive/<id>.json","sha256":"…","bytes":812,"prev":"…","hash":"…"}
 *   {"seq":3,"op":"recover","fromMs":1732490000123,"settlements":["<id>",…]|null,"quarantine":"damaged-1732490000123"|null,"listing":"…"|null,"prev":"…","hash":"…"}
 *
 * `hash` is the SHA-256 of the line without its `hash` field, so each line commits to every line
 * before it: a line altered, removed or moved breaks the chain at that point. Replaying the lines
 * gives the exact set of files the directory must hold and the SHA-256 and size of each.
 * A `checkpoint` line starts a compacted manifest: the chain goes on from the head of the one it
 * replaces (`prev`), followed by one `file` line per file that exists and the fences in force.
 * Every line is written whole in one append and fsynced (storage.ts gives the order of writes).
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHIVE_FILE_PATTERN, LIVE_FILE_PATTERN, MANIFEST, MANIFEST_TMP, QUARANTINE_DIR_PATTERN, isSettlementIdHex } from './storage-layout.js';
import { fsyncDir, sha256Hex, writeSynced } from './durable.js';

const GENESIS_PREV = '0'.repeat(64);
const HASH = /^[0-9a-f]{64}$/;

export interface FileFact {
  readonly sha256: string;
  readonly bytes: number;
  /** The manifest entry that last set it. */
  readonly seq: number;
}

/** What one line says, without its place in the chain. Field order is the canonical order. */
export type EntryBody =
  | { readonly op: 'genesis'; readonly owner: string }
  | { readonly op: 'checkpoint'; readonly owner: string }
  | { readonly op: 'put'; readonly file: string; readonly sha256: string; readonly bytes: number }
  | { readonly op: 'archive'; readonly from: string; readonly file: string; readonly sha256: string; readonly bytes: number }
  | { readonly op: 'file'; readonly file: string; readonly sha256: string; readonly bytes: number }
  | RecoverBody;

/** A recovery (storage-recovery.ts): the fence it set and the directory its damaged files went to. */
export interface RecoverBody {
  readonly op: 'recover';
  readonly fromMs: number;
  readonly settlements: readonly string[] | null;
  readonly quarantine: string | null;
  readonly listing: string | null;
}

export type Entry = EntryBody & { readonly seq: number; readonly prev: string; readonly hash: string };

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The line for `body` at `seq` after the line hashing to `prev`. */
export function encodeEntry(body: EntryBody, seq: number, prev: string): { line: string; hash: string } {
  const unsigned = JSON.stringify({ seq, ...body, prev });
  const hash = sha256Hex(unsigned);
  return { line: `${unsigned.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** The lines of a chain that starts with `bodies[0]` after `after` (null: a new chain, from genesis). */
export function encodeChain(bodies: readonly EntryBody[], after: ChainHead | null): { text: string; head: ChainHead } {
  let head: ChainHead = after ?? { seq: -1, hash: GENESIS_PREV };
  let text = '';
  for (const body of bodies) {
    const seq = head.seq + 1;
    const { line, hash } = encodeEntry(body, seq, head.hash);
    text += line + '\n';
    head = { seq, hash };
  }
  return { text, head };
}

export interface ParsedManifest {
  /** The lines that form a valid chain, in order. */
  readonly entries: readonly Entry[];
  /** Bytes after the last newline: a line whose append a crash cut short (never fsynced, so never relied on). */
  readonly tornBytes: number;
  /** The first line that is not a valid link (1-based) and what is wrong with it; no line after it is read. */
  readonly broken: { readonly line: number; readonly what: string } | null;
}

export function parseManifest(bytes: Buffer): ParsedManifest {
  const end = bytes.lastIndexOf(0x0a) + 1;
  const tornBytes = bytes.length - end;
  const lines = bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1);
  const entries: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i]!, entries[entries.length - 1] ?? null);
    if (typeof entry === 'string') return { entries, tornBytes, broken: { line: i + 1, what: entry } };
    entries.push(entry);
  }
  return { entries, tornBytes, broken: null };
}

/** One line as the link after `previous`, or what is wrong with it. */
function parseLine(line: string, previous: Entry | null): Entry | string {
  // The hash first, over the bytes as they are: any change to a line shows as "altered".
  const signed = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/.exec(line);
  if (signed === null) return 'altered: not a manifest line';
  if (sha256Hex(`${signed[1]}}`) !== signed[2]) return 'altered: its hash does not match its content';
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return 'not a JSON line';
  }
  const body = bodyOf(o);
  if (typeof body === 'string') return body;
  const seq = o['seq'];
  const prev = o['prev'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return 'no valid seq';
  if (typeof prev !== 'string' || !HASH.test(prev)) return 'no valid prev';
  const { line: canonical, hash } = encodeEntry(body, seq, prev);
  if (hash !== signed[2] || canonical !== line) return 'not in the canonical form this storage writes';
  const starts = body.op === 'genesis' || body.op === 'checkpoint';
  if (previous === null) {
    if (!starts) return `the first entry is "${body.op}", not a genesis or checkpoint`;
    if (body.op === 'genesis' && (seq !== 0 || prev !== GENESIS_PREV)) return 'a genesis entry that does not start a chain';
  } else {
    if (starts) return `a "${body.op}" entry after the first line`;
    if (seq !== previous.seq + 1) return `seq ${seq} where ${previous.seq + 1} comes next (an entry is missing or moved)`;
    if (prev !== previous.hash) return 'broken chain: its prev is not the hash of the line before it (a line was removed, moved or altered)';
  }
  return { ...body, seq, prev, hash } as Entry;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The body of a parsed line in canonical field order, or what is wrong with it. */
function bodyOf(o: Record<string, unknown>): EntryBody | string {
  const { op, file, from, sha256, bytes, owner } = o;
  switch (op) {
    case 'genesis':
    case 'checkpoint':
      return isString(owner) ? { op, owner } : `a ${op} entry without an owner`;
    case 'put':
    case 'file':
    case 'archive': {
      if (!isString(file) || !isString(sha256) || !HASH.test(sha256) || !isSize(bytes)) return `a ${op} entry without a valid file, sha256 and bytes`;
      const fileOk = op === 'put' ? LIVE_FILE_PATTERN.test(file) : op === 'archive' ? ARCHIVE_FILE_PATTERN.test(file) : LIVE_FILE_PATTERN.test(file) || ARCHIVE_FILE_PATTERN.test(file);
      if (!fileOk) return `a ${op} entry for ${file}, which is not a record path`;
      if (op !== 'archive') return { op, file, sha256, bytes };
      if (!isString(from) || !LIVE_FILE_PATTERN.test(from) || from.slice(-69) !== file.slice(-69)) return `an archive entry for ${file} from ${String(from)}, which is not its live path`;
      return { op, from, file, sha256, bytes };
    }
    case 'recover':
      return recoverBodyOf(o);
    default:
      return `unknown op ${JSON.stringify(op)}`;
  }
}

function recoverBodyOf(o: Record<string, unknown>): RecoverBody | string {
  const { fromMs, settlements, quarantine, listing } = o;
  if (!isSize(fromMs)) return 'a recover entry without a valid fromMs';
  if (settlements !== null && !(Array.isArray(settlements) && settlements.every(isSettlementIdHex))) return 'a recover entry whose settlements are not settlement ids';
  if (quarantine === null ? listing !== null : !isString(quarantine) || !QUARANTINE_DIR_PATTERN.test(quarantine) || !isString(listing) || !HASH.test(listing)) {
    return 'a recover entry without a valid quarantine directory and listing';
  }
  return { op: 'recover', fromMs, settlements: settlements as readonly string[] | null, quarantine: quarantine as string | null, listing: listing as string | null };
}

/** What a chain of entries says the data directory holds. */
export interface ManifestState {
  readonly owner: string;
  /** Every file the directory must hold (relative path → fact). */
  readonly files: Map<string, FileFact>;
  readonly recoveries: RecoverBody[];
  readonly head: ChainHead;
  /** The last entry: the only one whose change a crash may have left half done (storage.ts). */
  readonly last: Entry;
  /** Entries in the chain (what compaction bounds). */
  readonly count: number;
}

/** Replays a valid chain; an entry that makes no sense where it stands is reported like a broken link. */
export function replay(entries: readonly Entry[]): { state: ManifestState } | { broken: { line: number; what: string } } {
  const first = entries[0];
  if (first === undefined || (first.op !== 'genesis' && first.op !== 'checkpoint')) return { broken: { line: 1, what: 'no genesis or checkpoint entry' } };
  const files = new Map<string, FileFact>();
  const recoveries: RecoverBody[] = [];
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    switch (e.op) {
      case 'put':
      case 'file':
        files.set(e.file, { sha256: e.sha256, bytes: e.bytes, seq: e.seq });
        break;
      case 'archive': {
        const live = files.get(e.from);
        if (live === undefined || live.sha256 !== e.sha256) return { broken: { line: i + 1, what: `archives ${e.from}, which the entries before it do not hold with that content` } };
        files.delete(e.from);
        files.set(e.file, { sha256: e.sha256, bytes: e.bytes, seq: e.seq });
        break;
      }
      case 'recover':
        recoveries.push({ op: 'recover', fromMs: e.fromMs, settlements: e.settlements, quarantine: e.quarantine, listing: e.listing });
        break;
      case 'genesis':
      case 'checkpoint':
        return { broken: { line: i + 1, what: `a ${e.op} entry after the first line` } };
    }
  }
  const last = entries[entries.length - 1]!;
  return { state: { owner: first.owner, files, recoveries, head: { seq: last.seq, hash: last.hash }, last, count: entries.length } };
}

/** Replaces the manifest whole with a chain of `bodies` (atomically: temp file, fsync, rename, fsync). */
export function writeChain(dataDir: string, bodies: readonly EntryBody[], after: ChainHead | null): ChainHead {
  const { text, head } = encodeChain(bodies, after);
  writeSynced(join(dataDir, MANIFEST_TMP), text);
  renameSync(join(dataDir, MANIFEST_TMP), join(dataDir, MANIFEST));
  fsyncDir(dataDir);
  return head;
}
