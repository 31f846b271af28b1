/**
 * Slashing protection and start-up errors on real processes: a 4-node `cluster up --protocol 1` (memory legs),
 * nodes killed with SIGKILL and started again as `node packages/daemon/dist/main.js --config FILE`
 * and `tandem node --config FILE`. Needs the built dist. Every process started is stopped after.
 *
 *  - the equivocation: a node prevotes nil, is killed, loses that settlement's record and
 *    is started again: it refuses to start (exit 2, the file named); with --recover observe-only it
 *    starts, signs nothing for that settlement, and no node records an equivocation;
 *  - each record kind of a stopped node's data directory (live record, archived record, manifest)
 *    deleted, truncated, altered or renamed: exit 2, the file named;
 *  - a bad multiaddr, an unusable history or data path, a taken p2p or control port: exit 2, the
 *    config file and key named, no stack trace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposerOf } from '@tandem/consensus';
import { type TimedEvent, loadClusterFile, parseHistory } from '@tandem/daemon';
import { type Terms, encodeTerms, fromHex, settlementId, toHex } from '@tandem/protocol';
import { type ClusterNode, NODE_MAIN, alive, clusterDown, clusterPaths, clusterUp, freePort, getJson, nodeEnvironment, partySigner, postJson, readState, stopProcesses, waitFor } from '@tandem/devnet';
import { clusterCredentials } from '../../devnet/src/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-slashing-'));
const BIN = join(import.meta.dirname, '../dist/bin.js');
/** Processes this test started itself (cluster down stops the others). */
const ours: ChildProcess[] = [];

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `node main args…`, its output piped; the child is stopped in afterAll. */
function start(main: string, args: readonly string[]): { child: ChildProcess; out: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: nodeEnvironment() });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  ours.push(child);
  return { child, out };
}

