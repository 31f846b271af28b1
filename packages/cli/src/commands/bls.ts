/**
 * `tandem bls verify`: checks one min-sig BLS signature (G1 signature, G2 public key). Works for
 * Tandem reports (default DST) and, with --dst, for other min-sig networks such as drand quicknet.
 */
import type { Command } from 'commander';
import { fromHex, utf8 } from '@tandem/protocol';
import { G1_BYTES, G2_BYTES, PointDecodeError, TANDEM_BLS_DST, blsVerify, decodeG1Signature, decodeG2PublicKey } from '@tandem/crypto';
import { UsageError } from '../errors.js';
import type { RegisterCommand } from '../command.js';

/** RFC 9380 §5.3.3: a DST is 1..255 bytes. */
const DST_BYTES_MAX = 255;

function parseHex(flag: string, raw: string, bytes?: number): Uint8Array {
  try {
    return fromHex(raw, bytes);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

function checkPoint(decode: () => unknown): void {
  try {
    decode();
  } catch (e) {
    if (e instanceof PointDecodeError) throw new UsageError(e.message);
    throw e;
  }
}

interface VerifyOptions {
  publicKey: string;
  message: string;
  signature: string;
  dst: string;
}

function verify(opts: VerifyOptions): number {
  const publicKey = parseHex('--public-key', opts.publicKey, G2_BYTES);
  const message = parseHex('--message', opts.message);
  const signature = parseHex('--signature', opts.signature, G1_BYTES);
  const dstBytes = utf8(opts.dst).length;
  if (dstBytes < 1 || dstBytes > DST_BYTES_MAX) throw new UsageError(`--dst must be 1..${DST_BYTES_MAX} bytes, got ${dstBytes}`);
  // Malformed points are bad input (exit 2), not an invalid signature (exit 1).
  checkPoint(() => decodeG2PublicKey(publicKey, '--public-key'));
  checkPoint(() => decodeG1Signature(signature, '--signature'));
  const valid = blsVerify(publicKey, message, signature, opts.dst);
  process.stdout.write(valid ? 'valid\n' : 'invalid\n');
  return valid ? 0 : 1;
}

export const registerBls: RegisterCommand = (program: Command, setExit) => {
  const bls = program.command('bls').description('BLS12-381 min-sig utilities (G1 signatures, G2 public keys)');
  bls
    .command('verify')
    .description('verify a signature: prints "valid" (exit 0) or "invalid" (exit 1); malformed input exits 2')
    .requiredOption('--public-key <hex>', 'G2 public key, 96 bytes compressed')
    .requiredOption('--message <hex>', 'the signed message bytes')
    .requiredOption('--signature <hex>', 'G1 signature, 48 bytes compressed')
    .option('--dst <string>', 'hash-to-curve domain separation tag', TANDEM_BLS_DST)
    .action((opts: VerifyOptions) => {
      setExit(verify(opts));
    });
};
