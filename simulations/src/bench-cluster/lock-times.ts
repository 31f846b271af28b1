/** The leg host's event log: when both legs of each settlement were locked. */
import { readLegEvents } from '@tandem/devnet';
import type { Credential } from '@tandem/http';
import { LegHostAdminClient } from '@tandem/leg-host';
import type { LegName } from '@tandem/protocol';

const ADMIN_TIMEOUT_MS = 10_000;

/** Settlement id (hex) → leg time (ms) of its first `kind` event on `leg`. */
async function legEventTimes(admin: LegHostAdminClient, leg: LegName, kind: 'lock' | 'hold'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await readLegEvents(admin, leg)) {
    if (e.kind === kind && e.settlementIdHex !== undefined && !out.has(e.settlementIdHex)) out.set(e.settlementIdHex, e.atMs);
  }
  return out;
}

/** Settlement id (hex) → when both legs were locked: the later of the asset lock and the payment hold. */
export async function bothLockedTimes(legUrl: string, adminToken: Credential): Promise<Map<string, number>> {
  const admin = new LegHostAdminClient({ url: legUrl, credential: adminToken, timeoutMs: ADMIN_TIMEOUT_MS });
  const [asset, payment] = await Promise.all([legEventTimes(admin, 'asset', 'lock'), legEventTimes(admin, 'payment', 'hold')]);
  const out = new Map<string, number>();
  for (const [id, a] of asset) {
    const p = payment.get(id);
    if (p !== undefined) out.set(id, Math.max(a, p));
  }
  return out;
}