/** Runs a node process until it exits by itself; one still running after `timeoutMs` is killed (code null). */
function runToExit(main: string, args: readonly string[], timeoutMs = 20_000): Promise<Exit> {
  const { child, out } = start(main, args);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

function nodeConfig(node: ClusterNode): Record<string, unknown> {
  return JSON.parse(readFileSync(node.config, 'utf8')) as Record<string, unknown>;
}

/** A copy of `node`'s config, changed by `edit`, written beside it; returns its path. */
function variant(node: ClusterNode, name: string, edit: (c: Record<string, unknown>) => void): string {
  const c = nodeConfig(node);
  edit(c);
  const file = join(clusterPaths(dir).nodes, `${node.id}.${name}.json`);
  writeFileSync(file, JSON.stringify(c, null, 2));
  return file;
}

function history(node: ClusterNode): TimedEvent[] {
  const file = nodeConfig(node)['history'] as string;
  return parseHistory(readFileSync(file, 'utf8'), file);
}

/** Terms on this cluster's venues (alice sells `units` OUSG to bob for 100·`units` USD cents), times from now. */
function clusterTerms(nonce: string, deadlineAfterMs: number, reportWindowMs: number, marginMs: number, units: bigint): Terms {
  const { venues } = readState(dir);
  const asset = { chainId: BigInt(venues.chainId), escrow: fromHex(venues.escrow, 20), token: 'OUSG', seller: 'alice', buyer: 'bob', amount: units };
  const payment = { bankId: venues.bankId, ledger: venues.ledger, payer: 'bob', payee: 'alice', currency: 'USD', amount: 100n * units };
  return { nonce: `${nonce}-${Date.now()}`, asset, payment, deadlineMs: Date.now() + deadlineAfterMs, reportWindowMs, marginMs };
}

/** The intent for `terms` with both parties' authorizations, as the control API takes it. */
function intentOf(terms: Terms): unknown {
  const id = settlementId(terms);
  const signer = partySigner(dir);
  return { terms: toHex(encodeTerms(terms)), authorizations: { asset: signer.authorize('alice', id), payment: signer.authorize('bob', id) } };
}

/** Asserts a refusal: exit 2, the config file and key named on the first line, no stack trace. */
function expectRefused(exit: Exit, configFile: string, key: string): void {
  expect(exit.code, exit.stderr).toBe(2);
  expect(exit.stderr.split('\n')[0]).toContain(`${configFile}: key "${key}`);
  expect(exit.stderr).not.toMatch(/\n\s+at /);
}

describe.skipIf(!existsSync(BIN) || !existsSync(NODE_MAIN))('slashing protection and start-up errors on real processes', () => {
  beforeAll(async () => {
    await clusterUp(dir, { nodes: '4', protocol: '1' }); // protocol 1's write-ahead records (v2's log: recover-v2.e2e.spec.ts)
  }, 150_000);

  afterAll(async () => {
    await stopProcesses(ours.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid!));
    if (existsSync(join(dir, 'state.json'))) await clusterDown(dir);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a node that prevoted nil, was killed and lost that record: refuses to start; observe-only signs nothing for it, and nobody sees an equivocation', async () => {
    const st = readState(dir);
    const cluster = loadClusterFile(clusterPaths(dir).cluster).config;
    const control = clusterCredentials(dir).control;
    const terms = clusterTerms('lost-record', 120_000, 60_000, 10_000, 10n);
    const id = settlementId(terms);
    const idHex = toHex(id);
    const intent = intentOf(terms);
    const p0 = st.nodes[proposerOf(id, 0, cluster.n) - 1]!;
    const [v, witness, x] = st.nodes.filter((n) => n !== p0) as [ClusterNode, ClusterNode, ClusterNode];
    const signedBy = (node: ClusterNode, sinceMs = 0) =>
      history(node).filter(({ tMs, event: e }) => tMs >= sinceMs && e.type === 'signed' && e.settlementIdHex === idHex);

    // Only V and the witness get the intent: the round-0 proposer knows nothing of it, so both
    // wait in round 0 for its proposal in vain, and prevote nil.
    for (const node of [v, witness]) await postJson(`${node.control}/intents`, intent, control);
    await waitFor(`${v.id} to prevote nil in round 0`, 30_000, async () =>
      signedBy(v).some(({ event: e }) => e.type === 'signed' && e.message.kind === 'vote' && e.message.vote.step === 'prevote' && e.message.vote.round === 0 && e.message.vote.value === null) ? true : null,
    );
    process.kill(v.pid, 'SIGKILL');
    await waitFor(`${v.id} to die`, 5_000, async () => (alive(v.pid) ? null : true));
    const record = join(nodeConfig(v)['dataDir'] as string, 'settlements', `${idHex}.json`);
    expect(existsSync(record)).toBe(true);
    rmSync(record);
    // Now the proposer learns of it and proposes COMMIT in round 0, which V, with its record gone, would prevote.
    for (const node of [p0, x]) await postJson(`${node.control}/intents`, intent, control);

    const refused = await runToExit(NODE_MAIN, ['--config', v.config]);
    expectRefused(refused, v.config, 'dataDir');
    expect(refused.stderr.split('\n')[0]).toContain(`${record}: missing`);

    const restartMs = Date.now();
    const observer = start(NODE_MAIN, ['--config', v.config, '--recover', 'observe-only']);
    const decided = await waitFor('every node to decide, the observe-only one from the report', 60_000, async () => {
      const views = await Promise.all(st.nodes.map(async (n) => (await getJson(`${n.control}/settlements/${idHex}`, control)) as { decided: boolean; decision: string | null }));
      return views.every((s) => s.decided) ? views : null;
    });
    expect(decided.map((s) => s.decision)).toEqual(['COMMIT', 'COMMIT', 'COMMIT', 'COMMIT']);
    expect(observer.out.stdout).toMatch(/"event":"storage-recovered"/);
    expect(observer.out.stdout).toMatch(/"event":"started".*"observeOnly":true/);
    expect(signedBy(v, restartMs)).toEqual([]);
    for (const node of st.nodes) {
      expect(history(node).filter(({ event: e }) => e.type === 'evidence' && e.misbehaviour.kind === 'equivocation'), node.id).toEqual([]);
    }
  }, 180_000);

  it('a stopped node whose data directory lost, cut, changed or moved any record or its manifest refuses to start, naming the file', async () => {
    const st = readState(dir);
    const control = clusterCredentials(dir).control;
    const node = st.nodes.find((n) => alive(n.pid))!;
    const dataDir = nodeConfig(node)['dataDir'] as string;
    // One settlement archived (closed, past its reclaim time within seconds) and one live.
    const archived = clusterTerms('archived', 3_000, 1_000, 1_000, 1n);
    const live = clusterTerms('live', 120_000, 60_000, 1_000, 1n);
    for (const t of [archived, live]) for (const n of st.nodes) if (alive(n.pid)) await postJson(`${n.control}/intents`, intentOf(t), control);
    const files = { live: `settlements/${toHex(settlementId(live))}.json`, archived: `settlements/archive/${toHex(settlementId(archived))}.json`, manifest: 'manifest' };
    await waitFor('a live and an archived record', 40_000, async () => (existsSync(join(dataDir, files.live)) && existsSync(join(dataDir, files.archived)) ? true : null));
    process.kill(node.pid, 'SIGKILL');
    await waitFor(`${node.id} to die`, 5_000, async () => (alive(node.pid) ? null : true));

    // Each damage, and what the refusal's first line says about the file.
    const damages: Record<string, (path: string) => RegExp> = {
      delete: (p) => (rmSync(p), /missing/),
      truncate: (p) => (writeFileSync(p, readFileSync(p).subarray(0, readFileSync(p).length >> 1)), /truncated|cut short/),
      alter: (p) => {
        const b = readFileSync(p);
        b[b.length >> 1] = b[b.length >> 1] === 0x30 ? 0x31 : 0x30;
        writeFileSync(p, b);
        return /altered/;
      },
      rename: (p) => (cpSync(p, `${p}.moved`), rmSync(p), /missing.*(renamed|\.moved)|missing/),
    };
    for (const [kind, file] of Object.entries(files)) {
      for (const [how, damage] of Object.entries(damages)) {
        const copy = mkdtempSync(join(tmpdir(), 'tandem-damaged-'));
        cpSync(dataDir, copy, { recursive: true });
        const what = damage(join(copy, file));
        const config = variant(node, `${kind}-${how}`, (c) => (c['dataDir'] = copy));
        const exit = await runToExit(NODE_MAIN, ['--config', config]);
        expectRefused(exit, config, 'dataDir');
        expect(exit.stderr.split('\n')[0], `${kind} ${how}`).toContain(`${join(copy, file)}: `);
        expect(exit.stderr.split('\n')[0], `${kind} ${how}`).toMatch(what);
        rmSync(copy, { recursive: true, force: true });
      }
    }
    // The same through the CLI; and the undamaged copy starts (cut off from the cluster: no peers, other ports).
    const copy = mkdtempSync(join(tmpdir(), 'tandem-intact-'));
    cpSync(dataDir, copy, { recursive: true });
    rmSync(join(copy, files.archived));
    const damaged = variant(node, 'cli', (c) => (c['dataDir'] = copy));
    expectRefused(await runToExit(BIN, ['node', '--config', damaged]), damaged, 'dataDir');
    cpSync(join(dataDir, files.archived), join(copy, files.archived));
    const [p2p, ctl] = [await freePort(), await freePort()];
    const intact = variant(node, 'intact', (c) => {
      Object.assign(c, { dataDir: copy, peers: [], listen: [`/ip4/127.0.0.1/tcp/${p2p}`], control: { ...(c['control'] as object), port: ctl } });
    });
    const running = start(NODE_MAIN, ['--config', intact]);
    await waitFor('the intact copy to start', 20_000, async () => (running.out.stdout.includes('"event":"started"') ? true : null));
    expect(running.out.stdout).toMatch(/"observeOnly":false/);
    running.child.kill('SIGTERM');
    rmSync(copy, { recursive: true, force: true });
  }, 240_000);

  it('a bad multiaddr, an unusable history or data path, a taken p2p or control port: exit 2 naming the file and key, no stack trace', async () => {
    const st = readState(dir);
    const [up, template] = [st.nodes.find((n) => alive(n.pid))!, st.nodes[0]!];
    const upConfig = nodeConfig(up);
    const made: string[] = [];
    const fresh = () => (made.push(mkdtempSync(join(tmpdir(), 'tandem-fresh-'))), made[made.length - 1]!);
    const freeListen = async () => [`/ip4/127.0.0.1/tcp/${await freePort()}`];
    const cases: [string, string, (c: Record<string, unknown>) => Promise<void> | void][] = [
      ['listen[0]', 'bad-listen', (c) => void (c['listen'] = ['/ip4/127.0.0.1/tcpx/7001'])],
      ['peers[0].multiaddrs[0]', 'bad-peer', (c) => void ((c['peers'] as { multiaddrs: string[] }[])[0]!.multiaddrs = ['/ip4/999.0.0.1/tcp/7002'])],
      ['history', 'bad-history', (c) => void (c['history'] = '/proc/tandem-nope/history.jsonl')],
      ['dataDir', 'bad-data', (c) => void (c['dataDir'] = '/proc/tandem-nope/data')],
      ['listen', 'p2p-taken', (c) => void (c['listen'] = upConfig['listen'])],
      ['control.port', 'control-taken', async (c) => void Object.assign(c, { listen: await freeListen(), control: upConfig['control'] })],
    ];
    for (const [key, name, edit] of cases) {
      const c = nodeConfig(template);
      c['dataDir'] = fresh();
      c['history'] = join(fresh(), 'history.jsonl');
      await edit(c);
      const file = join(clusterPaths(dir).nodes, `${template.id}.${name}.json`);
      writeFileSync(file, JSON.stringify(c, null, 2));
      const exit = await runToExit(NODE_MAIN, ['--config', file]);
      expectRefused(exit, file, key);
      if (name === 'p2p-taken' || name === 'control-taken') expect(exit.stderr.split('\n')[0]).toMatch(/address already in use/);
    }
    for (const d of made) rmSync(d, { recursive: true, force: true });
    const bad = variant(template, 'cli-bad-listen', (c) => void (c['listen'] = ['not-a-multiaddr']));
    expectRefused(await runToExit(BIN, ['node', '--config', bad]), bad, 'listen[0]');
    for (const main of [NODE_MAIN, BIN]) {
      const flag = await runToExit(main, [...(main === BIN ? ['node'] : []), '--config', bad, '--recover', 'sign-anyway']);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toMatch(/--recover sign-anyway: expected observe-only/);
    }
  }, 120_000);
});
