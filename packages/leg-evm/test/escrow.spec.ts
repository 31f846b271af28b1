/**
 * DvpEscrow directly (no adapter): the settlement id binding, seller authorization, durable
 * rejections, every revert of settle and reclaim, and the gas each operation costs.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Address, type Hex, BaseError, bytesToHex, decodeErrorResult, hashTypedData, hexToBytes, keccak256, parseEventLogs, parseSignature, serializeSignature, zeroAddress } from 'viem';
import {
  type Decision,
  type Report,
  type Terms,
  encodeReport,
  encodeReportBody,
  encodeTerms,
  networkIdFromName,
  reportDigest,
  settlementId,
  validUntilMs,
  reclaimAtMs,
} from '@tandem/protocol';
import { blsSign } from '@tandem/crypto';
import { createLegFixture, signReport } from '@tandem/legs/fixture';
import { dvpEscrowAbi, dvpEscrowBytecode, tandemTokenAbi } from '../src/artifacts.js';
import { lockAuthorizationTypedData, signLockAuthorization } from '../src/authorization.js';
import { type ChainClients, addressString, deployEscrow, deployToken } from '../src/chain.js';
import { EIP2537_G2_BYTES, g1ToEip2537 } from '../src/points.js';
import { type Deployment, balanceOf, chainTimeMs, fixture, freshDeployment, mint, setChainTimeMs, stopTestAnvil } from './local-chain.js';

afterAll(stopTestAnvil);

const FUNDS = 1_000n;
const AMOUNT = 100n;
const gasTable = new Map<string, bigint>();

afterAll(() => {
  if (gasTable.size === 0) return;
  console.log(['gas used per escrow transaction (anvil, Prague):', ...[...gasTable].map(([k, v]) => `  ${k.padEnd(40)} ${v.toLocaleString('en-US')}`)].join('\n'));
});

let d: Deployment;
let startMs: number;
let counter = 0;

beforeEach(async () => {
  d = await freshDeployment();
  startMs = await chainTimeMs(d);
  await mint(d, d.parties.get('alice')!.address, FUNDS);
});

const party = (name: string): Address => d.parties.get(name)!.address;

function terms(o: { seller?: string; buyer?: string; token?: string; amount?: bigint; chainId?: bigint; escrow?: Address } = {}): Terms {
  counter += 1;
  return {
    nonce: `escrow-test-${counter}@${startMs}`,
    asset: {
      chainId: o.chainId ?? BigInt(d.anvil.chainId),
      escrow: hexToBytes(o.escrow ?? d.escrow),
      token: o.token ?? addressString(d.token),
      seller: o.seller ?? 'alice',
      buyer: o.buyer ?? 'bob',
      amount: o.amount ?? AMOUNT,
    },
    payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 10_000_000n },
    deadlineMs: startMs + 10_000,
    reportWindowMs: 30_000,
    marginMs: 10_000,
  };
}

async function mined(c: ChainClients, hash: Hex, what: string): Promise<bigint> {
  const r = await c.publicClient.waitForTransactionReceipt({ hash });
  expect(r.status, what).toBe('success');
  return r.gasUsed;
}

/** The seller sends lock itself (no signature). */
async function lockAsSeller(t: Terms, seller = 'alice'): Promise<bigint> {
  const c = d.partyClients(seller);
  const hash = await c.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'lock', args: [bytesToHex(encodeTerms(t)), '0x'] });
  return mined(c, hash, 'lock');
}

/** A relayer (account 0) sends lock with `signature`. */
function lockRelayed(t: Terms | Uint8Array, signature: Hex): Promise<Hex> {
  const bytes = t instanceof Uint8Array ? t : encodeTerms(t);
  return d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'lock', args: [bytesToHex(bytes), signature] });
}

function sellerSignature(t: Terms, signer = 'alice'): Promise<Hex> {
  return signLockAuthorization(d.parties.get(signer)!, d.escrow, d.anvil.chainId, settlementId(t));
}

