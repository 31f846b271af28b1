/**
 * The protocol-2 engine: NodeRuntimeV2 (a chain of heights, each deciding a batch) on the v2
 * transport (the host speaks wire version 2), with the v2 write-ahead log (storage-v2.ts). The
 * control API's view of it is control-v2.ts.
 */
import type { MessageV2, V2Params } from '@tandem/protocol';
import { NodeRuntimeV2, type RuntimeParams } from '@tandem/node';
import { P2pTransport } from '@tandem/p2p';
import { V2Memory, controlOfV2 } from './control-v2.js';
import { type Engine, type EngineDeps, wired } from './engine.js';
import { encodeHistoryLineV2, recordedPortsV2 } from './history-v2.js';
import { logLineV2 } from './log.js';
import type { FileStorageV2 } from './storage-v2.js';

/** `silenced`: the log went through `--recover observe-only`, so the node signs nothing (storage-v2.ts). */
export function engineV2(deps: EngineDeps, storage: FileStorageV2, v2: V2Params, params: RuntimeParams, silenced = false): Engine {
  const transport = new P2pTransport<MessageV2>(deps.host, { onError: deps.onTransportError });
  const memory = new V2Memory();
  // The history keeps every bundle broadcast and every answered leg call (history-v2.ts).
  const recorded = recordedPortsV2(deps.history, transport, deps.legs);
  const runtime = new NodeRuntimeV2({
    ctx: deps.ctx,
    v2,
    params,
    transport: recorded.transport,
    clock: { nowMs: () => Date.now() },
    timers: deps.timers,
    storage: memory.storage(storage),
    legs: memory.legs(recorded.legs),
    silenced,
    log: {
      event: (e) => {
        const nowMs = Date.now();
        memory.note(e);
        // An empty bundle goes out every heartbeat: the history keeps it, the log does not.
        if (e.type !== 'bundle-signed' || e.count > 0) deps.write(logLineV2(deps.id, e, nowMs));
        deps.history?.append(encodeHistoryLineV2(nowMs, e));
      },
    },
  });
  return {
    protocol: 2,
    control: controlOfV2(runtime, memory),
    counts: () => {
      const ds = runtime.decisions();
      return { settlements: ds.length, decided: ds.filter((d) => d.decision !== null).length, stuck: ds.filter((d) => d.stuck).length, split: ds.filter((d) => d.split).length, height: runtime.tip };
    },
    ...wired(transport, runtime, deps.timers),
  };
}
