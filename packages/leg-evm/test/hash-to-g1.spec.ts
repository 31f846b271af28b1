/**
 * The on-chain BLS code (contracts/Bls12381.sol, through the test-only BlsHarness that takes the
 * DST as a parameter) against noble and against outside known answers: RFC 9380's own G1
 * vectors under their QUUX DST, and real drand quicknet beacons under the standard DST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Address, type Hex, bytesToHex, hexToBytes, stringToHex } from 'viem';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { expand_message_xmd, hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { STANDARD_BLS_DST, TANDEM_BLS_DST, blsPublicKey, blsSign, hashToG1 } from '@tandem/crypto';
import { blsHarnessAbi, blsHarnessBytecode } from '../src/artifacts.js';
import { type ChainClients, anvilDevAccount, chainClients } from '../src/chain.js';
import { EIP2537_G1_BYTES, g1FromEip2537, g1ToEip2537, g2ToEip2537 } from '../src/points.js';
import { QUICKNET_BEACONS, QUICKNET_PUBLIC_KEY_HEX, RFC9380_G1_RO, RFC9380_G1_RO_DST, quicknetMessage } from '../../crypto/test/vectors.js';
import { stopTestAnvil, testAnvil } from './local-chain.js';

const { Fp } = bls12_381.fields;
const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;

let c: ChainClients;
let harness: Address;

beforeAll(async () => {
  const anvil = await testAnvil();
  c = chainClients({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, account: anvilDevAccount(0) });
  const hash = await c.walletClient.deployContract({ abi: blsHarnessAbi, bytecode: blsHarnessBytecode });
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.contractAddress == null) throw new Error('BlsHarness deployment failed');
  harness = receipt.contractAddress;
});

afterAll(stopTestAnvil);

const utf8 = (s: string): Hex => stringToHex(s);

async function onChainHashToG1(message: Uint8Array, dst: string): Promise<Uint8Array> {
  const out = await c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'hashToG1', args: [bytesToHex(message), utf8(dst)] });
  return hexToBytes(out);
}

/** noble's hash-to-curve result in EIP-2537 form. */
function nobleHashToG1(message: Uint8Array, dst: string): Uint8Array {
  return g1ToEip2537(hashToG1(message, dst).toBytes(true));
}

async function onChainVerify(publicKey96: Uint8Array, message: Uint8Array, signature48: Uint8Array, dst: string = TANDEM_BLS_DST): Promise<boolean> {
  return c.publicClient.readContract({
    address: harness,
    abi: blsHarnessAbi,
    functionName: 'verify',
    args: [bytesToHex(g2ToEip2537(publicKey96)), bytesToHex(message), bytesToHex(g1ToEip2537(signature48)), utf8(dst)],
  });
}

const secret = (byte: number): Uint8Array => new Uint8Array(32).fill(byte);

describe('expand_message_xmd and hash_to_field on-chain', () => {
  it('expand_message_xmd (128 bytes, SHA-256) equals noble for assorted messages and DSTs', async () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), RFC9380_G1_RO_DST],
      [sha256(new Uint8Array([1, 2, 3])), TANDEM_BLS_DST],
      [new TextEncoder().encode('a512_' + 'a'.repeat(512)), 'x'],
      [new Uint8Array(200).fill(0xff), 'D'.repeat(255)],
    ];
    for (const [msg, dst] of cases) {
      const got = await c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'expandMessageXmd', args: [bytesToHex(msg), utf8(dst)] });
      expect(got).toBe(bytesToHex(expand_message_xmd(msg, dst, 128, sha256)));
    }
  });

  it('hash_to_field (count 2, reduced mod p by MODEXP) equals noble', async () => {
    for (const msg of ['', 'abc', 'tandem']) {
      const m = new TextEncoder().encode(msg);
      const [u0, u1] = await c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'hashToField', args: [bytesToHex(m), utf8(TANDEM_BLS_DST)] });
      const want = hash_to_field(m, 2, { DST: TANDEM_BLS_DST, p: Fp.ORDER, m: 1, k: 128, expand: 'xmd', hash: sha256 });
      expect(BigInt(u0)).toBe(want[0]![0]);
      expect(BigInt(u1)).toBe(want[1]![0]);
      expect(hexToBytes(u0).length).toBe(64);
    }
  });

  it('refuses an empty DST and one longer than 255 bytes', async () => {
    for (const dst of ['', 'D'.repeat(256)]) {
      await expect(c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'hashToG1', args: ['0x', utf8(dst)] })).rejects.toThrow(/BadDst/);
    }
  });
});

