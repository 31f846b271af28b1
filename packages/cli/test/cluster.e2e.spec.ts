/**
 * End to end on real processes under protocol 1 (one consensus instance per settlement: its rounds,
 * its proposer, its report): a 4-node cluster over libp2p on loopback with a leg host. Protocol 2,
 * the default, has its own: cluster-v2.e2e.spec.ts, recover-v2.e2e.spec.ts, cluster mode and the
 * kill test. Needs the built dist (pnpm test builds first). Every process the cluster starts is
 * stopped in afterAll.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';
import { TANDEM_BLS_DST, blsVerify } from '@tandem/crypto';
import { proposerOf } from '@tandem/consensus';
import { loadClusterFile } from '@tandem/daemon';
import { type Terms, decodeReport, encodeTerms, fromHex, reportDigest, settlementId, toHex } from '@tandem/protocol';
import { alive, clusterCredentials, clusterDown, clusterPaths, clusterUp, getJson as getJsonWith, partySigner, postJson as postJsonWith, readState, restartNode, waitFor } from '@tandem/devnet';

const dir = mkdtempSync(join(tmpdir(), 'tandem-cluster-'));
let out: string[] = [];

async function settle(...extra: string[]): Promise<{ code: number; result: Record<string, unknown> | null }> {
  out = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    const code = await main(['node', 'tandem', 'settle', '--dir', dir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '20s', '--json', ...extra]);
    const line = out.join('').trim().split('\n').pop() ?? '';
    return { code, result: line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : null };
  } finally {
    spy.mockRestore();
  }
}

/** The control API with the cluster's control token (DIR/secrets/control.token). */
const getJson = (url: string) => getJsonWith(url, clusterCredentials(dir).control);
const postJson = (url: string, body: unknown) => postJsonWith(url, body, clusterCredentials(dir).control);

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))('a local cluster of real processes', () => {
  beforeAll(async () => {
    // With the link-fault injectors, as the cluster-mode runner starts them: the partition test cuts links.
    await clusterUp(dir, { nodes: '4', linkFaults: true, protocol: '1' });
  }, 60_000);

  afterAll(async () => {
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
  }, 30_000);

  it('settles a DvP: COMMIT, report verified, asset released and payment posted', async () => {
    const { code, result } = await settle();
    expect(code).toBe(0);
    expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
    expect((result!['report'] as { verified: boolean }).verified).toBe(true);
  }, 60_000);

  it('the round-0 proposer killed mid-settlement: a later round commits, and the restarted node catches up', async () => {
    const st = readState(dir);
    const paths = clusterPaths(dir);
    const cluster = loadClusterFile(paths.cluster);
    const signer = partySigner(dir);
    const terms: Terms = {
      nonce: `proposer-killed-${Date.now()}`,
      asset: { chainId: BigInt(st.venues.chainId), escrow: fromHex(st.venues.escrow, 20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: 10n },
      payment: { bankId: st.venues.bankId, ledger: st.venues.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 1_000_000n },
      deadlineMs: Date.now() + 30_000,
      reportWindowMs: 30_000,
      marginMs: 10_000,
    };
    const id = settlementId(terms);
    const idHex = toHex(id);
    const auth = (party: string) => signer.authorize(party, id);
    const intent = (authorizations: Record<string, unknown>) => ({ terms: toHex(encodeTerms(terms)), authorizations });
    type View = { decided: boolean; decision: string | null; round: number | null; report: string | null; views: { asset: { state: string } | null } };
    const viewOf = async (node: { control: string }) => (await getJson(`${node.control}/settlements/${idHex}`)) as View;

    // Only the seller authorizes at first: the asset leg locks, the payment leg waits for the buyer,
    // so no value is valid yet and nobody can have proposed.
    for (const node of st.nodes) await postJson(`${node.control}/intents`, intent({ asset: auth('alice') }));
    await waitFor('the asset lock', 20_000, async () => ((await viewOf(st.nodes[0]!)).views.asset?.state === 'locked' ? true : null));
    const victim = st.nodes[proposerOf(id, 0, cluster.config.n) - 1]!;
    process.kill(victim.pid, 'SIGKILL');
    const others = st.nodes.filter((x) => x !== victim);
    for (const node of others) await postJson(`${node.control}/intents`, intent({ payment: auth('bob') }));

    const decided = await waitFor('a decision without the round-0 proposer', 40_000, async () => {
      const v = await viewOf(others[0]!);
      return v.decided ? v : null;
    });
    expect(decided.decision).toBe('COMMIT');
    expect(decided.round).toBeGreaterThanOrEqual(1); // round 0's proposer was dead: no round-0 decision
    const report = decodeReport(fromHex(decided.report!));
    expect(blsVerify(cluster.config.commitments[0]!, reportDigest(report), report.signature, TANDEM_BLS_DST)).toBe(true);

    // Restarted with its write-ahead storage, it resumes the settlement and learns the same decision.
    restartNode(dir, victim.id);
    const caughtUp = await waitFor(`${victim.id} to catch up after its restart`, 40_000, async () => {
      const v = await viewOf(victim);
      return v.decided ? v : null;
    });
    expect(caughtUp.decision).toBe('COMMIT');
    expect(caughtUp.report).toBe(decided.report);
    await waitFor(`${victim.id} to reconnect`, 30_000, async () => (((await getJson(`${victim.control}/status`)) as { connected: number[] }).connected.length === 3 ? true : null));
  }, 120_000);

  it('still commits with one node killed (SIGKILL), and the killed node stays down', async () => {
    const st = readState(dir);
    const victim = st.nodes[0]!;
    process.kill(victim.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(victim.pid)).toBe(false);
    const { code, result } = await settle();
    expect(code).toBe(0);
    expect(result).toMatchObject({ decision: 'commit' });
  }, 60_000);

  it('a partition that leaves no quorum heals and the settlement commits', async () => {
    const st = readState(dir);
    // n1 is dead; cut n2 off from n3 and n4 for 3 s, on both sides of the cut (gossip is filtered
    // by the receiver): no side has a quorum of 3.
    const [n2, n3, n4] = [st.nodes[1]!, st.nodes[2]!, st.nodes[3]!];
    const cut = async (on: boolean) => {
      await postJson(`${n2.control}/faults/links`, { block: on ? [3, 4] : [] });
      await postJson(`${n3.control}/faults/links`, { block: on ? [2] : [] });
      await postJson(`${n4.control}/faults/links`, { block: on ? [2] : [] });
    };
    await cut(true);
    const heal = setTimeout(() => void cut(false), 3_000);
    try {
      const t0 = Date.now();
      const { code, result } = await settle();
      expect(code).toBe(0);
      expect(result).toMatchObject({ decision: 'commit' });
      // No quorum existed before the heal, so the decision came after it.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(3_000);
    } finally {
      clearTimeout(heal);
      await cut(false);
    }
  }, 90_000);

  it('tandem cluster restart brings the killed node back, recorded so that down stops it too', async () => {
    const before = readState(dir).nodes[0]!;
    expect(alive(before.pid)).toBe(false);
    const code = await main(['node', 'tandem', 'cluster', 'restart', before.id, '--dir', dir]);
    expect(code).toBe(0);
    const after = readState(dir).nodes[0]!;
    expect(after.pid).not.toBe(before.pid);
    expect(alive(after.pid)).toBe(true);
    const status = (await getJson(`${after.control}/status`)) as { connected: number[] };
    expect(status.connected).toHaveLength(3);
    // A node that is running is not started twice; an unknown node is named.
    expect(await main(['node', 'tandem', 'cluster', 'restart', before.id, '--dir', dir])).toBe(2);
    expect(await main(['node', 'tandem', 'cluster', 'restart', 'n9', '--dir', dir])).toBe(2);
  }, 60_000);

  it('cluster down stops every process it started, the restarted node included', async () => {
    const st = readState(dir);
    await clusterDown(dir);
    for (const pid of [st.legHost.pid, ...st.nodes.map((n) => n.pid)]) expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
  }, 30_000);
});

const realDir = mkdtempSync(join(tmpdir(), 'tandem-real-'));

describe.skipIf(!existsSync(join(import.meta.dirname, '../dist/bin.js')))('a cluster on the real legs (anvil + escrow, PGlite bank)', () => {
  afterAll(async () => {
    if (existsSync(join(realDir, 'state.json'))) await clusterDown(realDir);
  }, 30_000);

  it('commits with the report verified on-chain, and down leaves no process (anvil included)', async () => {
    await clusterUp(realDir, { nodes: '4', legs: 'real', protocol: '1' });
    const st = readState(realDir);
    expect(st.legs).toBe('real');
    expect(st.venues.escrow).toMatch(/^0x[0-9a-f]{40}$/);
    out = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    let code: number;
    try {
      code = await main(['node', 'tandem', 'settle', '--dir', realDir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '30s', '--json']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const result = JSON.parse(out.join('').trim().split('\n').pop()!) as { decision: string; asset: { state: string }; payment: { state: string }; report: { verified: boolean }; transactions: { call: string; gasUsed: string }[] };
    expect(result).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });
    expect(result.report.verified).toBe(true);
    const settleTx = result.transactions.find((t) => t.call === 'settle');
    expect(Number(settleTx?.gasUsed)).toBeGreaterThan(100_000); // the on-chain pairing check alone is ~103k

    // A deadline 30 days out (past setTimeout's 2^31−1 ms): the node must not sign its deadline
    // observation early; both legs lock and the settlement commits.
    out = [];
    const spy30 = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      code = await main(['node', 'tandem', 'settle', '--dir', realDir, '--seller', 'alice', '--buyer', 'bob', '--asset', '100:OUSG', '--price', '10000000:USD', '--deadline', '720h', '--json']);
    } finally {
      spy30.mockRestore();
    }
    expect(code).toBe(0);
    expect(JSON.parse(out.join('').trim().split('\n').pop()!)).toMatchObject({ decision: 'commit', asset: { state: 'released' }, payment: { state: 'posted' } });

    await clusterDown(realDir);
    for (const pid of [st.legHost.pid, ...st.nodes.map((n) => n.pid)]) {
      expect(alive(pid)).toBe(false);
      expect(() => process.kill(-pid, 0)).toThrow(); // nothing left in its process group (anvil)
    }
  }, 180_000);
});
