/**
 * Crypto micro-benchmark: ms per operation (median) for the BLS and Ed25519 operations a Tandem
 * node performs, each also as a ratio to one plain BLS verification measured in the same run, so
 * figures from different machines compare. Run with `pnpm bench:crypto`; prints a markdown table,
 * then a second one for the identity port: Ed25519 through the pure reference (noble) and through
 * node:crypto (packages/node, identity-native.ts), the native one as a ratio to the reference,
 * and a third for the fast BLS paths against their references (prepared keys with cached pairing
 * lines; the optimistic combine with on-curve decodes), the fast one as a ratio to the reference.
 *
 * Each operation gets a warm-up, then is timed one call at a time until it has MEASURE_ITERATIONS_MAX
 * samples or has used its time budget (at least MEASURE_ITERATIONS_MIN samples either way), which
 * keeps the whole run under about a minute on a slow machine.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { quorum } from '@tandem/protocol';
import {
  TANDEM_BLS_DST,
  batchVerifyPartials,
  blsSign,
  blsVerify,
  blsVerifyReference,
  combinePartials,
  combineVerified,
  combineVerifiedReference,
  dealerKeygen,
  decodeG1Signature,
  decodeG2PublicKey,
  groupPublicKey,
  hashToG1,
  identityKeygen,
  identitySign,
  identityVerify,
  memoizeCheck,
  sharePublicKey,
  verifyPartial,
  verifyPoints,
} from '@tandem/crypto';
import type { CombineResult, DealerOutput, Partial } from '@tandem/crypto';
import { NativeIdentity } from '@tandem/node';
import { machineLines, markdownTable, median } from './table.js';

const WARMUP_ITERATIONS = 3;
const MEASURE_ITERATIONS_MIN = 5;
const MEASURE_ITERATIONS_MAX = 40;
const BUDGET_MS_PER_OPERATION = 2_500;
/** Committee sizes whose quorum is t = 3, 11, 21. */
const COMMITTEE_SIZES = [4, 16, 31] as const;

interface Measurement {
  readonly name: string;
  readonly medianMs: number;
  readonly iterations: number;
}

/** `run(i)` gets the iteration number so it can vary its input (no caching across calls). */
function measure(name: string, run: (i: number) => unknown): Measurement {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) run(i);
  const samples: number[] = [];
  const startMs = performance.now();
  for (let i = 0; i < MEASURE_ITERATIONS_MAX; i++) {
    const t0 = performance.now();
    run(WARMUP_ITERATIONS + i);
    samples.push(performance.now() - t0);
    if (samples.length >= MEASURE_ITERATIONS_MIN && performance.now() - startMs > BUDGET_MS_PER_OPERATION) break;
  }
  return { name, medianMs: median(samples), iterations: samples.length };
}

function messageOf(i: number): Uint8Array {
  return new TextEncoder().encode(`tandem bench report ${i}`);
}

interface Fixture {
  readonly t: number;
  readonly dealt: DealerOutput;
  readonly message: Uint8Array;
  readonly partials: Partial[];
  /** Partials of all n members (consensus hands a combine every precommit it has). */
  readonly allPartials: Partial[];
}

function fixture(n: number): Fixture {
  const t = quorum(n);
  const dealt = dealerKeygen(n, t, randomBytes);
  const message = messageOf(n);
  const allPartials = dealt.shares.map((s) => ({ index: s.index, signature: blsSign(s.secret, message) }));
  return { t, dealt, message, partials: allPartials.slice(0, t), allPartials };
}

function assertOk(cond: boolean, what: string): void {
  if (!cond) throw new Error(`bench-crypto: ${what} failed: the benchmark would measure a broken path`);
}

interface PortRow {
  readonly name: string;
  readonly reference: Measurement;
  readonly native: Measurement;
}

/**
 * Reference and fast timed alternately, one call each per step, so that load from other jobs on
 * the machine weighs on both alike and their ratio holds even when absolute times do not.
 */
function portRow(name: string, reference: (i: number) => unknown, native: (i: number) => unknown): PortRow {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) {
    reference(i);
    native(i);
  }
  const samples: [number[], number[]] = [[], []];
  const startMs = performance.now();
  for (let i = 0; i < MEASURE_ITERATIONS_MAX; i++) {
    for (const [k, run] of [reference, native].entries()) {
      const t0 = performance.now();
      run(WARMUP_ITERATIONS + i);
      samples[k]!.push(performance.now() - t0);
    }
    if (i + 1 >= MEASURE_ITERATIONS_MIN && performance.now() - startMs > 2 * BUDGET_MS_PER_OPERATION) break;
  }
  const of = (k: 0 | 1, what: string): Measurement => ({ name: `${name}, ${what}`, medianMs: median(samples[k]), iterations: samples[k].length });
  return { name, reference: of(0, 'reference'), native: of(1, 'fast') };
}

