/**
 * DvpEscrowV2 directly (no adapter): report v2 bodies and roots, settle by proof, settleBatch by
 * multiproof, every revert and skip, the relayer gas rule, and the protocol package's fixed
 * vectors rebuilt by the contract's tree.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Address, type Hex, bytesToHex, decodeErrorResult, hexToBytes, keccak256, parseEventLogs, concat as concatHex } from 'viem';
import { type Decision, type Entry, type ReportBodyV2, type ReportV2, type Terms, compareIds, encodeEntry, encodeReportBodyV2, encodeTerms } from '@tandem/protocol';
import { reclaimAtMs, reportLeaf, reportTreeRoot, settlementId, validUntilMs } from '@tandem/protocol';
import { type Dealer, createLegFixture, signReportV2 } from '@tandem/legs/fixture';
import { rpc } from '../src/anvil.js';
import { dvpEscrowV2Abi } from '../src/artifacts.js';
import { addressString, deployEscrow } from '../src/chain.js';
import { packEntries, packIndices, settleBatchArgs, settleV2Args, submitRootArgs } from '../src/escrow-v2.js';
import { type Deployment, ESCROW_STATE, balanceOf, chainTimeMs, fixture, freshDeployment, mint, setChainTimeMs, stopTestAnvil } from './local-chain.js';

afterAll(stopTestAnvil);

const FUNDS = 10_000n;
const AMOUNT = 100n;
const { none: NONE, locked: LOCKED, rejected: REJECTED, committed: COMMITTED, aborted: ABORTED, reclaimed: RECLAIMED } = ESCROW_STATE;

let d: Deployment;
let startMs: number;
let counter = 0;

beforeEach(async () => {
  d = await freshDeployment(2);
  startMs = await chainTimeMs(d);
  await mint(d, d.parties.get('alice')!.address, FUNDS);
});

const party = (name: string): Address => d.parties.get(name)!.address;

function terms(o: { amount?: bigint } = {}): Terms {
  counter += 1;
  const asset = { chainId: BigInt(d.anvil.chainId), escrow: hexToBytes(d.escrow), token: addressString(d.token), seller: 'alice', buyer: 'bob', amount: o.amount ?? AMOUNT };
  const payment = { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1n };
  return { nonce: `escrow-v2-${counter}@${startMs}`, asset, payment, deadlineMs: startMs + 10_000, reportWindowMs: 30_000, marginMs: 10_000 };
}

async function lock(t: Terms): Promise<void> {
  const c = d.partyClients('alice');
  const hash = await c.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'lock', args: [bytesToHex(encodeTerms(t)), '0x'] });
  expect((await c.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
}

function entryOf(t: Terms, decision: Decision, validUntil = validUntilMs(t)): Entry {
  return { settlementId: settlementId(t), decision, validUntilMs: validUntil };
}

/** Entries sorted as a batch lists them: ascending settlement id. */
function batchOf(entries: readonly Entry[]): Entry[] {
  return [...entries].sort((a, b) => compareIds(a.settlementId, b.settlementId));
}

/** A report v2 over `entries` for the escrow's (v2) anchor, signed by shares 1..3 of the fixture's dealer (or `o.dealer`). */
function reportOf(entries: readonly Entry[], o: Partial<ReportBodyV2> & { dealer?: Dealer } = {}): ReportV2 {
  const { anchorV2, dealer } = fixture();
  const { dealer: signer, ...fields } = o;
  const body: ReportBodyV2 = { networkId: anchorV2.networkId, configDigest: anchorV2.configDigest, height: 7, round: 0, timeMs: startMs, liveFrom: 3, count: entries.length, root: reportTreeRoot(entries), ...fields };
  return signReportV2(signer ?? dealer, body);
}

async function send(functionName: 'submitRoot' | 'settle' | 'settleBatch' | 'reclaim', args: readonly unknown[], gas?: bigint) {
  // viem's types follow the ABI per function; the cases below vary arguments on purpose.
  const hash = await d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName, args, gas } as never);
  return d.owner.publicClient.waitForTransactionReceipt({ hash });
}

