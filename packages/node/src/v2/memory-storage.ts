import type { BundleEntry, DecidedBatch } from '@tandem/protocol';
import type { PersistedHeight } from '@tandem/consensus';
import { toHex } from '@tandem/protocol';
import type { PersistedIntent, StorageV2, StoredV2 } from './ports.js';

/**
 * v2 write-ahead storage in memory: the simulator keeps one per node across crashes (a crash loses
 * the runtime, not its storage), and tests use it. Memory is as durable as it gets here, so puts
 * apply at once and `commit` only counts (tests read `commits` to see the runtime groups them).
 */
export class MemoryStorageV2 implements StorageV2 {
  private readonly intents = new Map<string, PersistedIntent>();
  /** Own entries by (id, kind): one deadline and one guard entry per settlement. */
  private readonly ownEntries = new Map<string, BundleEntry>();
  private bundleTimeMs = 0;
  private height: PersistedHeight | null = null;
  private readonly decided = new Map<number, DecidedBatch>();
  /** Puts and commits so far. */
  writes = 0;
  commits = 0;

  commit(): void {
    this.commits++;
  }

  putIntent(settlementIdHex: string, intent: PersistedIntent): void {
    this.writes++;
    this.intents.set(settlementIdHex, intent);
  }

  dropIntent(settlementIdHex: string): void {
    this.writes++;
    this.intents.delete(settlementIdHex);
    for (const kind of ['deadline', 'guard']) this.ownEntries.delete(`${settlementIdHex}:${kind}`);
  }

  putOwnEntry(entry: BundleEntry): void {
    this.writes++;
    this.ownEntries.set(`${toHex(entry.settlementId)}:${entry.kind}`, entry);
  }

  putBundleTime(timeMs: number): void {
    this.writes++;
    this.bundleTimeMs = Math.max(this.bundleTimeMs, timeMs);
  }

  putHeight(record: PersistedHeight): void {
    this.writes++;
    this.height = record;
  }

  putDecided(batch: DecidedBatch): void {
    this.writes++;
    this.decided.set(batch.report.height, batch);
  }

  dropDecidedBelow(height: number): void {
    for (const h of [...this.decided.keys()]) if (h < height) this.decided.delete(h);
  }

  load(): StoredV2 {
    return {
      intents: new Map(this.intents),
      ownEntries: [...this.ownEntries.values()],
      bundleTimeMs: this.bundleTimeMs,
      height: this.height,
      decided: [...this.decided.values()].sort((a, b) => a.report.height - b.report.height),
    };
  }
}
