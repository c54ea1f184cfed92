"""Reading and writing MetaUAS checkpoints, all-or-nothing.

Two formats:
- ours ("metauas-lite0/1"): a dict {format, encoder, config, state_dict (learnable part, fp16),
  meta}; the frozen encoder (`encoder`: efficientnet-lite0, -lite1 or -lite2; a file without the field is Lite0)
  comes from its pip package, so the file stays small;
- the official b4 checkpoints: a full state dict (or a Lightning checkpoint holding one under
  "state_dict"), loaded with strict=True.
A checkpoint is validated completely (readable, every key present, shapes match, finite values)
before any tensor is copied into a model, so a corrupt file never leaves a half-loaded model.
"""
from __future__ import annotations

from pathlib import Path

import torch

from backend.anomaly.encoders import LITE_VARIANTS, Lite0Features
from backend.anomaly.model import MetaUAS
from backend.errors import UserError

FORMAT = "metauas-lite0/1"


class CheckpointError(UserError):
    """The checkpoint cannot be used; str(exc) names the file and the problem."""


def save_lite0(model: MetaUAS, path: str | Path, meta: dict | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.learnable_state_dict().items()}
    payload = {"format": FORMAT, "encoder": model.encoder_name,
               "config": dict(model.config),
               "state_dict": sd, "meta": meta or {}}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # atomic: a crash mid-save never leaves a truncated checkpoint
    return path


def _read(path: Path):
    if not path.is_file():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"Checkpoint {path} is empty.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"Checkpoint {path} could not be read ({type(exc).__name__}: {str(exc)[:200]}). "
                              "The file is corrupt or not a PyTorch checkpoint.") from exc


def _check_against(model: MetaUAS, sd: dict, path: Path, skip_prefix: str | None) -> dict:
    expected = {k: v for k, v in model.state_dict().items() if not (skip_prefix and k.startswith(skip_prefix))}
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"Checkpoint {path} does not hold a state dict of tensors.")
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"Checkpoint {path} does not match the MetaUAS {model.encoder_name} layout: "
            f"{len(missing)} missing keys (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]}).")
    for k, v in expected.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise CheckpointError(f"Checkpoint {path}: {k} has shape {tuple(sd[k].shape)}, expected {tuple(v.shape)}.")
        if sd[k].is_floating_point() and not torch.isfinite(sd[k]).all():
            raise CheckpointError(f"Checkpoint {path}: {k} contains NaN or infinity.")
    return {k: sd[k].to(v.dtype) for k, v in expected.items()}


def load_metauas(path: str | Path, encoder: str | None = None, lite0_net=None) -> tuple[MetaUAS, dict]:
    """A ready (eval-mode, fp32) MetaUAS from either checkpoint format, plus its meta dict."""
    path = Path(path)
    obj = _read(path)
    if isinstance(obj, dict) and obj.get("format") == FORMAT:
        cfg = obj.get("config", {})
        name = obj.get("encoder") or "efficientnet-lite0"  # checkpoints record their encoder; none = Lite0
        if name not in LITE_VARIANTS:
            raise CheckpointError(f"Checkpoint {path} names the encoder {name!r}; expected one of {list(LITE_VARIANTS)}.")
        shared = Lite0Features(lite0_net) if lite0_net is not None and name == "efficientnet-lite0" else None
        try:
            model = MetaUAS(name, encoder=shared, **cfg)
        except (TypeError, ValueError) as exc:  # a config that does not fit the recorded encoder
            raise CheckpointError(f"Checkpoint {path}: its config does not build a MetaUAS on {name} ({exc}).") from exc
        clean = _check_against(model, obj.get("state_dict") or {}, path, skip_prefix="encoder.")
        model.load_state_dict(clean, strict=False)
        return model.eval(), dict(obj.get("meta", {}))
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    if isinstance(sd, dict):
        sd = {k[len("model."):] if k.startswith("model.") else k: v for k, v in sd.items()}
    model = MetaUAS(encoder or "efficientnet-b4")
    clean = _check_against(model, sd, path, skip_prefix=None)
    model.load_state_dict(clean, strict=True)
    return model.eval(), {"source": str(path)}
