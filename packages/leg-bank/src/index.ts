export * from './sql.js';
export * from './schema.js';
export * from './ledger.js';
export {
  type AccountBalance,
  type BankEvent,
  type BankSettlementView,
  type Transfer,
  type TransferChange,
  type TransferStatus,
  BankInputError,
  HISTORY_PAGE_MAX,
} from './model.js';
export {
  type Json,
  WireError,
  accountFromJson,
  accountToJson,
  applyOutcomeFromJson,
  eventFromJson,
  eventToJson,
  prepareOutcomeFromJson,
  reclaimOutcomeFromJson,
  settlementFromJson,
  settlementToJson,
  transferFromJson,
  transferToJson,
} from './wire.js';
export * from './server.js';
export * from './client.js';
