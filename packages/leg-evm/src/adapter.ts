/**
 * The EVM asset leg: a LegAdapter over the DvpEscrow contract (protocol 1), and a BatchLegAdapter
 * over DvpEscrowV2 (protocol 2, escrow-batch.ts), through viem and JSON-RPC.
 *
 * Every rule is enforced by the contract; the adapter reads first so that the common refusals
 * (closed ids, duplicates, foreign reports) cost no transaction, simulates every write (a revert
 * is a refusal, named after the contract's custom error), and re-reads after a transaction that
 * reverted anyway (another node may have applied the same report in between).
 */
import {
  type Address,
  type Hex,
  type TransactionReceipt,
  BaseError,
  bytesToHex,
  encodeFunctionData,
  getAddress,
  hexToBytes,
  keccak256,
  parseEventLogs,
} from 'viem';
import {
  type Authorization,
  type LegState,
  type LegView,
  type LockRecord,
  type Entry,
  type Report,
  type ReportV2,
  type Terms,
  type TreeMultiproof,
  decodeTerms,
  encodeReport,
  encodeReportBody,
  encodeTerms,
  equalBytes,
  settlementId,
  toHex,
} from '@tandem/protocol';
import { type ApplyOutcome, type BatchLegAdapter, type PrepareOutcome, type ReclaimOutcome, TransientLegError, assertObserveIds, prepareOnRecord, refused, reportAnchorProblem, reportShapeProblem } from '@tandem/legs';
import type { ProvenEntry, RootOutcome } from '@tandem/legs';
import { dvpEscrowAbi } from './artifacts.js';
import type { LockAuthorizer } from './authorization.js';
import type { ChainClients } from './chain.js';
import { EscrowBatch } from './escrow-batch.js';
import { type OnChainRecord, type Submitted, ZERO_HASH, preApplyProblem, revertReason } from './escrow-record.js';
import { g1ToEip2537, g2FromEip2537 } from './points.js';

export interface EvmEscrowAdapterOptions {
  /** Reads go through `publicClient`; `walletClient`'s account sends (and pays for) every transaction. */
  readonly clients: ChainClients;
  readonly escrow: Address;
  /**
   * The escrow's protocol: 1 (DvpEscrow, the default) takes v1 reports and refuses roots; 2
   * (DvpEscrowV2) takes roots and entries and refuses v1 reports.
   */
  readonly protocol?: 1 | 2;
  /** Maps a protocol Authorization to the seller's EIP-712 lock authorization. */
  readonly authorizer: LockAuthorizer;
  /** Blocks a state must be buried under before `observe` reports it (reorg safety). Default 0. */
  readonly confirmations?: number;
  /**
   * A chain that keeps its state in memory and on disk apart (the embedded chain, LocalChain):
   * `observe` reads no block above its durable height, and every state-changing call answers only
   * once the chain's state is durable. Absent: the chain is durable by itself (an external chain).
   */
  readonly durability?: ChainDurability;
  /** How long to wait for a sent transaction's receipt. Default 60 s. */
  readonly receiptTimeoutMs?: number;
  /** Told about every transaction this adapter got mined (also reverted ones): for logs, demos, gas tables. */
  readonly onTransaction?: (tx: EscrowTransaction) => void;
}

/** What survives a crash of the chain itself (see EvmEscrowAdapterOptions.durability). */
export interface ChainDurability {
  /** The highest block whose state survives a crash of the chain. */
  durableHeight(): bigint;
  /** Makes every block the chain holds now durable; resolves once it is. */
  sync(): Promise<void>;
}

/** A transaction the adapter sent and saw mined (and, with `durability`, made durable). */
export interface EscrowTransaction {
  readonly call: 'lock' | 'settle' | 'reclaim' | 'submitRoot' | 'settleBatch';
  /**
   * The settlement the call was for (for submitRoot and settleBatch, the batch's root): lowercase
   * hex of its 32 bytes, without 0x (as the protocol's toHex writes it).
   */
  readonly settlementIdHex: string;
  readonly hash: Hex;
  readonly blockNumber: bigint;
  readonly gasUsed: bigint;
  readonly status: 'success' | 'reverted';
}