function report(t: Terms, decision: Decision, o: Partial<Report> & { dealer?: ReturnType<typeof createLegFixture>['dealer'] } = {}): Report {
  const fx = fixture();
  const body = {
    networkId: o.networkId ?? fx.anchor.networkId,
    configDigest: o.configDigest ?? fx.anchor.configDigest,
    settlementId: o.settlementId ?? settlementId(t),
    decision,
    round: o.round ?? 0,
    validUntilMs: o.validUntilMs ?? validUntilMs(t),
  };
  return signReport(o.dealer ?? fx.dealer, body);
}

function settle(r: Report, signature: Uint8Array = g1ToEip2537(r.signature)): Promise<Hex> {
  return d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'settle', args: [bytesToHex(encodeReportBody(r)), bytesToHex(signature)] });
}

async function state(t: Terms): Promise<number> {
  return (await d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'settlement', args: [bytesToHex(settlementId(t))] })).state;
}

const NONE = 0;
const LOCKED = 1;
const REJECTED = 2;
const COMMITTED = 3;
const ABORTED = 4;
const RECLAIMED = 5;

describe('lock: the settlement id binding', () => {
  it('recomputes the settlement id exactly as the protocol does, for arbitrary terms', async () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 24 }).filter((s) => new TextEncoder().encode(s).length <= 256);
    const arbitraryTerms = fc.record({
      nonce: text,
      token: text,
      buyer: text,
      payment: fc.tuple(text, text, text, text, text),
      amounts: fc.tuple(fc.bigInt(1n, 2n ** 256n - 1n), fc.bigInt(1n, 2n ** 256n - 1n)),
      chainId: fc.bigInt(0n, 2n ** 64n - 1n),
      times: fc.tuple(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 2 ** 50 })),
    });
    await fc.assert(
      fc.asyncProperty(arbitraryTerms, async (a) => {
        const t: Terms = {
          nonce: a.nonce,
          asset: { chainId: a.chainId, escrow: hexToBytes(d.escrow), token: a.token, seller: addressString(party('alice')), buyer: a.buyer, amount: a.amounts[0] },
          payment: { bankId: a.payment[0], ledger: a.payment[1], payer: a.payment[2], payee: a.payment[3], currency: a.payment[4], amount: a.amounts[1] },
          deadlineMs: a.times[0],
          reportWindowMs: a.times[1],
          marginMs: a.times[2],
        };
        // Simulated from the seller (a hex-address party): the call returns the id it computed.
        const { result } = await d.owner.publicClient.simulateContract({
          account: d.parties.get('alice')!,
          address: d.escrow,
          abi: dvpEscrowAbi,
          functionName: 'lock',
          args: [bytesToHex(encodeTerms(t)), '0x'],
        });
        expect(result[0]).toBe(bytesToHex(settlementId(t)));
      }),
      { numRuns: 15, seed: 424242 },
    );
  });

  it('refuses byte strings the protocol decoder refuses', async () => {
    const good = encodeTerms(terms());
    const sig = await sellerSignature(terms()); // any signature: parsing comes first
    const nonceLen = (good[1]! << 8) | good[2]!;
    let o = 3 + nonceLen + 28;
    for (let i = 0; i < 3; i++) o += 2 + ((good[o]! << 8) | good[o + 1]!); // token, seller, buyer
    const zeroAmount = good.slice();
    zeroAmount.fill(0, o, o + 32);
    const overflow = good.slice();
    overflow.set([0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], good.length - 24); // deadline 2^53 - 1, window > 0
    const longString = new Uint8Array([1, 0x01, 0x01, ...new Uint8Array(257)]); // a 257-byte nonce
    const cases: [string, Uint8Array][] = [
      ['truncated', good.slice(0, -1)],
      ['trailing byte', new Uint8Array([...good, 0])],
      ['unknown version', new Uint8Array([2, ...good.subarray(1)])],
      ['zero amount', zeroAmount],
      ['times overflow', overflow],
      ['string over 256 bytes', longString],
      ['empty', new Uint8Array(0)],
    ];
    for (const [what, bytes] of cases) await expect(lockRelayed(bytes, sig), what).rejects.toThrow(/MalformedTerms/);
  });
});

