export * from './ports.js';
export * from './runtime.js';
export * from './params.js';
export * from './byzantine.js';
export * from './summary.js';
export * from './verifier.js';
export * from './memory-storage.js';
export * from './signing-fence.js';
export type { IntentLimits, IntentRefusal } from './admission.js';
