import { utf8 } from '@tandem/protocol';
import type { Sql } from './sql.js';

/** The ledger's tables live in one schema, so several ledgers (and tests) can share a database. */
export const DEFAULT_SCHEMA = 'tandem_bank';

/** The table layout's version; bump it (and write a migration, MIGRATIONS) when the layout changes. */
export const SCHEMA_VERSION = 2;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are spliced into SQL text (identifiers cannot be parameters): only plain names pass. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema name must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
  return schema;
}

/**
 * Amounts are u256 (docs/wire-format.md, Terms): NUMERIC(78,0) holds every one of them exactly (2^256 has 78
 * digits), and any balance up to 10^78. Times are u64 ms in BIGINT.
 *
 * Invariants held by constraints, so a bug in the ledger code cannot break them silently:
 * - no overdraft: `held <= balance` on every account (holds count against the balance);
 * - one hold per settlement id (UNIQUE), one settlement record per id (PRIMARY KEY);
 * - a lock record is complete or absent, and present for every state that needs one;
 * - committed and aborted records carry the applied marker of the report or entry that got them
 *   there (at most one per id);
 * - a root (protocol v2) is stored once per (configuration digest, root), with its count;
 * - history is append-only (triggers refuse UPDATE, DELETE and TRUNCATE).
 */
export function schemaSql(schemaName: string): string {
  const s = `"${checkSchemaName(schemaName)}"`;
  return `
CREATE SCHEMA IF NOT EXISTS ${s};

-- Which layout these tables have: a ledger refuses to open tables of another version.
CREATE TABLE IF NOT EXISTS ${s}.ledger_meta (
  singleton      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  schema_version INTEGER NOT NULL
);
INSERT INTO ${s}.ledger_meta (singleton, schema_version) VALUES (TRUE, ${SCHEMA_VERSION}) ON CONFLICT DO NOTHING;

-- The ledger height: one per history entry, also the finality height of a settlement's view.
-- Every writing transaction bumps it last and holds its row lock until commit, so heights are
-- gapless and in commit order.
CREATE TABLE IF NOT EXISTS ${s}.ledger_head (
  singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
  height    BIGINT NOT NULL CHECK (height >= 0)
);
INSERT INTO ${s}.ledger_head (singleton, height) VALUES (TRUE, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS ${s}.accounts (
  id       TEXT NOT NULL CHECK (id <> ''),
  currency TEXT NOT NULL CHECK (currency <> ''),
  balance  NUMERIC(78, 0) NOT NULL DEFAULT 0 CHECK (balance >= 0), -- posted, holds included
  held     NUMERIC(78, 0) NOT NULL DEFAULT 0 CHECK (held >= 0),    -- sum of pending debits
  PRIMARY KEY (id, currency),
  CONSTRAINT accounts_no_overdraft CHECK (held <= balance)
);

-- One record per settlement id that ever reached this ledger; no row means 'none'.
CREATE TABLE IF NOT EXISTS ${s}.settlements (
  settlement_id    BYTEA PRIMARY KEY CHECK (octet_length(settlement_id) = 32),
  state            TEXT NOT NULL CHECK (state IN ('locked', 'rejected', 'committed', 'aborted', 'reclaimed')),
  -- The lock record (protocol LockRecord), written once at lock time.
  payer            TEXT,
  payee            TEXT,
  currency         TEXT,
  amount           NUMERIC(78, 0) CHECK (amount > 0),
  venue            TEXT,
  valid_until_ms   BIGINT CHECK (valid_until_ms >= 0),
  reclaim_at_ms    BIGINT CHECK (reclaim_at_ms >= valid_until_ms),
  group_public_key BYTEA CHECK (octet_length(group_public_key) = 96),
  -- The configuration digest the lock was made under (v2 entries need a root stored under it).
  config_digest    BYTEA CHECK (octet_length(config_digest) = 32),
  reject_reason    TEXT,
  -- The applied marker: encodeReport (v1: body 126 + signature 48), or keccak256(root ‖ leaf) (v2).
  applied_report   BYTEA CONSTRAINT settlements_applied_report_check CHECK (octet_length(applied_report) IN (32, 174)),
  height           BIGINT NOT NULL CHECK (height > 0),
  CONSTRAINT settlements_lock_whole CHECK (num_nulls(payer, payee, currency, amount, venue, valid_until_ms, reclaim_at_ms, group_public_key) IN (0, 8)),
  CONSTRAINT settlements_lock_needed CHECK (state NOT IN ('locked', 'committed', 'reclaimed') OR payer IS NOT NULL),
  CONSTRAINT settlements_rejected_unlocked CHECK (state <> 'rejected' OR (payer IS NULL AND reject_reason IS NOT NULL)),
  CONSTRAINT settlements_report_applied CHECK (state NOT IN ('committed', 'aborted') OR applied_report IS NOT NULL),
  CONSTRAINT settlements_report_unapplied CHECK (state NOT IN ('locked', 'reclaimed') OR applied_report IS NULL)
);

-- Roots of reports v2 whose signature verified: entries are then applied by proof under them.
CREATE TABLE IF NOT EXISTS ${s}.roots (
  config_digest BYTEA NOT NULL CHECK (octet_length(config_digest) = 32),
  root          BYTEA NOT NULL CHECK (octet_length(root) = 32),
  count         INTEGER NOT NULL CHECK (count BETWEEN 1 AND 65535),
  stored_at_ms  BIGINT NOT NULL,
  PRIMARY KEY (config_digest, root)
);

-- Two-phase transfers as in TigerBeetle: a hold is a pending transfer; post or void resolves it.
CREATE TABLE IF NOT EXISTS ${s}.transfers (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  settlement_id  BYTEA NOT NULL UNIQUE REFERENCES ${s}.settlements (settlement_id),
  debit_account  TEXT NOT NULL,
  credit_account TEXT NOT NULL,
  currency       TEXT NOT NULL,
  amount         NUMERIC(78, 0) NOT NULL CHECK (amount > 0),
  status         TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'voided')),
  created_seq    BIGINT NOT NULL,
  resolved_seq   BIGINT,
  FOREIGN KEY (debit_account, currency) REFERENCES ${s}.accounts (id, currency),
  FOREIGN KEY (credit_account, currency) REFERENCES ${s}.accounts (id, currency),
  CONSTRAINT transfers_resolved CHECK ((status = 'pending') = (resolved_seq IS NULL))
);

-- Append-only: the sequence is the ledger height after the entry.
CREATE TABLE IF NOT EXISTS ${s}.history (
  seq            BIGINT PRIMARY KEY CHECK (seq > 0),
  at_ms          BIGINT NOT NULL,
  kind           TEXT NOT NULL CHECK (kind IN ('mint', 'hold', 'reject', 'post', 'void', 'reclaim', 'abort-closed', 'abort-recorded')),
  settlement_id  BYTEA,
  account        TEXT,
  counterparty   TEXT,
  currency       TEXT,
  amount         NUMERIC(78, 0),
  transfer_id    BIGINT,
  detail         TEXT NOT NULL
);

CREATE OR REPLACE FUNCTION ${s}.history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER history_no_update_delete BEFORE UPDATE OR DELETE ON ${s}.history
  FOR EACH ROW EXECUTE FUNCTION ${s}.history_is_append_only();
CREATE OR REPLACE TRIGGER history_no_truncate BEFORE TRUNCATE ON ${s}.history
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.history_is_append_only();
`;
}