describe('lock: seller authorization', () => {
  it('locks when the seller calls', async () => {
    const t = terms();
    gasTable.set('lock (seller calls)', await lockAsSeller(t));
    expect(await state(t)).toBe(LOCKED);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS - AMOUNT);
    expect(await balanceOf(d, d.escrow)).toBe(AMOUNT);
  });

  it('locks through a relayer with the seller\'s EIP-712 signature (digest as viem computes it)', async () => {
    const t = terms();
    const digest = await d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'lockAuthorizationDigest', args: [bytesToHex(settlementId(t))] });
    expect(digest).toBe(hashTypedData(lockAuthorizationTypedData(d.escrow, d.anvil.chainId, settlementId(t))));
    const receipt = await d.owner.publicClient.waitForTransactionReceipt({ hash: await lockRelayed(t, await sellerSignature(t)) });
    gasTable.set('lock (relayed, EIP-712)', receipt.gasUsed);
    const [locked] = parseEventLogs({ abi: dvpEscrowAbi, logs: receipt.logs, eventName: 'Locked' });
    expect(locked?.args.settlementId).toBe(bytesToHex(settlementId(t)));
    expect(locked?.args.terms).toBe(bytesToHex(encodeTerms(t)));
    expect(await state(t)).toBe(LOCKED);
  });

  it('accepts 0x-address parties in lower case only', async () => {
    const t = terms({ seller: addressString(party('alice')), buyer: addressString(party('bob')) });
    await lockAsSeller(t);
    expect(await state(t)).toBe(LOCKED);
    const upper = terms({ seller: `0x${party('alice').slice(2).toUpperCase()}` });
    await expect(lockRelayed(upper, await sellerSignature(upper))).rejects.toThrow(/UnknownSeller/);
  });

  it('refuses a lock on terms the seller did not sign', async () => {
    const t = terms();
    const other = terms();
    const good = await sellerSignature(t);
    const { r, s, yParity } = parseSignature(good);
    // The malleable twin (n - s, flipped parity) recovers the same address: refused (EIP-2).
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const twin = serializeSignature({ r, s: `0x${(n - BigInt(s)).toString(16).padStart(64, '0')}`, yParity: yParity === 0 ? 1 : 0 });
    const cases: [string, Hex][] = [
      ['no signature from a relayer', '0x'],
      ['signed by the buyer', await sellerSignature(t, 'bob')],
      ['the seller\'s signature of another settlement', await sellerSignature(other)],
      ['the high-s twin of a valid signature', twin],
      ['64 bytes', good.slice(0, 130) as Hex],
    ];
    for (const [what, sig] of cases) await expect(lockRelayed(t, sig), what).rejects.toThrow(/Unauthorized/);
    // Another party calling without a signature is no better.
    const bob = d.partyClients('bob');
    await expect(bob.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'lock', args: [bytesToHex(encodeTerms(t)), '0x'] })).rejects.toThrow(/Unauthorized/);
    const unknown = terms({ seller: 'mallory' });
    await expect(lockRelayed(unknown, good)).rejects.toThrow(/UnknownSeller/);
    expect(await state(t)).toBe(NONE);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS);
    // The genuine authorization still works afterwards.
    await mined(d.owner, await lockRelayed(t, good), 'lock');
    expect(await state(t)).toBe(LOCKED);
  });

  it('records durable rejections; the id is then closed', async () => {
    const fresh = await deployToken(d.owner, { name: 'Other', symbol: 'OTH' });
    const cases: [string, Terms, number][] = [
      ['another chain', terms({ chainId: BigInt(d.anvil.chainId) + 1n }), 0],
      ['another escrow', terms({ escrow: d.token }), 1],
      ['an unknown buyer', terms({ buyer: 'mallory' }), 2],
      ['an unknown token', terms({ token: 'NOPE' }), 3],
      ['a token address with no code', terms({ token: addressString(party('carol')) }), 3],
      ['insufficient balance', terms({ amount: FUNDS + 1n }), 4],
      ['insufficient allowance', terms({ token: addressString(fresh) }), 5],
    ];
    // alice holds enough of the fresh token, but never approved the escrow for it.
    await mined(d.owner, await d.owner.walletClient.writeContract({ address: fresh, abi: tandemTokenAbi, functionName: 'mint', args: [party('alice'), AMOUNT] }), 'mint');
    for (const [what, t, reason] of cases) {
      const receipt = await d.owner.publicClient.waitForTransactionReceipt({ hash: await lockRelayed(t, await sellerSignature(t)) });
      const [rejected] = parseEventLogs({ abi: dvpEscrowAbi, logs: receipt.logs, eventName: 'Rejected' });
      expect(rejected?.args.reason, what).toBe(reason);
      expect(await state(t), what).toBe(REJECTED);
      await expect(lockRelayed(t, await sellerSignature(t)), what).rejects.toThrow(/SettlementExists/);
    }
    expect(await balanceOf(d, d.escrow)).toBe(0n);
  });
});

