#!/usr/bin/env bash
# Make room for the data pack in the 64 MiB that travel to the device: move aside the tracked files the GPU
# job never reads (the game's vendored browser code, the shipped ONNX models, documentation images, kept evidence and predictions), into
# the ignored .device-trim/ (ignored files do not travel). Run `scripts/device_trim.sh --restore` after
# the device call; a session that ended before restoring is mended with `git checkout -- .`.
set -euo pipefail
cd "$(dirname "$0")/.."
ASIDE=.device-trim
PATHS=(src/ferkit/game/static/vendor src/ferkit/weights/default.onnx src/ferkit/weights/default-int8.onnx src/ferkit/weights/ferplus.onnx src/ferkit/weights/ferplus-int8.onnx docs/report-cpu-privatetest
       docs/predict-astronaut.jpg docs/cpu-curves.png docs/best-actor-results.png docs/best-actor-round.png
       docs/results/judge_evidence docs/results/member_predictions)
if [[ "${1:-}" == "--restore" ]]; then
    for p in "${PATHS[@]}"; do
        if [[ -e "$ASIDE/$p" ]]; then mkdir -p "$(dirname "$p")"; mv "$ASIDE/$p" "$p"; fi
    done
    rm -rf "$ASIDE"
    git status --short
    exit 0
fi
for p in "${PATHS[@]}"; do
    if [[ -e "$p" ]]; then mkdir -p "$ASIDE/$(dirname "$p")"; mv "$p" "$ASIDE/$p"; fi
done
echo "travels now: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes of tracked files (+ the carried pack)"
