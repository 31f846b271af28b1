/**
 * A deliberately broken build of protocol v2, for checking that the checker and `tandem explore`
 * catch it (as v1's 'ignore-lock'): with ConsensusParams.mutationForTesting = 'skip-prefix-check'
 * the node's decided chain answers that no settlement is in D, so valid_h skips V3 (no entry's
 * settlement decided at a lower height) and the chain appends a batch that repeats one. Together
 * with a `replay-entry` proposer (byzantine.ts) a settlement is decided in two batches, which the
 * checker's `one-batch-per-settlement` must catch. Never set it outside such a test.
 */
import { DecidedChain } from '@tandem/consensus';
import type { NodeContext } from '@tandem/consensus';

/** The chain of the broken build: blind to the decided prefix (V4 and everything else unchanged). */
class PrefixBlindChain extends DecidedChain {
  override holds(): boolean {
    return false;
  }
}

/** The decided chain a node runs on: the honest one unless its context carries the mutation. */
export function decidedChainFor(ctx: NodeContext): DecidedChain {
  return ctx.params.mutationForTesting === 'skip-prefix-check' ? new PrefixBlindChain() : new DecidedChain();
}
