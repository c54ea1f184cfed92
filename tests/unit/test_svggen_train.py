"""Learned SVG generator: dataset file, trainer (steps, resume, import graph), sampling, engine output gate."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from backend.svg.model.codec import F_KEEP
from backend.svg.sanitize import is_safe_svg, sanitize_svg
from tests.unit.svggen_tiny import build_tiny, fake_encoder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("svggen"))


def test_dataset_file_layout(tiny):
    data, _ = tiny
    z = np.load(data)
    off = z["icon_off"]
    n = len(off) - 1
    assert n > 100 and off[-1] == len(z["paths"]) and np.all(np.diff(off) >= 1) and np.all(np.diff(off) <= 24)
    assert z["icon_texts"].shape == (n, 2) and (z["icon_texts"][:, 0] >= 0).all()
    assert set(np.unique(z["icon_split"])) <= {0, 1} and z["style_names"][0] == "any"
    assert z["icon_style"].min() >= 1 and z["icon_style"].max() < len(z["style_names"])
    assert z["text_tok"].dtype == np.int8 and len(z["text_scale"]) == len(z["text_tok"])
    assert (z["paths"][:, F_KEEP] == 1).all()


def test_training_logs_resumes_and_loss_is_finite(tiny, tmp_path):
    from backend.svg.offline import train

    data, ck = tiny
    log = (ck.parent / "train_log.txt").read_text()
    assert "step 30/30" in log and "held-out-concept val loss" in log and "ETA" in log
    saved = torch.load(ck, weights_only=False)
    assert saved["format"] == "svgdit-v1" and saved["train"]["steps"] == 30
    assert np.isfinite(saved["train"]["val_loss"])
    assert all(v.dtype == torch.float16 for v in saved["state_dict"].values())
    # resume: continue a copy of the run to 40 steps from its state.pt
    import shutil

    out = tmp_path / "run"
    shutil.copytree(ck.parent, out)
    train.main(["--data", str(data), "--out", str(out), "--steps", "40", "--batch", "16", "--d", "32", "--depth", "1",
                "--heads", "2", "--ffn", "64", "--log-every", "10", "--save-every", "100", "--threads", "1",
                "--resume"])
    log = (out / "train_log.txt").read_text()
    assert "resumed from" in log and "step 40/40" in log


def test_trainer_import_graph_is_torch_and_numpy_only():
    code = ("import sys, backend.svg.offline.train; bad = [m for m in ('gradio', 'sqlalchemy', "
            "'sentence_transformers', "
            "'transformers', 'svgelements', 'backend.config', 'backend.registry') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sampling_is_seeded_and_always_sanitiser_clean(tiny):
    from backend.svg.model.generator import PathDiffusionGenerator

    _, ck = tiny
    gen = PathDiffusionGenerator(ck, text_encoder=fake_encoder, threads=1)
    style = gen.styles[1]
    a = gen.generate("bell", n=4, seed=3, style=style, steps=4)
    b = gen.generate("bell", n=4, seed=3, style=style, steps=4)
    assert [s.svg for s in a] == [s.svg for s in b]
    assert len(a) == 4 and all(is_safe_svg(s.svg) and sanitize_svg(s.svg) == s.svg for s in a)
    assert all(s.n_paths >= 1 and "<path" in s.svg for s in a)
    with pytest.raises(ValueError, match="no style"):
        gen.generate("bell", n=1, style="nope/none", steps=2)
    with pytest.raises(ValueError, match="prompt"):
        gen.generate("  ", n=1, steps=2)
    # SDEdit-style variation from an existing icon's tokens keeps working
    v = gen.generate("bell", n=2, seed=1, steps=4, init_tokens=a[0].tokens, strength=0.5)
    assert len(v) == 2 and all(is_safe_svg(s.svg) for s in v)
