/**
 * What a node process runs, whichever protocol its configuration chose: the runtime with its
 * transport, storage and log (engine-v1.ts, engine-v2.ts). daemon.ts opens the engine's storage
 * before anything listens, then starts the rest around it (host, control API) the same way.
 */
import type { NodeContext } from '@tandem/consensus';
import type { HttpLegAdapter } from '@tandem/leg-host';
import type { LinkFilter, TandemHost } from '@tandem/p2p';
import type { ControlRuntime, NodeStatus } from './control.js';
import type { HistoryLines } from './history.js';
import type { SystemTimers } from './timers.js';

/** What an engine is built from: everything daemon.ts made before it. */
export interface EngineDeps {
  readonly id: string;
  readonly ctx: NodeContext;
  readonly host: TandemHost;
  readonly timers: SystemTimers;
  readonly legs: { readonly asset: HttpLegAdapter; readonly payment: HttpLegAdapter };
  /** Writes one log line (stdout). */
  readonly write: (line: string) => void;
  /** The history file, if the config names one: the engine appends its events, encoded. */
  readonly history: HistoryLines | null;
  /** Transport failures, for the log. */
  readonly onTransportError: (e: unknown) => void;
}

/** A started runtime on its transport. */
export interface Engine {
  readonly protocol: 1 | 2;
  readonly control: ControlRuntime;
  /** The counts of GET /status that depend on the protocol. */
  counts(): Pick<NodeStatus, 'settlements' | 'decided' | 'stuck' | 'split' | 'height'>;
  setLinkFilter(filter: LinkFilter | null): void;
  /** Starts the transport, then the runtime (which resumes from storage). */
  start(): Promise<void>;
  /** Stops the runtime and its timers, then the transport. */
  stop(): Promise<void>;
}

/** What an engine needs of its transport (a P2pTransport of either wire version). */
interface EngineTransport<M> {
  onMessage(handler: (from: number, message: M) => void): void;
  onPeerConnected(handler: (index: number) => void): void;
  setLinkFilter(filter: LinkFilter | null): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What an engine needs of its runtime (NodeRuntime or NodeRuntimeV2). */
interface EngineRuntime<M> {
  receive(from: number, message: M): void;
  peerConnected(index: number): void;
  start(): void;
  stop(): void;
}

/** Wires a runtime to its transport: messages and reconnects in, the fault shim, and start and stop in order. */
export function wired<M>(transport: EngineTransport<M>, runtime: EngineRuntime<M>, timers: SystemTimers): Pick<Engine, 'setLinkFilter' | 'start' | 'stop'> {
  transport.onMessage((from, m) => runtime.receive(from, m));
  transport.onPeerConnected((peer) => runtime.peerConnected(peer));
  return {
    setLinkFilter: (f) => transport.setLinkFilter(f),
    start: async () => {
      await transport.start();
      runtime.start();
    },
    stop: async () => {
      runtime.stop();
      timers.cancelAll();
      await transport.stop();
    },
  };
}
