/**
 * The protocol-1 engine: NodeRuntime (one consensus instance per settlement) on the v1 transport,
 * with the v1 write-ahead storage (storage.ts) and its signing fence.
 */
import { NodeRuntime, type RuntimeParams, type SigningFence } from '@tandem/node';
import { P2pTransport } from '@tandem/p2p';
import { controlOfV1 } from './control.js';
import { type Engine, type EngineDeps, wired } from './engine.js';
import { encodeHistoryLine } from './history.js';
import { logLine } from './log.js';
import type { FileStorage } from './storage.js';

export function engineV1(deps: EngineDeps, storage: FileStorage, fence: SigningFence | null, params: RuntimeParams): Engine {
  const transport = new P2pTransport(deps.host, { onError: deps.onTransportError });
  const runtime = new NodeRuntime({
    ctx: deps.ctx,
    transport,
    clock: { nowMs: () => Date.now() },
    timers: deps.timers,
    params,
    storage,
    ...(fence !== null ? { fence } : {}),
    legs: deps.legs,
    log: {
      event: (e) => {
        const nowMs = Date.now();
        deps.write(logLine(deps.id, e, nowMs));
        deps.history?.append(encodeHistoryLine(nowMs, e));
      },
    },
  });
  return {
    protocol: 1,
    control: controlOfV1(runtime),
    counts: () => {
      const ds = runtime.decisions();
      return { settlements: ds.length, decided: ds.filter((d) => d.decided).length, stuck: ds.filter((d) => d.stuck).length, split: ds.filter((d) => d.split).length, height: null };
    },
    ...wired(transport, runtime, deps.timers),
  };
}
