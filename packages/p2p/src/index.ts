// The polyfill comes first: ES modules evaluate in import order, so Promise.withResolvers exists
// before any libp2p module runs.
import './polyfill.js';

export { promiseWithResolversInstalled } from './polyfill.js';
export {
  DEFAULT_P2P_LIMITS,
  DIRECT_PROTOCOL,
  type HostStats,
  type P2pLimits,
  type PeerAddresses,
  type TandemHost,
  type TandemHostOptions,
  type TandemLibp2p,
  createTandemHost,
  directProtocol,
  gossipTopic,
  membersOnlyGater,
} from './host.js';
export { MemberDirectory } from './members.js';
export {
  type LinkFilter,
  type LinkStage,
  type LinkVerdict,
  type MessageHandler,
  type P2pTransportOptions,
  type PeerConnectedHandler,
  P2pTransport,
  type TransportStats,
} from './transport.js';
export { PeerRateLimiter, TokenBucket } from './rate-limit.js';
export { encodeFrame, varintLength } from './frames.js';
export { WIRE_V1, WIRE_V2, type WireCodec, type WireVersion, wireCodec } from './wire.js';
