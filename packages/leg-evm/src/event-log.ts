/**
 * The escrow's history as leg events: the same kinds, meanings and texts as the in-memory legs'
 * log and the bank's history (@tandem/legs, events.ts and rules/moves.ts), rebuilt from what the
 * chain keeps — the escrow's contract events and the tokens' mints, in chain order. Read-only: it
 * is the asset leg's audit trail, and what the simulator's checker reads of a real asset leg.
 *
 * Times: a block's timestamp has whole seconds (anvil stamps a block with the wall-clock second it
 * was mined in), so an event's `atMs` is the last millisecond of its block's second — no earlier
 * than the instant it happened. Each event's detail ends with its block and transaction.
 */
import { type Address, type Chain, type Hex, type PublicClient, type Transport, hexToBytes, parseEventLogs, zeroAddress } from 'viem';
import { type LockRecord, decodeTerms, expectedLock, settlementId, equalBytes } from '@tandem/protocol';
import { type BalanceEntry, type LegEvent, LEG_NAMING, LEG_STATE_AFTER, commitEvent, lockEvent, mintEvent, rejectEvent, returnEvent, unlockedAbortEvent } from '@tandem/legs';
import { ESCROW_REJECT_REASONS } from './adapter.js';
import { dvpEscrowAbi, tandemTokenAbi } from './artifacts.js';
import { g2FromEip2537 } from './points.js';

export interface EscrowEventLogOptions {
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly escrow: Address;
  /** Token symbol (the unit terms name) → token contract. */
  readonly tokens: ReadonlyMap<string, Address>;
  /** Account → the name events give it (a party's name); others appear as their address. */
  readonly names: ReadonlyMap<Address, string>;
  /** The first block to read (the escrow's deployment); default 0. */
  readonly fromBlock?: bigint;
}

/** Blocks one eth_getLogs call may span: a bound on each read, not on the history. */
const LOG_RANGE_BLOCKS_MAX = 10_000n;
const NAMING = LEG_NAMING.asset;
const ABI = [...dvpEscrowAbi, ...tandemTokenAbi];

type NewEvent = Omit<LegEvent, 'seq' | 'atMs'>;