describe('hash-to-G1 on-chain', () => {
  it('matches RFC 9380 Appendix J.9.1 (BLS12381G1_XMD:SHA-256_SSWU_RO_, QUUX DST)', async () => {
    expect(RFC9380_G1_RO.length).toBe(5);
    for (const v of RFC9380_G1_RO) {
      const point = await onChainHashToG1(new TextEncoder().encode(v.msg), RFC9380_G1_RO_DST);
      expect(bytesToHex(point.subarray(16, 64)), v.msg.slice(0, 12)).toBe(`0x${v.x}`);
      expect(bytesToHex(point.subarray(80, 128)), v.msg.slice(0, 12)).toBe(`0x${v.y}`);
      expect(point.subarray(0, 16).every((b) => b === 0) && point.subarray(64, 80).every((b) => b === 0)).toBe(true);
    }
  });

  it('equals noble under Tandem DST for report digests and arbitrary messages', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 })), async (msg) => {
        expect(bytesToHex(await onChainHashToG1(msg, TANDEM_BLS_DST))).toBe(bytesToHex(nobleHashToG1(msg, TANDEM_BLS_DST)));
      }),
      { numRuns: 12, seed: 20260101 },
    );
  });

  it('costs about what the precompiles price it at', async () => {
    const gas = await c.publicClient.estimateContractGas({ address: harness, abi: blsHarnessAbi, functionName: 'hashToG1', args: [bytesToHex(new Uint8Array(32)), utf8(TANDEM_BLS_DST)], account: c.walletClient.account });
    console.log(`hash-to-G1 of a 32-byte digest (call incl. 21k base): ${gas} gas`);
    // Two MAP_FP_TO_G1 (5,500 each) + G1ADD (375) + two MODEXP + six SHA-256 calls.
    expect(gas > 21_000n + 11_375n).toBe(true);
    expect(gas < 60_000n).toBe(true);
  });
});

