/**
 * What a node's view of both legs says about a settlement's end (docs/protocol.md, Lifecycle:
 * Close): closed on a leg, and the one outcome that must never pass as closed — a split.
 */
import type { LegView } from '@tandem/protocol';

/** A leg is closed once a report was applied there or its value reclaimed. */
export function legClosed(view: LegView | null, decided: boolean): boolean {
  if (view === null) return false;
  if (view.state === 'committed' || view.state === 'aborted' || view.state === 'reclaimed') return true;
  return view.state === 'rejected' && decided; // nothing was ever locked there
}

/**
 * A split outcome: one leg committed while the other was aborted or reclaimed, so one party's
 * value moved and the other's did not (all-or-nothing broken, e.g. past the honest limit). Both
 * legs are final, but the settlement is flagged, never called closed.
 */
export function isSplit(asset: LegView | null, payment: LegView | null): boolean {
  const undone = (v: LegView | null) => v?.state === 'aborted' || v?.state === 'reclaimed';
  return (asset?.state === 'committed' && undone(payment)) || (payment?.state === 'committed' && undone(asset));
}
