#!/usr/bin/env bash
# The whole GPU job in ONE device call (README: "Training on a lent GPU"). From the repository root:
#   scripts/gpu_job.sh data/fer.ferpack.xz "$OUT"                 # 8-minute budget on the GPU
#   scripts/gpu_job.sh tiny.csv /tmp/out --smoke --budget-minutes 1.5   # the same path on a CPU
# ferkit is not installed: it runs from src/ beside the device's own PyTorch (no network there, and
# nothing may replace that torch). Extra arguments go to `ferkit gpu-job`.
set -euo pipefail
data=${1:?usage: scripts/gpu_job.sh DATA OUT [ferkit gpu-job options]}
out=${2:?usage: scripts/gpu_job.sh DATA OUT [ferkit gpu-job options]}
shift 2
mkdir -p "$out"
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export FERKIT_CACHE_DIR="${TMPDIR:-/tmp}/ferkit-cache"  # platformdirs is not on the device
export NUMBA_CACHE_DIR="$FERKIT_CACHE_DIR/numba"
python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee "$out/job.log"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,memory.total,utilization.gpu,power.draw --format=csv | tee -a "$out/job.log"
  # GPU utilisation while the job runs, every 5 s, into the log (stopped with the job)
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 5 >> "$out/gpu-utilisation.csv" &
  monitor=$!
  trap 'kill $monitor 2>/dev/null || true' EXIT
fi
python3 -m ferkit.cli gpu-job --data "$data" --out "$out" "$@"
