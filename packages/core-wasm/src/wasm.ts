// Loads the WebAssembly module once and manages its linear memory from TypeScript.
// The module never allocates: callers reserve blocks here and pass pointers, and read results through
// typed-array views (re-created after the memory grows, since growing detaches the old buffer).
// The exports and their types come from the compiler: asc writes build/pprl.js (instantiate, which adapts the raw
// exports, e.g. heapBase as an unsigned number) and build/pprl.d.ts (their declarations) next to build/pprl.wasm.
import { instantiate } from '../build/pprl.js';
import {
  KIND_B,
  KIND_F,
  KIND_W,
  N_ANOMALY_K,
  N_ANOMALY_P,
  N_COMM_CV,
  N_CV,
  N_FLOOR,
  N_SEED,
  NOISE_FIELDS,
} from './contract.js';
import { normalTable } from './noise.js';
import type { Problem } from './problem.js';

/** Every export of the module, as asc declares them (build/pprl.d.ts, from assembly/index.ts). */
export type WasmExports = Awaited<ReturnType<typeof instantiate>>;
/** The exports `WasmCore` holds: the whole module (replay, noise, environment, MLP). */
export type CoreExports = WasmExports;

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
    const core = new WasmCore(await instantiate(m, {}));
    const table = normalTable();
    const ptr = core.alloc(table.byteLength);
    core.f64(ptr, table.length).set(table);
    core.exports.setNormalTable(ptr);
    return core;
  });
  return corePromise;
}

/** Where a problem's tables go in WebAssembly memory, as replay and envSetProblem read them. */
export interface ProblemBlocks {
  /** i32[S] */
  stageDevice: number;
  /** f64[3S]: F, B, W costs, kind-major (kind * S + s). */
  cost: number;
  /** f64[S] */
  comm: number;
  /** f64[3S]: F, B, W memory deltas, kind-major. */
  mem: number;
  /** f64[NOISE_FIELDS] (slots N_*). */
  noise: number;
}

/** Copies a problem's tables to the blocks at `at` (each large enough: see ProblemBlocks). */
export function writeProblem(core: WasmCore, problem: Problem, at: ProblemBlocks): void {
  const S = problem.numStages;
  core.i32(at.stageDevice, S).set(problem.stageDevice);
  const cost = core.f64(at.cost, 3 * S);
  cost.set(problem.costF, KIND_F * S);
  cost.set(problem.costB, KIND_B * S);
  cost.set(problem.costW, KIND_W * S);
  core.f64(at.comm, S).set(problem.comm);
  const mem = core.f64(at.mem, 3 * S);
  mem.set(problem.memF, KIND_F * S);
  mem.set(problem.memB, KIND_B * S);
  mem.set(problem.memW, KIND_W * S);
  const n = problem.noise;
  const noise = core.f64(at.noise, NOISE_FIELDS);
  noise[N_CV] = n.cv;
  noise[N_COMM_CV] = n.commCv;
  noise[N_FLOOR] = n.floor;
  noise[N_ANOMALY_P] = n.anomalyProb;
  noise[N_ANOMALY_K] = n.anomalyFactor;
  noise[N_SEED] = n.seed;
}
