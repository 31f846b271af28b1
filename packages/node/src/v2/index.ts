export * from './ports.js';
export * from './events.js';
export * from './runtime.js';
export { MemoryStorageV2 } from './memory-storage.js';
export * from './byzantine.js';
export { DIRECT_V2_CHECKS, MEMO_LEAVES_MAX, MEMO_PROOFS_MAX, MemoV2Checks, type V2Checks } from './checks.js';
export { type LegCallV2, recordingLegsV2 } from './leg-calls.js';