async function mined(functionName: 'submitRoot' | 'settle' | 'settleBatch' | 'reclaim', args: readonly unknown[]) {
  const receipt = await send(functionName, args);
  expect(receipt.status, functionName).toBe('success');
  return receipt;
}

async function record(t: Terms) {
  return d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settlement', args: [bytesToHex(settlementId(t))] });
}

async function state(t: Terms): Promise<number> {
  return (await record(t)).state;
}

async function rootCount(root: Uint8Array | Hex): Promise<number> {
  return d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'roots', args: [typeof root === 'string' ? root : bytesToHex(root)] });
}

const flip = (h: Hex): Hex => bytesToHex(hexToBytes(h).map((b, i) => (i === 31 ? b ^ 1 : b)));

describe('submitRoot', () => {
  it('verifies a report v2 once, caches root → count, and is idempotent', async () => {
    const entries = batchOf([entryOf(terms(), 'COMMIT'), entryOf(terms(), 'ABORT'), entryOf(terms(), 'COMMIT')]);
    const report = reportOf(entries);
    const first = await mined('submitRoot', submitRootArgs(report));
    const [stored] = parseEventLogs({ abi: dvpEscrowV2Abi, logs: first.logs, eventName: 'RootStored' });
    expect(stored?.args).toEqual({ root: bytesToHex(report.root), height: 7n, count: 3 });
    expect(await rootCount(report.root)).toBe(3);
    const again = await mined('submitRoot', submitRootArgs(report));
    expect(parseEventLogs({ abi: dvpEscrowV2Abi, logs: again.logs, eventName: 'RootStored' })).toEqual([]);
    expect(again.gasUsed).toBeLessThan(first.gasUsed / 4n);
    // A cached root with another count is a body nobody signed.
    const [body] = submitRootArgs({ ...report, count: 2 });
    await expect(send('submitRoot', [body, '0x'])).rejects.toThrow(/RootCountMismatch/);
  });

  it('refuses bodies of another layout, version, domain, network or configuration, and bad signatures', async () => {
    const entries = [entryOf(terms(), 'COMMIT')];
    const report = reportOf(entries);
    const [body, signature] = submitRootArgs(report);
    const b = hexToBytes(body);
    const patched = (at: number, bytes: Uint8Array): Hex => bytesToHex(Uint8Array.from(b, (x, i) => (i >= at && i < at + bytes.length ? bytes[i - at]! : x)));
    const resigned = (o: Partial<ReportBodyV2>): [Hex, Hex] => [...submitRootArgs(reportOf(entries, o))] as [Hex, Hex];
    const otherDealer = createLegFixture('leg-evm/escrow-v2/other-dealer').dealer;
    const cases: [string, readonly [Hex, Hex], RegExp][] = [
      ['a short body', [bytesToHex(b.slice(0, 142)), signature], /MalformedReport/],
      ['a v1-sized body', [bytesToHex(b.slice(0, 126)), signature], /MalformedReport/],
      ['version 1', [patched(0, Uint8Array.of(1)), signature], /MalformedReport/],
      ['the v1 domain', [patched(1, new TextEncoder().encode('TANDEM/REPORT/V1')), signature], /MalformedReport/],
      ['count 0', [patched(109, Uint8Array.of(0, 0)), signature], /MalformedReport/],
      ['liveFrom above height', [patched(101, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 8)), signature], /MalformedReport/],
      ['another network (signed)', resigned({ networkId: new Uint8Array(32).fill(7) }), /WrongNetwork/],
      ['another configuration digest (signed)', resigned({ configDigest: new Uint8Array(32).fill(9) }), /WrongConfiguration/],
      ['the same cluster\'s v1 configuration digest (signed)', resigned({ configDigest: fixture().anchor.configDigest }), /WrongConfiguration/],
      ['signed by another committee', [body, submitRootArgs(reportOf(entries, { dealer: otherDealer }))[1]], /BadSignature/],
      ['another height\'s signature', [body, submitRootArgs(reportOf(entries, { height: 8 }))[1]], /BadSignature/],
      ['no signature, root not cached', [body, '0x'], /UnknownRoot/],
      ['the identity as signature', [body, bytesToHex(new Uint8Array(128))], /BadSignature/],
    ];
    for (const [what, args, error] of cases) await expect(send('submitRoot', args), what).rejects.toThrow(error);
    expect(await rootCount(report.root)).toBe(0);
    await mined('submitRoot', [body, signature]);
    expect(await rootCount(report.root)).toBe(1);
  });
});

