/**
 * A Tandem node as a real process: the node runtime over libp2p (transport), the system clock and
 * timers, write-ahead files (storage), the leg adapters' HTTP endpoints (legs) and JSON logs. Same
 * runtime and consensus code as the simulator; only the ports differ.
 */
import { P2pTransport, createTandemHost, type TandemHost } from '@tandem/p2p';
import { blsSign, identitySign } from '@tandem/crypto';
import { makeContext } from '@tandem/consensus';
import { MemoVerifier, NodeRuntime } from '@tandem/node';
import { HttpLegAdapter } from '@tandem/leg-host';
import type { NodeConfig } from './config.js';
import { type ControlServer, type NodeStatus, startControlServer } from './control.js';
import { UsageError } from './errors.js';
import { loadClusterFile, loadKeyFile } from './keyfiles.js';
import { logLine } from './log.js';
import { openHistory } from './history.js';
import { type LinkFaults, linkFaultsToJson, linkFilterOf } from './link-faults.js';
import { FileStorage } from './storage.js';

export interface RunningNode {
  readonly id: string;
  readonly host: TandemHost;
  readonly control: ControlServer;
  status(): NodeStatus;
  stop(): Promise<void>;
}

/** Leg calls that take longer than this are treated as transient failures and retried. */
const LEG_TIMEOUT_MS = 5_000;

export async function runNode(config: NodeConfig, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunningNode> {
  const cluster = loadClusterFile(config.cluster);
  const key = loadKeyFile(config.key, cluster);
  const self = key.index;
  const id = `n${self}`;
  const peers = config.peers.map((p) => {
    const index = Number(p.id.slice(1));
    if (index < 1 || index > cluster.config.n || index === self) throw new UsageError(`${config.cluster}: peer ${p.id} is not another member of this cluster`);
    return { index, multiaddrs: p.multiaddrs };
  });
  const host = await createTandemHost({ cluster: cluster.config, self, identitySecretKey: key.identitySecretKey, listen: config.listen, peers });
  const transport = new P2pTransport(host, { onError: (e) => write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'transport-error', error: String(e) })) });
  const signer = {
    sign: (domain: string, msg: Uint8Array) => identitySign(domain, key.identitySecretKey, msg),
    partialSign: (msg: Uint8Array) => blsSign(key.blsShareSecretKey, msg),
  };
  // Resends repeat the same bytes every few hundred ms: remember what was already verified.
  const ctx = makeContext(cluster.config, self, signer, new MemoVerifier());
  const timers = new Set<NodeJS.Timeout>();
  const history = config.history !== undefined ? openHistory(config.history) : null;
  const runtime = new NodeRuntime({
    ctx,
    transport,
    clock: { nowMs: () => Date.now() },
    timers: {
      after: (delayMs, fn) => {
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, delayMs);
        timers.add(t);
        return () => {
          clearTimeout(t);
          timers.delete(t);
        };
      },
    },
    storage: new FileStorage(config.dataDir),
    legs: {
      asset: new HttpLegAdapter({ url: config.legs.asset, leg: 'asset', timeoutMs: LEG_TIMEOUT_MS }),
      payment: new HttpLegAdapter({ url: config.legs.payment, leg: 'payment', timeoutMs: LEG_TIMEOUT_MS }),
    },
    log: {
      event: (e) => {
        const nowMs = Date.now();
        write(logLine(id, e, nowMs));
        history?.write(nowMs, e);
      },
    },
  });
  transport.onMessage((from, m) => runtime.receive(from, m));
  transport.onPeerConnected((peer) => runtime.peerConnected(peer));
  await transport.start();
  runtime.start();
  const status = (): NodeStatus => {
    const ds = runtime.decisions();
    return {
      id,
      index: self,
      peerId: host.peerId.toString(),
      multiaddrs: host.multiaddrs(),
      connected: host.connectedMembers(),
      settlements: ds.length,
      decided: ds.filter((d) => d.decided).length,
    };
  };
  // The fault shim for cluster-mode scenarios and tests (link-faults.ts).
  const links = {
    n: cluster.config.n,
    set: (faults: LinkFaults) => {
      transport.setLinkFilter(linkFilterOf(faults, Math.random));
      write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'link-faults', ...linkFaultsToJson(faults) }));
    },
  };
  const control = await startControlServer(runtime, status, config.control.host, config.control.port, links);
  write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'started', peerId: host.peerId.toString(), multiaddrs: host.multiaddrs(), control: control.url }));
  let stopped = false;
  return {
    id,
    host,
    control,
    status,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      runtime.stop();
      for (const t of timers) clearTimeout(t);
      await control.close();
      await transport.stop();
      await host.stop();
      history?.close();
      write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'stopped' }));
    },
  };
}