/**
 * The fast BLS paths against their references, in the same run. Every fast result is checked
 * equal to the reference's first, so the table never times a path that answers differently.
 */
function blsFastRows(fixtures: readonly Fixture[], groupKey: Uint8Array, groupSig: Uint8Array): PortRow[] {
  const small = fixtures[0]!;
  const partial = small.partials[0]!;
  const shareKey = decodeG2PublicKey(sharePublicKey(small.dealt.commitments, partial.index));
  const partialReference = () => verifyPoints(shareKey, hashToG1(small.message), decodeG1Signature(partial.signature));
  assertOk(partialReference() && verifyPartial(small.dealt.commitments, partial, small.message), 'partial verify');
  assertOk(blsVerifyReference(groupKey, small.message, groupSig) && blsVerify(groupKey, small.message, groupSig), 'BLS verify');
  const memo = memoizeCheck((pk, msg, sig) => blsVerify(pk, msg, sig, TANDEM_BLS_DST));
  assertOk(memo(groupKey, small.message, groupSig), 'memoized report check');
  const rows = [
    portRow('BLS verify, group key', () => blsVerifyReference(groupKey, small.message, groupSig), () => blsVerify(groupKey, small.message, groupSig)),
    portRow('partial verify, share key derived once', partialReference, () => verifyPartial(small.dealt.commitments, partial, small.message)),
    portRow('report verify, leg host memo hit', () => blsVerifyReference(groupKey, small.message, groupSig), () => memo(groupKey, small.message, groupSig)),
  ];
  for (const f of fixtures) {
    const fast = combineRun(combineVerified, f, f.partials)();
    assertOk(fast.ok && JSON.stringify(fast) === JSON.stringify(combineRun(combineVerifiedReference, f, f.partials)()), `combineVerified t = ${f.t}`);
    rows.push(portRow(`combineVerified t = ${f.t}, all good`, combineRun(combineVerifiedReference, f, f.partials), combineRun(combineVerified, f, f.partials)));
  }
  const large = fixtures[fixtures.length - 1]!;
  const all = large.allPartials;
  rows.push(portRow(`combineVerified t = ${large.t}, all n = ${all.length} partials given`, combineRun(combineVerifiedReference, large, all), combineRun(combineVerified, large, all)));
  // One partial signed by another share: the fast attempt fails and the reference runs after it.
  const spoiled = large.partials.map((p, k) => (k === 0 ? { index: p.index, signature: large.partials[1]!.signature } : p));
  const spoiledFast = combineRun(combineVerified, large, spoiled)();
  assertOk(!spoiledFast.ok && JSON.stringify(spoiledFast) === JSON.stringify(combineRun(combineVerifiedReference, large, spoiled)()), 'combineVerified with a bad partial');
  rows.push(portRow(`combineVerified t = ${large.t}, one bad partial (fast falls back)`, combineRun(combineVerifiedReference, large, spoiled), combineRun(combineVerified, large, spoiled)));
  return rows;
}

function combineRun(combine: typeof combineVerified, f: Fixture, partials: readonly Partial[]): () => CombineResult {
  return () => combine(f.dealt.commitments, f.message, partials, f.t);
}

function ratioTable(title: string, rows: readonly PortRow[], headers: readonly [string, string, string]): string[] {
  return [
    title,
    '',
    ...markdownTable(
      [
        { header: 'operation', align: 'left' },
        { header: headers[0], align: 'right' },
        { header: headers[1], align: 'right' },
        { header: headers[2], align: 'right' },
      ],
      rows.map((r) => [r.name, r.reference.medianMs.toFixed(4), r.native.medianMs.toFixed(4), (r.native.medianMs / r.reference.medianMs).toFixed(3)]),
    ),
    '',
  ];
}

/**
 * Sign, verify of a valid signature (node:crypto decides alone) and verify of an invalid one
 * (node:crypto says false, then the reference decides), each through both implementations.
 */
