/**
 * The real legs' contracts, deployed once per cluster directory and resumed ever after: the first
 * start deploys the token(s) and the escrow and records their addresses in DATA/deployment.json
 * (written durably, once the deployment itself is durable); every later start — after a crash or a
 * clean `cluster down` / `up` — checks that the chain still holds exactly that deployment and uses
 * it. Redeploying would reset the asset leg under a bank that keeps its history: a chain that lost
 * the deployment is refused, naming what to restore.
 *
 * The steps after the deployment (names registered with the escrow, the parties' approvals) are
 * idempotent: each is done only if the chain lacks it, so a start interrupted half-way finishes
 * them on the next.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Address, type Hex, bytesToHex, getAddress, maxUint256, stringToHex } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { toHex } from '@tandem/protocol';
import type { LegAnchor } from '@tandem/legs';
import { type ChainClients, deployEscrow, deployToken, dvpEscrowAbi, g2ToEip2537, registerNames, sendAndWait, tandemTokenAbi, writeFileDurably } from '@tandem/leg-evm';
import { errorText } from './chain-flags.js';

/** The deployment's record, in the leg host's data directory. */
export const DEPLOYMENT_FILE = 'deployment.json';

export interface Deployment {
  readonly escrow: Address;
  /** Token symbol → token contract. */
  readonly tokens: ReadonlyMap<string, Address>;
  /** The first block that can hold anything of this deployment: where its event log starts. */
  readonly fromBlock: bigint;
  /** True when an earlier start deployed it. */
  readonly resumed: boolean;
}

export interface DeployOptions {
  /** DATA/deployment.json. */
  readonly file: string;
  readonly chainId: number;
  readonly anchor: LegAnchor;
  readonly tokens: readonly string[];
  /** The deployer's clients: it deploys, owns the escrow and registers names. */
  readonly owner: ChainClients;
  readonly parties: ReadonlyMap<string, PrivateKeyAccount>;
  readonly clientsOf: (account: PrivateKeyAccount) => ChainClients;
  /** Makes what was just mined durable (the embedded chain); a no-op elsewhere. */
  readonly sync: () => Promise<void>;
  /** What to restore when the chain lost the deployment (where the chain keeps its state). */
  readonly lostHint: string;
}

interface DeploymentRecord {
  readonly note: string;
  readonly chainId: number;
  readonly configDigest: string;
  readonly escrow: string;
  readonly tokens: Record<string, string>;
  readonly fromBlock: string;
  /** The escrow's protocol (DvpEscrow 1, DvpEscrowV2 2); absent in records written before v2: 1. */
  readonly protocol?: 1 | 2;
}

/** The deployment this cluster directory records (checked against the chain), or a new one. */
export async function ensureDeployment(o: DeployOptions): Promise<Deployment> {
  const recorded = readRecord(o.file);
  let deployment: Deployment;
  if (recorded !== null) {
    deployment = await checkRecorded(o, recorded);
  } else {
    const fromBlock = (await o.owner.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const tokens = new Map<string, Address>();
    for (const symbol of o.tokens) tokens.set(symbol, await deployToken(o.owner, { name: `Tandem ${symbol}`, symbol }));
    const escrow = await deployEscrow(o.owner, o.anchor, o.anchor.protocol ?? 1);
    await o.sync(); // the record never names contracts a crash could still take back
    const record: DeploymentRecord = {
      note: "this cluster's contracts: every start resumes them (never redeploys)",
      chainId: o.chainId,
      configDigest: toHex(o.anchor.configDigest),
      escrow: escrow.toLowerCase(),
      tokens: Object.fromEntries([...tokens].map(([s, a]) => [s, a.toLowerCase()])),
      fromBlock: String(fromBlock),
      protocol: o.anchor.protocol ?? 1,
    };
    writeFileDurably(o.file, JSON.stringify(record, null, 2) + '\n', 0o600);
    deployment = { escrow, tokens, fromBlock, resumed: false };
  }
  await registerMissingNames(o, deployment);
  await approveMissing(o, deployment);
  await o.sync();
  return deployment;
}

function readRecord(file: string): DeploymentRecord | null {
  if (!existsSync(file)) return null;
  let r: DeploymentRecord;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as DeploymentRecord;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${errorText(e)}); it records this cluster's contracts, restore it`);
  }
  const address = /^0x[0-9a-f]{40}$/;
  const fine =
    Number.isSafeInteger(r?.chainId) &&
    typeof r.configDigest === 'string' &&
    address.test(String(r.escrow)) &&
    typeof r.tokens === 'object' &&
    r.tokens !== null &&
    Object.values(r.tokens).every((a) => address.test(String(a))) &&
    /^[0-9]+$/.test(String(r.fromBlock)) &&
    (r.protocol === undefined || r.protocol === 1 || r.protocol === 2);
  if (!fine) throw new Error(`${file}: not a deployment record (chainId, configDigest, escrow, tokens, fromBlock, protocol); restore it`);
  return r;
}

