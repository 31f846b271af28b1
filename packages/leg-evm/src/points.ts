/**
 * Conversions between the compressed BLS12-381 encodings Tandem uses (48-byte G1 signatures,
 * 96-byte G2 keys; ZCash/IETF flags) and the uncompressed EIP-2537 encodings the precompiles
 * take: every base-field element as 64 bytes, big-endian, top 16 bytes zero; G1 = x ‖ y
 * (128 bytes); G2 = x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1 (256 bytes; note c0 first, unlike the compressed
 * form, which writes c1 first).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { decodeG1Signature, decodeG2PublicKey } from '@tandem/crypto';

export const EIP2537_FP_BYTES = 64;
export const EIP2537_G1_BYTES = 128;
export const EIP2537_G2_BYTES = 256;

const { Fp, Fp2 } = bls12_381.fields;
const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;

function fp(x: bigint): Uint8Array {
  return numberToBytesBE(x, EIP2537_FP_BYTES);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A 64-byte EIP-2537 field element: top 16 bytes zero and value below p, else throws. */
function readFp(b: Uint8Array, offset: number, what: string): bigint {
  const chunk = b.subarray(offset, offset + EIP2537_FP_BYTES);
  if (chunk.subarray(0, 16).some((x) => x !== 0)) throw new Error(`${what}: field element padding is not zero`);
  const x = bytesToNumberBE(chunk);
  if (x >= Fp.ORDER) throw new Error(`${what}: field element is not below p`);
  return x;
}

/** A compressed G1 point (48 bytes, strictly decoded; never the identity) in EIP-2537 form. */
export function g1ToEip2537(compressed: Uint8Array): Uint8Array {
  const a = decodeG1Signature(compressed).toAffine();
  return concat([fp(a.x), fp(a.y)]);
}

/** A compressed G2 point (96 bytes, strictly decoded; never the identity) in EIP-2537 form. */
export function g2ToEip2537(compressed: Uint8Array): Uint8Array {
  const a = decodeG2PublicKey(compressed).toAffine();
  return concat([fp(a.x.c0), fp(a.x.c1), fp(a.y.c0), fp(a.y.c1)]);
}

/** An EIP-2537 G1 point (on the curve, in the subgroup, not the identity) compressed to 48 bytes. */
export function g1FromEip2537(b: Uint8Array): Uint8Array {
  if (b.length !== EIP2537_G1_BYTES) throw new Error(`G1 point: expected ${EIP2537_G1_BYTES} bytes, got ${b.length}`);
  const p = G1.fromAffine({ x: readFp(b, 0, 'G1 x'), y: readFp(b, 64, 'G1 y') });
  p.assertValidity();
  if (p.is0()) throw new Error('G1 point: the identity');
  return p.toBytes(true);
}

/** An EIP-2537 G2 point (on the curve, in the subgroup, not the identity) compressed to 96 bytes. */
export function g2FromEip2537(b: Uint8Array): Uint8Array {
  if (b.length !== EIP2537_G2_BYTES) throw new Error(`G2 point: expected ${EIP2537_G2_BYTES} bytes, got ${b.length}`);
  const x = Fp2.create({ c0: readFp(b, 0, 'G2 x.c0'), c1: readFp(b, 64, 'G2 x.c1') });
  const y = Fp2.create({ c0: readFp(b, 128, 'G2 y.c0'), c1: readFp(b, 192, 'G2 y.c1') });
  const p = G2.fromAffine({ x, y });
  p.assertValidity();
  if (p.is0()) throw new Error('G2 point: the identity');
  return p.toBytes(true);
}