/** The contract's State enum, in order: the same codes as the protocol's LegState. */
const STATES: readonly LegState[] = ['none', 'locked', 'rejected', 'committed', 'aborted', 'reclaimed'];
/** The contract's RejectReason enum, in order: why a lock was durably refused. */
export const ESCROW_REJECT_REASONS: readonly string[] = [
  'terms name another chain',
  'terms name another escrow',
  'the buyer is neither an address nor a registered name',
  'the token is neither a contract address nor a registered name',
  'insufficient funds: the seller balance does not cover the amount',
  'insufficient allowance: the seller has not approved the escrow for the amount',
];
/** Lock records are immutable once made; cached per id up to this many. */
const LOCK_CACHE_MAX = 10_000;
const DEFAULT_RECEIPT_TIMEOUT_MS = 60_000;
/** Gas headroom over the estimate: precompile calls forward 63/64 of what is left. */
const GAS_HEADROOM_NUM = 5n;
const GAS_HEADROOM_DEN = 4n;

/** The escrow's anchor and venue, read once from the chain. */
interface EscrowIdentity {
  readonly networkId: Uint8Array;
  readonly configDigest: Uint8Array;
  /** Compressed (96 bytes), as the protocol's lock records carry it. */
  readonly groupPublicKey: Uint8Array;
  readonly chainId: number;
  /** "<chainId>:0x<escrow, lower case>", as expectedLock writes it. */
  readonly venue: string;
  /** The one protocol whose reports the escrow takes (the adapter's option). */
  readonly protocol: 1 | 2;
}

/** Records an observeMany reads at once, at most. */
export const OBSERVE_PARALLEL_MAX = 32;

export class EvmEscrowAdapter implements BatchLegAdapter {
  readonly leg = 'asset' as const;
  readonly escrow: Address;
  private readonly clients: ChainClients;
  private readonly authorizer: LockAuthorizer;
  private readonly confirmations: bigint;
  private readonly durability: ChainDurability | null;
  private readonly receiptTimeoutMs: number;
  private readonly onTransaction: (tx: EscrowTransaction) => void;
  private identityPromise: Promise<EscrowIdentity> | null = null;
  private readonly lockCache = new Map<string, LockRecord>();
  private readonly protocol: 1 | 2;
  private readonly batch: EscrowBatch;
  /** Transactions are sent one at a time: one account, one nonce sequence. */
  private sendQueue: Promise<unknown> = Promise.resolve();

  constructor(options: EvmEscrowAdapterOptions) {
    const confirmations = options.confirmations ?? 0;
    if (!Number.isInteger(confirmations) || confirmations < 0) throw new Error(`confirmations must be a non-negative integer, got ${confirmations}`);
    this.clients = options.clients;
    this.escrow = getAddress(options.escrow);
    this.authorizer = options.authorizer;
    this.confirmations = BigInt(confirmations);
    this.durability = options.durability ?? null;
    this.receiptTimeoutMs = options.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS;
    this.onTransaction = options.onTransaction ?? (() => {});
    this.protocol = options.protocol ?? 1;
    this.batch = new EscrowBatch({
      escrow: this.escrow,
      clients: this.clients,
      anchor: () => this.identity(),
      record: (id) => this.record(id, 'latest'),
      submit: (data, what, id) => this.submit(data, what, id),
      transient: (what, f) => this.transient(what, f),
    });
  }

  // -------------------------------------------------------------------------------------------
  // LegAdapter

  async prepare(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    return this.durably(await this.prepareNow(terms, authorization));
  }