/**
 * Statements that bring a layout of version v to v + 1 (key v), run after schemaSql, which
 * creates what is missing (here: the roots table) but never changes an existing table.
 */
function migrations(schemaName: string): ReadonlyMap<number, readonly string[]> {
  const s = `"${checkSchemaName(schemaName)}"`;
  return new Map([
    [
      1,
      [
        `ALTER TABLE ${s}.settlements ADD COLUMN IF NOT EXISTS config_digest BYTEA CHECK (octet_length(config_digest) = 32)`,
        `ALTER TABLE ${s}.settlements DROP CONSTRAINT IF EXISTS settlements_applied_report_check`,
        `ALTER TABLE ${s}.settlements ADD CONSTRAINT settlements_applied_report_check CHECK (octet_length(applied_report) IN (32, 174))`,
      ],
    ],
  ]);
}

/** A fixed advisory lock key for schema changes: the ASCII bytes "tandembk" as a signed 64-bit integer. */
const SCHEMA_LOCK_KEY = advisoryKey(utf8('tandembk'));

/**
 * The first 8 bytes of a digest as a signed 64-bit integer in decimal: a key for
 * pg_advisory_xact_lock. Settlement ids are SHA-256 digests, so their keys spread evenly; a
 * collision only makes two transactions wait for each other.
 */
export function advisoryKey(digest: Uint8Array): string {
  let x = 0n;
  for (let i = 0; i < 8; i++) x = (x << 8n) | BigInt(digest[i] ?? 0);
  return BigInt.asIntN(64, x).toString();
}

/**
 * Applies the schema idempotently. Under an advisory lock, because concurrent
 * CREATE … IF NOT EXISTS of the same table can still collide in the catalog.
 */
export async function applySchema(sql: Sql, schemaName: string): Promise<void> {
  const script = schemaSql(schemaName);
  await sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY]);
    for (const statement of splitStatements(script)) await tx.query(statement);
    const meta = `"${schemaName}".ledger_meta`;
    let found = (await tx.query(`SELECT schema_version FROM ${meta}`))[0]?.schema_version;
    const steps = migrations(schemaName);
    // Bounded: the version rises by one per step, up to SCHEMA_VERSION.
    while (typeof found === 'number' && found < SCHEMA_VERSION) {
      const step = steps.get(found);
      if (step === undefined) break;
      for (const statement of step) await tx.query(statement);
      found += 1;
      await tx.query(`UPDATE ${meta} SET schema_version = $1`, [found]);
    }
    if (found !== SCHEMA_VERSION) throw new Error(`schema "${schemaName}" has layout version ${String(found)}, this code needs ${SCHEMA_VERSION}`);
  });
}

/**
 * Splits the schema script at top-level semicolons (not inside $$ … $$). Statements run one by
 * one inside the transaction: a parameterless multi-statement query would work on `pg` but not
 * inside a PGlite transaction handle.
 */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of script.split('\n')) {
    if (line.trimStart().startsWith('--')) continue;
    current += `${line}\n`;
    if ((line.match(/\$\$/g) ?? []).length % 2 === 1) inDollar = !inDollar;
    if (!inDollar && line.trimEnd().endsWith(';')) {
      out.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}
