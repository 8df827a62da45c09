// The event queue of the dynamic simulators: op ends and transfer arrivals, popped in time order
// (docs/SEMANTICS.md section 4, decision points). Only times are stored; which op ended is read off the devices.

/** A binary min-heap of event times; grows when full. */
export class EventQueue {
  private heap: Float64Array;
  size = 0;

  constructor(capacity = 16) {
    this.heap = new Float64Array(Math.max(1, capacity));
  }

  push(t: number): void {
    if (this.size === this.heap.length) {
      const bigger = new Float64Array(this.heap.length * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= t) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = t;
  }

  /** Removes and returns the earliest time (the queue must not be empty). */
  pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h[--this.size]!;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && h[child + 1]! < h[child]!) child++;
      if (h[child]! >= last) break;
      h[i] = h[child]!;
      i = child;
    }
    h[i] = last;
    return top;
  }

  peek(): number {
    return this.heap[0]!;
  }
}
