// Checkpoints: one directory per saved update (`ckpt-000040/`: meta.json, params.bin, and for resuming adam-m.bin,
// adam-v.bin, env-state.bin.gz), made atomic by writing it under a temporary name and renaming it, then pointing
// `latest.json` at it (also written to a temporary name and renamed). A run killed at any moment leaves the previous
// checkpoint intact; leftovers of an interrupted write are removed at the next start.
import { mlpParamCount, UserError, type MlpLayout } from '@pprl/core-wasm';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import {
  fileErrorText,
  isFileError,
  makeDirectory,
  readFileChecked,
  readTextChecked,
  withFileErrors,
  writeFileAtomic,
} from './files.js';

export const CHECKPOINT_FORMAT = 'pprl-ppo-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** The JSON half of a checkpoint. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Updates done. */
  iteration: number;
  /** Environment steps done. */
  globalStep: number;
  /** Lines of log.jsonl that belong to the run up to here. */
  logLines: number;
  layout: MlpLayout;
  /** The training config as validated (problem, hyperparameters, seed). */
  config: unknown;
  /** State of the minibatch shuffling generator (seedrandom ARC4). */
  rngState: unknown;
  adamStep: number;
  backend: string;
  /** Seconds of training so far (wall clock, summed over resumed sessions). */
  seconds: number;
  createdAt: string;
  /** In the `best` checkpoint: the greedy policy's mean makespan on the training run's evaluation episodes. */
  evalMakespan?: number;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  params: Float32Array;
  /** Present in checkpoints that can resume training (not in policy-only exports). */
  resume?: { adamM: Float32Array; adamV: Float32Array; envState: Uint8Array };
}

const metaSchema = z.looseObject({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.number().int().min(1).max(CHECKPOINT_VERSION),
  iteration: z.number().int().min(0),
  globalStep: z.number().int().min(0),
  logLines: z.number().int().min(0),
  layout: z.strictObject({
    obsDim: z.number().int().min(1),
    hidden: z.array(z.number().int().min(1)).min(1),
    actions: z.number().int().min(1),
    activation: z.enum(['tanh', 'relu']),
    shared: z.boolean().optional(),
  }),
  config: z.unknown(),
  rngState: z.unknown(),
  adamStep: z.number().int().min(0),
  backend: z.string(),
  seconds: z.number().min(0),
  createdAt: z.string(),
});

const LATEST = 'latest.json';

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function readF32(file: string): Float32Array {
  const bytes = readFileChecked(file, 'checkpoint file');
  if (bytes.length % 4 !== 0)
    throw new UserError(`corrupt checkpoint: ${file} is ${bytes.length} bytes, not a whole number of float32 values`);
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * Writes checkpoint `ckpt` into run directory `dir` atomically and points latest.json at it; keeps the newest `keep`.
 */
export function saveCheckpoint(dir: string, ckpt: Checkpoint, keep = 2): string {
  makeDirectory(dir);
  const name = `ckpt-${String(ckpt.meta.iteration).padStart(6, '0')}`;
  const final = writeCheckpointDir(dir, name, ckpt);
  writeFileAtomic(path.join(dir, LATEST), `${JSON.stringify({ checkpoint: name, iteration: ckpt.meta.iteration })}\n`);
  withFileErrors(`cannot remove old checkpoints in ${dir}`, () => {
    const older = readdirSync(dir)
      .filter((f) => /^ckpt-\d+$/.test(f) && f !== name)
      .sort();
    for (const old of older.slice(0, Math.max(0, older.length - (keep - 1))))
      rmSync(path.join(dir, old), { recursive: true, force: true });
  });
  return final;
}

/**
 * A policy-only checkpoint into `dir/name` (no optimizer or environment state): written to a temporary directory
 * and renamed, so a reader sees the old one or the new one. Returns its path.
 */
export function savePolicyCheckpoint(dir: string, name: string, ckpt: Checkpoint): string {
  makeDirectory(dir);
  return writeCheckpointDir(dir, name, { meta: ckpt.meta, params: ckpt.params });
}

/** Checkpoint `ckpt` as directory `dir/name`, written under a temporary name and renamed over the old one. */
function writeCheckpointDir(dir: string, name: string, ckpt: Checkpoint): string {
  const final = path.join(dir, name);
  const tmp = path.join(dir, `${name}.tmp-${process.pid}`);
  try {
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    writeCheckpointFiles(tmp, ckpt);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    if (!isFileError(e)) throw e;
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // left for removeTemporaries at the next start
    }
    throw new UserError(`cannot write checkpoint ${final}: ${fileErrorText(e)}`);
  }
  return final;
}

