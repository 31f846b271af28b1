import { type Authorization, SIGN_DOMAIN, authorizationMessage } from '@tandem/protocol';
import { identitySign } from '@tandem/crypto';
import type { LegChecks } from './options.js';
import { safeVerify } from './signature.js';

/**
 * A party's authorization of a settlement on one network: Ed25519 under SIGN_DOMAIN.authorization
 * over authorizationMessage(network id, settlement id) (docs/wire-format.md §7). What parties'
 * agents (settle, the simulator, the scenario runner) and tests sign with.
 */
export function authorize(party: string, secretKey: Uint8Array, networkId: Uint8Array, settlementIdBytes: Uint8Array): Authorization {
  return authorizeWith(party, (domain, message) => identitySign(domain, secretKey, message), networkId, settlementIdBytes);
}

/**
 * The same authorization through a signer the caller prepared once (e.g. node:crypto with the key
 * loaded once): Ed25519 is deterministic, so the signature is byte-identical to `authorize`'s.
 */
export function authorizeWith(party: string, sign: (domain: string, message: Uint8Array) => Uint8Array, networkId: Uint8Array, settlementIdBytes: Uint8Array): Authorization {
  return { party, signature: sign(SIGN_DOMAIN.authorization, authorizationMessage(networkId, settlementIdBytes)) };
}

/**
 * Why `authorization` does not let the leg act for `party` on settlement `id`, or null: it must be
 * by that party (the seller on the asset leg, the payer on the payment leg), a party the leg
 * knows, and its signature over (the leg's anchor network id, the settlement id) must verify under
 * the party's key: an authorization signed for another network is refused.
 */
export function authorizationProblem(checks: LegChecks, party: string, id: Uint8Array, authorization: Authorization | null): string | null {
  if (authorization === null) return `no authorization from ${party}`;
  if (authorization.party !== party) return `authorization is by ${authorization.party}, this leg needs ${party}`;
  const key = checks.parties.get(party);
  if (key === undefined) return `unknown party ${party}`;
  const message = authorizationMessage(checks.anchor.networkId, id);
  if (!safeVerify(checks.verifyAuthorization, key, message, authorization.signature)) return `bad authorization signature from ${party} (not its signature for this network and settlement)`;
  return null;
}
