/**
 * The two wire versions a transport can carry. A configuration runs one protocol version (v1
 * instances and v2 heights share no quorum), so a host speaks one of them, on its own gossip topic
 * and direct protocol id (host.ts): a v1 node and a v2 node of the same network never exchange
 * bytes, and every frame a transport accepts is decoded by its one codec (a frame of the other
 * version is malformed there, counted and dropped, like any other).
 */
import { type Message, type MessageV2, decodeMessage, decodeMessageV2, encodeMessage, encodeMessageV2 } from '@tandem/protocol';

export type WireVersion = 1 | 2;

/** How one wire version's messages become bytes and back. `decode` throws DecodeError only. */
export interface WireCodec<M> {
  readonly version: WireVersion;
  encode(message: M): Uint8Array;
  decode(bytes: Uint8Array): M;
}

export const WIRE_V1: WireCodec<Message> = { version: 1, encode: encodeMessage, decode: decodeMessage };
export const WIRE_V2: WireCodec<MessageV2> = { version: 2, encode: encodeMessageV2, decode: decodeMessageV2 };

/** The codec of a wire version. */
export function wireCodec(version: WireVersion): WireCodec<Message> | WireCodec<MessageV2> {
  return version === 1 ? WIRE_V1 : WIRE_V2;
}
