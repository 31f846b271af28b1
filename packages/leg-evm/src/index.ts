export { type ChainDurability, ESCROW_REJECT_REASONS, EvmEscrowAdapter, type EscrowTransaction, type EvmEscrowAdapterOptions } from './adapter.js';
export {
  type CustodiedParty,
  type LockAuthorizationRequest,
  type LockAuthorizationResult,
  type LockAuthorizer,
  EIP712_DOMAIN_NAME,
  EIP712_DOMAIN_VERSION,
  custodialAuthorizer,
  eip712Authorizer,
  lockAuthorizationTypedData,
  signLockAuthorization,
} from './authorization.js';
export {
  type Anvil,
  type AnvilOptions,
  type IsolatedAnvil,
  type IsolatedAnvilOptions,
  ANVIL_DEV_PRIVATE_KEYS,
  IPC_PATH_BYTES_MAX,
  anvilBinaryPath,
  isolationProblem,
  rpc,
  startAnvil,
  startIsolatedAnvil,
} from './anvil.js';
export { IpcRequestError, IpcRpcClient } from './ipc.js';
export { CHAIN_SOCKET_FILE, CHAIN_STATE_FILE, LocalChain, type LocalChainOptions } from './local-chain.js';
export { EscrowEventLog, type EscrowEventLogOptions } from './event-log.js';
export { writeFileDurably } from './durable-file.js';
export {
  type ChainClientOptions,
  type ChainClients,
  type ChainWallet,
  type GasTopUp,
  type TokenParams,
  APPROVE_GAS,
  DEFAULT_POLLING_INTERVAL_MS,
  InsufficientGasFundsError,
  addressString,
  anvilDevAccount,
  chainClients,
  deployEscrow,
  deployToken,
  fundForGas,
  readChainId,
  registerNames,
  sendAndWait,
} from './chain.js';
export { EIP2537_G1_BYTES, EIP2537_G2_BYTES, g1FromEip2537, g1ToEip2537, g2FromEip2537, g2ToEip2537 } from './points.js';
export { blsHarnessAbi, blsHarnessBytecode, dvpEscrowAbi, dvpEscrowBytecode, dvpEscrowV2Abi, dvpEscrowV2Bytecode, tandemTokenAbi, tandemTokenBytecode } from './artifacts.js';
export { ESCROW_V2_INDEX_BYTES, packEntries, packIndices, settleBatchArgs, settleBatchCallArgs, settleEntryArgs, settleV2Args, submitRootArgs } from './escrow-v2.js';