describe('settle (one entry by proof)', () => {
  it('applies a COMMIT once, marked keccak256(root ‖ leaf); refuses replays and any other decision', async () => {
    const t = terms();
    await lock(t);
    const entries = batchOf([entryOf(t, 'COMMIT'), entryOf(terms(), 'ABORT'), entryOf(terms(), 'ABORT')]);
    const index = entries.findIndex((e) => compareIds(e.settlementId, settlementId(t)) === 0);
    const report = reportOf(entries);
    const args = settleV2Args(entries, index);
    await expect(send('settle', args), 'root not submitted').rejects.toThrow(/UnknownRoot/);
    await mined('submitRoot', submitRootArgs(report));
    await mined('settle', args);
    expect(await state(t)).toBe(COMMITTED);
    expect(await balanceOf(d, party('bob'))).toBe(AMOUNT);
    expect((await record(t)).reportHash).toBe(keccak256(concatHex([bytesToHex(report.root), bytesToHex(reportLeaf(entries[index]!))])));
    await expect(send('settle', args), 'replay').rejects.toThrow(/ReportAlreadyApplied/);
    // The same settlement in another signed root (a second decision) is refused too.
    const other = batchOf([entryOf(t, 'ABORT')]);
    await mined('submitRoot', submitRootArgs(reportOf(other, { height: 8 })));
    await expect(send('settle', settleV2Args(other, 0)), 'another decision').rejects.toThrow(/ReportAlreadyApplied/);
  });

  it('refuses a wrong root, a proof for another index, a tampered or mis-sized proof, and an entry not in the batch', async () => {
    const t = terms();
    await lock(t);
    const entries = batchOf([entryOf(t, 'COMMIT'), ...Array.from({ length: 4 }, () => entryOf(terms(), 'ABORT'))]);
    await mined('submitRoot', submitRootArgs(reportOf(entries)));
    const index = entries.findIndex((e) => compareIds(e.settlementId, settlementId(t)) === 0);
    const other = (index + 1) % entries.length;
    const [root, , entry, proof] = settleV2Args(entries, index);
    const otherProof = settleV2Args(entries, other)[3];
    const stranger = bytesToHex(encodeEntry(entryOf(terms(), 'ABORT')));
    const cases: [string, readonly unknown[], RegExp][] = [
      ['a root never submitted', [flip(root), BigInt(index), entry, proof], /UnknownRoot/],
      ['the proof of another index', [root, BigInt(index), entry, otherProof], /BadProof/],
      ['another index for this proof', [root, BigInt(other), entry, proof], /BadProof/],
      ['an index beyond count', [root, BigInt(entries.length), entry, proof], /BadProof/],
      ['a tampered sibling', [root, BigInt(index), entry, [flip(proof[0]!), ...proof.slice(1)]], /BadProof/],
      ['a sibling too many', [root, BigInt(index), entry, [...proof, proof[0]!]], /BadProof/],
      ['a sibling too few', [root, BigInt(index), entry, proof.slice(1)], /BadProof/],
      ['an entry not in the batch', [root, BigInt(index), stranger, proof], /BadProof/],
      ['a tampered decision', [root, BigInt(index), bytesToHex(encodeEntry({ ...entries[index]!, decision: 'ABORT' })), proof], /BadProof/],
      ['a 40-byte entry', [root, BigInt(index), entry.slice(0, -2), proof], /MalformedEntry/],
    ];
    for (const [what, args, error] of cases) await expect(send('settle', args), what).rejects.toThrow(error);
    expect(await state(t)).toBe(LOCKED);
    await mined('settle', [root, BigInt(index), entry, proof]);
    expect(await state(t)).toBe(COMMITTED);
  });

  it('applies the v1 rules: expired COMMIT, validUntil other than the lock\'s, ABORT closing a never-locked id, COMMIT on nothing', async () => {
    const t = terms();
    const never = terms();
    const unlocked = terms();
    await lock(t);
    const entries = batchOf([entryOf(t, 'COMMIT'), entryOf(never, 'ABORT'), entryOf(unlocked, 'COMMIT')]);
    const mismatched = batchOf([entryOf(t, 'COMMIT', validUntilMs(t) + 1)]);
    await mined('submitRoot', submitRootArgs(reportOf(entries)));
    await mined('submitRoot', submitRootArgs(reportOf(mismatched, { height: 8 })));
    const at = (x: Terms) => entries.findIndex((e) => compareIds(e.settlementId, settlementId(x)) === 0);
    await expect(send('settle', settleV2Args(mismatched, 0)), 'validUntil mismatch').rejects.toThrow(/ValidUntilMismatch/);
    await expect(send('settle', settleV2Args(entries, at(unlocked))), 'COMMIT, nothing locked').rejects.toThrow(/NothingLocked/);
    await mined('settle', settleV2Args(entries, at(never)));
    expect(await state(never)).toBe(ABORTED);
    await expect(d.partyClients('alice').walletClient.writeContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'lock', args: [bytesToHex(encodeTerms(never)), '0x'] }), 'lock after the ABORT').rejects.toThrow(/SettlementExists/);
    await setChainTimeMs(d, validUntilMs(t));
    await expect(send('settle', settleV2Args(entries, at(t))), 'expired COMMIT').rejects.toThrow(/CommitExpired/);
    expect(await state(t)).toBe(LOCKED);
    expect(await balanceOf(d, d.escrow)).toBe(AMOUNT);
  });

  it('refuses any entry after a reclaim, and records an ABORT on a rejected id', async () => {
    const t = terms();
    const rejected = terms({ amount: FUNDS + 1n });
    await lock(t);
    await lock(rejected);
    expect(await state(rejected)).toBe(REJECTED);
    const entries = batchOf([entryOf(t, 'ABORT'), entryOf(rejected, 'ABORT')]);
    await mined('submitRoot', submitRootArgs(reportOf(entries)));
    const at = (x: Terms) => entries.findIndex((e) => compareIds(e.settlementId, settlementId(x)) === 0);
    await setChainTimeMs(d, reclaimAtMs(t));
    await mined('reclaim', [bytesToHex(settlementId(t))]);
    expect(await state(t)).toBe(RECLAIMED);
    await expect(send('settle', settleV2Args(entries, at(t)))).rejects.toThrow(/ValueReclaimed/);
    const receipt = await mined('settle', settleV2Args(entries, at(rejected)));
    expect(parseEventLogs({ abi: dvpEscrowV2Abi, logs: receipt.logs, eventName: 'AbortRecorded' })).toHaveLength(1);
    expect(await state(rejected)).toBe(REJECTED);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS);
  });
});

