export * from './sql.js';
export * from './schema.js';
export * from './ledger.js';
