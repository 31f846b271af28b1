/**
 * Protocol 2 on the EVM asset leg: BatchLegAdapter's three calls over DvpEscrowV2, for
 * EvmEscrowAdapter (which delegates here and answers only once the chain is durable).
 *
 * The pure rules of the legs package screen every call first (anchors, shapes, proofs and the
 * apply rules against a fresh read), so a foreign or malformed call costs no transaction; the
 * contract stays the authority (it verifies the signature, the proofs and the leg clock), and a
 * revert is a refusal named after its error. A protocol 1 escrow refuses all three calls.
 *
 * Calls for one root through one adapter run one after the other: several nodes served by one
 * adapter (a leg host) deliver the same decided batch within the delivery stagger, and the later
 * calls then find the entries applied in their read and send nothing, where racing they would
 * each send a settleBatch the escrow skips (~45k gas each). Nodes with adapters of their own can
 * still race; the escrow answers the later call with skips, never a second application.
 */
import { type Address, type Hex, bytesToHex, encodeFunctionData, parseEventLogs } from 'viem';
import { type Entry, type ReportV2, type TreeMultiproof } from '@tandem/protocol';
import {
  type ApplyOutcome,
  type LegAnchor,
  type LegChecks,
  type ProvenEntry,
  type RootOutcome,
  type VerifiedRoot,
  V2_ON_V1_LEG,
  appliedEntryMarker,
  batchProofProblem,
  defaultVerifyAuthorization,
  defaultVerifyReport,
  entriesCountProblem,
  entryProofProblem,
  refuseAll,
  refused,
  reportV2Problem,
  storedRoot,
} from '@tandem/legs';
import { dvpEscrowV2Abi } from './artifacts.js';
import type { ChainClients } from './chain.js';
import { type OnChainRecord, type Submitted, preApplyProblem, revertReason } from './escrow-record.js';
import { settleBatchCallArgs, settleEntryArgs, submitRootArgs } from './escrow-v2.js';

/** What EscrowBatch needs of the adapter: its reads, its one-at-a-time sender, its RPC error mapping. */
export interface EscrowBatchPort {
  readonly escrow: Address;
  readonly clients: ChainClients;
  /** The escrow's anchor as read from the chain, with the adapter's protocol. */
  anchor(): Promise<LegAnchor>;
  /** The id's record at the latest block. */
  record(id: Uint8Array): Promise<OnChainRecord>;
  /** Simulates, then sends and waits (the adapter's queue); a revert comes back named. */
  submit(data: Hex, what: 'submitRoot' | 'settle' | 'settleBatch', id: Uint8Array): Promise<Submitted>;
  transient<T>(what: string, f: () => Promise<T>): Promise<T>;
}

const APPLIED: ApplyOutcome = { kind: 'applied' };

export class EscrowBatch {
  /** The latest call under way per root (hex); removed when it ends, so at most one per call in flight. */
  private readonly underWay = new Map<string, Promise<unknown>>();

  constructor(private readonly port: EscrowBatchPort) {}