/** EntrySkipped events of a receipt as (settlement id, error name). */
function skipped(logs: Parameters<typeof parseEventLogs>[0]['logs']): [Hex, string][] {
  return parseEventLogs({ abi: dvpEscrowV2Abi, logs, eventName: 'EntrySkipped' }).map((e) => [e.args.settlementId, decodeErrorResult({ abi: dvpEscrowV2Abi, data: e.args.reason }).errorName]);
}

describe('settleBatch', () => {
  it('verifies the body, caches the root and applies every proven entry', async () => {
    const locked = [terms(), terms(), terms()];
    for (const t of locked) await lock(t);
    const never = terms();
    const entries = batchOf([entryOf(locked[0]!, 'COMMIT'), entryOf(locked[1]!, 'ABORT'), entryOf(locked[2]!, 'COMMIT'), entryOf(never, 'ABORT'), entryOf(terms(), 'ABORT')]);
    const report = reportOf(entries);
    const later = entries.findIndex((e) => compareIds(e.settlementId, settlementId(locked[2]!)) === 0);
    const chosen = entries.map((_, i) => i).filter((i) => i !== later);
    expect(await state(never)).toBe(NONE);
    const receipt = await mined('settleBatch', settleBatchArgs(report, entries, chosen));
    expect(skipped(receipt.logs)).toEqual([]);
    expect(await rootCount(report.root)).toBe(5);
    expect([await state(locked[0]!), await state(locked[1]!), await state(locked[2]!), await state(never)]).toEqual([COMMITTED, ABORTED, LOCKED, ABORTED]);
    // The rest of the batch later, by the cached root (empty signature).
    const rest = [later];
    const second = await mined('settleBatch', settleBatchArgs(report, entries, rest, { cached: true }));
    expect(skipped(second.logs)).toEqual([]);
    expect(await state(locked[2]!)).toBe(COMMITTED);
    expect(await balanceOf(d, party('bob'))).toBe(2n * AMOUNT);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS - 2n * AMOUNT);
  });

  it('with an empty signature needs the root cached; the cached path skips the BLS check', async () => {
    const t = terms();
    await lock(t);
    const entries = batchOf([entryOf(t, 'COMMIT'), entryOf(terms(), 'ABORT')]);
    const report = reportOf(entries);
    await expect(send('settleBatch', settleBatchArgs(report, entries, [0, 1], { cached: true }))).rejects.toThrow(/UnknownRoot/);
    const submitted = await mined('submitRoot', submitRootArgs(report));
    const receipt = await mined('settleBatch', settleBatchArgs(report, entries, [0, 1], { cached: true }));
    expect(await state(t)).toBe(COMMITTED);
    expect(receipt.gasUsed).toBeLessThan(submitted.gasUsed);
  });

  it('skips refused entries with an event, their state unchanged, and applies the rest', async () => {
    const [done, expiring, mismatched, reclaimed, fine] = [terms(), terms(), terms(), terms(), terms()];
    for (const t of [done, expiring, mismatched, reclaimed, fine]) await lock(t);
    // `done` is settled first by another root; `reclaimed` is reclaimed; `expiring` is past validUntil.
    const earlier = batchOf([entryOf(done, 'ABORT')]);
    await mined('settleBatch', settleBatchArgs(reportOf(earlier, { height: 6 }), earlier, [0]));
    expect(await state(done)).toBe(ABORTED);
    const entries = batchOf([entryOf(done, 'COMMIT'), entryOf(expiring, 'COMMIT'), entryOf(mismatched, 'ABORT', validUntilMs(mismatched) - 1), entryOf(reclaimed, 'ABORT'), entryOf(fine, 'ABORT')]);
    await setChainTimeMs(d, reclaimAtMs(reclaimed));
    await mined('reclaim', [bytesToHex(settlementId(reclaimed))]);
    const aliceBefore = await balanceOf(d, party('alice'));
    const receipt = await mined('settleBatch', settleBatchArgs(reportOf(entries), entries, [0, 1, 2, 3, 4]));
    const expected = new Map<Hex, string>([
      [bytesToHex(settlementId(done)), 'ReportAlreadyApplied'],
      [bytesToHex(settlementId(expiring)), 'CommitExpired'],
      [bytesToHex(settlementId(mismatched)), 'ValidUntilMismatch'],
      [bytesToHex(settlementId(reclaimed)), 'ValueReclaimed'],
    ]);
    expect(new Map(skipped(receipt.logs))).toEqual(expected);
    expect([await state(done), await state(expiring), await state(mismatched), await state(reclaimed), await state(fine)]).toEqual([ABORTED, LOCKED, LOCKED, RECLAIMED, ABORTED]);
    expect((await record(expiring)).reportHash).toBe(bytesToHex(new Uint8Array(32)));
    expect(await balanceOf(d, party('alice'))).toBe(aliceBefore + AMOUNT);
    expect(await balanceOf(d, d.escrow)).toBe(2n * AMOUNT);
    // A replay of the whole batch skips everything and changes nothing.
    const replay = await mined('settleBatch', settleBatchArgs(reportOf(entries), entries, [0, 1, 2, 3, 4], { cached: true }));
    expect(skipped(replay.logs).map(([, e]) => e).sort()).toEqual(['CommitExpired', 'ReportAlreadyApplied', 'ReportAlreadyApplied', 'ValidUntilMismatch', 'ValueReclaimed']);
    expect(await balanceOf(d, d.escrow)).toBe(2n * AMOUNT);
  });

  it('skips an entry whose transfer fails, reverting its state writes with it; it applies on a later try', async () => {
    const [t, other] = [terms(), terms()];
    await lock(t);
    await lock(other);
    const entries = batchOf([entryOf(t, 'COMMIT'), entryOf(other, 'ABORT')]);
    const report = reportOf(entries);
    const at = entries.findIndex((e) => compareIds(e.settlementId, settlementId(t)) === 0);
    // The token's code swapped for one that always reverts (storage kept), then put back.
    const code = await d.owner.publicClient.getCode({ address: d.token });
    await rpc(d.anvil.rpcUrl, 'anvil_setCode', [d.token, '0x60006000fd']);
    const receipt = await mined('settleBatch', settleBatchArgs(report, entries, [at]));
    await rpc(d.anvil.rpcUrl, 'anvil_setCode', [d.token, code]);
    expect(skipped(receipt.logs)).toEqual([[bytesToHex(settlementId(t)), 'TransferFailed']]);
    expect(await state(t)).toBe(LOCKED);
    expect((await record(t)).reportHash).toBe(bytesToHex(new Uint8Array(32)));
    const retry = await mined('settleBatch', settleBatchArgs(report, entries, [0, 1], { cached: true }));
    expect(skipped(retry.logs)).toEqual([]);
    expect([await state(t), await state(other)]).toEqual([COMMITTED, ABORTED]);
    expect(await balanceOf(d, party('bob'))).toBe(AMOUNT);
  });

  it('refuses reordered entries, unordered indices, an unused or missing sibling, and a batch not matching its body', async () => {
    const t = terms();
    await lock(t);
    const entries = batchOf([entryOf(t, 'COMMIT'), ...Array.from({ length: 6 }, () => entryOf(terms(), 'ABORT'))]);
    const report = reportOf(entries);
    const [body, signature, packed, indices, proof] = settleBatchArgs(report, entries, [1, 2, 5]);
    const reordered = bytesToHex(packEntries([entries[2]!, entries[1]!, entries[5]!]));
    const cases: [string, readonly unknown[], RegExp][] = [
      ['reordered entries', [body, signature, reordered, indices, proof], /BadProof/],
      ['indices not ascending', [body, signature, reordered, bytesToHex(packIndices([2, 1, 5])), proof], /MalformedBatch/],
      ['an index beyond count', [body, signature, packed, bytesToHex(packIndices([1, 2, 7])), proof], /MalformedBatch/],
      ['one index fewer than entries', [body, signature, packed, bytesToHex(packIndices([1, 2])), proof], /MalformedBatch/],
      ['no entries', [body, signature, '0x', '0x', proof], /MalformedBatch/],
      ['an unused sibling', [body, signature, packed, indices, [...proof, proof[0]!]], /BadProof/],
      ['a missing sibling', [body, signature, packed, indices, proof.slice(0, -1)], /BadProof/],
      ['a tampered sibling', [body, signature, packed, indices, [flip(proof[0]!), ...proof.slice(1)]], /BadProof/],
      ['the body of another batch', [...submitRootArgs(reportOf(batchOf(entries.map(() => entryOf(terms(), 'ABORT'))))), packed, indices, proof], /BadProof/],
    ];
    for (const [what, args, error] of cases) await expect(send('settleBatch', args), what).rejects.toThrow(error);
    expect(await state(t)).toBe(LOCKED);
    expect(await rootCount(report.root)).toBe(0);
  });

  it('reverts whole, applying nothing, when the relayer gives too little gas for an entry\'s allowance', async () => {
    const locked = [terms(), terms(), terms(), terms()];
    for (const t of locked) await lock(t);
    const entries = batchOf(locked.map((t) => entryOf(t, 'COMMIT')));
    const args = settleBatchArgs(reportOf(entries), entries, [0, 1, 2, 3]);
    const estimate = await d.owner.publicClient.estimateContractGas({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args, account: d.owner.walletClient.account });
    const cap = await d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'ENTRY_GAS_CAP' });
    // Half a cap short: enough to run every entry (each uses far less than its cap), not to promise
    // the last its whole cap. A whole cap short: the last entry would run out of gas and be skipped.
    for (const starved of [estimate - cap / 2n, estimate - cap]) {
      await expect(d.owner.publicClient.simulateContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args, account: d.owner.walletClient.account, gas: starved }), `${starved}`).rejects.toThrow(/RelayerGasTooLow/);
      expect((await send('settleBatch', args, starved)).status).toBe('reverted');
    }
    // No gas limit up to the estimate makes a skip: the call applies all four or reverts whole.
    const simulate = (gas: bigint) => d.owner.publicClient.simulateContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args, account: d.owner.walletClient.account, gas });
    for (let k = 0n; k <= 16n; k++) {
      const outcome = await simulate(estimate - cap + (cap * k) / 16n).then((r) => r.result, () => 'reverted');
      expect(outcome === 'reverted' || outcome === 4n, `gas ${estimate - cap + (cap * k) / 16n}: ${outcome}`).toBe(true);
    }
    expect((await simulate(estimate)).result).toBe(4n);
    for (const t of locked) expect(await state(t)).toBe(LOCKED);
    expect(await balanceOf(d, party('bob'))).toBe(0n);
    const ok = await send('settleBatch', args, estimate);
    expect(ok.status).toBe('success');
    expect(skipped(ok.logs)).toEqual([]);
    for (const t of locked) expect(await state(t)).toBe(COMMITTED);
  });

  it('lets only the escrow itself call applyEntry', async () => {
    const entries = [entryOf(terms(), 'ABORT')];
    const call = d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'applyEntry', args: [bytesToHex(entries[0]!.settlementId), bytesToHex(reportLeaf(entries[0]!)), bytesToHex(encodeEntry(entries[0]!))] });
    await expect(call).rejects.toThrow(/OnlySelf/);
  });
});