describe('settle', () => {
  it('applies a valid COMMIT before validUntil: the buyer is paid, exactly once', async () => {
    const t = terms();
    await lockAsSeller(t);
    const commit = report(t, 'COMMIT');
    const receipt = await d.owner.publicClient.waitForTransactionReceipt({ hash: await settle(commit) });
    expect(receipt.status).toBe('success');
    gasTable.set('settle COMMIT (release to buyer)', receipt.gasUsed);
    expect(await state(t)).toBe(COMMITTED);
    expect(await balanceOf(d, party('bob'))).toBe(AMOUNT);
    expect(await balanceOf(d, d.escrow)).toBe(0n);
    // Replay, and any other report, are refused.
    await expect(settle(commit), 'replay').rejects.toThrow(/ReportAlreadyApplied/);
    await expect(settle(report(t, 'ABORT')), 'ABORT after COMMIT').rejects.toThrow(/ReportAlreadyApplied/);
    await expect(settle(report(t, 'COMMIT', { round: 1 })), 'COMMIT of another round').rejects.toThrow(/ReportAlreadyApplied/);
    const stored = await d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'settlement', args: [bytesToHex(settlementId(t))] });
    expect(stored.reportHash).toBe(keccak256(encodeReport(commit)));
  });

  it('refuses forged and mismatching reports; the value stays locked', async () => {
    const t = terms();
    const other = terms();
    await lockAsSeller(t);
    const commit = report(t, 'COMMIT');
    const abort = report(t, 'ABORT');
    const otherDealer = createLegFixture('leg-evm/escrow/other-dealer').dealer;
    const otherCommit = report(other, 'COMMIT');
    const notInSubgroup = new Uint8Array(128);
    notInSubgroup[127] = 2; // (0, 2): on the curve, order 3
    // Thunks: each call starts only when its expectation awaits it.
    const cases: [string, () => Promise<Hex>, RegExp][] = [
      ['wrong signer set (another dealer)', () => settle(report(t, 'COMMIT', { dealer: otherDealer })), /BadSignature/],
      ['one share\'s partial, not combined', () => settle({ ...commit, signature: blsSign(fixture().dealer.shares[0]!.secret, reportDigest(commit)) }), /BadSignature/],
      ['tampered decision (COMMIT → ABORT)', () => settle({ ...commit, decision: 'ABORT' }), /BadSignature/],
      ['tampered decision (ABORT → COMMIT)', () => settle({ ...abort, decision: 'COMMIT' }), /BadSignature/],
      ['tampered round', () => settle({ ...commit, round: 7 }), /BadSignature/],
      ['wrong settlement (another id\'s signature)', () => settle({ ...otherCommit, settlementId: settlementId(t) }), /BadSignature/],
      ['a valid report for an id never locked', () => settle(otherCommit), /NothingLocked/],
      ['another network', () => settle(report(t, 'COMMIT', { networkId: networkIdFromName('elsewhere') })), /WrongNetwork/],
      ['another configuration', () => settle(report(t, 'COMMIT', { configDigest: new Uint8Array(32).fill(9) })), /WrongConfiguration/],
      ['validUntil other than the lock\'s', () => settle(report(t, 'COMMIT', { validUntilMs: validUntilMs(t) + 1 })), /ValidUntilMismatch/],
      ['a signature outside the subgroup', () => settle(commit, notInSubgroup), /PrecompileFailed/],
      ['the identity as signature', () => settle(commit, new Uint8Array(128)), /BadSignature/],
    ];
    for (const [what, call, error] of cases) await expect(call(), what).rejects.toThrow(error);
    const body = encodeReportBody(commit);
    const badBodies: [string, Uint8Array][] = [
      ['short body', body.slice(0, 125)],
      ['unknown version', new Uint8Array([2, ...body.subarray(1)])],
      ['wrong domain', new Uint8Array([1, ...new TextEncoder().encode('TANDEM/REPORT/V2'), ...body.subarray(17)])],
      ['unknown decision', Uint8Array.from(body, (b, i) => (i === 113 ? 3 : b))],
    ];
    for (const [what, bad] of badBodies) {
      const call = d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'settle', args: [bytesToHex(bad), bytesToHex(g1ToEip2537(commit.signature))] });
      await expect(call, what).rejects.toThrow(/MalformedReport/);
    }
    expect(await state(t)).toBe(LOCKED);
    expect(await balanceOf(d, d.escrow)).toBe(AMOUNT);
    await mined(d.owner, await settle(commit), 'the genuine COMMIT');
    expect(await state(t)).toBe(COMMITTED);
  });

  it('refuses an expired COMMIT (leg clock = block time · 1000) and still refunds on ABORT', async () => {
    const t = terms();
    await lockAsSeller(t);
    await setChainTimeMs(d, validUntilMs(t) - 1_000);
    const commit = report(t, 'COMMIT');
    // Control: one second before validUntil the same COMMIT would go through (the estimate succeeds).
    await d.owner.publicClient.estimateContractGas({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'settle', args: [bytesToHex(encodeReportBody(commit)), bytesToHex(g1ToEip2537(commit.signature))], account: d.owner.walletClient.account });
    await setChainTimeMs(d, validUntilMs(t));
    await expect(settle(commit)).rejects.toThrow(/CommitExpired/);
    const receipt = await d.owner.publicClient.waitForTransactionReceipt({ hash: await settle(report(t, 'ABORT')) });
    gasTable.set('settle ABORT (refund seller)', receipt.gasUsed);
    expect(await state(t)).toBe(ABORTED);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS);
  });

  it('an ABORT closes a never-locked id (a later lock is refused); a COMMIT there is refused', async () => {
    const t = terms();
    await expect(settle(report(t, 'COMMIT'))).rejects.toThrow(/NothingLocked/);
    gasTable.set('settle ABORT (close a never-locked id)', await mined(d.owner, await settle(report(t, 'ABORT')), 'abort'));
    expect(await state(t)).toBe(ABORTED);
    await expect(lockRelayed(t, await sellerSignature(t))).rejects.toThrow(/SettlementExists/);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS);
  });

  it('records an ABORT on a rejected id without changing its state', async () => {
    const t = terms({ amount: FUNDS + 1n });
    await mined(d.owner, await lockRelayed(t, await sellerSignature(t)), 'rejected lock');
    await mined(d.owner, await settle(report(t, 'ABORT')), 'abort');
    expect(await state(t)).toBe(REJECTED);
    await expect(settle(report(t, 'ABORT'))).rejects.toThrow(/ReportAlreadyApplied/);
  });
});