/** The recorded deployment, if the chain holds it as recorded; else an error naming what is wrong. */
async function checkRecorded(o: DeployOptions, r: DeploymentRecord): Promise<Deployment> {
  if (r.chainId !== o.chainId) throw new Error(`${o.file}: this cluster's contracts are on chain ${r.chainId}, not on chain ${o.chainId}; use that chain, or a new cluster directory`);
  if (r.configDigest !== toHex(o.anchor.configDigest)) {
    throw new Error(`${o.file}: the escrow was deployed for another committee (configuration ${r.configDigest.slice(0, 16)}…, the keys now give ${toHex(o.anchor.configDigest).slice(0, 16)}…); use a new cluster directory`);
  }
  if ((r.protocol ?? 1) !== (o.anchor.protocol ?? 1)) {
    throw new Error(`${o.file}: the escrow was deployed for protocol ${r.protocol ?? 1}, the leg host runs protocol ${o.anchor.protocol ?? 1}; use a new cluster directory`);
  }
  const symbols = Object.keys(r.tokens).sort();
  if (symbols.join(',') !== [...o.tokens].sort().join(',')) {
    throw new Error(`--tokens ${o.tokens.join(',')}: this cluster's chain has the tokens ${symbols.join(',')} (${o.file}); use those, or a new cluster directory`);
  }
  const pc = o.owner.publicClient;
  for (const [what, address] of [['the escrow', r.escrow], ...Object.entries(r.tokens).map(([s, a]) => [`the ${s} token`, a])] as const) {
    const code = await pc.getCode({ address: address as Address });
    if (code === undefined || code === '0x') throw new Error(`${o.file} records ${what} at ${address} on chain ${o.chainId}, but the chain has no contract there: ${o.lostHint}`);
  }
  const escrow = getAddress(r.escrow);
  const read = (functionName: 'networkId' | 'configDigest' | 'groupPublicKey') => pc.readContract({ address: escrow, abi: dvpEscrowAbi, functionName });
  const [networkId, configDigest, key] = await Promise.all([read('networkId'), read('configDigest'), read('groupPublicKey')]);
  const anchored = networkId === bytesToHex(o.anchor.networkId) && configDigest === bytesToHex(o.anchor.configDigest) && (key as Hex).toLowerCase() === bytesToHex(g2ToEip2537(o.anchor.groupPublicKey)).toLowerCase();
  if (!anchored) throw new Error(`the escrow at ${r.escrow} (${o.file}) is not anchored to this cluster's committee: ${o.lostHint}`);
  return { escrow, tokens: new Map(Object.entries(r.tokens).map(([s, a]) => [s, getAddress(a)] as const)), fromBlock: BigInt(r.fromBlock), resumed: true };
}

/** Registers with the escrow each party and token name it does not resolve yet. */
async function registerMissingNames(o: DeployOptions, d: Deployment): Promise<void> {
  const wanted = new Map<string, Address>([...[...o.parties].map(([n, a]) => [n, a.address] as const), ...d.tokens]);
  const missing = new Map<string, Address>();
  for (const [name, account] of wanted) {
    const now = await o.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'resolve', args: [stringToHex(name)] });
    if (BigInt(now) === 0n) missing.set(name, account);
    else if (now.toLowerCase() !== account.toLowerCase()) throw new Error(`the escrow resolves ${name} to ${now}, not to this cluster's ${account}: ${o.lostHint}`);
  }
  await registerNames(o.owner, d.escrow, missing);
}

/** Each party lets the escrow pull its tokens (a lock without an allowance is a durable rejection), once. */
async function approveMissing(o: DeployOptions, d: Deployment): Promise<void> {
  for (const [name, account] of o.parties) {
    const c = o.clientsOf(account);
    for (const [symbol, token] of d.tokens) {
      const allowance = await c.publicClient.readContract({ address: token, abi: tandemTokenAbi, functionName: 'allowance', args: [account.address, d.escrow] });
      if (allowance >= maxUint256 / 2n) continue;
      await sendAndWait(c, await c.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'approve', args: [d.escrow, maxUint256] }), `approve ${symbol} by ${name}`);
    }
  }
}
