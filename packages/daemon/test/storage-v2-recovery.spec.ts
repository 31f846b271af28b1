/**
 * `--recover observe-only` for the protocol-v2 write-ahead log (storage-v2.ts): a damaged log is
 * refused without the flag (the message names it); with it, everything moves to damaged-<ms>/ and
 * a new log starts with its genesis and a chained `recover` line that silences the node at every
 * later start, across compaction too. A tampered recovery is refused; an intact log is never
 * recovered, nor is a protocol-1 directory. Startup (startup.ts) logs it as v1 does.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStorageV2, StorageV2CheckError, V2_LOG } from '../src/storage-v2.js';
import { sha256Hex } from '../src/durable.js';
import { openNodeStorageV2 } from '../src/startup.js';
import { dataDir, snapshot, open as openV1 } from './storage-fixture.js';

const OWNER = `n1@${'22'.repeat(32)}/v2`;
const NOW_MS = 1_750_000_000_000;
const QUARANTINE = `damaged-${NOW_MS}`;
const RECOVER = { recover: 'observe-only' as const, nowMs: () => NOW_MS };
const openV2 = (dir: string, options: Partial<Parameters<typeof FileStorageV2.open>[1]> = {}) => FileStorageV2.open(dir, { owner: OWNER, ...options });

/** A stopped node's v2 log of a few commits, its third line altered (a damaged log). */
function damagedLog(): string {
  const dir = dataDir();
  const { storage } = openV2(dir);
  for (let t = 1; t <= 3; t++) {
    storage.putBundleTime(t);
    storage.commit();
  }
  const path = join(dir, V2_LOG);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"bundle-time",2', '"bundle-time",9'));
  return dir;
}

const logLines = (dir: string) => readFileSync(join(dir, V2_LOG), 'utf8').trimEnd().split('\n');
const bodyOf = (line: string) => JSON.parse(line) as Record<string, unknown>;

/** Rewrites a log from its lines' bodies, each chained and hashed as storage-v2.ts does (a forger's rewrite). */
function rechain(dir: string, bodies: readonly Record<string, unknown>[]): void {
  let prev = '0'.repeat(64);
  const lines = bodies.map((b, seq) => {
    const { seq: _s, prev: _p, hash: _h, ...rest } = b;
    const unsigned = JSON.stringify({ seq, prev, ...rest });
    prev = sha256Hex(unsigned);
    return `${unsigned.slice(0, -1)},"hash":"${prev}"}`;
  });
  writeFileSync(join(dir, V2_LOG), lines.join('\n') + '\n');
}

