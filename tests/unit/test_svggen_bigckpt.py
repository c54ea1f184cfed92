"""Big-checkpoint path: the paper's Stage-1 layout (safetensors + config) loads strictly and samples."""
import json

import pytest
import torch

from backend.svg.model.bigckpt import load_stage1, points_to_svg, sample_points, save_tiny_random
from backend.svg.sanitize import is_safe_svg, sanitize_svg


def test_tiny_random_stage1_roundtrip(tmp_path):
    root = save_tiny_random(tmp_path / "stage1", seed=0)
    m = load_stage1(root)
    assert m.cfg.nlayer == 2 and m.cfg.n_args == 7
    ctx = torch.randn(2, 5, m.cfg.cross_attention_dim)
    pts = sample_points(m, ctx, torch.zeros_like(ctx), steps=3, seed=1)
    assert pts.shape == (2, m.cfg.max_points, 7) and torch.isfinite(pts).all()
    svg = points_to_svg(pts[0].numpy())
    assert is_safe_svg(svg) and "<path" in sanitize_svg(svg)
    again = load_stage1(root)
    assert torch.equal(sample_points(again, ctx, torch.zeros_like(ctx), steps=3, seed=1), pts)


def test_stage1_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_stage1(tmp_path / "missing")
    root = save_tiny_random(tmp_path / "s", seed=0)
    cfg = json.loads((root / "config.json").read_text())
    cfg["nlayer"] = 3  # weights have 2 blocks
    (root / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="missing"):
        load_stage1(root)
    (root / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config"):
        load_stage1(root)
