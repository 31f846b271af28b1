export * from './context.js';
export * from './types.js';
export * from './validity.js';
export * from './auth.js';
export { SettlementInstance } from './instance.js';
