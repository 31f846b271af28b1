/**
 * How a party's authorization (protocol `Authorization`) becomes what the escrow's `lock`
 * accepts: the seller's EIP-712 signature of LockAuthorization(settlementId) under the escrow's
 * domain, verified on-chain with ecrecover (the other accepted form, the seller sending `lock`
 * itself, needs no signature).
 *
 * Two mappings are provided:
 * - `eip712Authorizer`: the authorization's signature *is* that 65-byte EIP-712 signature, made
 *   by the seller's own EVM key. This is the self-custody path: nobody but the seller can lock.
 * - `custodialAuthorizer`: the authorization is the protocol's Ed25519 signature over
 *   ("tandem/v1/auth", network id ‖ settlement id) by the party's Tandem identity key, for the
 *   network id the escrow is anchored to (an authorization for another cluster is refused); a custodian that holds
 *   the party's EVM key checks it and only then signs the EIP-712 authorization. The custodian
 *   can lock what the party never authorized, so it is trusted; the conformance harness uses it
 *   (its parties sign with Ed25519 and are anvil accounts).
 */
import { type Address, type Hex, type LocalAccount, type TypedDataDefinition, bytesToHex, recoverTypedDataAddress } from 'viem';
import { type Authorization, type Terms, authorizationMessage } from '@tandem/protocol';
import { type SignatureCheck, defaultVerifyAuthorization, safeVerify } from '@tandem/legs';

export const EIP712_DOMAIN_NAME = 'Tandem DvP Escrow';
export const EIP712_DOMAIN_VERSION = '1';
const EIP712_SIGNATURE_BYTES = 65;

const LOCK_AUTHORIZATION_TYPES = {
  LockAuthorization: [{ name: 'settlementId', type: 'bytes32' }],
} as const;

/** The EIP-712 typed data a seller signs to authorize locking `settlementId` on `escrow`. */
export function lockAuthorizationTypedData(
  escrow: Address,
  chainId: number,
  settlementId: Uint8Array,
): TypedDataDefinition<typeof LOCK_AUTHORIZATION_TYPES, 'LockAuthorization'> {
  return {
    domain: { name: EIP712_DOMAIN_NAME, version: EIP712_DOMAIN_VERSION, chainId, verifyingContract: escrow },
    types: LOCK_AUTHORIZATION_TYPES,
    primaryType: 'LockAuthorization',
    message: { settlementId: bytesToHex(settlementId) },
  };
}

/** The seller's EIP-712 lock authorization, as protocol Authorization bytes (65 bytes r ‖ s ‖ v). */
export async function signLockAuthorization(account: LocalAccount, escrow: Address, chainId: number, settlementId: Uint8Array): Promise<Hex> {
  return account.signTypedData(lockAuthorizationTypedData(escrow, chainId, settlementId));
}

export interface LockAuthorizationRequest {
  readonly terms: Terms;
  readonly settlementId: Uint8Array;
  readonly authorization: Authorization;
  /** The seller's address as the escrow resolves terms.asset.seller. */
  readonly seller: Address;
  readonly escrow: Address;
  readonly chainId: number;
  /** The network id the escrow is anchored to: what a party's Ed25519 authorization must name. */
  readonly networkId: Uint8Array;
}

export type LockAuthorizationResult =
  | { readonly kind: 'signature'; readonly signature: Hex }
  | { readonly kind: 'unauthorized'; readonly reason: string };

export type LockAuthorizer = (request: LockAuthorizationRequest) => Promise<LockAuthorizationResult>;

function unauthorized(reason: string): LockAuthorizationResult {
  return { kind: 'unauthorized', reason };
}

/** Authorizations whose signature is the seller's own 65-byte EIP-712 signature (checked here, and again on-chain). */
export function eip712Authorizer(): LockAuthorizer {
  return async (r) => {
    const sig = r.authorization.signature;
    if (sig.length !== EIP712_SIGNATURE_BYTES) return unauthorized(`expected a ${EIP712_SIGNATURE_BYTES}-byte EIP-712 signature, got ${sig.length} bytes`);
    let signer: Address;
    try {
      signer = await recoverTypedDataAddress({ ...lockAuthorizationTypedData(r.escrow, r.chainId, r.settlementId), signature: bytesToHex(sig) });
    } catch (e) {
      return unauthorized(`EIP-712 signature does not recover: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (signer.toLowerCase() !== r.seller.toLowerCase()) return unauthorized(`EIP-712 signature is by ${signer}, the seller is ${r.seller}`);
    return { kind: 'signature', signature: bytesToHex(sig) };
  };
}

/** A party a custodian holds the EVM key of. */
export interface CustodiedParty {
  /** The party's Tandem identity key (Ed25519, 32 bytes): what its authorizations verify under. */
  readonly identityKey: Uint8Array;
  /** The party's EVM account (its address must be what the escrow resolves the party's name to). */
  readonly account: LocalAccount;
}

/**
 * Checks the party's Ed25519 authorization, then signs the EIP-712 authorization with its
 * custodied EVM key. `verifyAuthorization` is the check under SIGN_DOMAIN.authorization; default
 * the pure reference (a process passes the node:crypto one, which accepts exactly the same).
 */
export function custodialAuthorizer(parties: ReadonlyMap<string, CustodiedParty>, verifyAuthorization: SignatureCheck = defaultVerifyAuthorization): LockAuthorizer {
  return async (r) => {
    const party = parties.get(r.authorization.party);
    if (party === undefined) return unauthorized(`no custodied key for ${r.authorization.party}`);
    const valid = safeVerify(verifyAuthorization, party.identityKey, authorizationMessage(r.networkId, r.settlementId), r.authorization.signature);
    if (!valid) return unauthorized(`bad authorization signature from ${r.authorization.party} (not its signature for this network and settlement)`);
    if (party.account.address.toLowerCase() !== r.seller.toLowerCase()) {
      return unauthorized(`${r.authorization.party}'s custodied account ${party.account.address} is not the seller ${r.seller}`);
    }
    return { kind: 'signature', signature: await signLockAuthorization(party.account, r.escrow, r.chainId, r.settlementId) };
  };
}
