/**
 * The write-ahead rule of v2, checked before a message leaves the node: every proposal and vote
 * this node signed at a height, and the decided batch, must be in the height record it last
 * persisted. A violation is a bug in the runtime or the height instance, never bad input.
 */
import type { PersistedHeight } from '@tandem/consensus';
import { type MessageV2, assert, toHex } from '@tandem/protocol';

export class WriteAheadGuardV2 {
  private height = 0;
  /** Signatures (hex) of the proposals and votes the last record holds, and whether it holds a decision. */
  private readonly covered = new Set<string>();
  private decided = false;

  constructor(private readonly self: number) {}

  persisted(record: PersistedHeight): void {
    this.height = record.height;
    this.covered.clear();
    for (const p of record.proposals) this.covered.add(toHex(p.signature));
    for (const v of record.votes) this.covered.add(toHex(v.signature));
    this.decided = record.decided !== null;
  }

  /** Asserts `m` may go out: what this node signed at the current height was persisted first. */
  check(m: MessageV2): void {
    if (m.kind === 'proposal2' && m.proposal.proposer === this.self && m.proposal.height === this.height) {
      assert(this.covered.has(toHex(m.proposal.signature)), `write-ahead: n${this.self} sent its proposal of height ${this.height} round ${m.proposal.round} before persisting it`);
    }
    if (m.kind === 'vote2' && m.vote.voter === this.self && m.vote.height === this.height) {
      assert(this.covered.has(toHex(m.vote.signature)), `write-ahead: n${this.self} sent its ${m.vote.step} of height ${this.height} round ${m.vote.round} before persisting it`);
    }
    if (m.kind === 'decided' && m.batch.report.height === this.height) {
      assert(this.decided, `write-ahead: n${this.self} sent the decided batch of height ${this.height} before persisting it`);
    }
  }
}