describe('verification on-chain', () => {
  it('accepts real drand quicknet beacons (standard DST) and refuses them under another round', async () => {
    const pk = hexToBytes(`0x${QUICKNET_PUBLIC_KEY_HEX}`);
    for (const b of QUICKNET_BEACONS) {
      const sig = hexToBytes(`0x${b.signatureHex}`);
      expect(await onChainVerify(pk, quicknetMessage(b.round), sig, STANDARD_BLS_DST), `round ${b.round}`).toBe(true);
      expect(await onChainVerify(pk, quicknetMessage(b.round + 1), sig, STANDARD_BLS_DST), `round ${b.round + 1}`).toBe(false);
    }
  });

  it('accepts a Tandem signature; refuses another key, message, DST, and the identity signature', async () => {
    const msg = sha256(new TextEncoder().encode('report body'));
    const sig = blsSign(secret(7), msg);
    const pk = blsPublicKey(secret(7));
    expect(await onChainVerify(pk, msg, sig)).toBe(true);
    expect(await onChainVerify(blsPublicKey(secret(8)), msg, sig)).toBe(false);
    expect(await onChainVerify(pk, sha256(msg), sig)).toBe(false);
    expect(await onChainVerify(pk, msg, sig, 'TANDEM-V01-CS01-other_')).toBe(false);
    const identity = new Uint8Array(EIP2537_G1_BYTES);
    const verifyIdentity = c.publicClient.readContract({
      address: harness,
      abi: blsHarnessAbi,
      functionName: 'verify',
      args: [bytesToHex(g2ToEip2537(pk)), bytesToHex(msg), bytesToHex(identity), utf8(TANDEM_BLS_DST)],
    });
    expect(await verifyIdentity).toBe(false);
  });

  it('reverts (never returns false) on a signature off the curve or outside the subgroup', async () => {
    const pk = g2ToEip2537(blsPublicKey(secret(7)));
    const offCurve = new Uint8Array(EIP2537_G1_BYTES);
    offCurve[63] = 1;
    offCurve[127] = 1; // (1, 1) is not on y² = x³ + 4
    // A point on the curve but outside the prime-order subgroup: x = 0 gives y² = 4, y = 2... (0, 2) is on
    // the curve E(Fp) and has order 3, which does not divide r.
    const torsion = new Uint8Array(EIP2537_G1_BYTES);
    torsion[127] = 2;
    expect(G1.fromAffine({ x: 0n, y: 2n }).isTorsionFree()).toBe(false);
    const paddingSet = g1ToEip2537(blsSign(secret(7), new Uint8Array(32)));
    paddingSet[0] = 1;
    for (const [what, bad] of [['off curve', offCurve], ['outside the subgroup', torsion], ['non-zero padding', paddingSet]] as const) {
      const call = c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'verify', args: [bytesToHex(pk), bytesToHex(new Uint8Array(32)), bytesToHex(bad), utf8(TANDEM_BLS_DST)] });
      await expect(call, what).rejects.toThrow(/PrecompileFailed/);
    }
  });

  it('costs about 0.15M gas for a 32-byte message (the pairing is 102,900 of it)', async () => {
    const msg = new Uint8Array(32).fill(3);
    const gas = await c.publicClient.estimateContractGas({
      address: harness,
      abi: blsHarnessAbi,
      functionName: 'verify',
      args: [bytesToHex(g2ToEip2537(blsPublicKey(secret(7)))), bytesToHex(msg), bytesToHex(g1ToEip2537(blsSign(secret(7), msg))), utf8(TANDEM_BLS_DST)],
      account: c.walletClient.account,
    });
    console.log(`BLS verify of a 32-byte message (call incl. 21k base): ${gas} gas`);
    expect(gas > 21_000n + 102_900n).toBe(true);
    expect(gas < 200_000n).toBe(true);
  });
});

describe('point encodings', () => {
  it('compressG1 on-chain equals the 48-byte encoding, for both signs of y', async () => {
    let signs = 0;
    for (let i = 1; i <= 6; i++) {
      const sig = blsSign(secret(i), new Uint8Array([i]));
      const out = await c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'compressG1', args: [bytesToHex(g1ToEip2537(sig))] });
      expect(out).toBe(bytesToHex(sig));
      signs |= (sig[0]! & 0x20) !== 0 ? 2 : 1;
    }
    expect(signs).toBe(3); // both flags were exercised
  });

  it('the contract\'s -g2 is noble\'s negated G2 generator', async () => {
    const out = await c.publicClient.readContract({ address: harness, abi: blsHarnessAbi, functionName: 'negG2Generator' });
    expect(out).toBe(bytesToHex(g2ToEip2537(G2.BASE.negate().toBytes(true))));
  });

  it('EIP-2537 conversions round-trip and refuse malformed input', () => {
    const sig = blsSign(secret(9), new Uint8Array([9]));
    expect(bytesToHex(g1FromEip2537(g1ToEip2537(sig)))).toBe(bytesToHex(sig));
    const bad = g1ToEip2537(sig);
    bad[127]! ^= 1;
    expect(() => g1FromEip2537(bad)).toThrow();
    expect(() => g1ToEip2537(new Uint8Array(48))).toThrow();
  });
});
