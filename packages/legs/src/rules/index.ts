/**
 * The leg rules (this package's README, "Rules every adapter enforces") as pure functions, in the
 * spirit of a consensus client's state transition: each takes what the leg has recorded and the
 * call's inputs and returns a decision — answer, refuse with a reason, or what to write. The in-memory legs and the PostgreSQL ledger are
 * storage around them; the EVM escrow keeps its own on-chain rules. The conformance suite checks
 * every leg against the same behaviour.
 */
export * from './signature.js';
export * from './options.js';
export * from './record.js';
export * from './authorization.js';
export * from './venue.js';
export * from './prepare.js';
export * from './report.js';
export * from './apply.js';
export * from './root.js';
export * from './entry.js';
export * from './batch.js';
export * from './reclaim.js';
export * from './moves.js';
