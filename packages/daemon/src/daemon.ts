/**
 * A Tandem node as a real process: the node runtime over libp2p (transport), the system clock and
 * timers, write-ahead files (storage), the leg adapters' HTTP endpoints (legs) and JSON logs. Same
 * runtime and consensus code as the simulator; only the ports differ.
 */
import { P2pTransport, createTandemHost, type TandemHost } from '@tandem/p2p';
import { blsSign } from '@tandem/crypto';
import { makeContext } from '@tandem/consensus';
import { DEFAULT_RUNTIME_PARAMS, MemoVerifier, NativeIdentity, NodeRuntime } from '@tandem/node';
import { assert, equalBytes } from '@tandem/protocol';
import { HttpLegAdapter } from '@tandem/leg-host';
import type { NodeConfig } from './config.js';
import { type ControlServer, type NodeStatus, startControlServer } from './control.js';
import { UsageError } from './errors.js';
import { loadClusterFile, loadKeyFile } from './keyfiles.js';
import { logLine } from './log.js';
import { openHistory } from './history.js';
import { type LinkFaults, linkFaultsToJson, linkFilterOf } from './link-faults.js';
import { type RunOptions, checkMultiaddrs, openNodeStorage, underKey } from './startup.js';
import { SystemTimers } from './timers.js';

export interface RunningNode {
  readonly id: string;
  readonly host: TandemHost;
  readonly control: ControlServer;
  status(): NodeStatus;
  stop(): Promise<void>;
}

/** Leg calls that take longer than this are treated as transient failures and retried. */
const LEG_TIMEOUT_MS = 5_000;

/**
 * Starts a node. Anything the config leads to that fails (a damaged data directory, a path or
 * port it cannot use) is a ConfigKeyError naming the key, raised before anything is left running.
 */
export async function runNode(config: NodeConfig, write: (line: string) => void = (l) => process.stdout.write(l + '\n'), options: RunOptions = {}): Promise<RunningNode> {
  const cluster = loadClusterFile(config.cluster);
  const key = loadKeyFile(config.key, cluster);
  const self = key.index;
  const id = `n${self}`;
  const peers = config.peers.map((p) => {
    const index = Number(p.id.slice(1));
    if (index < 1 || index > cluster.config.n || index === self) throw new UsageError(`${config.cluster}: peer ${p.id} is not another member of this cluster`);
    return { index, multiaddrs: p.multiaddrs };
  });
  checkMultiaddrs(config);
  const note = (event: string, fields: Record<string, unknown>) => write(JSON.stringify({ t: new Date().toISOString(), node: id, event, ...fields }));
  const { storage, fence } = openNodeStorage(config.dataDir, id, cluster.config.networkId, options, note);
  const historyFile = config.history;
  const history = historyFile !== undefined ? await underKey('history', `cannot append to ${historyFile}`, () => openHistory(historyFile)) : null;
  const host = await underKey('listen', 'cannot listen', () => createTandemHost({ cluster: cluster.config, self, identitySecretKey: key.identitySecretKey, listen: config.listen, peers }));
  const transport = new P2pTransport(host, { onError: (e) => write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'transport-error', error: String(e) })) });
  // Ed25519 through node:crypto: the key is prepared once, verification falls back to ZIP-215.
  const identity = new NativeIdentity();
  const identitySigner = identity.signerOf(key.identitySecretKey);
  assert(equalBytes(identitySigner.publicKey, key.identityPublicKey), 'node:crypto derives the public key the key file names');
  const signer = {
    sign: (domain: string, msg: Uint8Array) => identitySigner.sign(domain, msg),
    partialSign: (msg: Uint8Array) => blsSign(key.blsShareSecretKey, msg),
  };
  // Resends repeat the same bytes every few hundred ms: remember what was already verified.
  const ctx = makeContext(cluster.config, self, signer, new MemoVerifier(identity));
  // Re-armed in bounded steps: deadlines and windows months or years ahead fire on time (timers.ts).
  const timers = new SystemTimers();
  const runtime = new NodeRuntime({
    ctx,
    transport,
    clock: { nowMs: () => Date.now() },
    timers,
    params: { ...DEFAULT_RUNTIME_PARAMS, ...config.intents },
    storage,
    ...(fence !== null ? { fence } : {}),
    legs: {
      asset: new HttpLegAdapter({ url: config.legs.asset, leg: 'asset', credential: config.legs.credential, timeoutMs: LEG_TIMEOUT_MS }),
      payment: new HttpLegAdapter({ url: config.legs.payment, leg: 'payment', credential: config.legs.credential, timeoutMs: LEG_TIMEOUT_MS }),
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
      stuck: ds.filter((d) => d.stuck).length,
      split: ds.filter((d) => d.split).length,
    };
  };
  // The fault shim for cluster-mode scenarios and tests (link-faults.ts): only when the config asks.
  const links = !config.linkFaults ? null : {
    n: cluster.config.n,
    set: (faults: LinkFaults) => {
      transport.setLinkFilter(linkFilterOf(faults, Math.random));
      write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'link-faults', ...linkFaultsToJson(faults) }));
    },
  };
  const control = await underKey('control.port', `cannot listen on ${config.control.host}:${config.control.port}`, () => startControlServer(runtime, status, config.control, links, (e) => write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'control-error', error: String(e) })))).catch(async (e: unknown) => {
    runtime.stop();
    timers.cancelAll();
    await transport.stop();
    await host.stop();
    history?.close();
    throw e;
  });
  write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'started', peerId: host.peerId.toString(), multiaddrs: host.multiaddrs(), control: control.url, observeOnly: fence !== null }));
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
      timers.cancelAll();
      await control.close();
      await transport.stop();
      await host.stop();
      history?.close();
      write(JSON.stringify({ t: new Date().toISOString(), node: id, event: 'stopped' }));
    },
  };
}
