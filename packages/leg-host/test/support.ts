/** What the leg host's HTTP specs share: the fixture, venues, tokens, and raw HTTP helpers. */
import { type Server, createServer } from 'node:http';
import type { AssetVenue, BankVenue } from '@tandem/legs';
import { type Entry, type ReportV2, reportTreeRoot } from '@tandem/protocol';
import { createLegFixture, signReportV2 } from '@tandem/legs/fixture';
import { Credential } from '@tandem/http';

export const fx = createLegFixture();
export const ASSET_VENUE: AssetVenue = { chainId: 31337n, escrow: new Uint8Array(20).fill(0xab) };
export const BANK_VENUE: BankVenue = { bankId: 'bank-a', ledger: 'deposits' };
export const START_MS = 1_000_000;
export const TIMEOUT_MS = 5_000;
export const LEGS = Credential.generate();
export const ADMIN = Credential.generate();
export const CREDENTIALS = { legs: LEGS, admin: ADMIN };

/** The report v2 of a height holding `entries`, signed by the fixture's committee under the v2 anchor. */
export function reportOf(entries: readonly Entry[], height = 1, timeMs = START_MS): ReportV2 {
  return signReportV2(fx.dealer, {
    networkId: fx.anchorV2.networkId,
    configDigest: fx.anchorV2.configDigest,
    height,
    round: 0,
    timeMs,
    liveFrom: height,
    count: entries.length,
    root: reportTreeRoot(entries),
  });
}

export interface RawAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/**
 * Status and parsed body of a raw request: tests speak HTTP directly to check the server's answers.
 * It carries the token of the routes it calls (admin for /admin, else legs) and declares a body
 * JSON, unless `init` says otherwise.
 */
export async function raw(url: string, init: RequestInit = {}): Promise<RawAnswer> {
  const credential = new URL(url).pathname.startsWith('/admin') ? ADMIN : LEGS;
  const headers = credential.headers(init.body === undefined ? {} : { 'content-type': 'application/json' });
  const res = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>, headers: res.headers };
}

export function post(url: string, body: unknown): Promise<RawAnswer> {
  return raw(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A port nothing listens on: bound once, then released. */
export async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** A stub HTTP server answering every request with `handler`; closed after each use. */
export async function stub(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
