export * from './types.js';
export * from './tree.js';
export * from './entry.js';
export * from './report.js';
export * from './bundle.js';
export * from './params.js';
export * from './consensus-messages.js';
export * from './wire.js';