/** The files of one checkpoint, into an existing (temporary) directory. */
export function writeCheckpointFiles(dir: string, ckpt: Checkpoint): void {
  writeFileSync(path.join(dir, 'params.bin'), f32Bytes(ckpt.params));
  if (ckpt.resume) {
    writeFileSync(path.join(dir, 'adam-m.bin'), f32Bytes(ckpt.resume.adamM));
    writeFileSync(path.join(dir, 'adam-v.bin'), f32Bytes(ckpt.resume.adamV));
    writeFileSync(path.join(dir, 'env-state.bin.gz'), gzipSync(ckpt.resume.envState, { level: 9 }));
  }
  // meta last: a directory with meta.json is complete
  writeFileSync(path.join(dir, 'meta.json'), `${JSON.stringify(ckpt.meta, null, 2)}\n`);
}

/**
 * Removes leftovers of interrupted writes in a run directory: checkpoint directories (`<name>.tmp-<pid>`) and files
 * of writeFileAtomic (`.<name>.<host>.<pid>.<random>.tmp`).
 */
export function removeTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  withFileErrors(`cannot clean up ${dir}`, () => {
    for (const f of readdirSync(dir))
      if (/\.tmp-\d+$/.test(f) || /^\..+\.tmp$/.test(f)) rmSync(path.join(dir, f), { recursive: true, force: true });
  });
}

/**
 * The checkpoint directory that `dir` names: a checkpoint itself (has meta.json), or a run directory (its
 * latest.json). Throws a UserError saying what is missing.
 */
export function resolveCheckpointDir(dir: string): string {
  if (existsSync(path.join(dir, 'meta.json'))) return dir;
  const latest = path.join(dir, LATEST);
  if (!existsSync(dir)) throw new UserError(`no checkpoint at ${dir}: the directory does not exist`);
  if (!statSync(dir).isDirectory())
    throw new UserError(`no checkpoint at ${dir}: it is a file, not a checkpoint or training run directory`);
  if (!existsSync(latest))
    throw new UserError(
      `no checkpoint at ${dir}: neither meta.json (a checkpoint) nor latest.json (a training run) is there`,
    );
  const text = readTextChecked(latest, 'checkpoint pointer');
  let name: unknown;
  try {
    name = (JSON.parse(text) as { checkpoint?: unknown }).checkpoint;
  } catch (e) {
    throw new UserError(`corrupt checkpoint pointer ${latest}: ${(e as Error).message}`);
  }
  if (typeof name !== 'string' || !/^ckpt-\d+$/.test(name))
    throw new UserError(`corrupt checkpoint pointer ${latest}: no checkpoint name`);
  const target = path.join(dir, name);
  if (!existsSync(path.join(target, 'meta.json')))
    throw new UserError(`corrupt run directory ${dir}: latest.json names ${name}, which is missing or incomplete`);
  return target;
}

/** Loads a checkpoint (`withResume`: also the optimizer and environment state, required). */
export function loadCheckpoint(dir: string, withResume: boolean): Checkpoint {
  const at = resolveCheckpointDir(dir);
  const metaText = readTextChecked(path.join(at, 'meta.json'), 'checkpoint file');
  let raw: unknown;
  try {
    raw = JSON.parse(metaText);
  } catch (e) {
    throw new UserError(`corrupt checkpoint ${at}: meta.json is not valid JSON (${(e as Error).message})`);
  }
  const parsed = metaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`corrupt checkpoint ${at}: meta.json ${issue.path.join('.') || 'document'}: ${issue.message}`);
  }
  const meta = parsed.data as CheckpointMeta;
  const file = (name: string) => {
    const f = path.join(at, name);
    if (!existsSync(f))
      throw new UserError(
        `corrupt checkpoint ${at}: ${name} is missing` +
          `${withResume ? ' (a policy-only export cannot resume training)' : ''}`,
      );
    return f;
  };
  const params = readF32(file('params.bin'));
  const { obsDim, hidden, actions, shared } = meta.layout;
  const expected = mlpParamCount(obsDim, hidden, actions, shared);
  if (params.length !== expected)
    throw new UserError(
      `corrupt checkpoint ${at}: params.bin holds ${params.length} values, the layout needs ${expected}`,
    );
  if (!withResume) return { meta, params };
  const packed = readFileChecked(file('env-state.bin.gz'), 'checkpoint file');
  let envState: Uint8Array;
  try {
    envState = gunzipSync(packed);
  } catch (e) {
    throw new UserError(`corrupt checkpoint ${at}: env-state.bin.gz does not decompress (${(e as Error).message})`);
  }
  const moments = (name: string) => {
    const values = readF32(file(name));
    if (values.length !== expected)
      throw new UserError(
        `corrupt checkpoint ${at}: ${name} holds ${values.length} values, the layout needs ${expected}`,
      );
    return values;
  };
  return { meta, params, resume: { adamM: moments('adam-m.bin'), adamV: moments('adam-v.bin'), envState } };
}
