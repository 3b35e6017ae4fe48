#!/usr/bin/env bash
# Mirror the benchmark's data folder with every video re-encoded by x264 at a constant
# quantiser (FaceForensics++ "c40" is QP 40, "c23" QP 23), to measure how the detectors
# hold up under heavy video compression (docs/MODELS.md, "Robustness to video compression"):
#
#   bash benchmarks/recompress_sets.sh 40 runs/data-qp40
#   fakelens eval --suite default --data runs/data-qp40 --out runs/suite-qp40
#
# Stills (dfdc-crops, gan-faces) and labels are linked unchanged. Videos keep their names
# (a .webm gets a Matroska container, which readers probe by content).
set -euo pipefail
qp=$1 out=$2
data=${DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
mkdir -p "$out"
for set in videos live-swap generated-videos videos-real swap-generators talking-heads; do
  [ -d "$data/$set" ] || continue
  mkdir -p "$out/$set"
  cp "$data/$set/labels.csv" "$out/$set/"
  for src in "$data/$set"/*.mp4 "$data/$set"/*.webm; do
    [ -e "$src" ] || continue
    dst="$out/$set/$(basename "$src")"
    [ -s "$dst" ] && continue
    fmt=mp4; [ "${src##*.}" = webm ] && fmt=matroska
    ffmpeg -v error -y -i "$src" -map 0:v:0 -c:v libx264 -qp "$qp" -preset veryfast \
      -pix_fmt yuv420p -f "$fmt" "$dst.part" && mv "$dst.part" "$dst"
  done
done
for set in dfdc-crops gan-faces; do
  [ -d "$data/$set" ] && ln -sfn "$data/$set" "$out/$set"
done
echo "$out: videos at x264 QP $qp"
