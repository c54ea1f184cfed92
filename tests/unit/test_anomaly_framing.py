"""anomaly2: a query framed unlike the prompt (another aspect ratio) is told so (found running the tab end to end).

The engines compare images framed alike: both are letterboxed to 256 px (or, tiled, the prompt is stretched onto the
query), so a good 200×512 crop of the same brick wall as a 256×256 prompt was seen at half the prompt's scale; it read
as hot all over and, at similarity 0.49, as MISMATCH with "prompt and query look like different products" and nothing
about the framing. The row, the summary, the result JSON and the CSV now say that the framing differs and what to do."""
from __future__ import annotations

import csv
import io
import zipfile

import numpy as np

from backend.anomaly import actions, exports
from backend.anomaly import inspector as insp


def _run() -> insp.Run:
    recs = []
    for i, size in enumerate([(160, 120), (320, 240), (100, 400), (800, 150)]):
        amap = np.zeros((size[1] // 4, size[0] // 4), np.float32)
        recs.append(insp.QueryRecord(name=f"q{i}.png", query=np.zeros((*amap.shape, 3), np.uint8), amap=amap,
                                     scale=0.25, orig_size=size, score=0.1, prompt_index=0,
                                     prompt_similarity=0.9 if i < 3 else 0.3, engine="knn", ms=1.0))
    return insp.Run(prompts=[("p.png", np.zeros((60, 80, 3), np.uint8))], prompt_shas=["x"], records=recs,
                    engine="knn", size=256, tiled=False, retrieval_k=None)


def test_another_aspect_ratio_is_named_in_every_view():
    run = _run()
    rows = insp.summary_rows(run, 0.5, 0.5)
    assert rows[0]["warning"] == "" and rows[1]["warning"] == ""  # same framing, any resolution
    assert "framed differently" in rows[2]["warning"] and "100×400" in rows[2]["warning"]
    assert "80×60" in rows[2]["warning"] and rows[2]["verdict"] == "OK"  # told, not re-judged
    assert "different products" in rows[3]["warning"] and "framed differently" in rows[3]["warning"]
    v = actions.views(run, 0, actions.ViewSettings(0.5, 0.5))
    flags = {r["file"]: r["warning"] for r in v.rows}
    assert flags == {"q0.png": "", "q1.png": "", "q2.png": "framing differs",
                     "q3.png": "different product? framing differs"}
    assert "q2.png" in v.summary and "framed differently" in v.summary
    assert "framed differently" in exports.render(run, 2, 0.5, 0.5).info["warning"]
    zf = zipfile.ZipFile(io.BytesIO(exports.batch_zip(run, 0.5, 0.5)))
    got = {r["file"]: r["warning"] for r in csv.DictReader(io.StringIO(zf.read("results.csv").decode()))}
    assert "framed differently" in got["q2.png"] and got["q0.png"] == ""
