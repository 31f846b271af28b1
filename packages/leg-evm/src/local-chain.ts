/**
 * The leg host's embedded chain: an isolated anvil (anvil.ts: its own network namespace, JSON-RPC
 * on a unix socket only) whose state survives any crash.
 *
 * Durability. anvil keeps its chain in memory. `sync()` asks it for its whole state
 * (anvil_dumpState: accounts, storage, blocks, receipts, logs) and writes it to DIR/state.json
 * durably (durable-file.ts); anvil starts from that file (`--load-state`) after any restart.
 * `durableHeight()` is the head block of the last state written. The EVM adapter observes no block
 * above it and answers a state-changing call only after `sync()` (adapter.ts, `durability`): a
 * change that a node saw, or was told about, is on disk; one lost because the chain died between
 * its block and the dump was never seen by anyone, and the caller's retry makes it again.
 *
 * Supervision. If anvil dies (killed, crashed), it is started again from the state file after a
 * pause; requests fail transiently meanwhile (a transport error, which the adapter turns into
 * TransientLegError). After RESTARTS_MAX failed starts in a row it gives up and calls `onFatal`.
 */
import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { ChainDurability } from './adapter.js';
import { type IsolatedAnvil, startIsolatedAnvil } from './anvil.js';
import { writeFileDurably } from './durable-file.js';
import { IpcRpcClient } from './ipc.js';

export interface LocalChainOptions {
  /** Holds the state file (state.json) and anvil's socket (anvil.ipc); created, or made, mode 0700. */
  readonly dir: string;
  readonly chainId?: number;
  /** JSON log lines: the chain started, exited, could not restart. */
  readonly log?: (line: Record<string, unknown>) => void;
  /** Called once if the chain died and cannot be started again. */
  readonly onFatal?: (e: Error) => void;
}

/** The state file anvil starts from, in the chain's directory. */
export const CHAIN_STATE_FILE = 'state.json';
/** anvil's JSON-RPC socket, in the chain's directory. */
export const CHAIN_SOCKET_FILE = 'anvil.ipc';

/** Failed starts in a row after which a dead chain is given up. */
const RESTARTS_MAX = 10;
const RESTART_DELAY_MS_MIN = 200;
const RESTART_DELAY_MS_MAX = 5_000;
/** Dumps one `sync` may wait through: each covers every block mined before it began. */
const SYNC_ROUNDS_MAX = 4;

export class LocalChain implements ChainDurability {
  readonly client: IpcRpcClient;
  readonly chainId: number;
  readonly statePath: string;
  private anvil: IsolatedAnvil;
  /** Bumped on every (re)start: a dump taken from an earlier anvil is never written. */
  private generation = 0;
  private durable: bigint;
  private dumping: Promise<void> | null = null;
  private stopping = false;
  private stopped: Promise<void> | null = null;

  private constructor(
    private readonly o: LocalChainOptions,
    anvil: IsolatedAnvil,
    head: bigint,
  ) {
    this.anvil = anvil;
    this.chainId = anvil.chainId;
    this.client = new IpcRpcClient(anvil.ipcPath);
    this.statePath = join(o.dir, CHAIN_STATE_FILE);
    this.durable = head;
    this.watch(anvil);
  }

  /** Starts anvil from DIR/state.json if there is one (else a new chain), and resolves once it answers. */
  static async start(o: LocalChainOptions): Promise<LocalChain> {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    chmodSync(o.dir, 0o700);
    const anvil = await launch(o);
    const client = new IpcRpcClient(anvil.ipcPath);
    let head: bigint;
    try {
      head = await blockNumber(client);
    } catch (e) {
      await anvil.stop();
      throw e;
    } finally {
      client.close();
    }
    o.log?.({ event: 'evm-chain-started', pid: anvil.pid, head: String(head), state: existsSync(join(o.dir, CHAIN_STATE_FILE)) ? 'loaded' : 'new' });
    return new LocalChain(o, anvil, head);
  }

  /** anvil's process id (it changes when the chain is restarted). */
  get pid(): number {
    return this.anvil.pid;
  }