  private async prepareNow(terms: Terms, authorization: Authorization | null): Promise<PrepareOutcome> {
    let termsBytes: Uint8Array;
    let id: Uint8Array;
    try {
      termsBytes = encodeTerms(terms);
      id = settlementId(terms);
    } catch (e) {
      // No id can be derived, so there is nothing to record the refusal under (as the memory leg).
      return { kind: 'rejected', reason: `terms do not encode: ${errorText(e)}` };
    }
    const existing = await this.record(id, 'latest');
    if (existing.state !== 'none') return prepareOnRecord(existing.state);
    const seller = terms.asset.seller;
    if (authorization === null) return { kind: 'unauthorized', reason: `no authorization from ${seller}` };
    if (authorization.party !== seller) return { kind: 'unauthorized', reason: `authorization is by ${authorization.party}, this leg needs ${seller}` };
    const identity = await this.identity();
    const sellerAddress = await this.resolve(seller);
    if (sellerAddress === null) return { kind: 'unauthorized', reason: `unknown party ${seller}: neither an address nor a registered name` };
    const auth = await this.authorizer({ terms, settlementId: id, authorization, seller: sellerAddress, escrow: this.escrow, chainId: identity.chainId, networkId: identity.networkId });
    if (auth.kind === 'unauthorized') return auth;
    const sent = await this.submit(encodeFunctionData({ abi: dvpEscrowAbi, functionName: 'lock', args: [bytesToHex(termsBytes), auth.signature] }), 'lock', id);
    if (sent.kind === 'mined') return this.lockOutcome(sent.receipt);
    switch (sent.error) {
      case 'Unauthorized':
      case 'UnknownSeller':
        return { kind: 'unauthorized', reason: sent.reason };
      case 'MalformedTerms':
        return { kind: 'rejected', reason: `the escrow cannot read these terms: ${sent.reason}` };
      default: {
        // SettlementExists, or a race lost to another node's lock: what is on chain now decides.
        const now = await this.record(id, 'latest');
        if (now.state !== 'none') return prepareOnRecord(now.state);
        throw new TransientLegError(`asset leg: lock failed: ${sent.reason}`);
      }
    }
  }

  async observe(id: Uint8Array): Promise<LegView> {
    return this.viewAt(id, await this.finalHeight());
  }

  /**
   * One final height for all of them, then their records at that block, OBSERVE_PARALLEL_MAX at a
   * time (a read of 1,024 ids must not open 1,024 RPC requests at once).
   */
  async observeMany(ids: readonly Uint8Array[]): Promise<readonly LegView[]> {
    assertObserveIds(ids);
    if (ids.length === 0) return [];
    const at = await this.finalHeight();
    const views: LegView[] = [];
    for (let i = 0; i < ids.length; i += OBSERVE_PARALLEL_MAX) {
      views.push(...(await Promise.all(ids.slice(i, i + OBSERVE_PARALLEL_MAX).map((id) => this.viewAt(id, at)))));
    }
    return views;
  }

  private async viewAt(id: Uint8Array, at: bigint): Promise<LegView> {
    const rec = await this.record(id, at);
    if (rec.state === 'none') return { state: 'none', finalityHeight: at, lock: null };
    const lock = rec.lockedAtBlock === 0n ? null : await this.lockRecord(id, rec);
    return { state: rec.state, finalityHeight: rec.changedAtBlock, lock };
  }

  async applyReport(report: Report): Promise<ApplyOutcome> {
    return this.durably(await this.applyReportNow(report));
  }