describe('v2 --recover observe-only: a damaged log set aside, the node silenced for good', () => {
  it('refused without the flag, the message naming it', () => {
    const dir = damagedLog();
    expect(() => openV2(dir)).toThrow(StorageV2CheckError);
    expect(() => openV2(dir)).toThrow(/line 3: altered[\s\S]*failed its check[\s\S]*start the node once with --recover observe-only/);
    expect(readdirSync(dir)).toEqual([V2_LOG]); // a refusal changes nothing
  });

  it('recovered with it: the content moves to damaged-<ms>/, a new log starts with its genesis and a recover line', () => {
    const dir = damagedLog();
    const before = snapshot(dir);
    const opened = openV2(dir, RECOVER);
    expect(opened.recovered).toEqual({ problems: ['line 3: altered (its hash does not match its content)'], quarantine: QUARANTINE });
    expect(opened.fence).toEqual([{ fromMs: NOW_MS, quarantine: QUARANTINE }]);
    expect(snapshot(join(dir, QUARANTINE))).toEqual(before); // nothing deleted
    expect(readdirSync(dir).sort()).toEqual([QUARANTINE, V2_LOG]);
    const [genesis, recover, ...rest] = logLines(dir);
    expect(bodyOf(genesis!)).toMatchObject({ seq: 0, op: 'genesis', owner: OWNER });
    expect(bodyOf(recover!)).toMatchObject({ seq: 1, op: 'recover', fromMs: NOW_MS, quarantine: QUARANTINE });
    expect(rest).toEqual([]);
    expect(opened.storage.load()).toEqual({ intents: new Map(), ownEntries: [], bundleTimeMs: 0, height: null, decided: [] });
  });

  it('the fence holds at every later start (no flag needed), and across compaction', () => {
    const dir = damagedLog();
    openV2(dir, RECOVER);
    const again = openV2(dir);
    expect(again).toMatchObject({ recovered: null, repaired: [], fence: [{ fromMs: NOW_MS, quarantine: QUARANTINE }] });
    // Commits until the log is compacted: the checkpoint carries the recovery.
    const { storage } = openV2(dir, { compactBytesMin: 1_000 });
    for (let t = 1; t <= 100; t++) {
      storage.putBundleTime(t);
      storage.commit();
    }
    const lines = logLines(dir);
    expect(bodyOf(lines[0]!)).toMatchObject({ op: 'checkpoint', state: { recoveries: [{ fromMs: NOW_MS, quarantine: QUARANTINE }] } });
    expect(lines.some((l) => l.includes('"op":"recover"'))).toBe(false);
    const compacted = openV2(dir, { compactBytesMin: 1_000 });
    expect(compacted.fence).toEqual([{ fromMs: NOW_MS, quarantine: QUARANTINE }]);
    expect(compacted.storage.load().bundleTimeMs).toBe(100);
  });

  it('a tampered recovery is refused: the line altered, removed, moved, or its quarantine left unnamed', () => {
    const dir = damagedLog();
    openV2(dir, RECOVER);
    const { storage } = openV2(dir);
    storage.putBundleTime(7);
    storage.commit();
    const good = readFileSync(join(dir, V2_LOG), 'utf8');
    const lines = logLines(dir);
    const restore = () => writeFileSync(join(dir, V2_LOG), good);
    // Altered in place: its hash no longer matches.
    writeFileSync(join(dir, V2_LOG), good.replace(`"fromMs":${NOW_MS}`, `"fromMs":${NOW_MS + 1}`));
    expect(() => openV2(dir)).toThrow(/line 2: altered/);
    // Removed: the chain breaks; removed and re-chained (a forger's rewrite): its quarantine is named by no line.
    writeFileSync(join(dir, V2_LOG), [lines[0], lines[2]].join('\n') + '\n');
    expect(() => openV2(dir)).toThrow(/line 2: broken chain/);
    rechain(dir, [bodyOf(lines[0]!), bodyOf(lines[2]!)]);
    expect(() => openV2(dir)).toThrow(new RegExp(`${QUARANTINE}: damaged content no recover line of the log names`));
    // Moved after a commit (re-chained): a recover line only ever follows the genesis.
    rechain(dir, [bodyOf(lines[0]!), bodyOf(lines[2]!), bodyOf(lines[1]!)]);
    expect(() => openV2(dir)).toThrow(/line 3: a recover line that does not directly follow the genesis/);
    // Re-chained with a quarantine name that is not one.
    rechain(dir, [bodyOf(lines[0]!), { ...bodyOf(lines[1]!), quarantine: '../elsewhere' }, bodyOf(lines[2]!)]);
    expect(() => openV2(dir)).toThrow(/line 2: a recover line without a valid fromMs and quarantine/);
    restore();
    expect(openV2(dir).fence).toEqual([{ fromMs: NOW_MS, quarantine: QUARANTINE }]);
  });

  it('a crash between the move and the new log: refused, never taken for a new node; recovered again, nesting what was moved', () => {
    const dir = damagedLog();
    openV2(dir, RECOVER);
    unlinkSync(join(dir, V2_LOG)); // as if the new log's rename never happened
    expect(() => openV2(dir)).toThrow(new RegExp(`${QUARANTINE}: damaged content no recover line`));
    const later = NOW_MS + 60_000;
    const opened = openV2(dir, { recover: 'observe-only', nowMs: () => later });
    expect(opened.fence).toEqual([{ fromMs: later, quarantine: `damaged-${later}` }]);
    expect(readdirSync(join(dir, `damaged-${later}`))).toEqual([QUARANTINE]);
  });

  it('a recovered log damaged again is recovered again: one new fence, the older quarantine nested', () => {
    const dir = damagedLog();
    openV2(dir, RECOVER);
    const path = join(dir, V2_LOG);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"op":"recover"', '"op":"recovER"'));
    expect(() => openV2(dir)).toThrow(/line 2: altered/);
    const later = NOW_MS + 1;
    const opened = openV2(dir, { recover: 'observe-only', nowMs: () => later });
    expect(opened.fence).toEqual([{ fromMs: later, quarantine: `damaged-${later}` }]);
    expect(readdirSync(join(dir, `damaged-${later}`)).sort()).toEqual([QUARANTINE, V2_LOG]);
  });

  it('an intact log is never recovered (the flag is ignored); a protocol-1 directory is refused even with it', () => {
    const dir = dataDir();
    openV2(dir).storage.putBundleTime(3);
    const intact = openV2(dir, RECOVER);
    expect(intact).toMatchObject({ recovered: null, fence: [] });
    expect(readdirSync(dir)).toEqual([V2_LOG]);
    const v1 = dataDir();
    openV1(v1);
    expect(() => openV2(v1, RECOVER)).toThrow(/holds a protocol-1 node's storage[\s\S]*use a new data directory \(--recover observe-only does not apply/);
    expect(readdirSync(v1).some((f) => f.startsWith('damaged-'))).toBe(false);
  });

  it('a stray file fails the check too, and is set aside by a recovery', () => {
    const dir = dataDir();
    openV2(dir);
    mkdirSync(join(dir, 'junk'));
    renameSync(join(dir, V2_LOG), join(dir, 'junk', V2_LOG));
    writeFileSync(join(dir, V2_LOG), '');
    expect(() => openV2(dir)).toThrow(/holds no complete line[\s\S]*never writes: junk/);
    expect(openV2(dir, RECOVER).recovered?.quarantine).toBe(QUARANTINE);
    expect(readdirSync(join(dir, QUARANTINE)).sort()).toEqual(['junk', V2_LOG]);
  });
});

describe('v2 --recover observe-only at startup (startup.ts)', () => {
  const NETWORK = new Uint8Array(32).fill(0x22);
  const run = (dir: string, recover: boolean) => {
    const lines: [string, Record<string, unknown>][] = [];
    const opened = openNodeStorageV2(dir, 'n1', NETWORK, recover ? { recover: 'observe-only' } : {}, (event, fields) => lines.push([event, fields]));
    return { silenced: opened.silenced, lines };
  };

  it('logs storage-recovered and observe-only as v1 does, silenced at this start and every later one', () => {
    const dir = damagedLog();
    expect(() => run(dir, false)).toThrow(/--recover observe-only/);
    const first = run(dir, true);
    expect(first.silenced).toBe(true);
    expect(first.lines.map(([e]) => e)).toEqual(['storage-recovered', 'observe-only']);
    expect(first.lines[0]![1]).toMatchObject({ level: 'error', problems: ['line 3: altered (its hash does not match its content)'], mode: 'observe-only', quarantine: expect.stringMatching(/^damaged-\d+$/) });
    const later = run(dir, false);
    expect(later).toMatchObject({ silenced: true, lines: [['observe-only', { fence: [{ settlements: 'all' }] }]] });
  });

  it('an intact log with the flag: storage-intact, not silenced', () => {
    const dir = dataDir();
    run(dir, false);
    expect(run(dir, true)).toEqual({ silenced: false, lines: [['storage-intact', { recover: 'not needed: the storage passed its check' }]] });
  });
});
