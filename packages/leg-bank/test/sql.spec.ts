import { describe, expect, it } from 'vitest';
import { advisoryKey, checkSchemaName, isTransientDbError, schemaSql, splitStatements } from '../src/index.js';

describe('isTransientDbError', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  it('counts lost connections, rollbacks, resource and operator errors as transient', () => {
    for (const code of ['08006', '08001', '40001', '40P01', '53300', '57P01', '57P03', '58030', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) {
      expect(isTransientDbError(withCode(code)), code).toBe(true);
    }
    expect(isTransientDbError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDbError(new Error('PGlite is closed'))).toBe(true);
    expect(isTransientDbError(Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), {}))).toBe(true);
  });

  it('does not count refusals, bad credentials, bugs or non-errors as transient', () => {
    for (const code of ['23514', '23505', '42P01', '28P01', '22003', 'P0001', 'ENOENT']) expect(isTransientDbError(withCode(code)), code).toBe(false);
    expect(isTransientDbError(new Error('syntax error'))).toBe(false);
    expect(isTransientDbError(new AggregateError([withCode('ECONNREFUSED'), new Error('other')]))).toBe(false);
    expect(isTransientDbError('08006')).toBe(false);
    expect(isTransientDbError(null)).toBe(false);
  });
});

describe('schema text', () => {
  it('accepts only plain schema names (they are spliced into SQL)', () => {
    expect(checkSchemaName('tandem_bank')).toBe('tandem_bank');
    for (const bad of ['', 'Tandem', '1abc', 'a-b', 'a"; DROP TABLE x; --', 'a'.repeat(64)]) expect(() => checkSchemaName(bad), bad).toThrow();
  });

  it('splits statements at top-level semicolons only, keeping function bodies whole', () => {
    const statements = splitStatements(schemaSql('s'));
    const fn = statements.find((x) => x.startsWith('CREATE OR REPLACE FUNCTION'));
    expect(fn).toMatch(/RAISE EXCEPTION[\s\S]*END\n\$\$;$/);
    expect(statements.every((x) => x.endsWith(';'))).toBe(true);
    expect(statements.filter((x) => x.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(7);
  });

  it('derives advisory keys from the first 8 bytes as a signed 64-bit integer', () => {
    expect(advisoryKey(new Uint8Array(32))).toBe('0');
    expect(advisoryKey(new Uint8Array(32).fill(0xff))).toBe('-1');
    expect(advisoryKey(Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 9]))).toBe('9223372036854775807');
    expect(advisoryKey(Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 1]))).toBe('-9223372036854775807');
  });
});
