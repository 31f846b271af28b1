export * from './ports.js';
export * from './runtime.js';
