export * from './ports.js';
export * from './events.js';
export * from './runtime.js';
export { MemoryStorageV2 } from './memory-storage.js';
export * from './byzantine.js';
