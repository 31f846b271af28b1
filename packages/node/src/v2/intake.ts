/**
 * Intake of the v2 runtime: admission (the same rules as v1, admission.ts, with v2's commit guard,
 * horizon and openSettlementsMax), durable intents, and preparing both legs with the parties'
 * authorizations. A refused intent is returned, logged and kept (bounded) with its terms: the node
 * never prepares it but signs a guard entry for it at its guard time (observe.ts), so a settlement
 * admitted by too few nodes still aborts. Refused intents are persisted too (staged, durable with
 * the runtime's next commit, before any guard entry for them is sent), so a restart keeps them.
 */
import { LEG_NAMES, type Terms, assert, settlementId, toHex } from '@tandem/protocol';
import { FULL_RETRY_AFTER_MIN_MS, INTENTS_PER_CALL_MAX, type IntentRefusal, type OpenLoad, intentRefusal, openLoadOf } from '../admission.js';
import type { Authorizations, Intent } from '../ports.js';
import type { PersistedIntent } from './ports.js';
import { type Core, type HeldSettlement, heldSettlement, legCall, nowMs, undecided } from './state.js';

/** The load of a node that holds fewer taken settlements than openSettlementsMax, for an authorized intent: nothing to refuse for. */
const NO_LOAD: OpenLoad = { undecided: 0, undecidedDeadlineMinMs: null, unauthorized: 0, unauthorizedDeadlineMinMs: null };

export class Intake {
  /** Refused settlements held for their guard entry, oldest first; at most openSettlementsMax. */
  private readonly refusedOrder: string[] = [];

  constructor(
    private readonly core: Core,
    /** A leg answered a prepare with a lock or a rejection: worth reading now. */
    private readonly onPrepared: (s: HeldSettlement) => void,
  ) {}

  /**
   * The intent: terms and the parties' authorizations. Null when taken (also again, with a late
   * authorization: idempotent), else the refusal. Every intent ends one way or the other.
   */
  submit(terms: Terms, auths: Authorizations): IntentRefusal | null {
    return this.submitMany([{ terms, auths }])[0]!;
  }

  /**
   * Intents at once, answered in order as `submit` answers each, with one storage commit for all
   * that were taken: durable before the caller hears "taken", and before any leg is prepared.
   */
  submitMany(intents: readonly Intent[]): (IntentRefusal | null)[] {
    assert(intents.length <= INTENTS_PER_CALL_MAX, 'a batch of intents stays within INTENTS_PER_CALL_MAX');
    const taken: HeldSettlement[] = [];
    const answers = intents.map(({ terms, auths }) => this.admit(terms, auths, taken));
    if (taken.length === 0) return answers;
    this.core.deps.storage.commit(); // a node that crashes after this resumes them all
    for (const s of taken) {
      this.core.deps.log.event({ type: 'intent', settlementIdHex: s.idHex, nonce: s.terms.nonce });
      this.prepareLegs(s);
    }
    return answers;
  }

  /** Admission of one intent: refused (returned), or held with its intent staged for the caller's commit (pushed to `taken`). */
  private admit(terms: Terms, auths: Authorizations, taken: HeldSettlement[]): IntentRefusal | null {
    const core = this.core;
    const id = settlementId(terms);
    const idHex = toHex(id);
    if (core.stopped) return this.refuse(terms, idHex, { reason: 'full', detail: 'the node is stopping', retryAfterMs: FULL_RETRY_AFTER_MIN_MS });
    const known = core.held.get(idHex);
    if (known !== undefined && !known.refused) {
      // Taken again (a late authorization, a resend): answered and logged as taken, idempotently.
      this.addAuths(known, auths);
      taken.push(known);
      return null;
    }
    if (core.chain.holds(id)) {
      return this.refuse(terms, idHex, { reason: 'late', detail: 'it is already decided', retryAfterMs: null });
    }
    const authorized = LEG_NAMES.some((leg) => auths[leg] !== undefined);
    const limits = { horizonMaxMs: core.v2.horizonMaxMs, commitGuardMs: core.v2.commitGuardMs, openSettlementsMax: core.v2.openSettlementsMax, unauthorizedOpenMax: core.params.unauthorizedOpenMax };
    // Counting the load is linear in the settlements held: only when it could refuse.
    const mayBeFull = !authorized || core.held.size - this.refusedOrder.length >= limits.openSettlementsMax;
    const refusal = intentRefusal(terms, authorized, nowMs(core), limits, () => (mayBeFull ? this.openLoad() : NO_LOAD));
    if (refusal !== null) return this.refuse(terms, idHex, refusal);
    if (known !== undefined) this.dropRefused(idHex, false); // refused earlier, taken now
    const s = heldSettlement(core, terms, auths, false, id);
    s.guardEntry = known?.guardEntry ?? null; // signed while refused: repeated verbatim, never signed anew
    core.deps.storage.putIntent(idHex, { terms, auths: s.auths });
    this.take(s);
    taken.push(s);
    assert(core.held.get(idHex) === s, 'an intent not refused is held');
    return null;
  }

