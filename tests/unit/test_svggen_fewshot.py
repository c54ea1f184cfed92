"""Few-shot style tokens (textual inversion on path tokens) and the style library tables (SQLite + PostgreSQL)."""
import numpy as np
import pytest
from sqlalchemy import inspect as sa_inspect

from backend.svg.sanitize import SVGInputError
from storage.repos import svg_styles as repo
from tests.unit.svggen_tiny import build_tiny, fake_encoder

EXEMPLARS = [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="1.5"><path d="M4 4h16v16H4z"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="1.5"><circle cx="12" cy="12" r="8"/><path d="M12 8v8"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="1.5"><path d="M4 20L12 4l8 16z"/></svg>',
]


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    from backend.svg.model.generator import PathDiffusionGenerator

    _, ck = build_tiny(tmp_path_factory.mktemp("svggen_fs"))
    return PathDiffusionGenerator(ck, text_encoder=fake_encoder, threads=1)


def test_learn_style_token_progress_and_use(gen):
    from backend.svg.model.fewshot import learn_style

    seen = []
    ls = learn_style(gen, EXEMPLARS, names=["square", "clock", "triangle"], steps=12, batch=6, seed=1,
                     progress=lambda i, n, loss, el: seen.append((i, n, loss)))
    assert len(ls.token) == gen.model.cfg.d and np.isfinite(ls.token).all()
    assert ls.base_style in gen.styles[1:] and len(ls.base_losses) == len(gen.styles) - 1
    assert ls.steps == 12 and [s[0] for s in seen] == list(range(1, 13)) and np.isfinite(ls.loss_end)
    assert len(ls.exemplar_sha) == 3 and len(set(ls.exemplar_sha)) == 3
    out = gen.generate("square", n=2, seed=0, style_vec=np.array(ls.token), steps=3)
    assert len(out) == 2 and all("<path" in s.svg for s in out)
    again = learn_style(gen, EXEMPLARS, names=["square", "clock", "triangle"], steps=12, batch=6, seed=1)
    assert np.allclose(again.token, ls.token)  # seeded


def test_learn_style_rejects_bad_input_and_cancels(gen):
    from backend.svg.model.fewshot import Cancelled, learn_style

    with pytest.raises(SVGInputError, match="Exemplar 2"):
        learn_style(gen, [EXEMPLARS[0], "<svg><script>alert(1)</script></svg>"], steps=2)
    with pytest.raises(SVGInputError, match="At most 16"):
        learn_style(gen, EXEMPLARS * 6, steps=2)
    with pytest.raises(Cancelled):
        learn_style(gen, EXEMPLARS, steps=5, cancel=lambda: True)


def test_style_library_repo_roundtrip(db_url, storage_for):
    st = storage_for(db_url)
    assert "svg_styles" in set(sa_inspect(st.engine).get_table_names())
    sid = st.write(lambda s: repo.add_style(s, name="my thin line", model_sha="a" * 64, base_style="lucide/regular",
                                            token=[0.5, -1.25], card={"mode": "outline"}, n_exemplars=3,
                                            exemplar_sha=["x", "y", "z"], train_s=12.5, train_info={"steps": 150},
                                            session_id="sess"))
    st.write(lambda s: repo.add_style(s, name="other model", model_sha="b" * 64, base_style="mdi/filled",
                                      token=[0.0], card=None, n_exemplars=1))
    got = st.read(lambda s: repo.get_style(s, sid))
    assert got["token"] == [0.5, -1.25] and got["card"] == {"mode": "outline"} and got["train_info"]["steps"] == 150
    assert [r["name"] for r in st.read(lambda s: repo.list_styles(s, "a" * 64))] == ["my thin line"]
    assert "token" not in st.read(lambda s: repo.list_styles(s))[0]
    assert st.write(lambda s: repo.rename_style(s, sid, "renamed"))
    assert st.read(lambda s: repo.get_style(s, sid))["name"] == "renamed"
    assert st.write(lambda s: repo.delete_style(s, sid))
    assert st.read(lambda s: repo.get_style(s, sid)) is None
    assert not st.write(lambda s: repo.rename_style(s, sid, "again"))
    assert [r["name"] for r in st.read(lambda s: repo.list_styles(s))] == ["other model"]
