#!/bin/bash
# One seed of the paired webcam-augmentation comparison (docs/training-ablations.md, "Webcam augmentation"):
# the 4 class-weighted FER+ epochs with augment=light (the shipped recipe) and augment=webcam, from the same
# distilled parent; each arm exported with its own rule and judge curves, its PublicTest evidence saved.
# Usage: scripts/webcam_aug_pair.sh SEED   (needs runs/ferplus-scratch-teacher[-sSEED]/best.pt; ~15 min on AMX)
# Then: python benchmarks/judge_policies.py runs/exp14/w*.npz runs/exp14/wc*.npz
set -euo pipefail
cd "$(dirname "$0")/.."
s=$1; sfx=$([ "$s" = 0 ] && echo "" || echo "-s$s")
D=../shared/data/fer2013.tar.gz; F=../shared/data/fer2013new.csv
mkdir -p runs/exp14
for arm in w wc; do
  augment=$([ $arm = w ] && echo light || echo webcam)
  ferkit train --recipe cpu --labels ferplus --ferplus $F --data $D --out runs/ferplus-scratch-teacher-$arm$sfx \
    --set init=runs/ferplus-scratch-teacher$sfx/best.pt --set epochs=4 --set schedule=cosine --set lr=0.01 \
    --set warmup_epochs=0.5 --set balance=weighted --set augment=$augment --set seed=$s --set progress=false
  M=runs/exp14/$arm$sfx.onnx
  ferkit export runs/ferplus-scratch-teacher-$arm$sfx/best.pt --format onnx --out $M
  ferkit fit-rule --data $D --ferplus $F --model $M --out $M
  ferkit calibrate-judge --data $D --ferplus $F --model $M --out $M --save-evidence runs/exp14/$arm$sfx.npz
  for rule in as-trained balanced; do
    ferkit evaluate --data $D --ferplus $F --model $M --split PublicTest --rule $rule --json | tail -1
  done
done
