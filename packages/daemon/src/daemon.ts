/**
 * A Tandem node as a real process: the node runtime over libp2p (transport), the system clock and
 * timers, write-ahead files (storage), the leg adapters' HTTP endpoints (legs) and JSON logs. Same
 * runtime and consensus code as the simulator; only the ports differ. The config's `protocol`
 * chooses the runtime: NodeRuntime (1, engine-v1.ts) or NodeRuntimeV2 (2, engine-v2.ts).
 */
import { createTandemHost, type TandemHost } from '@tandem/p2p';
import { blsSign } from '@tandem/crypto';
import { makeContext } from '@tandem/consensus';
import { DEFAULT_RUNTIME_PARAMS, MemoVerifier, NativeIdentity } from '@tandem/node';
import { assert, configDigestV2, equalBytes, toHex } from '@tandem/protocol';
import { HttpLegAdapter } from '@tandem/leg-host';
import type { NodeConfig } from './config.js';
import { type ControlServer, type NodeStatus, startControlServer } from './control.js';
import type { Engine, EngineDeps } from './engine.js';
import { engineV1 } from './engine-v1.js';
import { engineV2 } from './engine-v2.js';
import { UsageError } from './errors.js';
import { loadClusterFile, loadKeyFile } from './keyfiles.js';
import { openHistoryLines } from './history.js';
import { type LinkFaults, linkFaultsToJson, linkFilterOf } from './link-faults.js';
import { v2Params } from './protocol-config.js';
import { type RunOptions, checkMultiaddrs, openNodeStorage, openNodeStorageV2, underKey } from './startup.js';
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
 * port it cannot use, v2 parameters out of bounds) is a ConfigKeyError naming the key, raised
 * before anything is left running.
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
  const v2 = config.protocol.version === 2 ? v2Params(config.protocol, cluster.config.n) : null;
  const note = (event: string, fields: Record<string, unknown>) => write(JSON.stringify({ t: new Date().toISOString(), node: id, event, ...fields }));
  // The storage is opened (and checked) before anything listens: a damaged directory leaves nothing running.
  const stored = v2 === null ? { v: 1 as const, ...openNodeStorage(config.dataDir, id, cluster.config.networkId, options, note) } : { v: 2 as const, ...openNodeStorageV2(config.dataDir, id, cluster.config.networkId, options, note) };
  const historyFile = config.history;
  const history = historyFile !== undefined ? await underKey('history', `cannot append to ${historyFile}`, () => openHistoryLines(historyFile)) : null;
  const host = await underKey('listen', 'cannot listen', () => createTandemHost({ cluster: cluster.config, self, identitySecretKey: key.identitySecretKey, listen: config.listen, peers, protocol: stored.v }));
  // Ed25519 through node:crypto: the key is prepared once, verification falls back to ZIP-215.
  const identity = new NativeIdentity();
  const identitySigner = identity.signerOf(key.identitySecretKey);
  assert(equalBytes(identitySigner.publicKey, key.identityPublicKey), 'node:crypto derives the public key the key file names');
  const signer = {
    sign: (domain: string, msg: Uint8Array) => identitySigner.sign(domain, msg),
    partialSign: (msg: Uint8Array) => blsSign(key.blsShareSecretKey, msg),
  };
  const deps: EngineDeps = {
    id,
    // Resends repeat the same bytes every few hundred ms: remember what was already verified.
    ctx: makeContext(cluster.config, self, signer, new MemoVerifier(identity)),
    host,
    // Re-armed in bounded steps: deadlines and windows months or years ahead fire on time (timers.ts).
    timers: new SystemTimers(),
    legs: {
      asset: new HttpLegAdapter({ url: config.legs.asset, leg: 'asset', credential: config.legs.credential, timeoutMs: LEG_TIMEOUT_MS }),
      payment: new HttpLegAdapter({ url: config.legs.payment, leg: 'payment', credential: config.legs.credential, timeoutMs: LEG_TIMEOUT_MS }),
    },
    write,
    history,
    onTransportError: (e) => note('transport-error', { error: String(e) }),
  };
  const params = { ...DEFAULT_RUNTIME_PARAMS, ...config.intents };
  const engine: Engine = stored.v === 1 ? engineV1(deps, stored.storage, stored.fence, params) : engineV2(deps, stored.storage, v2!, params, stored.silenced);
  await engine.start();
  const status = (): NodeStatus => ({ id, index: self, peerId: host.peerId.toString(), multiaddrs: host.multiaddrs(), connected: host.connectedMembers(), protocol: engine.protocol, ...engine.counts() });
  // The fault shim for cluster-mode scenarios and tests (link-faults.ts): only when the config asks.
  const links = !config.linkFaults ? null : {
    n: cluster.config.n,
    set: (faults: LinkFaults) => {
      engine.setLinkFilter(linkFilterOf(faults, Math.random));
      note('link-faults', linkFaultsToJson(faults));
    },
  };
  const control = await underKey('control.port', `cannot listen on ${config.control.host}:${config.control.port}`, () => startControlServer(engine.control, status, config.control, links, (e) => note('control-error', { error: String(e) }))).catch(async (e: unknown) => {
    await engine.stop();
    await host.stop();
    history?.close();
    throw e;
  });
  // Under v2 the legs must be anchored to this digest (it covers the v2 parameters): logged to compare.
  const v2Digest = v2 === null ? {} : { configDigestV2: toHex(configDigestV2(cluster.config, v2)) };
  note('started', { peerId: host.peerId.toString(), multiaddrs: host.multiaddrs(), control: control.url, protocol: engine.protocol, ...v2Digest, observeOnly: stored.v === 1 ? stored.fence !== null : stored.silenced });
  let stopped = false;
  return {
    id,
    host,
    control,
    status,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await engine.stop();
      await control.close();
      await host.stop();
      history?.close();
      note('stopped', {});
    },
  };
}
