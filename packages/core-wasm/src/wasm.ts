import { normalTable } from './noise.js';

// Loads the WebAssembly module once and manages its linear memory from TypeScript.
// The module never allocates: callers reserve blocks here and pass pointers, and read results through
// typed-array views (re-created after the memory grows, since growing detaches the old buffer).

export interface CoreExports {
  memory: WebAssembly.Memory;
  heapBase: WebAssembly.Global;
  replay(
    P: number, S: number, M: number,
    stageDevice: number, cost: number, comm: number, mem: number, noise: number,
    ops: number, devStart: number,
    episodeStart: number, episodes: number,
    scratch: number,
    outMakespan: number, outSpan: number, outBusy: number, outPeak: number,
    timeline: number, timelineEpisode: number,
  ): number;
  replayScratchBytes(P: number, S: number, M: number): number;
  noiseFactor(
    seed: number, episode: number, kind: number, stage: number, mb: number,
    cv: number, floor: number, anomalyProb: number, anomalyFactor: number,
  ): number;
  setNormalTable(ptr: number): void;
}

const PAGE = 65536;
const ALIGN = 16;

/** The instantiated module and a first-fit allocator over its memory. */
export class WasmCore {
  private top: number;
  private readonly sizes = new Map<number, number>();
  private free: { ptr: number; size: number }[] = [];

  constructor(readonly exports: CoreExports) {
    this.top = align(Number(exports.heapBase.value));
  }

  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Reserves `bytes` (16-byte aligned); the block stays valid until `release`. */
  alloc(bytes: number): number {
    const size = align(Math.max(bytes, 1));
    const i = this.free.findIndex((b) => b.size >= size);
    let ptr: number;
    if (i >= 0) {
      const block = this.free[i]!;
      ptr = block.ptr;
      if (block.size === size) this.free.splice(i, 1);
      else this.free[i] = { ptr: block.ptr + size, size: block.size - size };
    } else {
      ptr = this.top;
      this.top += size;
      const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
      if (needed > 0) this.memory.grow(needed);
    }
    this.sizes.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.free.push({ ptr, size });
    this.free.sort((a, b) => a.ptr - b.ptr);
    const merged: { ptr: number; size: number }[] = [];
    for (const b of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.ptr + last.size === b.ptr) last.size += b.size;
      else merged.push({ ...b });
    }
    const tail = merged[merged.length - 1];
    if (tail && tail.ptr + tail.size === this.top) {
      this.top = tail.ptr;
      merged.pop();
    }
    this.free = merged;
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** Bytes currently reserved (for leak checks). */
  get reservedBytes(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

let modulePromise: Promise<WebAssembly.Module> | undefined;
let corePromise: Promise<WasmCore> | undefined;

async function wasmBytes(): Promise<ArrayBuffer | Uint8Array> {
  const url = new URL('../build/pprl.wasm', import.meta.url);
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** The compiled module (compiled once per process). */
export function wasmModule(): Promise<WebAssembly.Module> {
  modulePromise ??= wasmBytes().then((bytes) => WebAssembly.compile(bytes as BufferSource));
  return modulePromise;
}

/** The shared instance (instantiated once per process). */
export function loadCore(): Promise<WasmCore> {
  corePromise ??= wasmModule().then(async (m) => {
    const core = new WasmCore((await WebAssembly.instantiate(m, {})).exports as unknown as CoreExports);
    const table = normalTable();
    const ptr = core.alloc(table.byteLength);
    core.f64(ptr, table.length).set(table);
    core.exports.setNormalTable(ptr);
    return core;
  });
  return corePromise;
}
