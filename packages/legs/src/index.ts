export * from './adapter.js';
export * from './events.js';
export * from './rules/index.js';
export * from './balances.js';
export * from './memory-leg.js';
export * from './memory-asset.js';
export * from './memory-bank.js';
