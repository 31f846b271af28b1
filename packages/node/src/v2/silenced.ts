/**
 * A silenced v2 node: one started with `tandem node --recover observe-only` after its write-ahead
 * log failed its check (packages/daemon/src/storage-v2.ts), and at every start after that. It
 * cannot know what it signed before — proposals and votes at the height(s) it was in, the deadline
 * and guard entries it signed once and repeats verbatim, its bundle times — and anything it signed
 * now could contradict one of those: an equivocation. So it signs nothing, for good (as v1's fence
 * that names no settlement, signing-fence.ts; a new identity signs again): no bundle (not even the
 * empty heartbeat), no entry, no proposal, no vote, no BLS partial.
 *
 * It still takes intents and prepares the legs with the parties' authorizations (their signatures,
 * not its own), reads the legs, follows the chain by the decided batches peers send it (verified
 * under the group key, as catch-up does), delivers them to both legs, and answers peers with the
 * decided batches it holds (threshold-signed reports, not its own signature).
 *
 * One flag (RuntimeV2Deps.silenced) gates each signing point: the observer makes no entry
 * (observe.ts), the bundler signs no bundle (bundler.ts), and the height instance takes only the
 * inputs silencedInputAllowed lets through (heights.ts). Each point asserts that a silenced node
 * never gets past it, and a silenced node's height instances sign through a signer that asserts
 * the same, so a path missed here fails loudly instead of signing.
 */
import { assert } from '@tandem/protocol';
import type { NodeContext } from '@tandem/consensus';
import type { Core } from './state.js';

/** Is this node silenced (it signs nothing)? */
export function isSilenced(core: Core): boolean {
  return core.deps.silenced === true;
}

/** A signing point: a silenced node never reaches it. */
export function assertNotSilenced(core: Core, what: string): void {
  assert(!isSilenced(core), silencedMessage(core.deps.ctx.self, what));
}

/** The context a silenced node's height instances get: any signature asked of it is an assertion failure. */
export function silencedContext(ctx: NodeContext): NodeContext {
  const refuse = (what: string): never => {
    assert(false, silencedMessage(ctx.self, what));
  };
  return { ...ctx, signer: { sign: () => refuse('signs a proposal or a vote'), partialSign: () => refuse('signs a BLS partial') } };
}

function silencedMessage(self: number, what: string): string {
  return `n${self} is silenced (its write-ahead storage was recovered observe-only): it never ${what}`;
}
