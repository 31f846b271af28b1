import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** One result row, column name → value as the driver returned it (bigint/numeric may be strings). */
export type Row = Record<string, unknown>;

/** Something that runs one parameterized statement ($1, $2, …). */
export interface SqlQueryable {
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/**
 * The little of PostgreSQL the ledger needs, over two drivers: PGlite (embedded, one connection)
 * and `pg` (a pool of connections to a real server). The ledger's SQL is the same on both.
 */
export interface Sql extends SqlQueryable {
  readonly dialect: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection: commits if it returns, rolls back if it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (the schema). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenSqlOptions {
  /** `postgres://…` (e.g. DATABASE_URL): a `pg` pool. Absent: an embedded PGlite. */
  readonly databaseUrl?: string;
  /** PGlite only: a data directory to keep the database in. Absent: in memory. */
  readonly dataDir?: string;
  /** `pg` only: connections in the pool. */
  readonly poolSize?: number;
  /** `pg` only: how long to wait for a connection before the call fails (transiently). */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_POOL_SIZE = 5;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Opens PGlite (default) or a `pg` pool (when given a `postgres://` or `postgresql://` URL). */
export async function openSql(options: OpenSqlOptions = {}): Promise<Sql> {
  if (options.databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(options.databaseUrl)) throw new Error('databaseUrl must start with postgres:// or postgresql://');
    if (options.dataDir !== undefined) throw new Error('dataDir is for PGlite only; give databaseUrl or dataDir, not both');
    return PgPoolSql.connect(options.databaseUrl, options.poolSize ?? DEFAULT_POOL_SIZE, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  }
  return PgliteSql.open(options.dataDir);
}

/** Embedded PostgreSQL in WASM: one connection, so statements and transactions queue up. */
export class PgliteSql implements Sql {
  readonly dialect = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir?: string): Promise<PgliteSql> {
    return new PgliteSql(await PGlite.create(dataDir === undefined ? {} : { dataDir }));
  }

  async query(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.db.query<Row>(text, [...params])).rows;
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => fn({ query: async (text, params = []) => (await tx.query<Row>(text, [...params])).rows }));
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

/** A real PostgreSQL server through a `pg` pool: concurrent transactions on several connections. */
export class PgPoolSql implements Sql {
  readonly dialect = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async connect(url: string, poolSize: number, connectTimeoutMs: number): Promise<PgPoolSql> {
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 100) throw new Error(`poolSize must be 1..100, got ${poolSize}`);
    const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: connectTimeoutMs });
    // An idle connection that dies (server restart) emits 'error' on the pool; unhandled, that
    // would end the process. The next query on it fails and is reported transient instead.
    pool.on('error', () => {});
    return new PgPoolSql(pool);
  }

  async query(text: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.pool.query<Row>(text, [...params])).rows;
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      // Explicit, whatever the server's default: the ledger's locking (row locks, re-reading
      // after a wait) is written for READ COMMITTED.
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await fn({ query: async (text, params = []) => (await client.query<Row>(text, [...params])).rows });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable: the pool must not hand it out again
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }

  async exec(script: string): Promise<void> {
    // Without parameters, pg sends a simple query, which may hold several statements.
    await this.pool.query(script);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/**
 * SQLSTATE classes that mean "try again", not "no": connection exceptions (08), transaction
 * rollbacks such as serialization failures and deadlocks (40), insufficient resources (53),
 * operator intervention such as a shutdown (57), system errors such as I/O failures (58).
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Driver messages for a lost or unavailable connection (pg and PGlite raise these without a code). */
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
  /PGlite is closed/i,
];

/** True when a database error means the database is (for now) unreachable, not that it refused. */
export function isTransientDbError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
    if (TRANSIENT_NODE_CODES.has(code)) return true;
  }
  // Node's AggregateError (every address refused) carries the individual errors.
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0 && errors.every(isTransientDbError)) return true;
  const message = e instanceof Error ? e.message : '';
  return TRANSIENT_MESSAGES.some((re) => re.test(message));
}