  durableHeight(): bigint {
    return this.durable;
  }

  /** Makes every block the chain holds now durable; resolves once the state file holds them. */
  async sync(): Promise<void> {
    const head = await blockNumber(this.client);
    for (let round = 0; round < SYNC_ROUNDS_MAX && this.durable < head; round++) {
      this.dumping ??= this.dump().finally(() => {
        this.dumping = null;
      });
      await this.dumping;
    }
    if (this.durable < head) throw new Error(`the chain's state up to block ${head} is not on disk after ${SYNC_ROUNDS_MAX} dumps`);
  }

  /** A last dump (best effort: every acknowledged change is on disk already), then anvil stops. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      try {
        await this.sync();
      } catch {
        // The chain is down or the disk refused: what was acknowledged was dumped when it was.
      }
      this.stopping = true;
      this.client.close();
      await this.anvil.stop();
    })();
    return this.stopped;
  }

  private async dump(): Promise<void> {
    const generation = this.generation;
    const head = await blockNumber(this.client); // the dump below holds at least this block
    const hex = await this.client.request('anvil_dumpState');
    if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]*$/.test(hex)) throw new Error('anvil_dumpState answered no hex string');
    const state = gunzipSync(Buffer.from(hex.slice(2), 'hex'));
    // Checked and written in one synchronous step: a restart (which loads this file) cannot come in between.
    if (generation !== this.generation) throw new Error('the chain restarted during the dump');
    writeFileDurably(this.statePath, state);
    if (head > this.durable) this.durable = head;
  }

  /** Restarts the chain from its state file whenever anvil exits unasked. */
  private watch(anvil: IsolatedAnvil): void {
    void anvil.exited.then(({ code, signal }) => {
      if (this.stopping || anvil !== this.anvil) return;
      this.generation++;
      this.o.log?.({ event: 'evm-chain-exited', pid: anvil.pid, code, signal });
      void this.restart();
    });
  }

  private async restart(): Promise<void> {
    let delayMs = RESTART_DELAY_MS_MIN;
    for (let attempt = 1; attempt <= RESTARTS_MAX; attempt++) {
      await new Promise((r) => setTimeout(r, delayMs));
      if (this.stopping) return;
      let anvil: IsolatedAnvil | null = null;
      let head: bigint;
      try {
        anvil = await launch(this.o);
        head = await blockNumber(this.client);
      } catch (e) {
        await anvil?.stop();
        this.o.log?.({ event: 'evm-chain-restart-failed', attempt, error: e instanceof Error ? e.message : String(e) });
        delayMs = Math.min(delayMs * 2, RESTART_DELAY_MS_MAX);
        continue;
      }
      if (head < this.durable) {
        // The file always holds every block reported durable: someone replaced it with an older one.
        await anvil.stop();
        this.o.onFatal?.(new Error(`${this.statePath} holds the chain up to block ${head}, below the ${this.durable} already reported durable`));
        return;
      }
      this.anvil = anvil;
      this.generation++;
      this.durable = head;
      this.o.log?.({ event: 'evm-chain-started', pid: anvil.pid, head: String(head), state: 'loaded', attempt });
      this.watch(anvil);
      if (this.stopping) await anvil.stop();
      return;
    }
    this.o.onFatal?.(new Error(`the embedded chain died and did not start again after ${RESTARTS_MAX} attempts (state file ${this.statePath})`));
  }
}

function launch(o: LocalChainOptions): Promise<IsolatedAnvil> {
  const statePath = join(o.dir, CHAIN_STATE_FILE);
  return startIsolatedAnvil({
    ipcPath: join(o.dir, CHAIN_SOCKET_FILE),
    ...(o.chainId !== undefined ? { chainId: o.chainId } : {}),
    ...(existsSync(statePath) ? { loadStatePath: statePath } : {}),
  });
}

async function blockNumber(client: IpcRpcClient): Promise<bigint> {
  const hex = await client.request('eth_blockNumber');
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]+$/.test(hex)) throw new Error(`eth_blockNumber answered ${JSON.stringify(hex)}`);
  return BigInt(hex);
}