describe('reclaim', () => {
  it('reverts before the reclaim time, refunds at it, and then refuses reports and a second reclaim', async () => {
    const t = terms();
    const id = bytesToHex(settlementId(t));
    const reclaim = () => d.owner.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'reclaim', args: [id] });
    await expect(reclaim(), 'nothing locked').rejects.toThrow(/NotLocked/);
    await lockAsSeller(t);
    await setChainTimeMs(d, reclaimAtMs(t) - 1_000);
    await expect(reclaim(), 'too early').rejects.toThrow(/TooEarly/);
    expect(await state(t)).toBe(LOCKED);
    await setChainTimeMs(d, reclaimAtMs(t));
    gasTable.set('reclaim', await mined(d.owner, await reclaim(), 'reclaim'));
    expect(await state(t)).toBe(RECLAIMED);
    expect(await balanceOf(d, party('alice'))).toBe(FUNDS);
    await expect(settle(report(t, 'ABORT')), 'report after reclaim').rejects.toThrow(/ValueReclaimed/);
    await expect(reclaim(), 'second reclaim').rejects.toThrow(/NotLocked/);
  });
});

describe('names and deployment', () => {
  it('lets only the owner register a name, once, and never a 0x name', async () => {
    const register = (c: ChainClients, name: string, who: Address) =>
      c.walletClient.writeContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'registerName', args: [name, who] });
    await expect(register(d.partyClients('alice'), 'dave', party('alice'))).rejects.toThrow(/NotOwner/);
    await expect(register(d.owner, 'alice', party('carol'))).rejects.toThrow(/NameTaken/);
    await expect(register(d.owner, '0xdave', party('carol'))).rejects.toThrow(/BadName/);
    await expect(register(d.owner, '', party('carol'))).rejects.toThrow(/BadName/);
    await expect(register(d.owner, 'dave', zeroAddress)).rejects.toThrow(/BadName/);
    await mined(d.owner, await register(d.owner, 'dave', party('carol')), 'register');
    const resolved = await d.owner.publicClient.readContract({ address: d.escrow, abi: dvpEscrowAbi, functionName: 'resolve', args: [bytesToHex(new TextEncoder().encode('dave'))] });
    expect(resolved).toBe(party('carol'));
  });

  it('refuses to deploy with a group key that is not a G2 subgroup point', async () => {
    const fx = fixture();
    const offCurve = new Uint8Array(EIP2537_G2_BYTES);
    offCurve[63] = 1;
    const cases: [string, Uint8Array, string][] = [
      ['the identity', new Uint8Array(EIP2537_G2_BYTES), 'PrecompileFailed'],
      ['a point off the curve', offCurve, 'PrecompileFailed'],
      ['a compressed key', new Uint8Array(96), 'BadPointLength'],
    ];
    for (const [what, key, error] of cases) {
      const deployment = d.owner.walletClient.deployContract({ abi: dvpEscrowAbi, bytecode: dvpEscrowBytecode, args: [bytesToHex(fx.anchor.networkId), bytesToHex(fx.anchor.configDigest), bytesToHex(key)] });
      // viem does not decode a constructor's custom error: decode the revert data here.
      const e = await deployment.then(() => null, (err: unknown) => err);
      expect(e, what).toBeInstanceOf(BaseError);
      let data: Hex | null = null;
      (e as BaseError).walk((x) => {
        const v = (x as { data?: unknown }).data;
        if (typeof v === 'string' && v.startsWith('0x')) data = v as Hex;
        return data !== null;
      });
      expect(data, what).not.toBeNull();
      expect(decodeErrorResult({ abi: dvpEscrowAbi, data: data! }).errorName, what).toBe(error);
    }
    // The helper converts the compressed key: a real anchor deploys.
    expect(await deployEscrow(d.owner, fx.anchor)).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });
});