  /** Runs `call` after every earlier call for `root` through this adapter has ended. */
  private async oneAtATime<T>(root: Uint8Array, call: () => Promise<T>): Promise<T> {
    const key = bytesToHex(root);
    const run = (this.underWay.get(key) ?? Promise.resolve()).then(call, call);
    this.underWay.set(key, run);
    try {
      return await run;
    } finally {
      if (this.underWay.get(key) === run) this.underWay.delete(key);
    }
  }

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    const problem = reportV2Problem(report, await this.checks());
    if (problem !== null) return refused(problem);
    const stored = await this.storedCount(report.root);
    if (stored !== null) return stored === report.count ? { kind: 'duplicate' } : refused(`root is stored with count ${stored}, this report says ${report.count}`);
    const args = callArgs(() => submitRootArgs(report));
    if (typeof args === 'string') return refused(args);
    const sent = await this.port.submit(encodeFunctionData({ abi: dvpEscrowV2Abi, functionName: 'submitRoot', args }), 'submitRoot', report.root);
    if (sent.kind === 'mined') return { kind: 'stored' };
    // Another node may have stored it between our read and our transaction.
    return (await this.storedCount(report.root)) === report.count ? { kind: 'duplicate' } : refused(sent.reason);
  }

  /** Each item by `settle`, one transaction each (the call has the root, not the body settleBatch needs). */
  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    return this.oneAtATime(root, () => this.applyEntriesNow(root, items));
  }

  private async applyEntriesNow(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    const checks = await this.checks();
    const count = entriesCountProblem(items.length);
    if (count !== null) return refuseAll(items.length, count);
    if (checks.protocol !== 2) return refuseAll(items.length, V2_ON_V1_LEG);
    const verified = storedRoot(root, root.length === 32 ? await this.storedCount(root) : null, checks);
    if ('reason' in verified) return refuseAll(items.length, verified.reason);
    const out: ApplyOutcome[] = [];
    for (const item of items) out.push(await this.applyOne(verified, item));
    return out;
  }

  private async applyOne(root: VerifiedRoot, item: ProvenEntry): Promise<ApplyOutcome> {
    const problem = entryProofProblem(root, item);
    if (problem !== null) return refused(problem);
    const mark = bytesToHex(appliedEntryMarker(root.root, item.entry));
    const early = preApplyProblem(await this.port.record(item.entry.settlementId), item.entry.decision, item.entry.validUntilMs, mark, 'entry');
    if (early !== null) return early;
    const data = encodeFunctionData({ abi: dvpEscrowV2Abi, functionName: 'settle', args: settleEntryArgs(root.root, item.entry, item.proof) });
    const sent = await this.port.submit(data, 'settle', item.entry.settlementId);
    if (sent.kind === 'mined') return APPLIED;
    return this.afterRefusal(item.entry, mark, sent.reason);
  }

  /**
   * One settleBatch: the body is verified (or its root found cached) and every entry proven by the
   * multiproof; each entry applies or is skipped on its own. Entries the rules refuse up front are
   * answered from the read (and sent along anyway: the multiproof covers them; the escrow skips them).
   */
  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    return this.oneAtATime(report.root, () => this.applyBatchNow(report, entries, multiproof));
  }

  private async applyBatchNow(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    const checks = await this.checks();
    const problem = reportV2Problem(report, checks) ?? batchProofProblem(report.root, report.count, entries, multiproof);
    if (problem !== null) return refuseAll(entries.length, problem);
    const stored = await this.storedCount(report.root);
    if (stored !== null && stored !== report.count) return refuseAll(entries.length, `root is stored with count ${stored}, this report says ${report.count}`);
    const marks = entries.map((e) => bytesToHex(appliedEntryMarker(report.root, e)));
    const early: (ApplyOutcome | null)[] = [];
    for (const [k, e] of entries.entries()) early.push(preApplyProblem(await this.port.record(e.settlementId), e.decision, e.validUntilMs, marks[k]!, 'entry'));
    if (early.every((o) => o !== null)) return early as ApplyOutcome[];
    const args = callArgs(() => settleBatchCallArgs(report, entries, multiproof, { cached: stored !== null }));
    if (typeof args === 'string') return refuseAll(entries.length, args);
    const sent = await this.port.submit(encodeFunctionData({ abi: dvpEscrowV2Abi, functionName: 'settleBatch', args }), 'settleBatch', report.root);
    if (sent.kind === 'reverted') return refuseAll(entries.length, sent.reason);
    const skipped = this.skipsOf(sent.receipt.logs);
    const out: ApplyOutcome[] = [];
    for (const [k, e] of entries.entries()) {
      const reason = skipped.get(multiproof.indices[k]!);
      out.push(early[k] ?? (reason === undefined ? APPLIED : await this.afterRefusal(e, marks[k]!, reason)));
    }
    return out;
  }

  /** Leaf index → reason of every EntrySkipped the escrow emitted in a settleBatch receipt. */
  private skipsOf(logs: Extract<Submitted, { kind: 'mined' }>['receipt']['logs']): Map<number, string> {
    const escrow = this.port.escrow.toLowerCase();
    const events = parseEventLogs({ abi: dvpEscrowV2Abi, logs, eventName: 'EntrySkipped' }).filter((l) => l.address.toLowerCase() === escrow);
    return new Map(events.map((e) => [Number(e.args.index), revertReason(e.args.reason).reason]));
  }

  /** An entry the escrow refused: a duplicate if its own mark is what is applied now (another node's call won), else refused. */
  private async afterRefusal(entry: Entry, mark: Hex, reason: string): Promise<ApplyOutcome> {
    const now = await this.port.record(entry.settlementId);
    return now.reportHash === mark ? { kind: 'duplicate' } : refused(reason);
  }

  /** The count stored for `root`, or null; on a protocol 1 escrow (no roots) always null. */
  private async storedCount(root: Uint8Array): Promise<number | null> {
    if ((await this.checks()).protocol !== 2) return null;
    const count = await this.port.transient('read root', () =>
      this.port.clients.publicClient.readContract({ address: this.port.escrow, abi: dvpEscrowV2Abi, functionName: 'roots', args: [bytesToHex(root)] }),
    );
    return count === 0 ? null : count;
  }

  /** The pure rules' view of this leg: its anchor and protocol (signatures are the escrow's to check). */
  private async checks(): Promise<LegChecks> {
    const anchor = await this.port.anchor();
    return { anchor, protocol: anchor.protocol ?? 1, parties: new Map(), verifyReport: defaultVerifyReport, verifyAuthorization: defaultVerifyAuthorization };
  }
}

/** Call arguments, or why they cannot be built (a signature that is not a G1 point, say). */
function callArgs<T>(build: () => T): T | string {
  try {
    return build();
  } catch (e) {
    return `report v2 does not encode for the escrow: ${e instanceof Error ? e.message : String(e)}`;
  }
}
