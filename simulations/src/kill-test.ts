/**
 * The kill test, long: `pnpm kill-test [--seed N] [--settlements N] [--kills N] [--protocol 1|2] [--keep]`
 * (it builds first; --protocol: the cluster's protocol, default 2). A 4-node cluster on the real legs (embedded chain, PGlite bank) runs N settlements (default
 * 60) while K components (default 20) are SIGKILLed at seed-drawn instants and restarted — a node,
 * the leg host with its bank and chain, or the chain alone — and the simulator's checker judges the
 * run (runKillTest in packages/devnet). Without --seed a fresh seed is drawn; it is printed first,
 * and `--seed` with it replays the same trades and kill schedule. Prints a markdown record (machine,
 * seed, kills, outcome, invariants); exit 1 if any settlement did not end all-or-nothing or any
 * invariant broke. The cluster directory is kept (for its logs) with --keep or on failure.
 */
import '@tandem/p2p/polyfill';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROTOCOL, type KillTestResult, type ProtocolVersion, parseProtocolFlag, runKillTest } from '@tandem/devnet';
import { machineLines, markdownTable } from './table.js';

interface Options {
  readonly seed: number;
  readonly settlements: number;
  readonly kills: number;
  readonly protocol: ProtocolVersion;
  readonly keep: boolean;
}

function intArg(flag: string, v: string | undefined, min: number, max: number): number {
  const n = v === undefined ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} ${v ?? ''}: expected an integer from ${min} to ${max}`);
  return n;
}

function parseOptions(args: readonly string[]): Options {
  let seed = randomInt(1, 2 ** 31);
  let settlements = 60;
  let kills = 20;
  let keep = false;
  let protocol: ProtocolVersion = DEFAULT_PROTOCOL;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--seed') seed = intArg(a, args[++i], 0, Number.MAX_SAFE_INTEGER);
    else if (a === '--settlements') settlements = intArg(a, args[++i], 1, 10_000);
    else if (a === '--kills') kills = intArg(a, args[++i], 0, 1_000);
    else if (a === '--protocol') protocol = parseProtocolFlag(args[++i] ?? '') ?? DEFAULT_PROTOCOL;
    else if (a === '--keep') keep = true;
    else throw new Error(`unknown argument ${a} (expected --seed N, --settlements N, --kills N, --protocol 1|2, --keep)`);
  }
  return { seed, settlements, kills, protocol, keep };
}

function render(r: KillTestResult, machine: readonly string[]): string {
  const lines = [
    ...machine,
    `seed: ${r.seed} (replay: pnpm kill-test --seed ${r.seed} --settlements ${r.plan.trades.length} --kills ${r.plan.kills.length} --protocol ${r.protocol})  `,
    `protocol: ${r.protocol}  `,
    `wall: ${(r.wallMs / 1000).toFixed(0)} s  `,
    '',
    `${r.plan.trades.length} settlements: ${r.counts.commit} committed, ${r.counts.abort} aborted, ${r.counts.undecided} undecided; ` +
      `${r.problems.length} not all-or-nothing (split, or value left locked); verdict ${r.ok ? 'PASS' : 'FAIL'}`,
    '',
    ...markdownTable(
      [
        { header: 'kill', align: 'right' },
        { header: 'SIGKILL at (s)', align: 'right' },
        { header: 'answering again at (s)', align: 'right' },
        { header: 'component', align: 'left' },
      ],
      r.kills.map((k, i) => [String(i + 1), (k.atMs / 1000).toFixed(1), (k.backAtMs / 1000).toFixed(1), k.target]),
    ),
    '',
    ...markdownTable(
      [
        { header: 'invariant', align: 'left' },
        { header: 'holds', align: 'left' },
        { header: 'detail', align: 'left' },
      ],
      r.result.invariants.map((i) => [i.name, i.ok === null ? 'not judged' : i.ok ? 'yes' : 'NO', i.detail.replace(/\|/g, '/')]),
    ),
    ...(r.problems.length > 0 ? ['', ...r.problems.map((p) => `- ${p}`)] : []),
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'tandem-kill-test-'));
  process.stderr.write(`kill-test: seed ${opts.seed}, protocol ${opts.protocol}; cluster directory ${dir}\n`);
  const result = await runKillTest({ seed: opts.seed, settlements: opts.settlements, kills: opts.kills, protocol: opts.protocol, dir, say: (l) => process.stderr.write(`${l}\n`) });
  // Machine lines last: the load average then covers the run.
  process.stdout.write(render(result, machineLines()));
  if (result.ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
  else process.stderr.write(`kill-test: cluster directory and logs kept in ${dir}\n`);
  if (!result.ok) {
    process.stderr.write(`kill-test: FAILED with seed ${opts.seed} (protocol ${opts.protocol})\n`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`kill-test: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