  private async applyReportNow(report: Report): Promise<ApplyOutcome> {
    const shape = reportShapeProblem(report);
    if (shape !== null) return refused(shape);
    const identity = await this.identity();
    const anchor = reportAnchorProblem(report, identity);
    if (anchor !== null) return refused(anchor);
    let signature: Uint8Array;
    try {
      signature = g1ToEip2537(report.signature);
    } catch (e) {
      return refused(`report signature does not decode: ${errorText(e)}`);
    }
    const reportHash = keccak256(encodeReport(report));
    const rec = await this.record(report.settlementId, 'latest');
    const early = preApplyProblem(rec, report.decision, report.validUntilMs, reportHash, 'report');
    if (early !== null) return early;
    const data = encodeFunctionData({ abi: dvpEscrowAbi, functionName: 'settle', args: [bytesToHex(encodeReportBody(report)), bytesToHex(signature)] });
    const sent = await this.submit(data, 'settle', report.settlementId);
    if (sent.kind === 'mined') return { kind: 'applied' };
    // Another node may have applied a report between our read and our transaction.
    const now = await this.record(report.settlementId, 'latest');
    if (now.reportHash !== ZERO_HASH) return now.reportHash === reportHash ? { kind: 'duplicate' } : refused('another report was already applied');
    return refused(sent.reason);
  }

  async reclaim(id: Uint8Array): Promise<ReclaimOutcome> {
    return this.durably(await this.reclaimNow(id));
  }

  // -------------------------------------------------------------------------------------------
  // BatchLegAdapter (protocol 2: escrow-batch.ts; a protocol 1 escrow refuses all three)

  async submitRoot(report: ReportV2): Promise<RootOutcome> {
    return this.durably(await this.batch.submitRoot(report));
  }

  async applyEntries(root: Uint8Array, items: readonly ProvenEntry[]): Promise<readonly ApplyOutcome[]> {
    return this.durably(await this.batch.applyEntries(root, items));
  }

  async applyBatch(report: ReportV2, entries: readonly Entry[], multiproof: TreeMultiproof): Promise<readonly ApplyOutcome[]> {
    return this.durably(await this.batch.applyBatch(report, entries, multiproof));
  }

