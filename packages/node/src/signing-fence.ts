/**
 * Observe-only after a storage loss: the settlements a node must not sign for.
 *
 * A node whose write-ahead records failed their check cannot know what it signed before. Any
 * proposal, vote or deadline observation it signed now for a settlement it may have signed for
 * could contradict one it already sent: an equivocation, exactly what the write-ahead records
 * exist to prevent. Only when the operator says so explicitly (`tandem node --recover
 * observe-only`) does such a node start at all, and then with a fence: for every settlement the
 * fence covers, the runtime never lets the consensus instance sign. The node still polls both legs,
 * prepares them with the parties' authorizations (the parties' signatures, not its own), takes a
 * report that verifies under the group key, delivers it to both legs and relays it to peers.
 *
 * A clause covers a settlement whose reclaim time is after the clause's start (the node's clock
 * when it recovered), among the settlements the clause names, or among all settlements when it
 * names none (null): a node that lost its index cannot tell a settlement it never saw from one it
 * signed for. Past the reclaim time no report or vote moves a leg, and the runtime opens no
 * settlement past it, so a clause needs no end of its own.
 */
import { type Terms, reclaimAtMs, settlementId, toHex } from '@tandem/protocol';
import type { HeightInput, Input, PersistedSettlement } from '@tandem/consensus';

/** One recovery's fence, as the storage keeps it. */
export interface FenceClause {
  /** When the node recovered (its clock, Unix ms): settlements whose reclaim time is after it are covered. */
  readonly fromMs: number;
  /** The settlements covered (hex ids), or null for every settlement. */
  readonly settlementIdsHex: readonly string[] | null;
}

export class SigningFence {
  private readonly clauses: readonly { readonly fromMs: number; readonly ids: ReadonlySet<string> | null }[];

  constructor(clauses: readonly FenceClause[]) {
    this.clauses = clauses.map((c) => ({ fromMs: c.fromMs, ids: c.settlementIdsHex === null ? null : new Set(c.settlementIdsHex) }));
  }

  /** Must this node sign nothing for the settlement of `terms`? */
  silences(terms: Terms): boolean {
    if (this.clauses.length === 0) return false;
    const reclaimMs = reclaimAtMs(terms);
    const idHex = toHex(settlementId(terms));
    return this.clauses.some((c) => reclaimMs > c.fromMs && (c.ids === null || c.ids.has(idHex)));
  }
}

/**
 * The inputs a silenced consensus instance may take — v1's settlement instance, or a v2 height
 * instance (v2/silenced.ts) — those that make it sign nothing. Undecided, only a report (v1) or a
 * decided batch (v2), verified there: a valid one decides. Decided, also messages and resends,
 * which a decided instance answers with the report or decided batch alone. Never its own
 * observations (v1: it would sign them), a start or recheck (v2: it would enter a round), nor
 * timeouts (a silenced instance never enters a round, so has none). An instance that took nothing
 * else holds no evidence, votes or round, so no rule of the consensus fires in it: it cannot
 * propose or vote (nor sign a BLS partial, which rides on a precommit).
 */
export function silencedInputAllowed(input: Input | HeightInput, decided: boolean): boolean {
  if (input.type === 'message') return decided || input.message.kind === 'report' || input.message.kind === 'decided';
  return input.type === 'resend' && decided;
}

/**
 * What a silenced settlement resumes from its record after a restart: its terms and its report (a
 * verified one, taken while silenced). Not its own proposals, votes or deadline observation, nor
 * the round and locks they imply, so the resumed instance has nothing to re-send and no rule to fire.
 */
export function silencedRecord(rec: PersistedSettlement): PersistedSettlement {
  return { terms: rec.terms, round: -1, lockedValue: null, lockedRound: -1, validValue: null, validRound: -1, validPolka: [], proposals: [], votes: [], deadlineObservation: null, report: rec.report };
}