function identityPortRows(identity: { secretKey: Uint8Array; publicKey: Uint8Array }, message: Uint8Array, sig: Uint8Array): PortRow[] {
  const native = new NativeIdentity();
  const signer = native.signerOf(identity.secretKey);
  const bad = sig.slice();
  bad[0]! ^= 1;
  assertOk(native.verify('tandem/v1/vote', identity.publicKey, message, sig), 'native Ed25519 verify');
  assertOk(!native.verify('tandem/v1/vote', identity.publicKey, message, bad), 'native Ed25519 refusal');
  return [
    {
      name: 'Ed25519 sign (domain-separated)',
      reference: measure('Ed25519 sign (domain-separated)', (i) => identitySign('tandem/v1/vote', identity.secretKey, messageOf(i))),
      native: measure('native sign', (i) => signer.sign('tandem/v1/vote', messageOf(i))),
    },
    {
      name: 'Ed25519 verify (ZIP-215), valid',
      reference: measure('Ed25519 verify (ZIP-215)', () => identityVerify('tandem/v1/vote', identity.publicKey, message, sig)),
      native: measure('native verify', () => native.verify('tandem/v1/vote', identity.publicKey, message, sig)),
    },
    {
      name: 'Ed25519 verify, invalid (native falls back to ZIP-215)',
      reference: measure('reference refusal', () => identityVerify('tandem/v1/vote', identity.publicKey, message, bad)),
      native: measure('native refusal', () => native.verify('tandem/v1/vote', identity.publicKey, message, bad)),
    },
  ];
}

function main(): void {
  const fixtures = COMMITTEE_SIZES.map(fixture);
  const small = fixtures[0]!;
  const share = small.dealt.shares[0]!;
  const groupKey = groupPublicKey(small.dealt.commitments);
  const groupSig = combinePartials(small.partials);
  assertOk(blsVerify(groupKey, small.message, groupSig), 'group signature');
  const identity = identityKeygen(randomBytes);
  const idSig = identitySign('tandem/v1/vote', identity.secretKey, small.message);
  // Warm the share-key memo, as a running node would have it.
  for (const f of fixtures) for (const p of f.partials) assertOk(verifyPartial(f.dealt.commitments, p, f.message), 'partial');

  // The unit of the ratio column: the reference verification, as in the tables recorded before the fast paths.
  const verify = measure('BLS verify, reference (decode + hash + pairing check)', () => blsVerifyReference(groupKey, small.message, groupSig));
  const rows: Measurement[] = [
    measure('hash-to-G1 (RFC 9380)', (i) => hashToG1(messageOf(i))),
    measure('BLS sign (hash + multiply)', (i) => blsSign(share.secret, messageOf(i))),
    measure('partial verify (share key and its pairing lines memoized)', () => verifyPartial(small.dealt.commitments, small.partials[0]!, small.message)),
    verify,
    measure('BLS verify (group key prepared once)', () => blsVerify(groupKey, small.message, groupSig)),
  ];
  for (const f of fixtures) {
    rows.push(measure(`combine t = ${f.t} (decode + Lagrange + MSM)`, () => combinePartials(f.partials)));
  }
  for (const f of fixtures) {
    assertOk(batchVerifyPartials(f.dealt.commitments, f.message, f.partials), `batch check t = ${f.t}`);
    rows.push(measure(`batch check of t = ${f.t} partials`, () => batchVerifyPartials(f.dealt.commitments, f.message, f.partials)));
  }
  const large = fixtures[fixtures.length - 1]!;
  assertOk(combineVerified(large.dealt.commitments, large.message, large.partials, large.t).ok, 'combineVerified');
  rows.push(
    measure(`combineVerified t = ${large.t}, all good (on-curve decodes + combine + 1 subgroup check + 1 verify)`, () =>
      combineVerified(large.dealt.commitments, large.message, large.partials, large.t),
    ),
  );
  const identityRows = identityPortRows(identity, small.message, idSig);
  rows.push(identityRows[0]!.reference, identityRows[1]!.reference);
  const blsRows = blsFastRows(fixtures, groupKey, groupSig);

  const lines = [
    `# Tandem crypto benchmark`,
    '',
    ...machineLines(),
    `method: median of ${MEASURE_ITERATIONS_MIN}–${MEASURE_ITERATIONS_MAX} timed calls after ${WARMUP_ITERATIONS} warm-up calls, one core, @noble/curves (pure JS)`,
    '',
    ...markdownTable(
      [
        { header: 'operation', align: 'left' },
        { header: 'ms/op (median)', align: 'right' },
        { header: '× one BLS verify', align: 'right' },
        { header: 'iterations', align: 'right' },
      ],
      rows.map((r) => [r.name, r.medianMs.toFixed(2), (r.medianMs / verify.medianMs).toFixed(2), String(r.iterations)]),
    ),
    '',
    ...ratioTable('## Ed25519 identity port: reference (noble) vs native (node:crypto)', identityRows, ['reference ms/op', 'native ms/op', 'native × reference']),
    ...ratioTable('## BLS fast paths vs their references (same acceptance)', blsRows, ['reference ms/op', 'fast ms/op', 'fast × reference']),
  ];
  process.stdout.write(lines.join('\n'));
}

main();