export class EscrowEventLog {
  /** Every event read so far, with its block. */
  private readonly entries: { readonly event: LegEvent; readonly block: bigint }[] = [];
  /** The last block read (events up to it are in `events`). */
  private readTo: bigint;
  private readonly locks = new Map<string, LockRecord>();
  private readonly symbols: Map<string, string>;
  private readonly names: Map<string, string>;
  private lastBlockTime: { block: bigint; ms: number } | null = null;
  private groupKey: Uint8Array | null = null;
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly o: EscrowEventLogOptions) {
    this.readTo = (o.fromBlock ?? 0n) - 1n;
    this.symbols = new Map([...o.tokens].map(([symbol, token]) => [token.toLowerCase(), symbol] as const));
    this.names = new Map([...o.names].map(([account, name]) => [account.toLowerCase(), name] as const));
  }

  /** Every event up to block `toBlock`, oldest first, numbered 1, 2, … (reads only what it has not read yet). */
  async upTo(toBlock: bigint): Promise<readonly LegEvent[]> {
    const run = this.reading.then(() => this.readUpTo(toBlock));
    this.reading = run.catch(() => undefined);
    await run;
    return this.entries.filter((x) => x.block <= toBlock).map((x) => x.event);
  }

  /**
   * The asset leg's conservation at `toBlock`: every token's supply is what was minted, and the
   * escrow holds exactly the amounts of the settlements still locked. Null when both hold.
   */
  async conservationProblem(toBlock: bigint): Promise<string | null> {
    const events = await this.upTo(toBlock);
    const minted = new Map<string, bigint>();
    const locked = new Map<string, bigint>();
    const state = new Map<string, string>();
    for (const e of events) {
      if (e.kind === 'mint') minted.set(e.unit!, (minted.get(e.unit!) ?? 0n) + e.amount!);
      if (e.settlementIdHex === undefined) continue;
      const before = state.get(e.settlementIdHex);
      const after = LEG_STATE_AFTER[e.kind];
      if (after !== null) state.set(e.settlementIdHex, after);
      // A lock puts its amount in escrow; whatever ends a lock (release, refund, reclaim) takes it out.
      const delta = after === 'locked' ? e.amount! : before === 'locked' ? -e.amount! : 0n;
      if (delta !== 0n) locked.set(e.unit!, (locked.get(e.unit!) ?? 0n) + delta);
    }
    const pc = this.o.publicClient;
    for (const [symbol, token] of this.o.tokens) {
      const [supply, held] = await Promise.all([
        pc.readContract({ address: token, abi: tandemTokenAbi, functionName: 'totalSupply', blockNumber: toBlock }),
        pc.readContract({ address: token, abi: tandemTokenAbi, functionName: 'balanceOf', args: [this.o.escrow], blockNumber: toBlock }),
      ]);
      if (supply !== (minted.get(symbol) ?? 0n)) return `${symbol}: total supply ${supply} but ${minted.get(symbol) ?? 0n} minted`;
      if (held !== (locked.get(symbol) ?? 0n)) return `${symbol}: the escrow holds ${held} but ${locked.get(symbol) ?? 0n} is locked`;
    }
    return null;
  }

  /** Every named account's token balance at `toBlock`, sorted by account then unit. */
  async balances(toBlock: bigint): Promise<BalanceEntry[]> {
    const out: BalanceEntry[] = [];
    for (const [account, name] of this.o.names) {
      for (const [symbol, token] of this.o.tokens) {
        const amount = await this.o.publicClient.readContract({ address: token, abi: tandemTokenAbi, functionName: 'balanceOf', args: [account], blockNumber: toBlock });
        out.push({ account: name, unit: symbol, amount });
      }
    }
    return out.sort((a, b) => (a.account !== b.account ? (a.account < b.account ? -1 : 1) : a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0));
  }

  private async readUpTo(toBlock: bigint): Promise<void> {
    const addresses = [this.o.escrow, ...this.o.tokens.values()];
    while (this.readTo < toBlock) {
      const from = this.readTo + 1n;
      const to = from + LOG_RANGE_BLOCKS_MAX - 1n < toBlock ? from + LOG_RANGE_BLOCKS_MAX - 1n : toBlock;
      const logs = await this.o.publicClient.getLogs({ address: addresses, fromBlock: from, toBlock: to });
      const parsed = parseEventLogs({ abi: ABI, logs, strict: true }).sort((a, b) => (a.blockNumber !== b.blockNumber ? (a.blockNumber < b.blockNumber ? -1 : 1) : a.logIndex - b.logIndex));
      // A range is taken whole or not at all: a read that fails half-way is read again from its start.
      const read: { block: bigint; event: LegEvent }[] = [];
      for (const log of parsed) {
        const event = await this.eventOf(log);
        if (event === null) continue;
        const block = log.blockNumber;
        const seq = this.entries.length + read.length + 1;
        read.push({ block, event: { ...event, seq, atMs: await this.blockEndMs(block), detail: `${event.detail} (block ${block}, tx ${log.transactionHash})` } });
      }
      this.entries.push(...read);
      this.readTo = to;
    }
  }

  /** The leg event a log means, or null for logs that move no settlement and mint nothing. */
  private async eventOf(log: ReturnType<typeof parseEventLogs<typeof ABI>>[number]): Promise<NewEvent | null> {
    const isEscrow = log.address.toLowerCase() === this.o.escrow.toLowerCase();
    if (!isEscrow) {
      if (log.eventName !== 'Transfer' || log.args.from !== zeroAddress) return null;
      const symbol = this.symbols.get(log.address.toLowerCase());
      if (symbol === undefined) return null;
      return mintEvent(this.names.get(log.args.to.toLowerCase()) ?? log.args.to.toLowerCase(), symbol, log.args.amount);
    }
    switch (log.eventName) {
      case 'Locked':
        return lockEvent(NAMING, idHexOf(log.args.settlementId), await this.lockOf(log.args.settlementId, log.args.terms));
      case 'Rejected':
        return rejectEvent(idHexOf(log.args.settlementId), await this.lockOf(log.args.settlementId, log.args.terms), ESCROW_REJECT_REASONS[log.args.reason] ?? `rejected (reason ${log.args.reason})`);
      case 'Released':
        return commitEvent(NAMING, idHexOf(log.args.settlementId), this.lockFor(log.args.settlementId));
      case 'Refunded':
        return returnEvent(NAMING.abort, idHexOf(log.args.settlementId), this.lockFor(log.args.settlementId));
      case 'Reclaimed':
        return returnEvent('reclaim', idHexOf(log.args.settlementId), this.lockFor(log.args.settlementId));
      case 'ClosedByAbort':
        return unlockedAbortEvent('abort-closed', idHexOf(log.args.settlementId));
      case 'AbortRecorded':
        return unlockedAbortEvent('abort-recorded', idHexOf(log.args.settlementId));
      default:
        return null; // NameRegistered, and the token events of the escrow's own transfers
    }
  }

  /** The lock the terms logged with a lock (or a rejection) describe; remembered for the id's later events. */
  private async lockOf(id: Hex, termsHex: Hex): Promise<LockRecord> {
    const terms = decodeTerms(hexToBytes(termsHex));
    const idBytes = hexToBytes(id);
    if (!equalBytes(settlementId(terms), idBytes)) throw new Error(`assertion failed: the terms logged for ${id} do not hash to it`);
    const lock = expectedLock(terms, 'asset', idBytes, await this.groupPublicKey());
    this.locks.set(id.toLowerCase(), lock);
    return lock;
  }

  private lockFor(id: Hex): LockRecord {
    const lock = this.locks.get(id.toLowerCase());
    if (lock === undefined) throw new Error(`assertion failed: the escrow moved ${id}'s value with no Locked event before it`);
    return lock;
  }

  private async groupPublicKey(): Promise<Uint8Array> {
    this.groupKey ??= g2FromEip2537(hexToBytes(await this.o.publicClient.readContract({ address: this.o.escrow, abi: dvpEscrowAbi, functionName: 'groupPublicKey' })));
    return this.groupKey;
  }

  /** The last millisecond of the block's second (see the header); a block's events ask in a row. */
  private async blockEndMs(block: bigint): Promise<number> {
    if (this.lastBlockTime?.block !== block) {
      const { timestamp } = await this.o.publicClient.getBlock({ blockNumber: block });
      this.lastBlockTime = { block, ms: Number(timestamp) * 1000 + 999 };
    }
    return this.lastBlockTime.ms;
  }
}

/** A settlement id as the protocol's toHex writes it: lowercase, no 0x. */
function idHexOf(id: Hex): string {
  return id.slice(2).toLowerCase();
}
