import type { PersistedSettlement } from '@tandem/consensus';
import type { Storage } from './ports.js';

/**
 * Write-ahead storage in memory: the simulator keeps one per node across crashes (a crash loses
 * the runtime, not its storage), and tests use it. Archived records leave the live map, so a
 * restart does not resume them, but stay readable for inspection.
 */
export class MemoryStorage implements Storage {
  private readonly live = new Map<string, PersistedSettlement>();
  private readonly archived = new Map<string, PersistedSettlement>();

  put(settlementIdHex: string, record: PersistedSettlement): void {
    this.live.set(settlementIdHex, record);
  }

  all(): PersistedSettlement[] {
    return [...this.live.values()];
  }

  archive(settlementIdHex: string): void {
    const record = this.live.get(settlementIdHex);
    if (record === undefined) return;
    this.live.delete(settlementIdHex);
    this.archived.set(settlementIdHex, record);
  }

  /** An archived record, for tests and inspection. */
  archivedRecord(settlementIdHex: string): PersistedSettlement | undefined {
    return this.archived.get(settlementIdHex);
  }

  /** A live record (one a restart would resume). */
  liveRecord(settlementIdHex: string): PersistedSettlement | undefined {
    return this.live.get(settlementIdHex);
  }
}
