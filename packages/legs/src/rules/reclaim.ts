import type { LockRecord } from '@tandem/protocol';
import { type SettlementOnLeg, type Refusal, refused } from './record.js';

/** What a reclaim does: refuse, or return the locked value to its owner. */
export type ReclaimDecision = Refusal | { readonly kind: 'reclaim'; readonly lock: LockRecord };

/** Only while locked (so no report was applied), and only once the leg clock reaches the reclaim time. */
export function processReclaim(record: SettlementOnLeg | null, nowMs: number): ReclaimDecision {
  if (record === null || record.state !== 'locked' || record.lock === null) return refused(`nothing to reclaim: settlement is ${record?.state ?? 'none'}`);
  const lock = record.lock;
  if (nowMs < lock.reclaimAtMs) return refused(`too early: now ${nowMs} ms < reclaim time ${lock.reclaimAtMs} ms`);
  return { kind: 'reclaim', lock };
}
