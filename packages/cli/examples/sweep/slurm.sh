#!/bin/bash
# A PPO sweep as a Slurm job array: array task i runs shard i of the sweep, every task writing into one sweep
# directory on a filesystem all nodes share. Submit it again (same array, same directory) after a time-out, a
# preemption or a crash: finished runs are skipped, the others resume from their checkpoints.
#
#   sbatch examples/sweep/slurm.sh                       # or:
#   SWEEP=my.yaml OUT=/shared/sweeps/x sbatch --array=0-15 slurm.sh
#   pprl sweep report --out /shared/sweeps/p4m16         # any time, from any node: merges what has finished
#
#SBATCH --job-name=pprl-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=pprl-sweep-%A_%a.out
# two minutes before the time limit, Ctrl-C the sweep: its trainings stop at a checkpoint
#SBATCH --signal=B:INT@120
set -euo pipefail

SWEEP=${SWEEP:-examples/sweep/sweep.yaml}
OUT=${OUT:-/shared/sweeps/p4m16}

# --shards takes this task's index from SLURM_ARRAY_TASK_ID (the array must be numbered 0..N-1);
# one single-threaded training per allocated CPU. exec: the sweep itself receives Slurm's signals.
exec pprl sweep --config "$SWEEP" --out "$OUT" --shards "$SLURM_ARRAY_TASK_COUNT" --workers "$SLURM_CPUS_PER_TASK"
