"""What the Status tab shows: registry rows, database, data dir, versions, device."""
from __future__ import annotations

import importlib.metadata as md
import platform
import sys

import torch

from backend.config import get_settings
from backend.registry import get_registry, resolve_device
from backend.security import is_admin
from storage.db import get_storage

PACKAGES = ("gradio", "torch", "torchvision", "numpy", "sqlalchemy", "alembic", "transformers",
            "sentence-transformers", "scikit-learn", "scikit-image", "opencv-python-headless",
            "onnxruntime", "rapidocr-onnxruntime", "diffusers", "plotly")


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform(terse=True)}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = "not installed"
    return out


def device_info() -> dict[str, str]:
    dev = resolve_device()
    info = {"device": dev, "setting": get_settings().device}
    try:
        info["cuda_available"] = str(torch.cuda.is_available())
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
        info["torch_threads"] = str(torch.get_num_threads())
    except Exception as exc:
        info["torch"] = f"unavailable: {exc}"
    return info


def system_status(admin_token: str | None = None) -> dict:
    """Everything the Status tab shows; `admin` says whether `admin_token` is valid (server paths for admins)."""
    st = get_storage()
    settings = get_settings()
    return {
        "admin": is_admin(admin_token or None),
        "database": {"kind": st.kind, "url": st.display_url, "problem": st.health()},
        "data_dir": str(settings.data_dir),
        "models_dir": str(settings.models_dir),
        "models_config": str(settings.models_config),
        "admin_token_set": settings.admin_token is not None,
        "device": device_info(),
        "versions": versions(),
        "models": get_registry().status(),
    }
