import { mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StorageCheckError } from '../src/storage.js';
import { dataDir, open, populated, records, snapshot } from './storage-fixture.js';

const NOW_MS = 1_750_000_000_000;
const recoverAt = (nowMs: number) => ({ recover: 'observe-only' as const, nowMs: () => nowMs });

describe('--recover observe-only: a damaged directory set aside, signing fenced', () => {
  it('a live record lost: its files move to damaged-<ms>/, the fence names the settlements the intact manifest held live', () => {
    const x = populated();
    unlinkSync(join(x.dir, 'settlements', `${x.live.idHex}.json`));
    const before = snapshot(x.dir);
    expect(() => open(x.dir)).toThrow(StorageCheckError);
    const opened = open(x.dir, recoverAt(NOW_MS));
    expect(opened.recovered).toEqual({ problems: [{ file: `settlements/${x.live.idHex}.json`, what: expect.stringMatching(/^missing/) }], quarantine: `damaged-${NOW_MS}` });
    expect(opened.fence).toEqual([{ fromMs: NOW_MS, settlementIdsHex: [x.live.idHex, x.other.idHex].sort() }]);
    expect(opened.storage.all()).toEqual([]);
    // Nothing deleted: every file is where the recovery moved it.
    const moved = snapshot(join(x.dir, `damaged-${NOW_MS}`));
    expect(moved).toEqual(before);
    // Later starts need no flag and keep the fence.
    const again = open(x.dir);
    expect(again).toMatchObject({ recovered: null, repaired: [], fence: opened.fence });
  });

  it('the manifest lost: nothing says what the node signed, so the fence covers every settlement', () => {
    const x = populated();
    unlinkSync(join(x.dir, 'manifest'));
    const opened = open(x.dir, recoverAt(NOW_MS));
    expect(opened.fence).toEqual([{ fromMs: NOW_MS, settlementIdsHex: null }]);
    expect(open(x.dir).fence).toEqual(opened.fence);
  });

  it('the quarantine is covered too: changed, the next start is refused; deleted as a whole, it is gone', () => {
    const x = populated();
    unlinkSync(join(x.dir, 'manifest'));
    open(x.dir, recoverAt(NOW_MS));
    const q = join(x.dir, `damaged-${NOW_MS}`);
    writeFileSync(join(q, 'settlements', 'added'), 'x');
    expect(() => open(x.dir)).toThrow(`${q}: changed since the recovery`);
    rmSync(q, { recursive: true });
    expect(open(x.dir).fence).toEqual([{ fromMs: NOW_MS, settlementIdsHex: null }]);
  });

  it('the flag on an intact directory changes nothing', () => {
    const x = populated();
    const opened = open(x.dir, recoverAt(NOW_MS));
    expect(opened).toMatchObject({ recovered: null, fence: [] });
    expect(opened.storage.all()).toHaveLength(2);
    expect(readdirSync(x.dir).filter((n) => n.startsWith('damaged-'))).toEqual([]);
  });

  it('a second recovery keeps the first fence when the manifest it finds is intact, and covers every settlement when not', () => {
    const x = populated();
    unlinkSync(join(x.dir, 'settlements', `${x.live.idHex}.json`));
    const first = open(x.dir, recoverAt(NOW_MS)).fence;
    const [c] = records(1);
    open(x.dir).storage.put(c!.idHex, c!.rec);
    writeFileSync(join(x.dir, 'settlements', 'stray.json'), '{}');
    const second = open(x.dir, recoverAt(NOW_MS + 1_000));
    expect(second.fence).toEqual([...first, { fromMs: NOW_MS + 1_000, settlementIdsHex: [c!.idHex] }]);
    // The first quarantine sits inside the second one now.
    expect(readdirSync(join(x.dir, `damaged-${NOW_MS + 1_000}`))).toContain(`damaged-${NOW_MS}`);
    unlinkSync(join(x.dir, 'manifest'));
    expect(open(x.dir, recoverAt(NOW_MS + 2_000)).fence).toEqual([{ fromMs: NOW_MS + 2_000, settlementIdsHex: null }]);
  });

  it('a crash in the middle of a recovery (files moved, no new manifest yet) is refused again, never taken for a new node', () => {
    const x = populated();
    unlinkSync(join(x.dir, 'settlements', `${x.live.idHex}.json`));
    const q = join(x.dir, `damaged-${NOW_MS}`);
    mkdirSync(q);
    for (const name of ['settlements', 'manifest']) renameSync(join(x.dir, name), join(q, name));
    expect(() => open(x.dir)).toThrow(/manifest: missing, but the directory holds/);
    expect(open(x.dir, recoverAt(NOW_MS + 1)).fence).toEqual([{ fromMs: NOW_MS + 1, settlementIdsHex: null }]);
  });

  it('a new node: an empty or absent directory, or one left by a crash before its first manifest', () => {
    const empty = dataDir();
    expect(open(empty)).toMatchObject({ fence: [], recovered: null });
    const absent = join(dataDir(), 'n1');
    expect(open(absent).storage.all()).toEqual([]);
    const crashed = dataDir();
    writeFileSync(join(crashed, 'manifest.tmp'), '{"seq":0,"op":"gen');
    expect(open(crashed).repaired).toEqual(['removed manifest.tmp, left by a manifest rewrite that did not finish']);
  });
});
