/**
 * The real legs' admin API (LegAdmin of @tandem/leg-host) and their audit trail.
 *
 * - `mint` credits the bank, or mints tokens on the chain (made durable before it answers).
 * - `balances` and `events` are read-only views of what the legs themselves keep: the bank's
 *   append-only history (PostgreSQL: `history`), and the escrow's history rebuilt from the chain's
 *   contract events (EscrowEventLog), up to the chain's final height — so the simulator's checker
 *   reads a real leg as it reads an in-memory one (cluster-collect.ts, the kill test).
 * - Faults are the in-memory legs' only.
 *
 * What neither leg keeps — a report, a root, an entry or a reclaim it refused — `auditedLeg`
 * writes to the leg host's log (DIR/logs/leghost.log, appended to across restarts) as a
 * `leg-refused` line.
 */
import { type Address, maxUint256 } from 'viem';
import type { PrivateKeyAccount } from 'viem/accounts';
import { type Entry, type LegName, type Report, type ReportV2, toHex } from '@tandem/protocol';
import type { ApplyOutcome, BatchLegAdapter } from '@tandem/legs';
import { type ChainClients, type EscrowEventLog, sendAndWait, tandemTokenAbi } from '@tandem/leg-evm';
import { BankInputError, type PgBankLedger } from '@tandem/leg-bank';
import { AdminInputError, type LegAdmin, type LegBalances, type LegEventsPage } from '@tandem/leg-host';

export interface RealLegsAdminOptions {
  readonly payment: PgBankLedger;
  /** The deployer's clients: it mints. */
  readonly owner: ChainClients;
  readonly tokens: ReadonlyMap<string, Address>;
  readonly accounts: ReadonlyMap<string, PrivateKeyAccount>;
  readonly assetLog: EscrowEventLog;
  /** The highest block the legs count as final (durable on the embedded chain, confirmed elsewhere). */
  readonly finalHeight: () => Promise<bigint>;
  /** Makes what was just mined durable (the embedded chain); a no-op elsewhere. */
  readonly sync: () => Promise<void>;
}

export function realLegsAdmin(o: RealLegsAdminOptions): LegAdmin {
  return {
    mint: async (leg: LegName, account: string, unit: string, amount: bigint) => {
      if (leg === 'payment') {
        // The bank refuses a deposit that would take a balance past 2^256-1 (a 400, not a database error).
        await o.payment.fund(account, unit, amount).catch((e: unknown) => {
          throw e instanceof BankInputError ? new AdminInputError('amount', e.message.replace(/^amount: /, '')) : e;
        });
        return;
      }
      const token = o.tokens.get(unit);
      const to = o.accounts.get(account);
      if (token === undefined) throw new AdminInputError('unit', `no token ${unit} on this chain`);
      if (to === undefined) throw new AdminInputError('account', `no account for ${account} on this chain`);
      // The token reverts a mint past a uint256 total supply: refuse it here, as a 400.
      const supply = await o.owner.publicClient.readContract({ address: token, abi: tandemTokenAbi, functionName: 'totalSupply' });
      if (supply + amount > maxUint256) throw new AdminInputError('amount', `the total supply of ${unit} would pass 2^256-1`);
      await sendAndWait(o.owner, await o.owner.walletClient.writeContract({ address: token, abi: tandemTokenAbi, functionName: 'mint', args: [to.address, amount] }), `mint ${unit}`);
      await o.sync();
    },
    balances: async (leg: LegName): Promise<LegBalances> => {
      if (leg === 'payment') {
        const [accounts, height, conservationProblem] = await Promise.all([o.payment.accounts(), o.payment.height(), o.payment.conservationProblem()]);
        return { balances: accounts.map((a) => ({ account: a.account, unit: a.currency, amount: a.available })), height, conservationProblem };
      }
      const at = await o.finalHeight();
      const [events, balances, conservationProblem] = await Promise.all([o.assetLog.upTo(at), o.assetLog.balances(at), o.assetLog.conservationProblem(at)]);
      return { balances, height: BigInt(events.length), conservationProblem };
    },
    events: async (leg: LegName, sinceSeq: number, limit: number): Promise<LegEventsPage> => {
      if (leg === 'payment') {
        const [events, height] = await Promise.all([o.payment.history({ afterSeq: BigInt(sinceSeq), limit }), o.payment.height()]);
        return { events, height: Number(height) };
      }
      const all = await o.assetLog.upTo(await o.finalHeight());
      // seq is the 1-based position in the log, so events after `sinceSeq` start at index sinceSeq.
      return { events: all.slice(sinceSeq, sinceSeq + limit), height: all.length };
    },
    setFault: async () => {
      throw new AdminInputError('fault', 'faults are injected on the in-memory legs only');
    },
    faults: async () => ({ rejectPrepare: [], failApply: [], unavailableUntilMs: null }),
  };
}

/** `leg` as it is, with every refused report, root, entry and reclaim written to the log (neither leg records them). */
export function auditedLeg(leg: BatchLegAdapter, log: (line: Record<string, unknown>) => void): BatchLegAdapter {
  const refusedEntries = (call: 'apply-entries' | 'apply-batch', root: Uint8Array, entries: readonly Entry[], outcomes: readonly ApplyOutcome[]) => {
    outcomes.forEach((o, k) => {
      const e = entries[k];
      if (o.kind === 'refused' && e !== undefined) log({ event: 'leg-refused', leg: leg.leg, call, root: toHex(root), settlement: toHex(e.settlementId), decision: e.decision, reason: o.reason });
    });
    return outcomes;
  };
  return {
    leg: leg.leg,
    prepare: (terms, authorization) => leg.prepare(terms, authorization),
    observe: (id) => leg.observe(id),
    observeMany: (ids) => leg.observeMany(ids),
    applyReport: async (report: Report) => {
      const outcome = await leg.applyReport(report);
      if (outcome.kind === 'refused') log({ event: 'leg-refused', leg: leg.leg, call: 'apply', settlement: toHex(report.settlementId), decision: report.decision, round: report.round, reason: outcome.reason });
      return outcome;
    },
    reclaim: async (id: Uint8Array) => {
      const outcome = await leg.reclaim(id);
      if (outcome.kind === 'refused') log({ event: 'leg-refused', leg: leg.leg, call: 'reclaim', settlement: toHex(id), reason: outcome.reason });
      return outcome;
    },
    submitRoot: async (report: ReportV2) => {
      const outcome = await leg.submitRoot(report);
      if (outcome.kind === 'refused') log({ event: 'leg-refused', leg: leg.leg, call: 'submit-root', root: toHex(report.root), height: report.height, round: report.round, reason: outcome.reason });
      return outcome;
    },
    applyEntries: async (root, items) => refusedEntries('apply-entries', root, items.map((i) => i.entry), await leg.applyEntries(root, items)),
    applyBatch: async (report, entries, multiproof) => refusedEntries('apply-batch', report.root, entries, await leg.applyBatch(report, entries, multiproof)),
  };
}
