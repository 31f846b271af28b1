/**
 * The in-memory legs behind one HTTP server: what `tandem cluster` runs until the real legs
 * (EVM escrow, PostgreSQL bank) replace them. Both legs share one clock, real time by default.
 */
import type { Credential, TlsFiles } from '@tandem/http';
import { type AssetVenue, type BankVenue, type LegAnchor, MemoryAssetChain, MemoryBankLedger, type SignatureCheck } from '@tandem/legs';
import { MemoryFaultBoard, MemoryLegAdmin } from './memory-admin.js';
import { type LegServer, serveLegs } from './server.js';

export interface MemoryLegHostOptions {
  /** The committee's network id, configuration digest and group key: what reports are checked against. */
  readonly anchor: LegAnchor;
  /** Party name → Ed25519 public key: who may authorize a prepare. */
  readonly parties: ReadonlyMap<string, Uint8Array>;
  /** The parties' authorization check; default the legs' own (the pure reference, identityVerify). */
  readonly verifyAuthorization?: SignatureCheck;
  /** The reports' threshold signature check; default the legs' own (crypto's blsVerify). */
  readonly verifyReport?: SignatureCheck;
  readonly assetVenue: AssetVenue;
  readonly bankVenue: BankVenue;
  /** The nodes' token (the /legs routes) and the operators' (the /admin routes). */
  readonly credentials: { readonly legs: Credential; readonly admin: Credential };
  /** Default 127.0.0.1; any other address needs `tls`. */
  readonly host?: string;
  readonly tls?: TlsFiles | null;
  /** 0 picks a free port. */
  readonly port: number;
  /** The legs' clock in ms (COMMIT windows, reclaim times, outages). Default Date.now. */
  readonly clock?: () => number;
  readonly bodyLimitBytes?: number;
  readonly onError?: (error: unknown) => void;
}

export interface MemoryLegHost extends LegServer {
  readonly asset: MemoryAssetChain;
  readonly bank: MemoryBankLedger;
  readonly admin: MemoryLegAdmin;
}

export async function startMemoryLegHost(opts: MemoryLegHostOptions): Promise<MemoryLegHost> {
  const nowMs = opts.clock ?? (() => Date.now());
  const assetFaults = new MemoryFaultBoard(nowMs);
  const bankFaults = new MemoryFaultBoard(nowMs);
  const common = {
    anchor: opts.anchor,
    parties: opts.parties,
    nowMs,
    ...(opts.verifyAuthorization !== undefined ? { verifyAuthorization: opts.verifyAuthorization } : {}),
    ...(opts.verifyReport !== undefined ? { verifyReport: opts.verifyReport } : {}),
  };
  const asset = new MemoryAssetChain({ ...common, venue: opts.assetVenue, faults: assetFaults.hooks() });
  const bank = new MemoryBankLedger({ ...common, venue: opts.bankVenue, faults: bankFaults.hooks() });
  const admin = new MemoryLegAdmin({ asset: { leg: asset, faults: assetFaults }, payment: { leg: bank, faults: bankFaults } });
  const server = await serveLegs(
    { asset, payment: bank },
    { host: opts.host ?? '127.0.0.1', port: opts.port, credentials: opts.credentials, tls: opts.tls ?? null, admin, bodyLimitBytes: opts.bodyLimitBytes, onError: opts.onError },
  );
  return { url: server.url, close: () => server.close(), asset, bank, admin };
}
