import type { Authorization } from '@tandem/protocol';
import type { LegChecks } from './options.js';
import { safeVerify } from './signature.js';

/**
 * Why `authorization` does not let the leg act for `party` on settlement `id`, or null: it must be
 * by that party (the seller on the asset leg, the payer on the payment leg), a party the leg
 * knows, and its signature over the settlement id must verify under the party's key.
 */
export function authorizationProblem(checks: LegChecks, party: string, id: Uint8Array, authorization: Authorization | null): string | null {
  if (authorization === null) return `no authorization from ${party}`;
  if (authorization.party !== party) return `authorization is by ${authorization.party}, this leg needs ${party}`;
  const key = checks.parties.get(party);
  if (key === undefined) return `unknown party ${party}`;
  if (!safeVerify(checks.verifyAuthorization, key, id, authorization.signature)) return `bad authorization signature from ${party}`;
  return null;
}
