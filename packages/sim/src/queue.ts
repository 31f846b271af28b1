/**
 * The simulator's event queue: a binary min-heap ordered by (time, sequence number). The sequence
 * number makes the order total, so two events at the same virtual time always run in the order
 * they were scheduled — the root of the simulator's determinism.
 */
export interface Scheduled<T> {
  readonly atMs: number;
  readonly seq: number;
  readonly event: T;
}

export class EventQueue<T> {
  private heap: Scheduled<T>[] = [];
  private seq = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  push(atMs: number, event: T): void {
    if (this.heap.length >= this.capacity) throw new Error(`event queue over its bound of ${this.capacity} events`);
    const item = { atMs, seq: this.seq++, event };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  peekTimeMs(): number | null {
    return this.heap.length === 0 ? null : this.heap[0]!.atMs;
  }

  pop(): Scheduled<T> | null {
    const h = this.heap;
    if (h.length === 0) return null;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
