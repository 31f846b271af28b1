import { type Report, SIGN_DOMAIN, reportDigest } from '@tandem/protocol';
import { type IdentityScheme, REFERENCE_IDENTITY, TANDEM_BLS_DST, blsVerify } from '@tandem/crypto';

/** (public key, message, signature) → valid? Injectable so a simulator can memoize it. */
export type SignatureCheck = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

/** The threshold signature check of a report: crypto's blsVerify with TANDEM_BLS_DST. */
export const defaultVerifyReport: SignatureCheck = (pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST);

/** A party's authorization check through an identity port: its verify under SIGN_DOMAIN.authorization. */
export function authorizationCheckOf(identity: Pick<IdentityScheme, 'verify'>): SignatureCheck {
  return (pk, msg, sig) => identity.verify(SIGN_DOMAIN.authorization, pk, msg, sig);
}

/** A party's authorization check: identityVerify (the pure reference) under SIGN_DOMAIN.authorization. */
export const defaultVerifyAuthorization: SignatureCheck = authorizationCheckOf(REFERENCE_IDENTITY);

/** A malformed point or signature is a failed verification, never an exception. */
export function safeVerify(check: SignatureCheck, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return check(publicKey, message, signature) === true;
  } catch {
    return false;
  }
}

/** Does the report's threshold signature verify under `groupPublicKey`? The message is reportDigest(report). */
export function isValidReportSignature(check: SignatureCheck, groupPublicKey: Uint8Array, report: Report): boolean {
  return safeVerify(check, groupPublicKey, reportDigest(report), report.signature);
}