interface VectorEntry { readonly settlementId: Hex; readonly decision: Decision; readonly validUntilMs: number; readonly encoded: Hex }
interface VectorTree { readonly count: number; readonly entries: readonly VectorEntry[]; readonly root: Hex; readonly proofs: readonly { index: number; siblings: Hex[] }[]; readonly multiproof: { indices: number[]; siblings: Hex[] } }
interface Vectors { readonly reportTree: readonly VectorTree[]; readonly reportBodyV2: ReportBodyV2Vector }
interface ReportBodyV2Vector { readonly networkId: Hex; readonly configDigest: Hex; readonly height: number; readonly count: number; readonly root: Hex; readonly body: Hex }

const vectors = JSON.parse(readFileSync(new URL('../../protocol/test/vectors/protocol-v2.json', import.meta.url), 'utf8')) as Vectors;

describe('the protocol package\'s fixed vectors, rebuilt by the contract', () => {
  it('every proof and multiproof of the report tree vectors verifies on chain (and a flipped one does not)', async () => {
    for (const [n, v] of vectors.reportTree.entries()) {
      const entries: Entry[] = v.entries.map((e) => ({ settlementId: hexToBytes(e.settlementId), decision: e.decision, validUntilMs: e.validUntilMs }));
      const report = reportOf(entries, { height: 10 + n });
      expect(bytesToHex(report.root), `vector ${n}: root`).toBe(v.root);
      await mined('submitRoot', submitRootArgs(report));
      for (const p of v.proofs) {
        const e = v.entries[p.index]!;
        const call = (siblings: readonly Hex[]) =>
          d.owner.publicClient.simulateContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settle', args: [v.root, BigInt(p.index), e.encoded, siblings], account: d.owner.walletClient.account });
        // Past the proof, the entry meets the leg rules: an ABORT closes the never-locked id, a COMMIT finds nothing locked.
        if (e.decision === 'ABORT') expect((await call(p.siblings)).result, `vector ${n} proof ${p.index}`).toBe(ABORTED);
        else await expect(call(p.siblings), `vector ${n} proof ${p.index}`).rejects.toThrow(/NothingLocked/);
        if (p.siblings.length > 0) await expect(call([flip(p.siblings[0]!), ...p.siblings.slice(1)]), `vector ${n} proof ${p.index}, flipped`).rejects.toThrow(/BadProof/);
      }
      const m = v.multiproof;
      const [body] = submitRootArgs(report);
      const args = [body, '0x', bytesToHex(packEntries(m.indices.map((i) => entries[i]!))), bytesToHex(packIndices(m.indices)), m.siblings] as const;
      const { result } = await d.owner.publicClient.simulateContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args, account: d.owner.walletClient.account });
      expect(result, `vector ${n}: multiproof applies its ABORTs`).toBe(BigInt(m.indices.filter((i) => v.entries[i]!.decision === 'ABORT').length));
    }
  });

  it('any subset of any batch: the multiproof the protocol package builds verifies on chain, a shifted one does not', async () => {
    const batchArb = fc
      .integer({ min: 1, max: 40 })
      .chain((count) => fc.tuple(fc.constant(count), fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { minLength: 1, maxLength: count })));
    let height = 100;
    await fc.assert(
      fc.asyncProperty(batchArb, async ([count, picked]) => {
        const entries = batchOf(Array.from({ length: count }, () => entryOf(terms(), 'ABORT')));
        const indices = [...picked].sort((a, b) => a - b);
        const report = reportOf(entries, { height: ++height });
        await mined('submitRoot', submitRootArgs(report));
        const simulate = (args: readonly unknown[]) => d.owner.publicClient.simulateContract({ address: d.escrow, abi: dvpEscrowV2Abi, functionName: 'settleBatch', args, account: d.owner.walletClient.account } as never);
        const args = settleBatchArgs(report, entries, indices, { cached: true });
        expect(((await simulate(args)) as { result: bigint }).result).toBe(BigInt(indices.length));
        // The same entries claimed one position further: another leaf position, so another root.
        const last = indices[indices.length - 1]!;
        if (last + 1 < count) {
          const shifted = [...indices.slice(0, -1), last + 1];
          await expect(simulate([args[0], args[1], args[2], bytesToHex(packIndices(shifted)), args[4]])).rejects.toThrow(/BadProof/);
        }
      }),
      { numRuns: 25, seed: 120312 },
    );
  });

  it('the report v2 body vector is accepted byte for byte by an escrow anchored to its network and configuration', async () => {
    const v = vectors.reportBodyV2;
    const anchor = { ...fixture().anchorV2, networkId: hexToBytes(v.networkId), configDigest: hexToBytes(v.configDigest) };
    const escrow = await deployEscrow(d.owner, anchor, 2);
    const body = { ...(JSON.parse(JSON.stringify(v)) as ReportBodyV2), networkId: anchor.networkId, configDigest: anchor.configDigest, root: hexToBytes(v.root) };
    expect(bytesToHex(encodeReportBodyV2(body))).toBe(v.body);
    const report = signReportV2(fixture().dealer, body);
    const hash = await d.owner.walletClient.writeContract({ address: escrow, abi: dvpEscrowV2Abi, functionName: 'submitRoot', args: [v.body, submitRootArgs(report)[1]] });
    const receipt = await d.owner.publicClient.waitForTransactionReceipt({ hash });
    const [stored] = parseEventLogs({ abi: dvpEscrowV2Abi, logs: receipt.logs, eventName: 'RootStored' });
    expect(stored?.args).toEqual({ root: v.root, height: BigInt(v.height), count: v.count });
  });
});
