export * from './ports.js';
export * from './runtime.js';
export * from './byzantine.js';
