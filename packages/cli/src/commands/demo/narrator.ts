/**
 * The simulator demo's narrator: turns history entries into plain sentences, printed as they
 * happen. Protocol 2's entries are told by NarratorV2 (narrator-v2.ts), through this one.
 */
import { blsVerify, TANDEM_BLS_DST } from '@tandem/crypto';
import { type LegName, type Report, reportDigest, toHex } from '@tandem/protocol';
import { type HistoryEntry, type Simulation, assetName, paymentName } from '@tandem/sim';
import { NarratorV2, type StoryTeller } from './narrator-v2.js';

export const usd = (minor: bigint) => `${(minor / 100n).toLocaleString('en-US')}.${(minor % 100n).toString().padStart(2, '0')} USD`;

/** Turns history entries into plain sentences, printed as they happen. */
export class Narrator implements StoryTeller {
  private readonly said = new Set<string>();
  private readonly nonces = new Map<string, string>();
  private readonly decisions = new Map<string, Report['decision']>();
  private sim: Simulation | null = null;
  private readonly v2 = new NarratorV2(this);

  constructor(private readonly write: (s: string) => void) {}

  attach(sim: Simulation): void {
    this.sim = sim;
  }

  once(key: string): boolean {
    if (this.said.has(key)) return false;
    this.said.add(key);
    return true;
  }

  line(t: number, text: string): void {
    this.write(`[${String(t).padStart(6)} ms] ${text}\n`);
  }

  name(settlementIdHex: string): string {
    return this.nonces.get(settlementIdHex) ?? settlementIdHex.slice(0, 8);
  }

  prepared(leg: LegName, outcome: string): string {
    const what = leg === 'asset' ? 'escrow contract on the chain' : 'bank ledger';
    const verb = outcome === 'locked' ? (leg === 'asset' ? "locked the seller's tokens" : "placed a hold on the payer's funds") : `answered '${outcome}'`;
    return `the ${what} ${verb}`;
  }

  moved(leg: LegName, commit: boolean): string {
    if (leg === 'asset') return commit ? 'released the tokens to the buyer' : 'refunded the seller';
    return commit ? 'posted the payment to the payee' : 'voided the hold';
  }

  groupKey(): Uint8Array {
    return this.sim!.cluster.commitments[0]!;
  }

  threshold(): number {
    return this.sim!.cluster.t;
  }

  entry(e: HistoryEntry): void {
    if (e.type === 'intent') {
      this.nonces.set(e.settlementIdHex, e.settlement);
      const s = this.sim!.scenario.settlements.find((x) => x.id === e.settlement)!;
      this.write('\n');
      this.line(e.t, `INTENT ${s.id}: ${s.asset.buyer} buys ${s.asset.amount} ${s.asset.token} from ${s.asset.seller} for ${usd(s.payment.amount)} (${s.payment.amount.toLocaleString('en-US')} minor units).`);
      this.line(e.t, `         settlement id ${e.settlementIdHex.slice(0, 16)}… = digest of the terms; deadline ${s.atMs + s.deadlineAfterMs} ms, report window ${s.reportWindowMs / 1000} s, margin ${s.marginMs / 1000} s.`);
      return;
    }
    if (e.type === 'node2' || e.type === 'leg2') return this.v2.entry(e);
    if (e.type !== 'node') return;
    const ev = e.event;
    const id = this.name(ev.settlementIdHex);
    const who = `n${e.node}`;
    switch (ev.type) {
      case 'prepare':
        if (this.once(`prepare:${id}:${ev.leg}`)) this.line(e.t, `${who} prepares the ${ev.leg} leg (in parallel with the other): ${this.prepared(ev.leg, ev.outcome)}.`);
        return;
      case 'signed': {
        const m = ev.message;
        if (m.kind === 'observation') {
          const o = m.observation;
          const view = `asset ${assetName(o.asset.state, o.asset.lock !== null)}, payment ${paymentName(o.payment.state, o.payment.lock !== null)}`;
          this.line(e.t, `${who} signs an observation${o.deadline ? ' at the deadline' : ''}: ${view}.`);
        } else if (m.kind === 'proposal') {
          const p = m.proposal;
          this.line(e.t, `${who} is the proposer of round ${p.round}: proposes ${p.value}, justified by observations of ${p.evidence.map((x) => `n${x.signer}`).join(', ')}.`);
        } else if (m.kind === 'vote') {
          const v = m.vote;
          const partial = v.partial ? ' with its BLS partial signature over the report' : '';
          this.line(e.t, `${who} ${v.step}s ${v.value ?? 'nil'} in round ${v.round}${partial}.`);
        }
        return;
      }
      case 'valid':
        if (this.once(`valid:${id}:${ev.value}`)) this.line(e.t, `${who} holds signed evidence from f+1 members: ${ev.value} is now a valid value for ${id}.`);
        return;
      case 'decided':
        this.decisions.set(id, ev.report.decision);
        if (this.once(`decided:${id}`)) this.describeReport(e.t, who, id, ev.report);
        else this.line(e.t, `${who} decides ${ev.report.decision} as well.`);
        return;
      case 'deliver':
        if (ev.outcome === 'applied') {
          const how = ev.leg === 'asset' ? 'the escrow verified it against the group key stored in its lock' : 'the bank verified it against the key recorded with the hold';
          this.line(e.t, `${who} delivers the report to the ${ev.leg} leg: ${how} and ${this.moved(ev.leg, this.decisions.get(id) === 'COMMIT')}.`);
        }
        return;
      case 'closed':
        if (this.once(`closed:${id}`)) this.line(e.t, `${id} is closed on both legs; the nodes stop polling it.`);
        return;
      default:
        return;
    }
  }

  private describeReport(t: number, who: string, id: string, r: Report): void {
    const group = this.groupKey();
    const valid = blsVerify(group, reportDigest(r), r.signature, TANDEM_BLS_DST);
    const flipped: Report = { ...r, decision: r.decision === 'COMMIT' ? 'ABORT' : 'COMMIT' };
    const tamperedValid = blsVerify(group, reportDigest(flipped), r.signature, TANDEM_BLS_DST);
    this.line(t, `${who} DECIDES ${r.decision} for ${id} in round ${r.round}: q = ${this.sim!.cluster.t} precommit partials combine into one threshold signature, the report.`);
    this.line(t, `         report signature ${toHex(r.signature).slice(0, 32)}… (48 bytes, BLS12-381 min-sig)`);
    this.line(t, `         verifies under the group public key ${toHex(group).slice(0, 16)}…: ${valid ? 'VALID' : 'INVALID'}; the same signature on a report with the decision flipped: ${tamperedValid ? 'VALID (!)' : 'rejected'}.`);
  }
}