  /** A stored intent at start: held again, taken or refused as it was. */
  resume(intent: PersistedIntent): void {
    const s = heldSettlement(this.core, intent.terms, intent.auths, intent.refused === true);
    this.take(s);
    if (s.refused) this.refusedOrder.push(s.idHex);
  }

  /** Holds a settlement (an intent taken now, or resumed from storage) and gives its terms to the pool. */
  take(s: HeldSettlement): void {
    this.core.held.set(s.idHex, s);
    this.core.pool.learnTerms(s.terms);
  }

  /** Prepares each leg with its authorization, once per leg (again after a lock vanished). */
  prepareLegs(s: HeldSettlement): void {
    const core = this.core;
    for (const leg of LEG_NAMES) {
      const auth = s.auths[leg];
      const progress = s.legs[leg];
      if (s.refused || auth === undefined || progress.prepared !== null || progress.preparing || !undecided(s)) continue;
      progress.preparing = true;
      const call = () => core.deps.legs[leg].prepare(s.terms, auth).finally(() => (progress.preparing = false));
      legCall(core, s.idHex, leg, 'prepare', call, (out) => {
        progress.prepared = out.kind;
        if (out.kind === 'locked') progress.lockedAtMs = nowMs(core);
        core.deps.log.event({ type: 'prepare', settlementIdHex: s.idHex, leg, outcome: out.kind });
        if (out.kind === 'locked' || out.kind === 'rejected') this.onPrepared(s);
      });
    }
  }

  /** Forgets a refused settlement (decided, expired, pushed out of the bounded set, or taken after all). */
  dropRefused(idHex: string, dropStored = true): void {
    const i = this.refusedOrder.indexOf(idHex);
    if (i >= 0) this.refusedOrder.splice(i, 1);
    const s = this.core.held.get(idHex);
    if (s === undefined || !s.refused) return;
    this.core.held.delete(idHex);
    if (dropStored) this.core.deps.storage.dropIntent(idHex); // its guard entry, if signed, is needed no more
  }

  private addAuths(s: HeldSettlement, auths: Authorizations): void {
    const changed = LEG_NAMES.some((leg) => auths[leg] !== undefined && s.auths[leg] === undefined);
    if (!changed) return;
    for (const leg of LEG_NAMES) if (s.auths[leg] === undefined && auths[leg] !== undefined) s.auths[leg] = auths[leg];
    this.core.deps.storage.putIntent(s.idHex, { terms: s.terms, auths: s.auths }); // committed by submitMany
  }

  /** What admission counts: the undecided settlements this node took. */
  private openLoad(): OpenLoad {
    const taken = [...this.core.held.values()].filter((s) => !s.refused && !s.closed);
    return openLoadOf(
      taken.map((s) => ({
        decided: !undecided(s),
        unauthorized: LEG_NAMES.every((leg) => (s.auths[leg] === undefined || s.legs[leg].prepared === 'unauthorized') && (s.legs[leg].view?.state ?? 'none') === 'none'),
        deadlineMs: s.terms.deadlineMs,
      })),
    );
  }

  /** A refusal: logged, its terms kept for the guard entry (bounded: the oldest goes first), returned. */
  private refuse(terms: Terms, idHex: string, refusal: IntentRefusal): IntentRefusal {
    const core = this.core;
    core.deps.log.event({ type: 'intent-refused', settlementIdHex: idHex, reason: refusal.reason, detail: refusal.detail, retryAfterMs: refusal.retryAfterMs });
    const id = settlementId(terms);
    if (!core.held.has(idHex) && !core.chain.holds(id)) {
      core.held.set(idHex, heldSettlement(core, terms, {}, true, id));
      core.pool.learnTerms(terms);
      this.refusedOrder.push(idHex);
      // Staged, not committed: one fsync per refusal would cost most when the node is full. The
      // next commit (each tick, and before its guard entry is sent) makes it durable.
      core.deps.storage.putIntent(idHex, { terms, auths: {}, refused: true });
      if (this.refusedOrder.length > core.v2.openSettlementsMax) this.dropRefused(this.refusedOrder[0]!);
    }
    assert(this.refusedOrder.length <= core.v2.openSettlementsMax, 'the refused set stays within its bound');
    return refusal;
  }
}
