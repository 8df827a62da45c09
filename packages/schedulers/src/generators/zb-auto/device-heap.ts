// A binary min-heap of device indices, for zb-auto's list scheduler: which device decides next.

/** A binary min-heap of device indices ordered by (key[device], device); keys must not change while inside. */
export class DeviceHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(private readonly key: Float64Array) {
    this.items = new Int32Array(key.length);
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka < kb || (ka === kb && a < b);
  }

  push(device: number): void {
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(device, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = device;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(items[child + 1]!, items[child]!)) child++;
      if (!this.less(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
