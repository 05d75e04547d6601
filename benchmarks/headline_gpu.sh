#!/usr/bin/env bash
# The headline (Figures 1 and 3) at the paper's scale on one GPU, in one command (issue 22):
#
#   bash benchmarks/headline_gpu.sh            # on a machine with one CUDA GPU (about 10 minutes on an H100)
#
# Trains the `gpu` profile of grid `headline_4x` (`python -m nc_core sweep plan headline_4x --profile gpu`):
# full-width ResNet9 on all 60,000 FashionMNIST training images, 40 epochs, Adam/AdamW and Signum/SignumW at
# weight decay 0.05, four runs sharing the GPU through Ray (`--runs-per-gpu 4`). Records go to the results
# store (RESULTS, default data/results, or $OUT/results when $OUT is set, as on the lent device machine);
# copy them into data/results/headline_4x/ and commit them, and the ResNet9 / FashionMNIST page at
# `--profile gpu` draws them. Needs torch with CUDA (used as installed: no download), ray, and FashionMNIST
# under data/ (`python -m nc_core data fetch fashionmnist`, or carried over).
#
# Environment: PYTHON (default: .venv/bin/python if present, else python3), PROFILE (gpu), DEVICE (cuda),
# RESULTS, RUNS_PER_GPU (4), RAY_CPUS (the machine's cores). `PROFILE=smoke DEVICE=cpu` runs the same code
# path on a CPU in a minute (tests/test_headline_gpu_script.py does).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
PROFILE=${PROFILE:-gpu}
DEVICE=${DEVICE:-cuda}
RESULTS=${RESULTS:-${OUT:+$OUT/results}}
RESULTS=${RESULTS:-data/results}
RAY_CPUS=${RAY_CPUS:-$(nproc)}
RUNS_PER_GPU=${RUNS_PER_GPU:-4}
"$PYTHON" -m nc_core sweep plan headline_4x --profile "$PROFILE"
"$PYTHON" -m nc_core sweep run headline_4x --profile "$PROFILE" --device "$DEVICE" --backend ray \
    --ray-num-cpus "$RAY_CPUS" --cpus-per-run 1 --runs-per-gpu "$RUNS_PER_GPU" --root "$RESULTS" --no-progress
"$PYTHON" -m nc_core sweep status headline_4x --profile "$PROFILE" --root "$RESULTS"
