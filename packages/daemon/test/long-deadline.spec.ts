/**
 * A deadline 30 days out and a late lock that commits, in-process: four real NodeRuntimes wired
 * as runNode wires them — the node process's timers port (SystemTimers) and the host's clock
 * (Date.now) — over a direct transport and the in-memory legs, with the host's setTimeout and
 * Date under vitest's fake timers. The fake host keeps Node's overflow rule (a
 * delay above 2^31 − 1 ms fires after 1 ms: timers.spec.ts shows it), so this is the real path
 * of a node process minus libp2p and HTTP, neither of which carries a timer for a protocol time:
 * with the plain setTimeout port the nodes sign their deadline observations after 1 ms and abort.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClusterConfig, type LegState, type Terms, configDigest, networkIdFromName, quorum, settlementId } from '@tandem/protocol';
import { blsSign, dealerKeygen, identityKeygen, identitySign } from '@tandem/crypto';
import { makeContext } from '@tandem/consensus';
import { MemoryAssetChain, MemoryBankLedger, authorize } from '@tandem/legs';
import { seededRandomBytes } from '@tandem/legs/fixture';
import { DEFAULT_RUNTIME_PARAMS, MemoryStorage, MemoVerifier, type NodeEvent, NodeRuntime } from '@tandem/node';
import { SystemTimers } from '../src/timers.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const N = 4;
const LATENCY_MS = 10;
/**
 * Resends and back-off capped at minutes, not the defaults, only so that 30 fake days run in
 * seconds (every poll and resend is a real callback); the timers under test are the same.
 */
const PARAMS = { ...DEFAULT_RUNTIME_PARAMS, pollMs: 1_000, resendMs: 60_000, backoffMaxMs: 30 * 60_000 };

interface Cluster {
  readonly networkId: Uint8Array;
  readonly parties: ReadonlyMap<string, Uint8Array>;
  readonly runtimes: NodeRuntime[];
  readonly timers: SystemTimers[];
  readonly events: NodeEvent[][];
  readonly asset: MemoryAssetChain;
  readonly payment: MemoryBankLedger;
}

function startCluster(): Cluster {
  const random = seededRandomBytes('tandem/daemon/long-deadline');
  const dealt = dealerKeygen(N, quorum(N), random);
  const identities = Array.from({ length: N }, () => identityKeygen(random));
  const config: ClusterConfig = {
    networkId: networkIdFromName('long-deadline'),
    n: N,
    t: quorum(N),
    members: identities.map((id, i) => ({ index: i + 1, id: `n${i + 1}`, identityKey: id.publicKey })),
    commitments: dealt.commitments,
  };
  const parties = new Map(['alice', 'bob'].map((name) => [name, identityKeygen(random)] as const));
  const legOptions = {
    anchor: { networkId: config.networkId, configDigest: configDigest(config), groupPublicKey: dealt.commitments[0]! },
    parties: new Map([...parties].map(([name, k]) => [name, k.publicKey] as const)),
    nowMs: () => Date.now(),
  };
  const asset = new MemoryAssetChain({ ...legOptions, venue: { chainId: 31337n, escrow: new Uint8Array(20).fill(0xe5) } });
  const payment = new MemoryBankLedger({ ...legOptions, venue: { bankId: 'bank', ledger: 'main' } });
  asset.mint('alice', 'OUSG', 1_000n);
  payment.mint('bob', 'USD', 1_000_000n);
  const runtimes: NodeRuntime[] = [];
  const timers = Array.from({ length: N }, () => new SystemTimers());
  const events: NodeEvent[][] = Array.from({ length: N }, () => []);
  const network = new SystemTimers();
  const verifier = new MemoVerifier();
  const deliver = (from: number, to: number, m: Parameters<NodeRuntime['receive']>[1]) => network.after(LATENCY_MS, () => runtimes[to - 1]!.receive(from, m));
  for (let i = 1; i <= N; i++) {
    const secret = identities[i - 1]!.secretKey;
    const share = dealt.shares[i - 1]!.secret;
    const signer = { sign: (domain: string, msg: Uint8Array) => identitySign(domain, secret, msg), partialSign: (msg: Uint8Array) => blsSign(share, msg) };
    runtimes.push(
      new NodeRuntime({
        ctx: makeContext(config, i, signer, verifier),
        transport: {
          broadcast: (m) => {
            for (let to = 1; to <= N; to++) if (to !== i) deliver(i, to, m);
          },
          send: (to, m) => void deliver(i, to, m),
        },
        clock: { nowMs: () => Date.now() },
        timers: timers[i - 1]!,
        storage: new MemoryStorage(),
        legs: { asset, payment },
        log: { event: (e) => events[i - 1]!.push(e) },
        params: PARAMS,
      }),
    );
  }
  for (const r of runtimes) r.start();
  return { networkId: config.networkId, parties: new Map([...parties].map(([name, k]) => [name, k.secretKey] as const)), runtimes, timers, events, asset, payment };
}

function deadlineObservationsSigned(c: Cluster): number {
  return c.events.flat().filter((e) => e.type === 'signed' && e.message.kind === 'observation' && e.message.observation.deadline).length;
}

describe('a deadline 30 days out', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(Date.UTC(2031, 0, 1));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for its deadline, and a lock on day 29 commits', async () => {
    const c = startCluster();
    const terms: Terms = {
      nonce: 'thirty-days',
      asset: { chainId: 31337n, escrow: new Uint8Array(20).fill(0xe5), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 10n },
      payment: { bankId: 'bank', ledger: 'main', payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000n },
      deadlineMs: Date.now() + 30 * DAY_MS,
      reportWindowMs: 60_000,
      marginMs: 30_000,
    };
    const id = settlementId(terms);
    const auth = (party: string) => authorize(party, c.parties.get(party)!, c.networkId, id);
    const state = async (): Promise<[LegState, LegState]> => [(await c.asset.observe(id)).state, (await c.payment.observe(id)).state];
    // The buyer authorizes now; the seller waits four weeks.
    for (const r of c.runtimes) expect(r.submit(terms, { payment: auth('bob') })).toBeNull();
    await vi.advanceTimersByTimeAsync(29 * DAY_MS);
    expect(await state()).toEqual(['none', 'locked']);
    expect(deadlineObservationsSigned(c)).toBe(0);
    expect(c.runtimes.every((r) => !r.decisions()[0]!.decided)).toBe(true);

    for (const r of c.runtimes) expect(r.submit(terms, { asset: auth('alice') })).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await state()).toEqual(['committed', 'committed']);
    for (const r of c.runtimes) expect(r.settlementStatus(r.decisions()[0]!.settlementIdHex)).toMatchObject({ decided: true, closed: true, report: { decision: 'COMMIT' } });
    expect(deadlineObservationsSigned(c)).toBe(0); // decided before the deadline: none was ever due
    for (const r of c.runtimes) r.stop();
    for (const t of c.timers) t.cancelAll();
  });
});
