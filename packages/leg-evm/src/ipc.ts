/**
 * JSON-RPC over a unix domain socket: how the leg host talks to its embedded anvil (`--ipc PATH`),
 * whose HTTP port no one can reach (see local-chain.ts).
 *
 * Framing, as anvil speaks it: each request is one JSON object followed by a newline; each answer
 * is one JSON object followed by a newline, not necessarily in request order, so answers are
 * matched by id. The connection is opened on the first request and again on the first request
 * after it closed (the chain restarted): a closed connection fails the requests in flight, never
 * later ones. viem/node's own `ipc` transport is not used because its client gives up for good
 * after five failed reconnects and is cached per path for the life of the process.
 */
import { type Socket, connect } from 'node:net';
import { type Transport, BaseError, RpcRequestError, custom } from 'viem';

/** How long one request may wait for its answer. */
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Requests waiting for an answer at once: a bound, not a policy. */
const PENDING_MAX = 1024;
/** Largest answer accepted (a state dump of a long-lived chain is the largest). */
const ANSWER_BYTES_MAX = 512 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The socket is unreachable, closed mid-request, or an answer did not come in time: a transport failure, never a chain answer. */
export class IpcRequestError extends BaseError {
  constructor(path: string, what: string) {
    super(`IPC ${path}: ${what}`, { name: 'IpcRequestError' });
  }
}

interface Waiting {
  readonly resolve: (result: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly body: { readonly method: string; readonly params: readonly unknown[] };
}

interface Answer {
  readonly id?: unknown;
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown };
}

export class IpcRpcClient {
  private socket: Socket | null = null;
  private opening: Promise<Socket> | null = null;
  private readonly pending = new Map<number, Waiting>();
  private nextId = 1;
  /** Bytes of the answer being received, before its newline. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /** One JSON-RPC call; a JSON-RPC error answer throws viem's RpcRequestError (as the HTTP transport does). */
  async request(method: string, params: readonly unknown[] = []): Promise<unknown> {
    if (this.closed) throw new IpcRequestError(this.path, 'the client is closed');
    if (this.pending.size >= PENDING_MAX) throw new IpcRequestError(this.path, `${PENDING_MAX} requests already wait for an answer`);
    const socket = await this.open();
    if (socket.destroyed) throw new IpcRequestError(this.path, `the connection closed before ${method} was sent`);
    const id = this.nextId++;
    const body = { method, params };
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new IpcRequestError(this.path, `no answer to ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, body });
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** A viem transport over this client (no retries: a failure is the caller's to handle). */
  transport(): Transport {
    return custom({ request: ({ method, params }: { method: string; params?: unknown }) => this.request(method, Array.isArray(params) ? params : []) }, { retryCount: 0 });
  }

  /** Fails what is in flight and refuses later requests. */
  close(): void {
    this.closed = true;
    this.drop('the client closed');
  }

  private open(): Promise<Socket> {
    if (this.socket !== null) return Promise.resolve(this.socket);
    this.opening ??= new Promise<Socket>((resolve, reject) => {
      const s = connect(this.path);
      const failed = (e: Error) => {
        this.opening = null;
        reject(new IpcRequestError(this.path, `cannot connect (${(e as NodeJS.ErrnoException).code ?? e.message})`));
      };
      s.once('error', failed);
      s.once('connect', () => {
        s.off('error', failed);
        this.opening = null;
        this.socket = s;
        this.partial = [];
        this.partialBytes = 0;
        s.on('data', (chunk: Buffer) => this.receive(chunk));
        s.on('error', () => {}); // 'close' follows and does the work
        s.on('close', () => {
          if (this.socket === s) this.socket = null;
          this.drop('the connection closed');
        });
        resolve(s);
      });
    });
    return this.opening;
  }

  /** Splits the stream at newlines; each complete line is one answer. */
  private receive(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      this.partial.push(chunk.subarray(start, nl));
      const line = Buffer.concat(this.partial).toString('utf8');
      this.partial = [];
      this.partialBytes = 0;
      start = nl + 1;
      this.answer(line);
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > ANSWER_BYTES_MAX) this.socket?.destroy(); // 'close' fails what waits
    }
  }

  private answer(line: string): void {
    if (line.trim() === '') return;
    let a: Answer;
    try {
      a = JSON.parse(line) as Answer;
    } catch {
      this.socket?.destroy(); // a stream we cannot read: start over on a new connection
      return;
    }
    const w = typeof a.id === 'number' ? this.pending.get(a.id) : undefined;
    if (w === undefined) return; // timed out already, or a notification
    this.pending.delete(a.id as number);
    clearTimeout(w.timer);
    if (a.error !== undefined) w.reject(new RpcRequestError({ body: w.body, error: a.error, url: this.path }));
    else w.resolve(a.result);
  }

  private drop(why: string): void {
    for (const [id, w] of this.pending) {
      clearTimeout(w.timer);
      w.reject(new IpcRequestError(this.path, `${why} before ${w.body.method} was answered`));
      this.pending.delete(id);
    }
    this.socket?.destroy();
    this.socket = null;
  }
}
