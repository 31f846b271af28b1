import type { LockRecord } from '@tandem/protocol';

/** A payment lock for the rules tests: bob pays alice 100 USD on bank-a/deposits. */
export function testLock(settlementId: Uint8Array, groupPublicKey: Uint8Array, validUntilMs: number, reclaimAtMs: number): LockRecord {
  return { settlementId, amount: 100n, from: 'bob', to: 'alice', unit: 'USD', venue: 'bank-a/deposits', validUntilMs, reclaimAtMs, groupPublicKey };
}