  private async reclaimNow(id: Uint8Array): Promise<ReclaimOutcome> {
    const rec = await this.record(id, 'latest');
    if (rec.state !== 'locked') return refused(`nothing to reclaim: settlement is ${rec.state}`);
    const sent = await this.submit(encodeFunctionData({ abi: dvpEscrowAbi, functionName: 'reclaim', args: [bytesToHex(id)] }), 'reclaim', id);
    return sent.kind === 'mined' ? { kind: 'reclaimed' } : refused(sent.reason);
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  /**
   * The highest block whose state counts as final, the one `observe` reads: `confirmations` below
   * the head, and never above the durable height (what a crash of the chain could undo is not final).
   */
  async finalHeight(): Promise<bigint> {
    // cacheTime 0: viem otherwise serves a block number up to one polling interval old.
    const head = await this.transient('observe', () => this.clients.publicClient.getBlockNumber({ cacheTime: 0 }));
    const confirmed = head > this.confirmations ? head - this.confirmations : 0n;
    const durable = this.durability?.durableHeight() ?? confirmed;
    return durable < confirmed ? durable : confirmed;
  }

  /** The escrow's anchor and venue (read once; retried after a transient failure). */
  identity(): Promise<EscrowIdentity> {
    this.identityPromise ??= this.loadIdentity().catch((e: unknown) => {
      this.identityPromise = null;
      throw e;
    });
    return this.identityPromise;
  }

  private async loadIdentity(): Promise<EscrowIdentity> {
    const pc = this.clients.publicClient;
    const base = { address: this.escrow, abi: dvpEscrowAbi } as const;
    const [networkId, configDigest, key, chainId] = await this.transient('read anchor', () =>
      Promise.all([
        pc.readContract({ ...base, functionName: 'networkId' }),
        pc.readContract({ ...base, functionName: 'configDigest' }),
        pc.readContract({ ...base, functionName: 'groupPublicKey' }),
        pc.getChainId(),
      ]),
    );
    return {
      networkId: hexToBytes(networkId),
      configDigest: hexToBytes(configDigest),
      groupPublicKey: g2FromEip2537(hexToBytes(key)),
      chainId,
      venue: `${chainId}:${this.escrow.toLowerCase()}`,
      protocol: this.protocol,
    };
  }

  /** The address the escrow resolves a terms string to, or null. */
  private async resolve(party: string): Promise<Address | null> {
    const a = await this.transient('resolve', () =>
      this.clients.publicClient.readContract({ address: this.escrow, abi: dvpEscrowAbi, functionName: 'resolve', args: [bytesToHex(new TextEncoder().encode(party))] }),
    );
    return BigInt(a) === 0n ? null : a;
  }

  private async record(id: Uint8Array, at: bigint | 'latest'): Promise<OnChainRecord> {
    const block = at === 'latest' ? { blockTag: 'latest' as const } : { blockNumber: at };
    const s = await this.transient('read settlement', () =>
      this.clients.publicClient.readContract({ address: this.escrow, abi: dvpEscrowAbi, functionName: 'settlement', args: [bytesToHex(id)], ...block }),
    );
    const state = STATES[s.state];
    if (state === undefined) throw new Error(`assertion failed: escrow returned unknown state ${s.state}`);
    return {
      state,
      validUntilMs: s.validUntilMs,
      reclaimAtMs: s.reclaimAtMs,
      changedAtBlock: s.changedAtBlock,
      lockedAtBlock: s.lockedAtBlock,
      amount: s.amount,
      reportHash: s.reportHash,
    };
  }

  /**
   * What the escrow recorded when it locked: amount and times from its storage, the parties and
   * token as the terms (logged by the lock, and hashing to this id) name them, the venue and the
   * group key from the escrow itself.
   */
  private async lockRecord(id: Uint8Array, rec: OnChainRecord): Promise<LockRecord> {
    const idHex = bytesToHex(id);
    const cached = this.lockCache.get(idHex);
    if (cached !== undefined) return cached;
    const identity = await this.identity();
    const logs = await this.transient('read lock event', () =>
      this.clients.publicClient.getContractEvents({
        address: this.escrow,
        abi: dvpEscrowAbi,
        eventName: 'Locked',
        args: { settlementId: idHex },
        fromBlock: rec.lockedAtBlock,
        toBlock: rec.lockedAtBlock,
      }),
    );
    const log = logs[0];
    if (logs.length !== 1 || log === undefined) throw new TransientLegError(`asset leg: expected one Locked event for ${idHex} in block ${rec.lockedAtBlock}, found ${logs.length}`);
    const terms = decodeTerms(hexToBytes(log.args.terms ?? '0x'));
    if (!equalBytes(settlementId(terms), id)) throw new Error(`assertion failed: the Locked event's terms do not hash to ${idHex}`);
    const lock: LockRecord = {
      settlementId: id.slice(),
      amount: rec.amount,
      from: terms.asset.seller,
      to: terms.asset.buyer,
      unit: terms.asset.token,
      venue: identity.venue,
      validUntilMs: Number(rec.validUntilMs),
      reclaimAtMs: Number(rec.reclaimAtMs),
      groupPublicKey: identity.groupPublicKey,
    };
    if (this.lockCache.size >= LOCK_CACHE_MAX) this.lockCache.delete(this.lockCache.keys().next().value!);
    this.lockCache.set(idHex, lock);
    return lock;
  }

  private lockOutcome(receipt: TransactionReceipt): PrepareOutcome {
    const events = parseEventLogs({ abi: dvpEscrowAbi, logs: receipt.logs, strict: true }).filter((l) => l.address.toLowerCase() === this.escrow.toLowerCase());
    for (const e of events) {
      if (e.eventName === 'Locked') return { kind: 'locked' };
      if (e.eventName === 'Rejected') return { kind: 'rejected', reason: ESCROW_REJECT_REASONS[e.args.reason] ?? `rejected (reason ${e.args.reason})` };
    }
    throw new Error(`assertion failed: a mined lock emitted neither Locked nor Rejected (tx ${receipt.transactionHash})`);
  }

  // -------------------------------------------------------------------------------------------
  // Writes

  /**
   * Simulates, then sends and waits. A revert (in the simulation or on chain) is returned, named
   * after the contract's error; an RPC failure throws TransientLegError. A failure after the
   * transaction was sent also throws TransientLegError although the transaction may still land:
   * every call here is idempotent, so a retry reads the outcome.
   */
  private submit(data: Hex, what: EscrowTransaction['call'], id: Uint8Array): Promise<Submitted> {
    const run = this.sendQueue.then(() => this.submitNow(data, what, id));
    this.sendQueue = run.catch(() => undefined);
    return run;
  }

  private async submitNow(data: Hex, what: EscrowTransaction['call'], id: Uint8Array): Promise<Submitted> {
    const { publicClient, walletClient } = this.clients;
    const account = walletClient.account;
    const tx = { account, to: this.escrow, data } as const;
    let gas: bigint;
    try {
      await publicClient.call(tx);
      gas = await publicClient.estimateGas(tx);
    } catch (e) {
      const revert = revertOf(e);
      if (revert !== null) return { kind: 'reverted', ...revert };
      throw transientError(`${what}: simulation`, e);
    }
    let hash: Hex;
    try {
      hash = await walletClient.sendTransaction({ ...tx, gas: (gas * GAS_HEADROOM_NUM) / GAS_HEADROOM_DEN });
    } catch (e) {
      const revert = revertOf(e);
      if (revert !== null) return { kind: 'reverted', ...revert };
      throw transientError(`${what}: send`, e);
    }
    const receipt = await this.transient(`${what}: receipt of ${hash}`, () => publicClient.waitForTransactionReceipt({ hash, timeout: this.receiptTimeoutMs }));
    await this.durably(null);
    this.onTransaction({ call: what, settlementIdHex: toHex(id), hash, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, status: receipt.status });
    if (receipt.status !== 'success') return { kind: 'reverted', error: 'reverted', reason: `${what} transaction ${hash} reverted` };
    return { kind: 'mined', receipt };
  }

  /**
   * Returns `outcome` once the chain's state is durable (at once without `durability`). Every
   * answer to a state-changing call goes through here, since it may rest on a block another call
   * just mined: a caller that acts on the answer acts on nothing a crash of the chain can undo. If
   * the chain cannot make it durable now, the call fails transiently and its retry reads again.
   */
  private async durably<T>(outcome: T): Promise<T> {
    if (this.durability === null) return outcome;
    try {
      await this.durability.sync();
    } catch (e) {
      throw new TransientLegError(`asset leg: the chain's state is not durable yet: ${e instanceof BaseError ? e.shortMessage : errorText(e)}`);
    }
    return outcome;
  }

  /** Runs an RPC operation; a viem (transport, RPC) error becomes TransientLegError. */
  private async transient<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof BaseError) throw transientError(what, e);
      throw e;
    }
  }
}

function transientError(what: string, e: unknown): TransientLegError {
  const text = e instanceof BaseError ? e.shortMessage : errorText(e);
  return new TransientLegError(`asset leg: ${what}: ${text}`);
}

/** The contract error a viem error carries (decoded against the escrow's ABI), or null if it is not a revert. */
function revertOf(e: unknown): { error: string; reason: string } | null {
  if (!(e instanceof BaseError)) return null;
  const data = revertData(e);
  if (data === null) return null;
  return revertReason(data);
}

/** The revert data somewhere in a viem error's cause chain (RPC errors carry it as `data`). */
function revertData(e: BaseError): Hex | null {
  let found: Hex | null = null;
  e.walk((x) => {
    const d = (x as { data?: unknown }).data;
    if (typeof d === 'string' && /^0x[0-9a-fA-F]*$/.test(d)) {
      found = d as Hex;
      return true;
    }
    return false;
  });
  return found;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
