/**
 * What both escrow protocols share on the adapter side: the per-settlement record as read from
 * the chain, the apply rules checked against it before any transaction (a v1 report and a v2
 * entry alike), and the name of a contract revert.
 */
import { type Hex, type TransactionReceipt, decodeErrorResult } from 'viem';
import type { Decision, LegState } from '@tandem/protocol';
import { type ApplyOutcome, refused } from '@tandem/legs';
import { dvpEscrowV2Abi } from './artifacts.js';

/** One id's on-chain record, as `settlement(id)` returns it. */
export interface OnChainRecord {
  readonly state: LegState;
  readonly validUntilMs: bigint;
  readonly reclaimAtMs: bigint;
  readonly changedAtBlock: bigint;
  readonly lockedAtBlock: bigint;
  readonly amount: bigint;
  /** The mark of the decision applied: keccak256(report) for v1, keccak256(root ‖ leaf) for a v2 entry; else zero. */
  readonly reportHash: Hex;
}

/** A transaction's fate: mined, or reverted (in the simulation or on chain) with the contract's error. */
export type Submitted =
  | { readonly kind: 'mined'; readonly receipt: TransactionReceipt }
  | { readonly kind: 'reverted'; readonly error: string; readonly reason: string };

export const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`;

/**
 * The contract's rules for applying `decision` (with `validUntilMs`, marked `mark`), checked
 * against a fresh read so the usual refusals cost no transaction. A COMMIT's expiry is left to
 * the contract (the chain's clock decides it).
 */
export function preApplyProblem(rec: OnChainRecord, decision: Decision, validUntilMs: number, mark: Hex, noun: 'report' | 'entry'): ApplyOutcome | null {
  if (rec.reportHash !== ZERO_HASH) return rec.reportHash === mark ? { kind: 'duplicate' } : refused('another report was already applied');
  if (rec.state === 'reclaimed') return refused('value was reclaimed: reports are refused');
  if (rec.state !== 'locked' && decision === 'COMMIT') return refused('COMMIT refused: nothing is locked for this settlement');
  if (rec.state === 'locked' && BigInt(validUntilMs) !== rec.validUntilMs) {
    return refused(`${noun} validUntil ${validUntilMs} ms != lock's ${rec.validUntilMs} ms`);
  }
  return null;
}

/**
 * A contract revert named with its arguments, e.g. `CommitExpired(1000, 999)`. The ABI of
 * DvpEscrowV2 holds every error either escrow raises (the v1 escrow's are its base's).
 */
export function revertReason(data: Hex): { error: string; reason: string } {
  if (data === '0x') return { error: 'revert', reason: 'reverted without a reason (out of gas?)' };
  try {
    const decoded = decodeErrorResult({ abi: dvpEscrowV2Abi, data });
    const args = (decoded.args ?? []).map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ');
    return { error: decoded.errorName, reason: `${decoded.errorName}(${args})` };
  } catch {
    return { error: 'revert', reason: `reverted with ${data.slice(0, 74)}` };
  }
}
